#!/usr/bin/env bash
# Scaling out on this machine: a streaming standby of the private cluster joins a 2-rank ALS job
# of the primary (torch.distributed, Gloo over 127.0.0.1) and the model equals a 1-rank training;
# 2-rank NeuMF and BPR jobs train as well as 1 rank;
# only the job's submitter can join; a rank that never joins fails the job within its timeout
# and the previous version keeps serving; a client whose connection string prefers a standby
# gets recommendations there, and the new version once it replicates. Prints TAP; run by
# scripts/test. Needs the private cluster of scripts/lib.sh to be running.
source "$(dirname "$0")/../../scripts/lib.sh"
set +e
pick_datadir
PRIMARY_HOST=$PGHOST
STANDBY_PORT=$((PGREC_PORT + 3))
RDV_PORT=$((20000 + $$ % 20000))
export PGDATABASE=pgrec_dist
n=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one TAP line
  n=$((n + 1))
  if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi
}
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
standby() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$work/standby_run" -p "$STANDBY_PORT" -c "$1"; }
is() {  # is EXPECTED ACTUAL
  [ "$1" = "$2" ] || { echo "# expected '$1', got '$2'" >&2; return 1; }
}
# Polls COMMAND (a function printing one value) until it prints EXPECTED, for up to SECONDS.
eventually() {
  local expected=$1 seconds=$2 got
  for _ in $(seq 1 $((seconds * 5))); do
    got=$("${@:3}" 2>/dev/null)
    [ "$got" = "$expected" ] && return 0
    sleep 0.2
  done
  echo "# waited ${seconds}s for '$expected', last saw '$got' from: ${*:3}" >&2
  return 1
}

