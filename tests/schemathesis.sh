#!/usr/bin/env bash
# Hostile-input run: schemathesis generates valid and invalid requests for every operation of
# openapi/openapi.json and checks each answer against the document (no 5xx, documented status
# codes, content types, headers and body schemas).
#
# The service runs from target/debug/portal-api (CARGO_TARGET_DIR is respected) on a fresh
# temporary SQLite database, or on a fresh PostgreSQL database `portal_st_<random>` when
# PORTAL_TEST_POSTGRES_URL is set (created with psql, dropped at the end). Requests carry an
# admin bearer token, so the protected operations are reached too.
#
# Short run (CI, about 90 s of testing):
#   bash tests/schemathesis.sh
#   PORTAL_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres bash tests/schemathesis.sh
# Long run (fuzzing and stateful testing repeat until the budget is spent):
#   ST_MAX_TIME=1800 ST_MAX_EXAMPLES=500 bash tests/schemathesis.sh
#
# Knobs:
#   ST_MAX_TIME      time budget of the schemathesis run in seconds (default 90)
#   ST_MAX_EXAMPLES  test cases per operation and phase (default 30)
#   ST_SEED          random seed, to replay a run
#   ST_WORKERS       concurrent schemathesis workers (default 1: with more, hypothesis sometimes
#                    fails in its own code with "AST constructor recursion depth mismatch")
#   ST               the `st` executable to use; otherwise .ci/venv/bin/st, then `st` on PATH,
#                    and if there is none schemathesis is installed into .ci/venv
#   PORTAL_BIN       an already built portal-api to run instead of building target/debug
#   ST_REPORT_DIR    where the JUnit and NDJSON reports go (default: the temporary folder,
#                    removed)
#   ST_MIN_CASES     test cases each operation with parameters or a body must have been sent
#                    (default 15). With the default budget and seed, five runs gave the
#                    fewest 26 to 76 cases (POST /api/v1/auth/token, whose share of the
#                    fuzzing rounds varies most) and most operations 60 or more. Lower it with
#                    a shorter ST_MAX_TIME. An operation without either has one request to
#                    make, and needs one.
#   ST_CHECK_NEGATIVE=1  also run negative_data_rejection (see below why it is excluded)
# Any further arguments are passed to `st run`.
#
# Besides schemathesis's own verdict the run fails when
#   - the admin token no longer works at the end (every later call would have been a 401),
#   - the service logged any line at ERROR level (or a panic), but for requests it could not
#     parse (see below): the lines are printed,
#   - an operation was sent fewer than ST_MIN_CASES test cases (counted from the NDJSON
#     report: cases that got an answer, in every phase), or was not tested at all: statuses
#     such as 401, 404, 409 and 422 are accepted everywhere, so a run can pass having tried
#     little. Every operation's count is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
MAX_TIME="${ST_MAX_TIME:-90}"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-30}"
WORKERS="${ST_WORKERS:-1}"
MIN_CASES="${ST_MIN_CASES:-15}"

step() { printf '\n==> %s\n' "$*"; }

# --- schemathesis -------------------------------------------------------------------------
find_st() {
  if [ -n "${ST:-}" ]; then
    echo "$ST"
  elif [ -x .ci/venv/bin/st ]; then
    echo .ci/venv/bin/st
  elif command -v st >/dev/null 2>&1; then
    command -v st
  fi
}
ST_BIN="$(find_st)"
if [ -z "$ST_BIN" ]; then
  step "installing schemathesis $ST_VERSION into .ci/venv"
  python3 -m venv .ci/venv
  .ci/venv/bin/pip install --quiet "schemathesis==$ST_VERSION"
  ST_BIN=.ci/venv/bin/st
fi
"$ST_BIN" --version

# --- the service binary -------------------------------------------------------------------
if [ -n "${PORTAL_BIN:-}" ]; then
  BIN="$PORTAL_BIN"
else
  step "cargo build"
  cargo build --quiet --bin portal-api
  BIN="${CARGO_TARGET_DIR:-target}/debug/portal-api"
fi
[ -x "$BIN" ] || { echo "FAIL: $BIN is not an executable" >&2; exit 1; }

# --- a fresh database, a free port, and cleanup on exit ----------------------------------
WORK="$(mktemp -d /tmp/portal-st.XXXXXX)"
SERVICE_PID=""
PG_DB=""
PG_ADMIN_URL="${PORTAL_TEST_POSTGRES_URL:-}"

