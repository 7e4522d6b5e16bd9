"""A receiver of evacase's (and EVA's) event exports, verifying each delivery's signature with the standard
library only. Run it: `python examples/eva_event_receiver.py --port 8080 --key1 <SecretKey1> --key2 <SecretKey2>`
(behind a TLS-terminating proxy: evacase delivers to https:// endpoints only). tests/test_event_exports.py
verifies every delivery of the suite with `verify` below."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer


def _sha256_upper(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest().upper()


def verify(headers: Mapping[str, str], body: bytes, key1: str | None, key2: str | None) -> bool:
    """Whether the delivery is signed with key1 (X-EVA-Signing-1) or key2 (X-EVA-Signing-2). `headers` is
    looked up case-insensitively; either key may be None during a rotation."""
    lower = {name.lower(): value for name, value in headers.items()}
    signed = [name.strip() for name in lower.get("x-eva-signing-headers", "").split(",") if name.strip()]
    if not signed or any(name.lower() not in lower for name in signed):
        return False
    lines = sorted((name, lower[name.lower()]) for name in signed)
    header_hash = _sha256_upper("\n".join(f"{name}={value}" for name, value in lines).encode())
    body_hash = _sha256_upper(body)
    for key, header in ((key1, "x-eva-signing-1"), (key2, "x-eva-signing-2")):
        expected = _sha256_upper((header_hash + body_hash + key).encode()) if key else None
        if expected and hmac.compare_digest(expected, lower.get(header, "")):
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--key1")
    parser.add_argument("--key2")
    args = parser.parse_args()
    seen: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not verify(dict(self.headers.items()), body, args.key1, args.key2):
                self.send_response(401)
                self.end_headers()
                return
            event = json.loads(body)
            self.send_response(200)  # answer first; process asynchronously in a real receiver
            self.end_headers()
            if event["UID"] in seen:  # at least once: the same UID may come again
                return
            seen.add(event["UID"])
            print(event["Target"], event["EventType"], event.get("Identifier"), event.get("Data"), flush=True)  # noqa: T201

    HTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
