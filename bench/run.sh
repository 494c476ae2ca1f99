#!/usr/bin/env bash
# Load benchmark: bench/run.sh sqlite|postgres [ROWS]
#
# Builds release binaries, fills a fresh database with ROWS submissions and ROWS questions
# (default 1,000,000 each; `generate-demo`), starts the service, warms up, and measures
# throughput and p50/p99 latency with the small load generator of examples/load.rs:
#   - a bare actix-web "hello" handler (the ceiling, examples/hello.rs),
#   - GET /api/v1/public/articles?limit=20, and the same with a two-word query,
#   - GET /api/v1/stats/quarterly (one connection: the report's own latency),
#   - POST /api/v1/questions (rate limit raised) and POST /api/v1/submissions by an API client,
#     checking afterwards that every acknowledged write is in the database,
#   - the quarterly report of every quarter in both windows, before and after those writes,
#   - the two public pages again from an instance with the page cache off,
#   - webhooks, to the local receiver of examples/webhook_sink.rs: a backlog of 20,000 events
#     draining, and the delay from question to delivery with questions arriving at 1,000/s.
# It writes the figures into bench/RESULTS.md, with the service's peak memory.
# Needs curl, python3, and sqlite3 or psql. PostgreSQL: PORTAL_BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/postgres); the database portal_bench is recreated.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?usage: bench/run.sh sqlite|postgres [ROWS]}
rows=${2:-1000000}
connections=${BENCH_CONNECTIONS:-64}
seconds=${BENCH_SECONDS:-10}
port=18098
password=bench-password-1
out=target/bench/$backend
mkdir -p "$out"

cargo build --release --quiet --bin portal-api --example hello --example load \
  --example webhook_sink
bin=target/release/portal-api
load=target/release/examples/load

