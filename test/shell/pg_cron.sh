#!/usr/bin/env bash
# The README's pg_cron recipe runs: a cron job calls rec.train_async, and the job retrains the model
# warm, as the role that scheduled it. pg_cron 1.4 fires at most once a minute, so this waits up to
# 90 s. Skips when pg_cron is not preloaded (scripts/lib.sh preloads it when postgresql-N-cron is
# installed). Prints TAP.
source "$(dirname "$0")/../../scripts/lib.sh"
set +e
pick_datadir
export PGDATABASE=pgrec_cron
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
if ! psql -X -At -d postgres -c "SHOW shared_preload_libraries" | grep -q pg_cron; then
  echo "1..0 # SKIP pg_cron is not installed (postgresql-$PG_MAJOR-cron)"
  exit 0
fi
n=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one TAP line
  n=$((n + 1))
  if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi
}
is() {  # is EXPECTED QUERY
  local got
  got=$(sql "$2")
  [ "$got" = "$1" ] || { echo "# expected '$1', got '$got' from: $2" >&2; return 1; }
}
# Polls QUERY until it prints EXPECTED or SECONDS pass.
eventually() {
  local expected=$1 seconds=$2 query=$3 got
  for _ in $(seq 1 "$seconds"); do
    got=$(sql "$query" 2>/dev/null)
    [ "$got" = "$expected" ] && return 0
    sleep 1
  done
  echo "# waited ${seconds}s for '$expected', last saw '$got' from: $query" >&2
  return 1
}

echo "1..4"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS pgrec_cron" -c "CREATE DATABASE pgrec_cron" \
     -c "DROP ROLE IF EXISTS cron_owner" -c "CREATE ROLE cron_owner LOGIN" >/dev/null
sql "CREATE EXTENSION pgrec" >/dev/null
sql "CREATE TABLE events AS SELECT u AS user_id, (u * 7 + n * 13) % 60 AS item_id FROM generate_series(1, 200) u, generate_series(1, 8) n;
     ALTER TABLE events OWNER TO cron_owner" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -c "SET ROLE cron_owner" \
     -c "SELECT rec.train('cronned', 'public.events', 'user_id', 'item_id', params => '{\"factors\": 8, \"iterations\": 3}')" >/dev/null
sql "INSERT INTO events SELECT 1000 + u, u % 60 FROM generate_series(1, 20) u" >/dev/null

# The recipe, in the database pg_cron runs from (postgres), for the model's owner: pg_cron runs
# the command as that role (its schedule_in_database is for superusers only).
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS pg_cron" >/dev/null
job=$(psql -X -q -At -d postgres -v ON_ERROR_STOP=1 -c "
  SELECT cron.schedule_in_database('pgrec-retrain-cronned', '* * * * *',
    \$\$SELECT rec.train_async('cronned', 'public.events', 'user_id', 'item_id',
                              params => '{\"factors\": 8, \"iterations\": 3, \"warm_start\": true}')\$\$,
    'pgrec_cron', 'cron_owner')")
check "cron.schedule_in_database takes the recipe" test -n "$job"
check "pg_cron submits the retraining within 90 s and it deploys version 2" \
  eventually 2 "$([ -n "$job" ] && echo 90 || echo 1)" "SELECT version FROM rec.models WHERE model = 'cronned'"
[ -n "$job" ] && psql -X -q -d postgres -c "SELECT cron.unschedule($job)" >/dev/null
check "the job ran as the role that scheduled it" \
  is "cron_owner" "SELECT created_by FROM rec.model_history('cronned') WHERE version = 2"
check "and started warm from version 1 (the 20 new users drawn cold)" \
  is "200|60" "SELECT (warm_start->>'users') || '|' || (warm_start->>'items') FROM rec.model_history('cronned') WHERE version = 2"
psql -X -q -d postgres -c "DROP EXTENSION pg_cron" -c "DROP DATABASE pgrec_cron WITH (FORCE)" -c "DROP ROLE cron_owner" >/dev/null
exit $((failed > 0))
