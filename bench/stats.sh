#!/usr/bin/env bash
# Measures the quarterly report over generated data.
#
#   bench/stats.sh sqlite|postgres [ROWS]
#
# Builds the release binary, fills a fresh database with ROWS submissions and ROWS questions
# (default 1,000,000 each) with `portal-api generate-demo`, starts the service on it, and
# times GET /api/v1/stats/quarterly for every quarter of 2024–2025 in both windows.
# PostgreSQL: PORTAL_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres)
# names the server; the database portal_bench is dropped and created.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?usage: bench/stats.sh sqlite|postgres [ROWS]}
rows=${2:-1000000}
port=18099
password=bench-password-1

cargo build --release --quiet
bin=target/release/portal-api
mkdir -p target/bench
case "$backend" in
  sqlite)
    rm -f target/bench/stats.db target/bench/stats.db-wal target/bench/stats.db-shm
    url="sqlite://target/bench/stats.db" ;;
  postgres)
    admin=${PORTAL_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
    psql "$admin" -qc 'DROP DATABASE IF EXISTS portal_bench WITH (FORCE)' -c 'CREATE DATABASE portal_bench'
    url="${admin%/*}/portal_bench" ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac

export DATABASE_URL=$url PORTAL_ADMIN_PASSWORD=$password RUST_LOG=warn
echo "generating $rows submissions and $rows questions on $backend..."
"$bin" generate-demo --submissions "$rows" --questions "$rows"
if [ "$backend" = postgres ]; then psql "$url" -qc 'VACUUM ANALYZE'; fi

PORTAL_ADDR=127.0.0.1:$port "$bin" serve &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break
  sleep 0.2
done
token=$(curl -fs "http://127.0.0.1:$port/api/v1/auth/token" -d grant_type=password \
  -d username=admin -d "password=$password" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

printf '%-10s %-8s %8s\n' window quarter seconds
for window in reporting calendar; do
  for year in 2024 2025; do
    for quarter in 1 2 3 4; do
      t=$(curl -fs -o /dev/null -w '%{time_total}' -H "authorization: Bearer $token" \
        "http://127.0.0.1:$port/api/v1/stats/quarterly?year=$year&quarter=$quarter&window=$window")
      printf '%-10s %-8s %8s\n' "$window" "$year-Q$quarter" "$t"
    done
  done
done