work=$(mktemp -d /tmp/pgrec-dist.XXXXXX)
[ "$(id -u)" = 0 ] && chown "$(cluster_user)" "$work"
cleanup() {
  [ -d "$work/standby" ] && as_owner $PG_BIN/pg_ctl -D "$work/standby" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

echo "1..13"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS pgrec_dist WITH (FORCE)" \
     -c "CREATE DATABASE pgrec_dist" -c "DROP ROLE IF EXISTS dist_other" -c "CREATE ROLE dist_other LOGIN" >/dev/null
sql "CREATE EXTENSION pgrec" >/dev/null
# 600 users in 4 taste groups, 30 interactions each, some items of every group taken by few users.
sql "CREATE TABLE events AS SELECT u AS user_id, ((u * 7 + n * 13) % 50) * 4 + u % 4 AS item_id
     FROM generate_series(1, 600) u, generate_series(1, 30) n;
     GRANT SELECT ON events TO dist_other" >/dev/null

# The standby, streaming from the primary's unix socket.
as_owner $PG_BIN/pg_basebackup -h "$PRIMARY_HOST" -p "$PGREC_PORT" -U "$PGUSER" -D "$work/standby" -R -X stream -c fast
as_owner mkdir -p "$work/standby_run"
cat <<CONF | as_owner tee -a "$work/standby/postgresql.conf" >/dev/null
port = $STANDBY_PORT
listen_addresses = ''
unix_socket_directories = '$work/standby_run'
shared_preload_libraries = 'pgrec'
CONF
as_owner $PG_BIN/pg_ctl -D "$work/standby" -l "$work/standby.log" -w start >/dev/null
check "the standby is in recovery" is t "$(standby "SELECT pg_is_in_recovery()")"

params() {  # params RANKS TIMEOUT
  echo "{\"factors\": 16, \"iterations\": 6, \"distributed\": {\"ranks\": $1, \"rendezvous\": \"127.0.0.1:$RDV_PORT\", \"timeout\": $2}}"
}
job_state() { sql "SELECT state FROM rec.job_queue WHERE id = $1"; }
on_standby() { standby "SELECT count(*) FROM rec.job_queue WHERE id = $1"; }

# 2 ranks: the primary's job worker (rank 0) and a session on the standby (rank 1).
job2=$(sql "SELECT rec.train_async('dist2', 'events', 'user_id', 'item_id', params => '$(params 2 60)')")
eventually 1 30 on_standby "$job2"
# Only the submitter can join: another role does not even see the job.
err=$(psql -X -q -At -h "$work/standby_run" -p "$STANDBY_PORT" -U dist_other -v VERBOSITY=verbose \
      -c "SELECT rec.join_training($job2, 1)" 2>&1)
check "another role cannot join the job (42704: it sees only its own jobs)" grep -q 42704 <<<"$err"
joined=$(standby "SELECT (j->>'ranks') || '|' || (j->>'rank') FROM rec.join_training($job2, 1) j" 2>&1)
check "the standby's session trained rank 1 on its half of the users" \
  is "2|1" "$joined"
eventually succeeded 60 job_state "$job2"
check "the 2-rank job succeeded on the primary" is succeeded "$(job_state "$job2")"
check "rank 0 stored every user and every interaction" is "600|18000|2" \
  "$(sql "SELECT n_users || '|' || n_interactions || '|' || (metrics->'distributed'->>'ranks') FROM rec.models WHERE model = 'dist2'")"

# 1 rank, the same parameters: the same model.
job1=$(sql "SELECT rec.train_async('dist1', 'events', 'user_id', 'item_id', params => '$(params 1 60)')")
eventually succeeded 60 job_state "$job1"
check "the 2-rank objective equals the 1-rank one (1e-4 relative)" is t \
  "$(sql "SELECT abs(a.loss - b.loss) <= 1e-4 * abs(b.loss) FROM rec.job_queue a, rec.job_queue b WHERE a.id = $job2 AND b.id = $job1")"
check "and so do the item factors (1e-3)" is t \
  "$(sql "SELECT max(abs(x - y)) < 1e-3 FROM rec.item_factors('dist2') a JOIN rec.item_factors('dist1') b USING (item_id),
          LATERAL unnest(a.factors, b.factors) AS f(x, y)")"

# A LibTorch family on 2 ranks: NeuMF's gradients averaged over the primary's worker and the
# standby's session, against the same epochs on 1 rank (the held-out-per-user share of the top 10
# in the user's taste group).
nparams() {  # nparams RANKS
  echo "{\"factors\": 8, \"mlp_factors\": 8, \"epochs\": 4, \"patience\": 0, \"learning_rate\": 0.01,
         \"distributed\": {\"ranks\": $1, \"rendezvous\": \"127.0.0.1:$RDV_PORT\", \"timeout\": 60}}"
}
in_group() { sql "SELECT round(avg((r.item_id % 4 = u % 4)::int), 3) FROM generate_series(1, 600) u, rec.recommend('$1', u, 10) r"; }
job4=$(sql "SELECT rec.train_async('ndist2', 'events', 'user_id', 'item_id', algorithm => 'neumf', params => '$(nparams 2)')")
eventually 1 30 on_standby "$job4"
standby "SELECT rec.join_training($job4, 1)" >/dev/null
eventually succeeded 120 job_state "$job4"
job5=$(sql "SELECT rec.train_async('ndist1', 'events', 'user_id', 'item_id', algorithm => 'neumf', params => '$(nparams 1)')")
eventually succeeded 120 job_state "$job5"
check "2-rank NeuMF stored every user and trained as well as 1 rank (in-group share within 0.05, above 0.8)" is t \
  "$(sql "SELECT n_users = 600 FROM rec.models WHERE model = 'ndist2'")$(in_group ndist2 | awk -v one="$(in_group ndist1)" \
      '{ d = $1 - one; if (d < 0) d = -d; print (d <= 0.05 && $1 > 0.8) ? "" : " got " $1 " vs " one }')"

# BPR on 2 ranks: the item rows' changes summed after every part of every epoch.
bparams() {  # bparams RANKS
  echo "{\"factors\": 16, \"epochs\": 20, \"distributed\": {\"ranks\": $1, \"rendezvous\": \"127.0.0.1:$RDV_PORT\", \"timeout\": 60}}"
}
job6=$(sql "SELECT rec.train_async('bdist2', 'events', 'user_id', 'item_id', algorithm => 'bpr', params => '$(bparams 2)')")
eventually 1 30 on_standby "$job6"
standby "SELECT rec.join_training($job6, 1)" >/dev/null
eventually succeeded 60 job_state "$job6"
job7=$(sql "SELECT rec.train_async('bdist1', 'events', 'user_id', 'item_id', algorithm => 'bpr', params => '$(bparams 1)')")
eventually succeeded 60 job_state "$job7"
check "2-rank BPR stored every user and trained as well as 1 rank (loss within 10%, in-group share within 0.05)" is t \
  "$(sql "SELECT n_users = 600 AND abs(a.loss - b.loss) <= 0.1 * b.loss FROM rec.models m, rec.job_queue a, rec.job_queue b
          WHERE m.model = 'bdist2' AND a.id = $job6 AND b.id = $job7")$(in_group bdist2 | awk -v one="$(in_group bdist1)" \
      '{ d = $1 - one; if (d < 0) d = -d; print (d <= 0.05 && $1 > 0.8) ? "" : " got " $1 " vs " one }')"

# A rank that never joins: the job fails within its timeout, nothing is stored, version 1 serves.
job3=$(sql "SELECT rec.train_async('dist2', 'events', 'user_id', 'item_id', params => '$(params 2 3)')")
eventually failed 30 job_state "$job3"
check "a job whose rank 1 never joins fails within its timeout, saying so" is t \
  "$(sql "SELECT state = 'failed' AND error LIKE '%could not join%' FROM rec.job_queue WHERE id = $job3")"
check "and version 1 still serves" is 1 "$(sql "SELECT version FROM rec.models WHERE model = 'dist2'")"

# Serving from the replica: libpq's multi-host string that prefers a standby.
conn="host=$work/standby_run,$PRIMARY_HOST port=$STANDBY_PORT,$PGREC_PORT dbname=pgrec_dist target_session_attrs=prefer-standby"
client() { psql -X -q -At "$conn" -c "$1"; }
check "a client preferring a standby lands on it and gets recommendations" is "true|10" \
  "$(client "SELECT pg_is_in_recovery() || '|' || (SELECT count(*) FROM rec.recommend('dist2', 1, 10))")"
sql "SELECT rec.train('dist2', 'events', 'user_id', 'item_id', params => '{\"factors\": 8}')" >/dev/null
served_version() { client "SELECT version FROM rec.models WHERE model = 'dist2'"; }
check "and the new version once it replicates" eventually 2 30 served_version

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE pgrec_dist WITH (FORCE)" -c "DROP ROLE dist_other" >/dev/null
exit $((failed > 0))
