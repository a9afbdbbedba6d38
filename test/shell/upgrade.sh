#!/usr/bin/env bash
# Upgrades: for every update script extension/pgrec--A--B.sql, a database created at version A
# with trained models is updated to B; its models serve as before, they gain owners, and the
# catalog (functions, views, tables, columns, indexes, policies, grants) equals a fresh install
# of B. Prints TAP; run by scripts/test. Needs the private cluster of scripts/lib.sh running.
source "$(dirname "$0")/../../scripts/lib.sh"
set +e
pick_datadir
n=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one TAP line
  n=$((n + 1))
  if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi
}
sql() { local db=$1; shift; PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Everything the extension defines, one line per object, in a stable order.
CATALOG="
SELECT 'function ' || p.oid::regprocedure || ' -> ' || pg_get_function_result(p.oid) || ' ' || p.prokind::text ||
       p.provolatile::text || p.proparallel::text || p.proisstrict || ' cost ' || p.procost || ' rows ' || p.prorows || ' ' ||
       coalesce(array_to_string(p.proconfig, ','), '') || ' ' || md5(p.prosrc) || ' ' || coalesce(p.proacl::text, '') ||
       ' ' || coalesce(obj_description(p.oid, 'pg_proc'), '')
  FROM pg_proc p WHERE p.pronamespace = 'rec'::regnamespace
UNION ALL
SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' rls ' || c.relrowsecurity || ' ' || coalesce(c.relacl::text, '') ||
       ' ' || coalesce(pg_get_viewdef(c.oid), '') || coalesce(array_to_string(c.reloptions, ','), '')
  FROM pg_class c WHERE c.relnamespace = 'rec'::regnamespace AND c.relkind IN ('r', 'v', 'S')
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ' #' || a.attnum || ' ' || format_type(a.atttypid, a.atttypmod) ||
       ' notnull ' || a.attnotnull || ' default ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') ||
       ' acl ' || coalesce(a.attacl::text, '') || ' storage ' || a.attstorage::text
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = 'rec'::regnamespace AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'rec'
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'rec'::regnamespace
UNION ALL
SELECT 'policy ' || tablename || ' ' || policyname || ' ' || cmd || ' ' || roles::text || ' ' || coalesce(qual, '') ||
       ' / ' || coalesce(with_check, '') FROM pg_policies WHERE schemaname = 'rec'
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'rec'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'config ' || c.relname FROM pg_extension e, unnest(e.extconfig) t(oid) JOIN pg_class c ON c.oid = t.oid
 WHERE e.extname = 'pgrec'
ORDER BY 1"

# What two models recommend to 30 users.
ANSWERS="SELECT m, u, string_agg(r.item_id || ':' || round(r.score::numeric, 5), ' ' ORDER BY r.rank)
         FROM unnest(ARRAY['up_als', 'up_knn']) m, generate_series(1, 30) u, rec.recommend(m, u, 10) r
         GROUP BY m, u ORDER BY m, u"