# BENCH_REUSE=1 measures the database of the previous run again instead of generating.
reuse=${BENCH_REUSE:-0}
case "$backend" in
  sqlite)
    [ "$reuse" = 1 ] || rm -f target/bench/run.db target/bench/run.db-wal target/bench/run.db-shm
    url="sqlite://target/bench/run.db"
    count() { sqlite3 target/bench/run.db "SELECT COUNT(*) FROM $1"; } ;;
  postgres)
    admin=${PORTAL_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
    [ "$reuse" = 1 ] || psql "$admin" -qc 'DROP DATABASE IF EXISTS portal_bench WITH (FORCE)' \
      -c 'CREATE DATABASE portal_bench'
    url="${admin%/*}/portal_bench"
    count() { psql "$url" -Atc "SELECT COUNT(*) FROM $1"; } ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac

export DATABASE_URL=$url PORTAL_ADMIN_PASSWORD=$password RUST_LOG=warn
if [ "$reuse" != 1 ]; then
  echo "generating $rows submissions and $rows questions..."
  "$bin" generate-demo --submissions "$rows" --questions "$rows" | tee "$out/generate.txt"
  if [ "$backend" = postgres ]; then psql "$url" -qc 'VACUUM ANALYZE'; fi
fi

HELLO_ADDR=127.0.0.1:18199 target/release/examples/hello &
hello=$!
sink_port=18197
target/release/examples/webhook_sink "127.0.0.1:$sink_port" &
sink=$!
PORTAL_ADDR=127.0.0.1:$port PORTAL_QUESTIONS_PER_MINUTE=1000000 PORTAL_WEBHOOK_ALLOW_PRIVATE=true \
  PORTAL_DB_POOL_SIZE=${BENCH_POOL:-16} "$bin" serve &
pid=$!
trap 'kill $pid $hello $sink 2>/dev/null || true' EXIT
ready() { # port
  for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$1/health/ready" >/dev/null && return
    sleep 0.2
  done
}
ready "$port"
api="http://127.0.0.1:$port/api/v1"
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
admin_token=$(curl -fs "$api/auth/token" -d grant_type=password -d username=admin -d "password=$password" | field access_token)
client=$(curl -fs "$api/clients" -H "authorization: Bearer $admin_token" -H 'content-type: application/json' \
  -d '{"name":"Cổng TTĐT benchmark","unit":"so-khcn"}')
client_id=$(echo "$client" | field client_id)
client_secret=$(echo "$client" | field client_secret)
client_token=$(curl -fs "$api/auth/token" -d grant_type=client_credentials -d "client_id=$client_id" \
  -d "client_secret=$client_secret" | field access_token)

measure() { # name connections warmup url [load options...]
  local name=$1 c=$2 w=$3 u=$4
  shift 4
  echo "measuring $name..." >&2
  "$load" "$u" --connections "$c" --seconds "$seconds" --warmup "$w" "$@" | tee "$out/$name.json" >&2
  echo "$name $(awk '/VmHWM/ {print $2}' "/proc/$pid/status")" >> "$out/memory.txt"
}
: > "$out/memory.txt"

question='{"title":"Hỏi về thủ tục cấp phép","body":"Xin hỏi thời hạn giải quyết?","unit":"so-noi-vu","asker":{"name":"Nguyễn Văn An","email":"an@example.vn"},"publish_consent":true}'
submission='{"category":"khoa-hoc-cong-nghe","title":"Kết quả nghiên cứu khoa học","summary":"Tóm tắt","body":"<p>Nội dung</p>"}'

measure hello "$connections" 2 "http://127.0.0.1:18199/"
measure articles "$connections" 2 "$api/public/articles?limit=20"
measure search "$connections" 2 "$api/public/articles?limit=20&q=giao%20thong"
measure quarterly 1 1 "$api/stats/quarterly?year=2025&quarter=2" --header "authorization: Bearer $admin_token"
# The quarterly report for every quarter of the generated two years, in both windows: on the
# generated data, and again after the write scenarios below.
quarters() { # file
  : > "$1"
  for window in reporting calendar; do
    for year in 2024 2025; do
      for quarter in 1 2 3 4; do
        t=$(curl -fs -o /dev/null -w '%{time_total}' -H "authorization: Bearer $admin_token" \
          "$api/stats/quarterly?year=$year&quarter=$quarter&window=$window")
        echo "$window $year-Q$quarter $t" >> "$1"
      done
    done
  done
}
quarters "$out/quarters.txt"
rm -f "$out/quarters-after-autovacuum.txt" "$out/after-vacuum.txt"
[ "$backend" != postgres ] || writes_started=$(psql "$url" -Atc 'SELECT now()')
questions_before=$(count questions)
measure questions "$connections" 0 "$api/questions" --method POST --body "$question"
questions_after=$(count questions)
submissions_before=$(count submissions)
measure submissions "$connections" 0 "$api/submissions" --method POST --body "$submission" \
  --header "authorization: Bearer $client_token"
submissions_after=$(count submissions)
quarters "$out/quarters-after-writes.txt"
if [ "$backend" = postgres ]; then
  # New rows slow the report until vacuum marks their pages all-visible again (see the
  # migration vacuum_sooner): wait, at most five minutes, for autovacuum to visit the three
  # written tables, as it does in service, and measure once more. A server with autovacuum
  # off gets the VACUUM it would have run.
  if [ "$(psql "$url" -Atc 'SHOW autovacuum')" = on ]; then
    echo "waiting for autovacuum..." >&2
    waited=0
    while [ "$(psql "$url" -Atc "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN \
        ('questions', 'submissions', 'submission_events') AND (last_autovacuum IS NULL \
        OR last_autovacuum < '$writes_started')")" != 0 ] && [ "$waited" -lt 300 ]; do
      sleep 1
      waited=$((waited + 1))
    done
    echo "once autovacuum has visited the written tables ($waited s after the writes)" \
      > "$out/after-vacuum.txt"
  else
    psql "$url" -qc 'VACUUM questions, submissions, submission_events'
    echo "after a VACUUM of the written tables (autovacuum is off on this server)" \
      > "$out/after-vacuum.txt"
  fi
  quarters "$out/quarters-after-autovacuum.txt"
fi

# Webhooks. A backlog: 20,000 events put in the log in one transaction behind the service's
# back, as after a burst, and the time until the receiver has them all.
backlog=20000
sink_stats() { curl -fs "http://127.0.0.1:$sink_port/stats"; }
wait_sink() { # count seconds
  for _ in $(seq 1 $(($2 * 20))); do
    [ "$(sink_stats | field received)" -ge "$1" ] && return
    sleep 0.05
  done
}
hook=$(curl -fs "$api/webhooks" -H "authorization: Bearer $admin_token" -H 'content-type: application/json' \
  -d "{\"url\":\"http://127.0.0.1:$sink_port/hook\",\"events\":[\"*\"]}" | field id)
curl -fs -X DELETE "http://127.0.0.1:$sink_port/stats"
echo "measuring a backlog of $backlog events..." >&2
backlog_started=$(date +%s%3N)
case "$backend" in
  sqlite)
    last=$(sqlite3 target/bench/run.db 'SELECT COALESCE(MAX(seq), 0) FROM events')
    sqlite3 target/bench/run.db "PRAGMA busy_timeout = 10000; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL \
      SELECT i + 1 FROM n WHERE i < $backlog) INSERT INTO events (id, seq, type, occurred_at, unit_code, \
      subject_kind, subject_id, data) SELECT printf('evt_bench%023d', i), $last + i, 'unit.updated', \
      strftime('%Y-%m-%d %H:%M:%f', 'now'), 'so-noi-vu', 'unit', 'so-noi-vu', '{\"bench\":true}' FROM n" ;;
  postgres)
    # Numbered as the service numbers events: from the transaction's id.
    psql "$url" -q -c "INSERT INTO events (seq, id, type, occurred_at, unit_code, subject_kind, \
      subject_id, data) SELECT pg_current_xact_id()::text::bigint * 65536 + i, \
      'evt_bench' || lpad(i::text, 23, '0'), 'unit.updated', now() AT TIME ZONE 'UTC', 'so-noi-vu', \
      'unit', 'so-noi-vu', '{\"bench\":true}' FROM generate_series(1, $backlog) i" > /dev/null ;;
