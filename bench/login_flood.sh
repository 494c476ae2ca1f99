#!/usr/bin/env bash
# A login flood against a release build: 400 concurrent POST /api/v1/auth/token with unknown
# usernames, once with no per-address limit (every login reaches a password check) and once
# with the default limit of 30. Prints the answers and the service's resident memory before,
# at its peak (VmHWM) and after. Usage: bash bench/login_flood.sh sqlite|postgres [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:?sqlite or postgres}"
bin="${2:-target/release/portal-api}"
[ -x "$bin" ] || cargo build --release --quiet
pg="${PORTAL_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cleanup() {
  kill "${pid:-0}" 2>/dev/null || true
  wait "${pid:-0}" 2>/dev/null || true
  rm -rf "$work"
  if [ "$backend" = postgres ]; then
    psql -q "$pg" -c "SET client_min_messages = warning" -c 'DROP DATABASE IF EXISTS portal_login_flood'
  fi
}
trap cleanup EXIT

for per_address in 1000000 30; do
  if [ "$backend" = postgres ]; then
    psql -q -v ON_ERROR_STOP=1 "$pg" -c "SET client_min_messages = warning" -c 'DROP DATABASE IF EXISTS portal_login_flood' -c 'CREATE DATABASE portal_login_flood'
    url="${pg%/*}/portal_login_flood"
  else
    rm -rf "$work/db"
    url="sqlite://$work/db/portal.db"
  fi
  DATABASE_URL="$url" PORTAL_ADDR="127.0.0.1:$port" PORTAL_ADMIN_PASSWORD=flood-admin-password \
    PORTAL_LOGIN_FAILURES_PER_ADDRESS="$per_address" RUST_LOG=error "$bin" &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null; do sleep 0.2; done
  printf '%s, failed logins per address %s: ' "$backend" "$per_address"
  python3 - "http://127.0.0.1:$port" "$pid" <<'PY'
import collections, concurrent.futures, json, sys, time, urllib.error, urllib.request, uuid
base, pid = sys.argv[1], int(sys.argv[2])

def mib(field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024

def login(i):
    body = json.dumps({"grant_type": "password", "username": f"khong-co-{i}-{uuid.uuid4().hex}",
                       "password": "a wrong password"}).encode()
    request = urllib.request.Request(base + "/api/v1/auth/token", data=body,
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status
    except urllib.error.HTTPError as e:
        return e.code

before, started = mib("VmRSS"), time.time()
with concurrent.futures.ThreadPoolExecutor(400) as pool:
    statuses = collections.Counter(pool.map(login, range(400)))
print(f"400 logins in {time.time() - started:.1f} s, {dict(sorted(statuses.items()))}; "
      f"RSS {before:.0f} MiB before, peak {mib('VmHWM'):.0f} MiB, {mib('VmRSS'):.0f} MiB after")
PY
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
