#!/usr/bin/env bash
# Faults around background training: a worker killed with SIGKILL, and a fast restart with one job
# running and one queued. Prints TAP; run by scripts/test after the other suites (the kill makes
# PostgreSQL restart every session). Needs the private cluster of scripts/lib.sh to be running.
source "$(dirname "$0")/../../scripts/lib.sh"
set +e
pick_datadir
export PGDATABASE=pgrec_faults
n=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one TAP line
  n=$((n + 1))
  if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi
}
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1" 2>/dev/null; }
# Polls SQL until it prints EXPECTED or SECONDS pass.
eventually() {
  local expected=$1 seconds=$2 query=$3 got
  for _ in $(seq 1 $((seconds * 10))); do
    got=$(sql "$query")
    [ "$got" = "$expected" ] && return 0
    sleep 0.1
  done
  echo "# waited ${seconds}s for '$expected', last saw '$got'" >&2
  return 1
}
wait_ready() { for _ in $(seq 1 300); do pg_isready -q && sql "SELECT 1" >/dev/null && return 0; sleep 0.1; done; return 1; }

echo "1..9"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_faults" -c "CREATE DATABASE pgrec_faults" >/dev/null
sql "CREATE EXTENSION pgrec" >/dev/null
sql "CREATE TABLE src AS SELECT u AS user_id, (u * 31 + k * 17) % 3000 AS item_id FROM generate_series(1, 20000) u, generate_series(1, 10) k" >/dev/null
sql "SELECT rec.train('f', 'src', 'user_id', 'item_id', params => '{\"factors\": 8, \"iterations\": 2}')" >/dev/null
long='{"factors": 64, "iterations": 10000}'

# 1. SIGKILL of a worker in the middle of training.
job=$(sql "SELECT rec.train_async('f', 'src', 'user_id', 'item_id', params => '$long')")
eventually t 30 "SELECT state = 'running' AND epoch >= 1 FROM rec.jobs WHERE job = $job" >/dev/null
pid=$(sql "SELECT pid FROM rec.jobs WHERE job = $job")
kill -9 "$pid"
check "the server accepts connections again after a worker is killed" wait_ready
check "the killed job shows as failed: worker crashed" eventually "failed|true" 10 "SELECT state || '|' || (error LIKE 'worker crashed%') FROM rec.jobs WHERE job = $job"
check "and its row is marked failed after the restart" eventually failed 20 "SELECT state FROM rec.job_queue WHERE id = $job"
check "the previous version still serves" eventually "1|5" 5 "SELECT (SELECT version FROM rec.models WHERE model = 'f') || '|' || (SELECT count(*) FROM rec.recommend('f', 7, 5))"
check "nothing half-written is visible" eventually 1 5 "SELECT count(*) FROM rec.model_versions WHERE model = 'f'"

# 2. Fast restart with one job running and one queued (one worker allowed).
sql "ALTER SYSTEM SET pgrec.max_workers = 1" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
running=$(sql "SELECT rec.train_async('f', 'src', 'user_id', 'item_id', params => '$long')")
eventually t 30 "SELECT state = 'running' FROM rec.jobs WHERE job = $running" >/dev/null
queued=$(sql "SELECT rec.train_async('g', 'src', 'user_id', 'item_id', params => '{\"factors\": 4, \"iterations\": 2}')")
sleep 1
check "with the one slot taken, the second job waits in the queue" eventually queued 2 "SELECT state FROM rec.jobs WHERE job = $queued"
as_owner $PG_BIN/pg_ctl -D "$PGDATA_DIR/data" -l "$PGDATA_DIR/server.log" -m fast -w restart >/dev/null
wait_ready
check "after a fast restart the running job is failed, not stuck" eventually failed 20 "SELECT state FROM rec.job_queue WHERE id = $running"
check "and the queued job runs" eventually succeeded 30 "SELECT state FROM rec.jobs WHERE job = $queued"
sql "ALTER SYSTEM RESET pgrec.max_workers" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
check "the queued job's model serves" eventually 3 10 "SELECT count(*) FROM rec.recommend('g', 7, 3)"

psql -X -q -d postgres -c "DROP DATABASE pgrec_faults" >/dev/null 2>&1
[ "$failed" = 0 ]
