"""Walk the customer journey of EVA's guide against a running evacase and print each exchange.

Usage (with `evacase serve` running):
    python scripts/smoke.py [--url http://127.0.0.1:8000] [--token TOKEN]

Without --token it mints one with `evacase token` (same EVACASE_HOME / EVACASE_JWT_SECRET as the server).
Exits non-zero at the first answer that is not 200. Every call goes through evacase.client (its writes carry an
Idempotency-Key and are retried on a dropped connection or a 503).
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import urllib.request
from typing import Any

from evacase.client import EvaApiError, SyncEvaClient

# A 1x1 PNG: the smallest photo of the crooked stitching.
PHOTO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def call(client: SyncEvaClient, service: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        answer = client.call(service, body)
    except EvaApiError as exc:
        sys.stderr.write(f"{service} -> {exc.status}: {json.dumps(exc.error)}\n")
        raise SystemExit(1) from None
    sys.stdout.write(f"--> {service} {json.dumps(body)}\n<-- {json.dumps(answer, indent=2)}\n\n")
    return answer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token")
    args = parser.parse_args()
    token = (
        args.token
        or subprocess.run(
            ["evacase", "token", "--user-id", "5001", "--user-type", "customer", "--name", "Pedro Pascal"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    with SyncEvaClient(args.url, token, user_agent="smoke/1") as client:
        return journey(client)


def journey(client: SyncEvaClient) -> int:
    topics = call(client, "ListCaseTopics", {})
    topic_id = topics["Results"][-1]["ID"]
    case = {
        "TopicID": topic_id,
        "Title": "The stitching on my T-shirt isn't right!!",
        "Description": "The logo stitching seems to be majorly messed up; every letter is crooked.",
        "OrderID": 325,
    }
    case_id = call(client, "CustomerCreateCase", case)["ID"]
    call(client, "CustomerListCases", {"InitialPageConfig": {"Limit": 5}})
    # The photo of the crooked stitching: stored first, then attached, then fetched from its Url.
    blob = call(client, "StoreBlob", {"Data": base64.b64encode(PHOTO).decode(), "MimeType": "image/png"})
    call(client, "CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": blob["Guid"]})
    with urllib.request.urlopen(blob["Url"], timeout=10) as response:
        if response.read() != PHOTO or response.headers["Content-Type"] != "image/png":
            sys.stderr.write(f"GET {blob['Url']} did not return the stored photo\n")
            return 1
    sys.stdout.write(f"GET {blob['Url']} -> {len(PHOTO)} bytes, image/png\n\n")
    call(client, "CustomerGetCaseByID", {"ID": case_id})
    call(client, "CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "YourMessageHere"})
    call(client, "CustomerListCaseInteractions", {"CaseID": case_id})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