scripts=$(cd "$REPO/extension" && ls pgrec--*--*.sql 2>/dev/null)
echo "1..$(( $(echo "$scripts" | grep -c .) * 9 ))"
for script in $scripts; do
  from=$(sed -E 's/pgrec--(.*)--(.*)\.sql/\1/' <<<"$script")
  to=$(sed -E 's/pgrec--(.*)--(.*)\.sql/\2/' <<<"$script")
  for db in pgrec_up_old pgrec_up_fresh pgrec_up_user; do
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  done
  sql pgrec_up_old -c "CREATE EXTENSION pgrec VERSION '$from'" \
    -c "CREATE TABLE clicks AS SELECT u AS user_id, (u * 31 + k * 17) % 300 AS item_id FROM generate_series(1, 500) u, generate_series(1, 8) k" \
    -c "SELECT rec.train('up_als', 'clicks', 'user_id', 'item_id', params => '{\"factors\": 8, \"iterations\": 4}')" \
    -c "SELECT rec.train('up_knn', 'clicks', 'user_id', 'item_id', algorithm => 'item_knn')" >/dev/null
  check "$from: a database with models" test "$(sql pgrec_up_old -c "SELECT count(*) FROM rec.model_versions")" = 2
  sql pgrec_up_old -c "$ANSWERS" > "$work/before"
  sql pgrec_up_old -c "ALTER EXTENSION pgrec UPDATE TO '$to'"
  check "ALTER EXTENSION pgrec UPDATE from $from to $to" \
    test "$(sql pgrec_up_old -c "SELECT extversion FROM pg_extension WHERE extname = 'pgrec'")" = "$to"
  sql pgrec_up_old -c "$ANSWERS" > "$work/after"
  check "$to: the models serve exactly as before" bash -c "[ \$(wc -l < '$work/after') = 60 ] && diff -u '$work/before' '$work/after' >&2"
  sql pgrec_up_fresh -c "CREATE EXTENSION pgrec VERSION '$to'"
  sql pgrec_up_old -c "$CATALOG" > "$work/updated"
  sql pgrec_up_fresh -c "$CATALOG" > "$work/fresh"
  check "$to: the updated catalog equals a fresh install ($(wc -l < "$work/fresh") objects)" \
    bash -c "[ \$(wc -l < '$work/fresh') -gt 100 ] && diff -u '$work/fresh' '$work/updated' >&2"
  # Users' objects over pgrec survive the update: a view, a function, a grant on the view.
  sql pgrec_up_user -c "CREATE EXTENSION pgrec VERSION '$from'" \
    -c "CREATE TABLE clicks AS SELECT u AS user_id, (u * 31 + k * 17) % 300 AS item_id FROM generate_series(1, 200) u, generate_series(1, 8) k" \
    -c "SELECT rec.train('m', 'clicks', 'user_id', 'item_id', params => '{\"factors\": 4, \"iterations\": 2}')" \
    -c "CREATE VIEW my_recs AS SELECT u, i AS item_id FROM generate_series(1, 3) u, generate_series(1, 5) i WHERE rec.predict('m', u, i) IS NOT NULL OR true" \
    -c "CREATE VIEW my_models AS SELECT model, version FROM rec.models" \
    -c "CREATE VIEW my_similar AS SELECT item_id, rank FROM rec.similar_items('m', (SELECT min(item_id) FROM clicks), 3)" \
    -c "CREATE FUNCTION my_top(u integer) RETURNS bigint LANGUAGE sql AS 'SELECT item_id FROM rec.recommend(''m'', u, 1)'" \
    -c "DROP ROLE IF EXISTS pgrec_up_reader" -c "CREATE ROLE pgrec_up_reader" -c "GRANT SELECT ON my_recs TO pgrec_up_reader" >/dev/null
  sql pgrec_up_user -c "SELECT u, item_id FROM my_recs ORDER BY 1, 2" -c "SELECT * FROM my_similar ORDER BY rank" > "$work/user_before"
  check "ALTER EXTENSION pgrec UPDATE from $from to $to with users' objects over pgrec" \
    sql pgrec_up_user -c "ALTER EXTENSION pgrec UPDATE TO '$to'"
  sql pgrec_up_user -c "SELECT u, item_id FROM my_recs ORDER BY 1, 2" -c "SELECT * FROM my_similar ORDER BY rank" > "$work/user_after" 2>&1
  check "$to: users' views, function and grant are intact" \
    bash -c "[ \$(wc -l < '$work/user_after') = 18 ] && diff -u '$work/user_before' '$work/user_after' >&2 &&
             [ -n \"\$(PGOPTIONS='-c client_min_messages=warning' psql -X -At -d pgrec_up_user -c 'SELECT my_top(1)')\" ] &&
             [ \"\$(psql -X -At -d pgrec_up_user -c \"SELECT has_table_privilege('pgrec_up_reader', 'my_recs', 'SELECT')\")\" = t ]"
  # Models from before owners existed (0.1.0) keep a grant to public; later ones keep what they had.
  grant=$([ "$from" = 0.1.0 ] && echo " public")
  check "$to: old models are owned by their trainer (and usable by every role if they were)" \
    test "$(sql pgrec_up_old -c "SELECT string_agg(model || ' ' || owner || coalesce(' ' || (SELECT string_agg(CASE WHEN grantee::text IN ('public', '-') THEN 'public' ELSE grantee::text END, ',') FROM rec.model_grants g WHERE g.model = o.model), ''), '; ' ORDER BY model) FROM rec.model_owners o")" \
         = "up_als $PGUSER$grant; up_knn $PGUSER$grant"
  check "$to: training a new version works after the update" \
    test "$(sql pgrec_up_old -c "SELECT rec.train('up_als', 'clicks', 'user_id', 'item_id', params => '{\"factors\": 8, \"iterations\": 4}')")" = 2
  check "$to: and so does a hybrid of an old and a new model" \
    test "$(sql pgrec_up_old -c "SELECT rec.train('up_h', 'hybrid', '{\"models\": {\"up_als\": 1, \"up_knn\": 1}}')")" = 1
done
# Every database is a dispatcher per launcher pass: leave none behind.
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_up_old" >/dev/null 2>&1
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_up_fresh" >/dev/null 2>&1
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_up_user" -c "DROP ROLE IF EXISTS pgrec_up_reader" >/dev/null 2>&1
[ "$failed" = 0 ]
