#!/usr/bin/env bash
# A/B of POST /api/v1/questions: bench/ab_questions.sh postgres|sqlite BINARY_A BINARY_B [ROUNDS]
#
# Each round starts each release binary in turn on an empty database of its own (pool 16,
# rate limit raised), sends 3 s of warm-up and then 10 s (BENCH_SECONDS) of questions from 64
# connections (examples/load.rs), and prints one line per run: requests a second, p99, and the
# CPU time per request of the service and (on PostgreSQL) of its server backends, read from
# /proc. The builds take turns within each round, so a machine whose speed wanders between
# runs moves both; compare the ratios within a round. AB_DATABASE_URL runs both on that
# database instead (e.g. the one bench/run.sh filled), each adding its questions to it.
# Needs curl, python3 and psql.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?usage: bench/ab_questions.sh postgres|sqlite BINARY_A BINARY_B [ROUNDS]}
a=${2:?binary A}
b=${3:?binary B}
rounds=${4:-3}
seconds=${BENCH_SECONDS:-10}
admin=${PORTAL_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
port=18096
cargo build --release --quiet --example load
load=target/release/examples/load
out=target/bench/ab
mkdir -p "$out"
question='{"title":"Hỏi về thủ tục cấp phép","body":"Xin hỏi thời hạn giải quyết?","unit":"so-noi-vu","asker":{"name":"Nguyễn Văn An","email":"an@example.vn"},"publish_consent":true}'
ticks() { # the CPU ticks (user + system) of the given processes
  local t=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$t"
}
run() { # label binary
  local label=$1 bin=$2 url db pid backends
  case "${AB_DATABASE_URL:+given}-$backend" in
    given-*)
      url=$AB_DATABASE_URL
      db=${url##*/} ;;
    -postgres)
      db=portal_ab
      psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
      url="${admin%/*}/$db" ;;
    -sqlite)
      rm -f "$out"/ab.db*
      url="sqlite://$out/ab.db" ;;
    *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
  esac
  DATABASE_URL=$url PORTAL_ADMIN_PASSWORD=bench-password-1 RUST_LOG=warn \
    PORTAL_ADDR=127.0.0.1:$port PORTAL_QUESTIONS_PER_MINUTE=1000000 PORTAL_DB_POOL_SIZE=16 \
    "$bin" serve > "$out/$label.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break
    sleep 0.2
  done
  "$load" "http://127.0.0.1:$port/api/v1/questions" --method POST --body "$question" \
    --connections 64 --seconds 3 --warmup 0 >/dev/null
  backends=""
  [ "$backend" != postgres ] || backends=$(pgrep -d' ' -f "postgres: .* $db " || true)
  local s0 p0 s1 p1 result
  s0=$(ticks "$pid"); p0=$(ticks $backends)
  result=$("$load" "http://127.0.0.1:$port/api/v1/questions" --method POST --body "$question" \
    --connections 64 --seconds "$seconds" --warmup 0)
  s1=$(ticks "$pid"); p1=$(ticks $backends)
  kill "$pid"; wait "$pid" || true
  python3 - "$label" "$result" "$backend" "$s0" "$s1" "$p0" "$p1" "$(getconf CLK_TCK)" <<'PY'
import json, sys
label, r, backend = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
s0, s1, p0, p1, hz = map(int, sys.argv[4:])
n = r["requests"]
database = (f"database {(p1 - p0) * 1e6 / hz / n:.0f} µs" if backend == "postgres"
            else "database in the service's process")
print(f"{label}: {r['rps']:.0f} req/s, p99 {r['p99_ms']:.1f} ms, CPU per request: service "
      f"{(s1 - s0) * 1e6 / hz / n:.0f} µs, {database}, statuses {r['statuses']}")
PY
}
for round in $(seq 1 "$rounds"); do
  echo "round $round"
  run A "$a"
  run B "$b"
done