esac
wait_sink "$backlog" 300
sink_stats > "$out/backlog.json"
echo "{\"started_ms\": $backlog_started, \"events\": $backlog}" > "$out/backlog-start.json"
cat "$out/backlog.json" >&2
# Questions arriving at 1,000 a second, the webhook subscribed to question.asked: the delay
# from each event's time to its arrival.
curl -fs -X PATCH "$api/webhooks/$hook" -H "authorization: Bearer $admin_token" \
  -H 'content-type: application/json' -d '{"events":["question.asked"]}' > /dev/null
curl -fs -X DELETE "http://127.0.0.1:$sink_port/stats"
measure questions-paced "$connections" 0 "$api/questions" --method POST --body "$question" --rate 1000 \
  --seconds 20
paced=$(python3 -c "import json; print(json.load(open('$out/questions-paced.json'))['statuses'].get('201', 0))")
wait_sink "$paced" 120
sink_stats > "$out/paced.json"
cat "$out/paced.json" >&2

peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")

# The public pages again from a second instance with the page cache off: every request then
# reads the database.
PORTAL_ADDR=127.0.0.1:$((port + 1)) PORTAL_PUBLIC_CACHE_MS=0 \
  PORTAL_DB_POOL_SIZE=${BENCH_POOL:-16} "$bin" serve &
uncached=$!
trap 'kill $pid $hello $sink $uncached 2>/dev/null || true' EXIT
ready $((port + 1))
kill "$pid"
uncached_api="http://127.0.0.1:$((port + 1))/api/v1"
for scenario in "articles-uncached|$uncached_api/public/articles?limit=20" \
  "search-uncached|$uncached_api/public/articles?limit=20&q=giao%20thong"; do
  echo "measuring ${scenario%%|*}..." >&2
  "$load" "${scenario#*|}" --connections "$connections" --seconds "$seconds" --warmup 2 \
    | tee "$out/${scenario%%|*}.json" >&2
done

python3 - "$backend" "$out" "$rows" "$connections" "$peak_kib" \
  "$questions_before" "$questions_after" "$submissions_before" "$submissions_after" <<'PY'
