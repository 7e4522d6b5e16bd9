-- list_topics_after --
-- A page of topics in list order (highest ID first), after the keyset bound $1. Filters: $2 name contains,
-- $3 description contains (both case-insensitive LIKE patterns), $4 parent, $5 root only; the display path
-- only when $7 (staff see it, customers do not).
SELECT t.id, t.parent_id, t.name, t.description, t.backend_id,
       CASE WHEN $7 THEN (SELECT string_agg(a.name, ' / ' ORDER BY a.depth DESC) FROM topic_ancestry(t.id) a)
       END AS display_name
FROM case_topics t
WHERE NOT t.is_deleted
  AND t.id < $1
  AND ($2::text IS NULL OR t.name ILIKE $2)
  AND ($3::text IS NULL OR t.description ILIKE $3)
  AND ($4::bigint IS NULL OR t.parent_id = $4)
  AND (NOT $5::boolean OR t.parent_id IS NULL)
ORDER BY t.id DESC
LIMIT $6

-- list_topics_before --
-- The same list, the rows before the keyset bound $1 (read backwards; the caller reverses them).
SELECT t.id, t.parent_id, t.name, t.description, t.backend_id,
       CASE WHEN $7 THEN (SELECT string_agg(a.name, ' / ' ORDER BY a.depth DESC) FROM topic_ancestry(t.id) a)
       END AS display_name
FROM case_topics t
WHERE NOT t.is_deleted
  AND t.id > $1
  AND ($2::text IS NULL OR t.name ILIKE $2)
  AND ($3::text IS NULL OR t.description ILIKE $3)
  AND ($4::bigint IS NULL OR t.parent_id = $4)
  AND (NOT $5::boolean OR t.parent_id IS NULL)
ORDER BY t.id ASC
LIMIT $6
