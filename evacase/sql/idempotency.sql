-- claim_key --
-- Claim key $2 of caller $1 for this request (service $3, request hash $4, kept $5 seconds): a row when the key
-- is new or its old answer expired. A key held by a request still running makes this wait for its end (then
-- no row if it committed, the claim if it rolled back); an answered key gives no row.
-- params: user_id, key, service, request_hash, ttl_seconds
INSERT INTO idempotency_keys AS k (user_id, key, service, request_hash, expires_at)
VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
ON CONFLICT (user_id, key) DO UPDATE
SET service = excluded.service, request_hash = excluded.request_hash, status = NULL, body = NULL,
    creation_time = now(), expires_at = excluded.expires_at
WHERE k.expires_at <= now()
RETURNING true

-- stored_answer --
-- What key $2 of caller $1 was first used for, and its answer.
SELECT service, request_hash, status, body FROM idempotency_keys WHERE user_id = $1 AND key = $2

-- store_answer --
-- The answer to the request that claimed key $2 of caller $1, in the transaction of its effect.
UPDATE idempotency_keys SET status = $3, body = $4 WHERE user_id = $1 AND key = $2

-- purge_expired --
-- Up to $1 expired keys, oldest first (a batch per transaction: the purge can stop anywhere).
DELETE FROM idempotency_keys
WHERE ctid = ANY (ARRAY (SELECT ctid FROM idempotency_keys WHERE expires_at < now() ORDER BY expires_at LIMIT $1))