import json, os, platform, re, subprocess, sys
backend, out, rows, conns, peak, qb, qa, sb, sa = sys.argv[1:]
load = lambda n: json.load(open(f"{out}/{n}.json"))
hello = load("hello")
names = [("hello", "bare actix-web handler (ceiling)"), ("articles", "GET /public/articles?limit=20"),
         ("search", "GET /public/articles?limit=20&q=giao thong"), ("quarterly", "GET /stats/quarterly (1 connection)"),
         ("questions", "POST /questions"), ("submissions", "POST /submissions (API client)"),
         ("articles-uncached", "GET /public/articles?limit=20, page cache off"),
         ("search-uncached", "GET /public/articles?limit=20&q=giao thong, page cache off")]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
lines = [f"<!-- {backend} -->", f"## {backend}", "",
         f"- machine: {os.cpu_count()} cores ({cpu}), {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB; {platform.system()} {platform.release()}",
         f"- commit {commit}; {backend}; {int(rows):,} submissions and {int(rows):,} questions generated; {conns} connections unless noted; {open(out + '/generate.txt').read().strip()}",
         "", "| scenario | requests | req/s | p50 ms | p99 ms | max ms | statuses | req/s vs ceiling |",
         "|---|---|---|---|---|---|---|---|"]
for key, label in names:
    r = load(key)
    ratio = r["rps"] / hello["rps"] if hello["rps"] else 0
    lines.append(f"| {label} | {r['requests']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.1f} | {r['statuses']} | {ratio:.0%} |")
q, s = load("questions"), load("submissions")
lines += ["", f"- peak memory of the service (VmHWM): {int(peak) / 1024:.0f} MiB",
          "- the service's peak memory after each scenario: " + ", ".join(
              f"{n} {int(k) / 1024:.0f} MiB" for n, k in (l.split() for l in open(out + "/memory.txt") if l.strip())),
          f"- questions acknowledged (201): {q['statuses'].get('201', 0)}; rows added: {int(qa) - int(qb)}",
          f"- submissions acknowledged (201): {s['statuses'].get('201', 0)}; rows added: {int(sa) - int(sb)}", ""]
for name, when in (("quarters", "on the generated data"),
                   ("quarters-after-writes", "after the write scenarios (their new rows not yet vacuumed)"),
                   ("quarters-after-autovacuum", open(out + "/after-vacuum.txt").read().strip()
                    if os.path.exists(out + "/after-vacuum.txt") else "")):
    if not os.path.exists(f"{out}/{name}.txt"):
        continue
    times = [l.split() for l in open(f"{out}/{name}.txt") if l.strip()]
    secs = sorted(float(t[2]) for t in times)
    lines += [f"- quarterly report, each quarter of 2024–2025 in both windows ({len(secs)} reports, one at a time), {when}: "
              f"fastest {secs[0]*1000:.0f} ms, median {secs[len(secs)//2]*1000:.0f} ms, slowest {secs[-1]*1000:.0f} ms"]
if os.path.exists(f"{out}/backlog.json"):
    b, start, p, paced = load("backlog"), load("backlog-start"), load("paced"), load("questions-paced")
    took = (b["last_ms"] - start["started_ms"]) / 1000
    lines += [f"- webhooks, a backlog of {start['events']:,} events in the log: all {b['received']:,} received "
              f"({b['distinct']:,} distinct) in {took:.1f} s, {b['received'] / took:,.0f} deliveries/s",
              f"- webhooks, POST /questions paced at 1,000/s for 20 s ({paced['rps']:.0f}/s reached, "
              f"{paced['statuses'].get('201', 0)} acknowledged, p99 {paced['p99_ms']:.1f} ms) with a webhook on "
              f"question.asked: {p['received']} delivered ({p['distinct']} distinct); delay from the event to its "
              f"arrival p50 {p['delay_p50_ms']} ms, p99 {p['delay_p99_ms']} ms, max {p['delay_max_ms']} ms"]
lines += [""]
section = "\n".join(lines) + "\n"
path = "bench/RESULTS.md"
text = open(path).read() if os.path.exists(path) else "# Benchmark results\n\nWritten by `bench/run.sh`; each section is replaced by the next run on that database.\n\n"
pattern = re.compile(rf"<!-- {backend} -->.*?(?=<!-- |\Z)", re.S)
text = pattern.sub(section, text) if pattern.search(text) else text + section
open(path, "w").write(text)
print(section)
PY
