"""Checks recorded webhook requests with an independent implementation of the scheme: the
`standardwebhooks` package from PyPI (the Standard Webhooks reference library).

Usage: python webhook_verify.py REQUESTS.json

REQUESTS.json is a list of {"secret": "whsec_...", "headers": {name: value},
"body_base64": "..."}, one per request a test receiver got. Every request must verify
(signature and timestamp); the exit status is 0 when all do, 1 otherwise, 2 on bad usage.
The tests in tests/api/webhooks.rs run it when PORTAL_TEST_WEBHOOK_VERIFIER names a Python
that has the package (.ci/run installs it into .ci/venv).
"""

import base64
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        requests = json.load(f)
    if not requests:
        print("no requests to verify", file=sys.stderr)
        return 1
    failed = 0
    for i, request in enumerate(requests):
        body = base64.b64decode(request["body_base64"])
        try:
            payload = Webhook(request["secret"]).verify(body, request["headers"])
        except WebhookVerificationError as e:
            failed += 1
            print(f"request {i}: {e}", file=sys.stderr)
            continue
        if payload.get("id") != request["headers"].get("webhook-id"):
            failed += 1
            print(f"request {i}: the body's id is not the webhook-id header", file=sys.stderr)
    print(f"{len(requests) - failed} of {len(requests)} requests verified")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
