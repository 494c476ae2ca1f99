#!/usr/bin/env bash
# The log of a whole run of the API tests holds no password, JWT secret or token, and no
# asker's e-mail address or phone number.
#
# Runs every API test with the service's log on (TEST_LOG, at debug level) and searches it
# for the credentials the tests use: the first admin's password, every test user's password
# (`pw-` and 32 hex digits), the JWT secret of the test services, anything shaped like a
# signed token, and the askers' e-mail addresses and phone number that the tests send.
# tests/logs.rs checks one scenario at every level, client secrets included.
# Usage: bash tests/log_scan.sh (PORTAL_TEST_POSTGRES_URL as for cargo test).
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! TEST_LOG=1 RUST_LOG=debug NO_COLOR=1 cargo test --quiet --test api -- --nocapture >"$log" 2>&1; then
  # The log is too long to print whole: say which tests failed and why.
  echo "FAIL: the API tests failed with the log on:" >&2
  grep -E -- "panicked at|^test .* FAILED|^---- " -A 6 "$log" | head -200 >&2 || true
  grep -E -- "^failures:|^test result" -A 40 "$log" | tail -60 >&2 || true
  exit 1
fi
requests=$(grep -c 'request_id' "$log" || true)
if [ "$requests" -lt 1000 ]; then
  echo "FAIL: the log holds only $requests request lines; the scan would prove nothing" >&2
  exit 1
fi
found=0
check() { # description, extended regex
  if grep -Eq -- "$2" "$log"; then
    echo "FAIL: $1 found in the log:" >&2
    grep -En -- "$2" "$log" | head -3 >&2
    found=1
  fi
}
check "the admin password" 'admin-password-for-tests'
check "a test user's password" 'pw-[0-9a-f]{32}'
check "the JWT secret" 'test-secret-test-secret-test-secret-0123'
check "a signed token" 'eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.'
check "an asker's e-mail address" '[a-z.]+@example\.vn'
check "an asker's phone number" '0912345678'
[ "$found" = 0 ] || exit 1
echo "log scan: $requests request lines, $(wc -l <"$log") lines in all, no credential or contact detail"