cleanup() {
  local status=$?
  if [ -n "$SERVICE_PID" ] && kill -0 "$SERVICE_PID" 2>/dev/null; then
    kill "$SERVICE_PID" 2>/dev/null || true
    wait "$SERVICE_PID" 2>/dev/null || true
  fi
  if [ -n "$PG_DB" ]; then
    psql -q -X -v ON_ERROR_STOP=1 -d "$PG_ADMIN_URL" \
      -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$WORK/service.log" ]; then
    echo "--- last lines of the service log ---" >&2
    tail -n 40 "$WORK/service.log" >&2 || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "$PG_ADMIN_URL" ]; then
  PG_DB="portal_st_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  step "PostgreSQL database $PG_DB"
  psql -q -X -v ON_ERROR_STOP=1 -d "$PG_ADMIN_URL" -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
  # Same server and credentials, the new database: replace the path, keep any ?query.
  base="${PG_ADMIN_URL%%\?*}"
  query=""
  [ "$base" != "$PG_ADMIN_URL" ] && query="?${PG_ADMIN_URL#*\?}"
  rest="${base#*://}"
  if [[ "$rest" == */* ]]; then
    base="${base%/*}"
  fi
  DATABASE_URL="$base/$PG_DB$query"
else
  DATABASE_URL="sqlite://$WORK/portal.db"
fi

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE_URL="http://127.0.0.1:$PORT"
ADMIN_PASSWORD="st-admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"

step "starting portal-api on $BASE_URL"
DATABASE_URL="$DATABASE_URL" \
  PORTAL_ADDR="127.0.0.1:$PORT" \
  PORTAL_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  PORTAL_JWT_SECRET="$JWT_SECRET" \
  PORTAL_TOKEN_TTL_SECONDS=86400 \
  PORTAL_QUESTIONS_PER_MINUTE=1000000 \
  RUST_LOG="${RUST_LOG:-warn}" \
  "$BIN" serve >"$WORK/service.log" 2>&1 &
SERVICE_PID=$!

for _ in $(seq 1 120); do
  if curl -fsS -o /dev/null "$BASE_URL/health/ready" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$SERVICE_PID" 2>/dev/null; then
    echo "FAIL: portal-api exited before it was ready" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fsS -o /dev/null "$BASE_URL/health/ready" || { echo "FAIL: portal-api is not ready" >&2; exit 1; }

TOKEN="$(curl -fsS -X POST "$BASE_URL/api/v1/auth/token" \
  -H 'Content-Type: application/json' \
  --data "{\"grant_type\":\"password\",\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
[ -n "$TOKEN" ] || { echo "FAIL: no admin token" >&2; exit 1; }
# The account the run acts as: tests/schemathesis_hooks.py keeps the run from changing it.
ST_RUNNER_USER_ID="$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE_URL/api/v1/auth/me" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["subject"].removeprefix("user:"))')"
export ST_RUNNER_USER_ID SCHEMATHESIS_HOOKS=tests/schemathesis_hooks.py

# --- the run ------------------------------------------------------------------------------
REPORT_DIR="${ST_REPORT_DIR:-$WORK/report}"
seed_args=()
exclude_args=(--exclude-checks negative_data_rejection)
[ "${ST_CHECK_NEGATIVE:-0}" = 1 ] && exclude_args=()
[ -n "${ST_SEED:-}" ] && seed_args=(--seed "$ST_SEED")

step "st run (max time ${MAX_TIME}s, ${MAX_EXAMPLES} examples per operation)"
# Checks: all of them but negative_data_rejection. tests/schemathesis.toml widens the statuses
# two checks accept, each with its reason (412/422 for schema-valid data, 428 for a missing
# If-Match, 400 for opaque cursors and date ranges of lists).
# negative_data_rejection is excluded: schemathesis 4.32.5's coverage phase drops optional,
# nullable properties (CreateSubmissionRequest.source_ref, UpdateUserRequest.display_name) as
# "Missing required property" although the document requires neither, and then fails the
# 2xx the service rightly answers. Run it by hand with ST_CHECK_NEGATIVE=1.
NDJSON="$REPORT_DIR/schemathesis.ndjson"
set +e
"$ST_BIN" --config-file tests/schemathesis.toml run openapi/openapi.json \
  --url "$BASE_URL" \
  -H "Authorization: Bearer $TOKEN" \
  --checks all \
  "${exclude_args[@]}" \
  --max-time "$MAX_TIME" \
  --max-examples "$MAX_EXAMPLES" \
  --workers "$WORKERS" \
  --request-timeout 30 \
  --generation-database none \
  --no-color \
  --report junit,ndjson --report-dir "$REPORT_DIR" --report-ndjson-path "$NDJSON" \
  "${seed_args[@]}" \
  "$@"
st_status=$?
set -e
failed=0
[ "$st_status" -eq 0 ] || failed=1

# A token that stopped working mid-run (a change to the admin account ends its tokens) would
# turn every later call into a 401 that tests nothing.
me_status="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE_URL/api/v1/auth/me")"
if [ "$me_status" != 200 ]; then
  echo "FAIL: the admin token no longer works after the run (GET /api/v1/auth/me: $me_status)" >&2
  failed=1
fi

# Every ERROR line of the service's log, whatever its message (text lines in development,
# JSON lines in production), and panics, which are printed outside the log's format.
# One kind is the caller's doing, not the service's: actix-http logs at ERROR a request it
# cannot parse (schemathesis's first probe sends a NUL byte in a header, which is answered
# 400). Those lines are counted and shown, and do not fail the run.
errors_re='^[^ ]+ +ERROR |"level": *"ERROR"|panicked at'
unparsable_re='actix_http::h1::dispatcher.*request parse error|request parse error.*actix_http::h1::dispatcher'
# Collected whole, not piped into `grep -q` or `head`: under pipefail an early exit there
# would be read as "nothing found".
all_errors="$(grep -E "$errors_re" "$WORK/service.log" || true)"
unparsable="$(grep -E "$unparsable_re" <<<"$all_errors" || true)"
errors="$(grep -Ev "$unparsable_re" <<<"$all_errors" || true)"
if [ -n "$unparsable" ]; then
  echo "note: $(wc -l <<<"$unparsable") request(s) could not be parsed (logged by actix-http at ERROR):"
  sed -n '1,5p' <<<"$unparsable"
fi
if [ -n "$errors" ]; then
  echo "FAIL: the service logged $(wc -l <<<"$errors") line(s) at ERROR level:" >&2
  sed -n '1,50p' <<<"$errors" >&2
  failed=1
fi

# Test cases per operation, from the NDJSON report.
step "test cases per operation (at least $MIN_CASES for an operation with parameters or a body)"
if [ ! -s "$NDJSON" ]; then
  echo "FAIL: no NDJSON report at $NDJSON; test cases per operation cannot be counted" >&2
  failed=1
elif ! python3 - "$NDJSON" openapi/openapi.json "$MIN_CASES" "$#" <<'PY'
import collections
import json
import sys

ndjson, document, minimum, extra_args = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

# The document's operations, and which take no input at all (no parameter, no body): those
# have one request to make, however many cases are asked for.
paths = json.load(open(document, encoding="utf-8"))["paths"]
documented = {}
for path, item in paths.items():
    shared = item.get("parameters", [])
    for method, operation in item.items():
        if method in METHODS:
            takes_input = bool(shared or operation.get("parameters") or operation.get("requestBody"))
            documented[f"{method.upper()} {path}"] = takes_input

cases = collections.Counter()  # cases that got an answer, per operation
success = collections.Counter()  # of those, answered 2xx
selected = set()  # operations the unit phases ran (a scenario each, tested or skipped)
for line in open(ndjson, encoding="utf-8"):
    event = json.loads(line)
    finished = event.get("ScenarioFinished")
    if not finished:
        continue
    recorder = finished["recorder"]
    if finished["phase"] != "stateful":
        selected.add(recorder["label"])
    for case_id, interaction in (recorder.get("interactions") or {}).items():
        case = recorder["cases"][case_id]["value"]
        label = f"{case['method'].upper()} {case['path']}"
        # The coverage phase also sends methods the document does not have (unsupported_method):
        # those are not operations.
        if label not in documented or not interaction.get("response"):
            continue
        cases[label] += 1
        if 200 <= interaction["response"]["status_code"] < 300:
            success[label] += 1

# Without extra `st run` arguments (which may filter operations) every documented operation
# must have been selected.
expected = set(documented) if extra_args == 0 else selected & set(documented)
print(f"{'cases':>6} {'2xx':>5}  operation")
short = []
for label in sorted(expected, key=lambda l: (cases[l], l)):
    need = minimum if documented[label] else 1
    mark = "" if cases[label] >= need else f"  <- fewer than {need}"
    print(f"{cases[label]:>6} {success[label]:>5}  {label}{mark}")
    if cases[label] < need:
        short.append(f"{label} ({cases[label]} cases, {need} needed)")
with_input = [cases[l] for l in expected if documented[l]]
if with_input:
    print(f"{len(expected)} operations; the fewest cases for one with input: {min(with_input)}")
if short:
    print(f"FAIL: {len(short)} operation(s) were sent too few test cases:", file=sys.stderr)
    for s in short:
        print(f"  {s}", file=sys.stderr)
    sys.exit(1)
PY
then
  failed=1
fi

if [ "$failed" -ne 0 ]; then
  [ "$st_status" -eq 0 ] || echo "FAIL: schemathesis reported failures (exit status $st_status)" >&2
  exit 1
fi
echo "schemathesis: no failure"
