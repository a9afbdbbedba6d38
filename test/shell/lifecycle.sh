#!/usr/bin/env bash
# A model's life without a manual retraining: data arrives in batches, the schedule retrains it
# (warm), the gate refuses a deliberately worse challenger and deploys a better one, drift and the
# online metrics of what was served show the changes, and scripts/report draws the charts.
# Prints TAP. Needs the private cluster of scripts/lib.sh to be running (pgrec preloaded).
source "$(dirname "$0")/../../scripts/lib.sh"
set +e
pick_datadir
export PGDATABASE=pgrec_cycle
n=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one TAP line
  n=$((n + 1))
  if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi
}
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
is() {  # is EXPECTED QUERY
  local got
  got=$(sql "$2")
  [ "$got" = "$1" ] || { echo "# expected '$1', got '$got' from: $2" >&2; return 1; }
}
# Polls QUERY until it prints EXPECTED or SECONDS pass.
eventually() {
  local expected=$1 seconds=$2 query=$3 got
  for _ in $(seq 1 $((seconds * 10))); do
    got=$(sql "$query" 2>/dev/null)
    [ "$got" = "$expected" ] && return 0
    sleep 0.1
  done
  echo "# waited ${seconds}s for '$expected', last saw '$got' from: $query" >&2
  return 1
}
# Adds the planted stream's rows of hours [FROM, TO) to the source.
batch() { sql "INSERT INTO events SELECT * FROM stream WHERE ts >= '2026-01-01'::timestamptz + interval '$1 hours' AND ts < '2026-01-01'::timestamptz + interval '$2 hours'" >/dev/null; }
# Waits until the schedule has run N times and its last job ended.
runs_done() { eventually "$1|1" 60 "SELECT runs || '|' || (last_outcome IN ('succeeded', 'failed'))::int FROM rec.schedules WHERE model = 'cycle'"; }

echo "1..17"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_cycle" -c "CREATE DATABASE pgrec_cycle" >/dev/null
sql "CREATE EXTENSION pgrec" >/dev/null
# 400 users in 4 taste groups, 24 hours of activity, one interaction per user and hour.
sql "CREATE TABLE stream AS SELECT u AS user_id, (((u * 7 + h * 13) % 40) * 4 + u % 4) + 1 AS item_id,
       '2026-01-01'::timestamptz + h * interval '1 hour' + u * interval '1 s' AS ts
     FROM generate_series(1, 400) u, generate_series(0, 23) h" >/dev/null
sql "CREATE TABLE events (LIKE stream)" >/dev/null
batch 0 12

# The one manual training; from here on the schedule retrains.
sql "SELECT rec.train('cycle', 'events', 'user_id', 'item_id', params => '{\"factors\": 8, \"iterations\": 10}')" >/dev/null
gate='{"time_col": "ts", "tolerance": 0.05}'
sql "SELECT rec.schedule('cycle', every => '1 day', min_new_rows => 1000, gate => '$gate')" >/dev/null

# Version 1 serves 200 users; those of even id take the first item they were shown 10 minutes later.
serve() {
  psql -X -q -At -v ON_ERROR_STOP=1 -c "SET pgrec.log_recommendations = on" \
       -c "SELECT count(*) FROM generate_series($1, $2) u, rec.recommend('cycle', u, 5)" >/dev/null
}
serve 1 200
sql "CREATE TABLE clicks AS SELECT s.user_id::int AS user_id, s.items[1]::int AS item_id, s.served_at + interval '10 minutes' AS ts
     FROM rec.served s WHERE s.user_id::int % 2 = 0" >/dev/null

# Fewer new rows than min_new_rows: no retraining, and drift shows them.
batch 12 13
check "drift counts the 400 rows added since training" is "400|0|0" "SELECT new_rows || '|' || new_users || '|' || new_items FROM rec.drift('cycle')"
sleep 3
check "and fewer than min_new_rows trigger nothing" is "0|1" "SELECT runs || '|' || (SELECT version FROM rec.models WHERE model = 'cycle') FROM rec.schedules WHERE model = 'cycle'"

