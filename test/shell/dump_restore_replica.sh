#!/usr/bin/env bash
# Backups and replicas: pg_dump of a database with models (ALS, item_knn, a hybrid, an owner and a
# grant) restored into a fresh cluster gives identical recommendations; so does a dump that an
# older PostgreSQL major wrote (left in .cross/ by the host leg of scripts/test, restored by the
# newer majors' legs: how users upgrade their server); a streaming standby,
# started on its own unix socket, serves a model trained on the primary after it started.
# Prints TAP; run by scripts/test. Needs the private cluster of scripts/lib.sh to be running.
source "$(dirname "$0")/../../scripts/lib.sh"
set +e
pick_datadir
PRIMARY_HOST=$PGHOST
n=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one TAP line
  n=$((n + 1))
  if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi
}
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d pgrec_dump -c "$1"; }
same() { diff -u "$1" "$2" >&2; }

work=$(mktemp -d /tmp/pgrec-dump.XXXXXX)
[ "$(id -u)" = 0 ] && chown "$(cluster_user)" "$work"
RESTORE_PORT=$((PGREC_PORT + 1))
STANDBY_PORT=$((PGREC_PORT + 2))
cleanup() {
  for d in restore standby; do
    [ -d "$work/$d" ] && as_owner $PG_BIN/pg_ctl -D "$work/$d" -m immediate -w stop >/dev/null 2>&1
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a cluster in $work/NAME on PORT with its own socket directory.
start_at() {
  local name=$1 port=$2
  as_owner mkdir -p "$work/${name}_run"
  cat <<CONF | as_owner tee -a "$work/$name/postgresql.conf" >/dev/null
port = $port
listen_addresses = ''
unix_socket_directories = '$work/${name}_run'
shared_preload_libraries = 'pgrec'
fsync = off
CONF
  as_owner $PG_BIN/pg_ctl -D "$work/$name" -l "$work/$name.log" -w start >/dev/null
}

# What the models recommend: every model, 20 users, in a stable text form.
answers() {
  psql -X -q -At -h "$1" -p "$2" -d pgrec_dump -c "
    SELECT m, u, string_agg(r.item_id || ':' || round(r.score::numeric, 5), ' ' ORDER BY r.rank)
    FROM unnest(ARRAY['d_als', 'd_knn', 'd_h']) m, generate_series(1, 20) u, rec.recommend(m, u, 10) r
    GROUP BY m, u ORDER BY m, u"
}

# The families added in 0.5.0 (EASE's item neighbourhoods; multvae's factors with their encoder,
# fold-in included), compared before and after a restore by the same build.
answers_new() {
  psql -X -q -At -h "$1" -p "$2" -d pgrec_dump -c "
    SELECT m, u, string_agg(r.item_id || ':' || round(r.score::numeric, 5), ' ' ORDER BY r.rank)
    FROM unnest(ARRAY['d_ease', 'd_vae']) m, generate_series(1, 10) u, rec.recommend(m, u, 10, fold_in => u > 5) r
    GROUP BY m, u ORDER BY m, u"
}

# Dumps that an older major wrote, with what they recommended there (.cross/pgN.pgc, pgN.answers).
older=()
for f in "$REPO"/.cross/pg*.pgc; do
  [ -f "$f" ] || continue
  major=$(basename "$f" .pgc); major=${major#pg}
  [ "$major" -lt "$PG_MAJOR" ] && older+=("$major")
done
echo "1..$((11 + 2 * ${#older[@]}))"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_dump" -c "CREATE DATABASE pgrec_dump" >/dev/null
sql "CREATE EXTENSION pgrec" >/dev/null
sql "CREATE TABLE clicks AS SELECT u AS user_id, (u * 31 + k * 17) % 500 AS item_id FROM generate_series(1, 2000) u, generate_series(1, 12) k" >/dev/null
for statement in "SELECT rec.train('d_als', 'clicks', 'user_id', 'item_id', params => '{\"factors\": 16, \"iterations\": 5}')" \
                 "SELECT rec.train('d_knn', 'clicks', 'user_id', 'item_id', algorithm => 'item_knn')" \
                 "SELECT rec.train('d_als', 'clicks', 'user_id', 'item_id', params => '{\"factors\": 8, \"iterations\": 5}')" \
                 "SELECT rec.deploy('d_als', 1)" \
                 "SELECT rec.train('d_h', 'hybrid', '{\"models\": {\"d_als\": 0.6, \"d_knn\": 0.4}}')" \
                 "SELECT rec.grant_model('d_als', 'public')" \
                 "SELECT rec.train('d_ease', 'clicks', 'user_id', 'item_id', algorithm => 'ease')" \
                 "SELECT rec.train('d_vae', 'clicks', 'user_id', 'item_id', algorithm => 'multvae', params => '{\"epochs\": 3, \"hidden\": 32, \"factors\": 8}')"; do
  sql "$statement" >/dev/null || echo "# failed: $statement" >&2
done
answers "$PRIMARY_HOST" "$PGREC_PORT" > "$work/before"
[ "$(wc -l < "$work/before")" = 60 ] || echo "# expected 60 answers before the dump, got $(wc -l < "$work/before")" >&2
sql "SELECT count(*) FROM rec.model_versions" > "$work/versions_before"
answers_new "$PRIMARY_HOST" "$PGREC_PORT" > "$work/before_new"

# 1-4. pg_dump, then restore into a fresh cluster.
pg_dump -Fc -d pgrec_dump -f "$work/dump.pgc"
check "pg_dump writes the database with its models" test -s "$work/dump.pgc"
# The host leg's dump is what the newer majors' legs restore.
if [ -z "${PGREC_CHROOT_LEG:-}" ]; then
  mkdir -p "$REPO/.cross"
  cp "$work/dump.pgc" "$REPO/.cross/pg$PG_MAJOR.pgc"
  cp "$work/before" "$REPO/.cross/pg$PG_MAJOR.answers"
fi
as_owner $PG_BIN/initdb -D "$work/restore" -U "$PGUSER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
start_at restore "$RESTORE_PORT"
psql -X -q -h "$work/restore_run" -p "$RESTORE_PORT" -d postgres -c "CREATE DATABASE pgrec_dump" >/dev/null
pg_restore -h "$work/restore_run" -p "$RESTORE_PORT" -d pgrec_dump --exit-on-error "$work/dump.pgc"
check "pg_restore into a fresh cluster succeeds" test $? = 0
psql -X -q -At -h "$work/restore_run" -p "$RESTORE_PORT" -d pgrec_dump -c "SELECT count(*) FROM rec.model_versions" \
  > "$work/versions_after"
check "every model version is back" same "$work/versions_before" "$work/versions_after"
answers "$work/restore_run" "$RESTORE_PORT" > "$work/restored"
check "recommend gives identical results after the restore (60 lists)" \
  bash -c "[ \$(wc -l < '$work/restored') = 60 ] && diff -u '$work/before' '$work/restored' >&2"
answers_new "$work/restore_run" "$RESTORE_PORT" > "$work/restored_new"
check "ease and multvae (fold-in too) recommend the same after the restore (20 lists)" \
  bash -c "[ \$(wc -l < '$work/restored_new') = 20 ] && diff -u '$work/before_new' '$work/restored_new' >&2"
check "the deployment, owner and grant came back too" test "$(psql -X -q -At -h "$work/restore_run" -p "$RESTORE_PORT" \
  -d pgrec_dump -c "SELECT version || ' ' || owner || ' ' || (SELECT string_agg(CASE WHEN grantee::text IN ('public', '-') THEN 'public' ELSE grantee::text END, ',') FROM rec.model_grants)
                    FROM rec.models WHERE model = 'd_als'")" = "1 $PGUSER public"

# Lists the same item for item, scores within 1e-4 (another compiler and Eigen score the same floats).
same_answers() {
  awk 'NR == FNR { want[FNR] = $0; n = FNR; next }
       { m++; split(want[FNR], a, " "); split($0, b, " ");
         if (length(a) != length(b) || a[1] != b[1] || a[2] != b[2]) { print "differs: " $0 > "/dev/stderr"; bad = 1; next }
         for (i = 3; i <= length(a); i++) {
           split(a[i], x, ":"); split(b[i], y, ":")
           if (x[1] != y[1] || x[2] - y[2] > 1e-4 || y[2] - x[2] > 1e-4) { print "differs: " $0 > "/dev/stderr"; bad = 1; break }
         } }
       END { exit bad || m != n || n != 60 }' "$1" "$2"
}
for major in "${older[@]}"; do
  psql -X -q -h "$work/restore_run" -p "$RESTORE_PORT" -d postgres -c "DROP DATABASE pgrec_dump" -c "CREATE DATABASE pgrec_dump" >/dev/null
  pg_restore -h "$work/restore_run" -p "$RESTORE_PORT" -d pgrec_dump --exit-on-error "$REPO/.cross/pg$major.pgc"
  check "a PostgreSQL $major dump restores into PostgreSQL $PG_MAJOR" test $? = 0
  answers "$work/restore_run" "$RESTORE_PORT" > "$work/restored_$major"
  check "and recommends what it did on PostgreSQL $major (60 lists)" \
    same_answers "$REPO/.cross/pg$major.answers" "$work/restored_$major"
done
as_owner $PG_BIN/pg_ctl -D "$work/restore" -m fast -w stop >/dev/null

# The database's owner, not a superuser, dumps a database where other roles have models
# (pg_dump --enable-row-security: pgrec's policies let the owner read every model).
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_dbo" -c "DROP ROLE IF EXISTS pgrec_dbo, pgrec_dbo_other" \
  -c "CREATE ROLE pgrec_dbo LOGIN" -c "CREATE ROLE pgrec_dbo_other" -c "CREATE DATABASE pgrec_dbo OWNER pgrec_dbo" >/dev/null
psql -X -q -d pgrec_dbo -v ON_ERROR_STOP=1 -c "CREATE EXTENSION pgrec" -c "SET ROLE pgrec_dbo" \
  -c "CREATE TABLE clicks AS SELECT u AS user_id, (u * 7 + k) % 40 AS item_id FROM generate_series(1, 100) u, generate_series(1, 5) k" \
  -c "SELECT rec.train('mine', 'clicks', 'user_id', 'item_id', params => '{\"factors\": 4, \"iterations\": 2}')" \
  -c "GRANT SELECT ON clicks TO pgrec_dbo_other" -c "RESET ROLE" -c "SET ROLE pgrec_dbo_other" \
  -c "SELECT rec.train('theirs', 'clicks', 'user_id', 'item_id', algorithm => 'popularity')" >/dev/null
check "the database owner dumps a database with pgrec (pg_dump --enable-row-security)" \
  pg_dump -U pgrec_dbo --enable-row-security -d pgrec_dbo -f "$work/dbo.sql"
check "and the dump holds every role's model versions" \
  test "$(awk '/^COPY rec.model_versions /{on=1; next} /^\\\./{on=0} on' "$work/dbo.sql" | cut -f2 | sort | tr '\n' ' ')" = "mine theirs "
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_dbo" -c "DROP ROLE IF EXISTS pgrec_dbo, pgrec_dbo_other" >/dev/null

# 6-8. A streaming standby of the primary, over the primary's unix socket.
as_owner $PG_BIN/pg_basebackup -h "$PRIMARY_HOST" -p "$PGREC_PORT" -U "$PGUSER" -D "$work/standby" -R -X stream -c fast
start_at standby "$STANDBY_PORT"
sql "SELECT rec.train('d_new', 'clicks', 'user_id', 'item_id', algorithm => 'item_knn')" >/dev/null
replayed=f
for _ in $(seq 1 300); do
  replayed=$(psql -X -q -At -h "$work/standby_run" -p "$STANDBY_PORT" -d pgrec_dump \
               -c "SELECT count(*) = 1 FROM rec.models WHERE model = 'd_new'" 2>/dev/null)
  [ "$replayed" = t ] && break
  sleep 0.1
done
check "a model trained on the primary reaches the standby" test "$replayed" = t
on_standby=$(psql -X -q -At -h "$work/standby_run" -p "$STANDBY_PORT" -d pgrec_dump \
               -c "SELECT string_agg(item_id::text, ' ' ORDER BY rank) FROM rec.recommend('d_new', 7, 10)")
on_primary=$(sql "SELECT string_agg(item_id::text, ' ' ORDER BY rank) FROM rec.recommend('d_new', 7, 10)")
check "the standby serves it as the primary does" test -n "$on_standby" -a "$on_standby" = "$on_primary"
err=$(psql -X -q -At -h "$work/standby_run" -p "$STANDBY_PORT" -d pgrec_dump -v VERBOSITY=verbose \
        -c "SELECT rec.train('x', 'clicks', 'user_id', 'item_id')" 2>&1)
check "training on the standby is refused as read-only (25006)" grep -q 25006 <<<"$err"
# Every database is a dispatcher per launcher pass: leave none behind.
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_dump" >/dev/null 2>&1
[ "$failed" = 0 ]