# Enough new rows: the schedule retrains, warm, and the gate deploys the result.
batch 13 16
check "1,600 new rows make the schedule retrain" runs_done 1
check "the retraining succeeded and was deployed" is "succeeded|1|2" "SELECT last_outcome || '|' || last_deployed::int || '|' || last_version FROM rec.schedules WHERE model = 'cycle'"
check "it started warm from version 1" is "t" "SELECT (warm_start->>'users')::int = 400 AND (warm_start->>'items')::int > 0 FROM rec.model_history('cycle') WHERE version = 2"
check "drift starts again from the new version" is "0" "SELECT new_rows FROM rec.drift('cycle')"
serve 201 400

# A deliberately worse challenger (one factor, one iteration): trained, kept back.
sql "SELECT rec.schedule('cycle', every => '1 day', min_new_rows => 1000, gate => '$gate', params => '{\"factors\": 1, \"iterations\": 1}')" >/dev/null
batch 16 19
check "the next batch retrains again" runs_done 2
check "the gate kept the worse version back" is "succeeded|0|3" "SELECT last_outcome || '|' || last_deployed::int || '|' || last_version FROM rec.schedules WHERE model = 'cycle'"
check "version 2 still serves" is "2" "SELECT version FROM rec.models WHERE model = 'cycle'"
sleep 3
check "and a kept-back version does not make the next pass retrain on the same rows" is "2" "SELECT runs FROM rec.schedules WHERE model = 'cycle'"
check "both scores are recorded, the challenger's lower" is "t" "SELECT (gate->>'challenger')::float8 + 0.05 < (gate->>'champion')::float8 AND (gate->>'champion_version')::int = 2 FROM rec.model_history('cycle') WHERE version = 3"

# A good configuration again: deployed.
sql "SELECT rec.schedule('cycle', every => '1 day', min_new_rows => 1000, gate => '$gate', params => '{\"warm_start\": true, \"factors\": 8, \"iterations\": 5, \"track_loss\": true}')" >/dev/null
batch 19 24
check "the last batch retrains a third time" runs_done 3
check "and the better version is deployed" is "1|4" "SELECT last_deployed::int || '|' || (SELECT version FROM rec.models WHERE model = 'cycle') FROM rec.schedules WHERE model = 'cycle'"
check "the history lists four versions, one never served" is "4|1" "SELECT count(*) || '|' || count(*) FILTER (WHERE NOT deployed) FROM rec.model_history('cycle')"

# Online metrics: half of version 1's users took an item it showed them, none of version 2's.
check "online hit rate of version 1 is the share of users who followed it" is "1|200|0.5|0.10" \
  "SELECT version || '|' || lists || '|' || hit_rate || '|' || round(\"precision\"::numeric, 2) FROM rec.online_metrics('cycle', 'clicks', within => '1 hour', time_col => 'ts') WHERE version = 1"
check "version 2's lists have no hits" is "2|200|0" \
  "SELECT version || '|' || lists || '|' || hits FROM rec.online_metrics('cycle', 'clicks', within => '1 hour', time_col => 'ts') WHERE version = 2"

# The charts.
out=$(mktemp -d)
# Whether the report wrote the three charts, each a PNG of some size.
charts() {
  local f
  [ "$("$REPO/scripts/report" cycle --out "$out" --source clicks --time-col ts | wc -l)" = 3 ] || return 1
  for f in history curve online; do
    [ "$(head -c 8 "$out/cycle-$f.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || return 1
    [ "$(stat -c %s "$out/cycle-$f.png")" -gt 5000 ] || return 1
  done
}
check "scripts/report draws the history, the training curve and the online metrics as PNG files" charts
rm -rf "$out"
sql "SELECT rec.unschedule('cycle')" >/dev/null
exit $((failed > 0))
