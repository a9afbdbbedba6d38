#!/usr/bin/env bash
# Factor vectors in and out: rec.item_factors/user_factors exported and imported again serve the
# same answers; factors trained with numpy import and rank as numpy ranks them; with pgvector
# installed, the vectors go through a vector column, an HNSW index finds what rec.recommend finds,
# and vectors read back from pgvector import. Prints TAP; run by scripts/test on the private cluster.
source "$(dirname "$0")/../../scripts/lib.sh"
set +e
pick_datadir
export PGDATABASE=pgrec_interop
n=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one TAP line
  n=$((n + 1))
  if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
# The top 10 of users 1..20 as "user item item ...", with scores when $2 is set.
answers() {
  sql -c "SELECT u || ' ' || string_agg(item_id::text ${2:+|| ':' || round(score::numeric, 4)}, ' ' ORDER BY rank)
          FROM generate_series(1, 20) u, rec.recommend('$1', u, 10) GROUP BY u ORDER BY u"
}

echo "1..9"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_interop" -c "CREATE DATABASE pgrec_interop" >/dev/null
sql -c "CREATE EXTENSION pgrec" >/dev/null
sql -f "$REPO/scripts/demo_data.sql" >/dev/null

# Out and in again: the same answers, scores included.
sql -c "SELECT rec.train('als', 'ratings', 'user_id', 'item_id')" \
    -c "SELECT rec.import_factors('again', 'SELECT * FROM rec.user_factors(''als'')', 'SELECT * FROM rec.item_factors(''als'')',
                                  seen => 'SELECT user_id, item_id FROM ratings')" >/dev/null
before=$(answers als 1)
check "factors exported and imported again recommend exactly as the model they came from" \
  test "$(wc -l <<< "$before")" = 20 -a "$before" = "$(answers again 1)"
sql -c "SELECT rec.train('mf', 'ratings', 'user_id', 'item_id', 'rating', algorithm => 'sgd_mf')" \
    -c "SELECT rec.import_factors('mf_again', 'SELECT * FROM rec.user_factors(''mf'')', 'SELECT * FROM rec.item_factors(''mf'')',
                                  kind => 'explicit', seen => 'SELECT user_id, item_id, rating FROM ratings',
                                  params => jsonb_build_object('global_mean', rec.global_mean('mf')))" >/dev/null
check "an explicit model's vectors and global mean predict the same ratings after the round trip" \
  test "$(sql -c "SELECT count(*) FROM generate_series(1, 30) u, generate_series(1, 30) i
                  WHERE abs(rec.predict('mf', u, i) - rec.predict('mf_again', u, i)) > 1e-4
                     OR (rec.predict('mf', u, i) IS NULL) <> (rec.predict('mf_again', u, i) IS NULL)")" = 0

# Trained elsewhere: numpy's factors rank in pgrec as numpy ranks them.
if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  sql -c "COPY (SELECT user_id, item_id FROM ratings) TO STDOUT WITH (FORMAT csv)" | /usr/bin/python3 "$REPO/test/shell/numpy_als.py" "$work"
  sql -c "CREATE TABLE np_users (user_id integer, factors real[])" -c "CREATE TABLE np_items (item_id integer, factors double precision[])" \
      -c "\\copy np_users FROM '$work/users.tsv'" -c "\\copy np_items FROM '$work/items.tsv'" \
      -c "SELECT rec.import_factors('numpy', 'np_users', 'np_items', seen => 'SELECT user_id, item_id FROM ratings', params => '{\"regularization\": 5}')" >/dev/null
  check "numpy's factors (real[] and double precision[]) rank in pgrec as numpy ranks them (20 users' top 10)" \
    bash -c "[ \"\$(wc -l < '$work/numpy_top10.txt')\" = 20 ] && diff <(cat '$work/numpy_top10.txt') <(echo \"$(answers numpy)\") >&2"
  check "the imported model folds in a new user from a list of items" \
    test "$(sql -c "SELECT count(*) FROM rec.recommend_for_items('numpy', ARRAY[1, 2, 3], k => 5) WHERE item_id NOT IN (1, 2, 3)")" = 5
else
  skip "numpy is not installed (python3-numpy)"
  skip "numpy is not installed (python3-numpy)"
fi
check "an imported model has no source to fold in from: 0A000" \
  bash -c "PGOPTIONS='-c client_min_messages=warning' psql -X -q -At -v VERBOSITY=verbose -c \"SELECT * FROM rec.recommend('again', 1, 5, fold_in => true)\" 2>&1 | grep -q 0A000"

# pgvector, when the release has it (Debian 13 and unstable: postgresql-NN-pgvector).
if sql -c "CREATE EXTENSION IF NOT EXISTS vector" >/dev/null 2>&1; then
  sql -c "CREATE TABLE items_vec (item_id bigint PRIMARY KEY, embedding vector(32))" \
      -c "INSERT INTO items_vec SELECT item_id, factors::vector FROM rec.item_factors('als')" \
      -c "CREATE INDEX ON items_vec USING hnsw (embedding vector_ip_ops)" \
      -c "CREATE TABLE users_vec AS SELECT user_id, factors::vector(32) AS embedding FROM rec.user_factors('als')" >/dev/null
  check "rec.item_factors casts to pgvector's vector: every item, 32 dimensions" \
    test "$(sql -c "SELECT count(*) || ' ' || min(vector_dims(embedding)) FROM items_vec")" = "400 32"
  # Inner-product order (<#> is the negative inner product) equals rec.recommend without seen filtering.
  ip=$(sql -c "SET enable_indexscan = off" -c "SELECT string_agg(item_id::text, ' ' ORDER BY d, item_id) FROM (
                 SELECT i.item_id, i.embedding <#> u.embedding AS d FROM items_vec i, users_vec u WHERE u.user_id = 3
                 ORDER BY d LIMIT 10) s")
  check "pgvector's exact inner-product search finds rec.recommend's top 10" \
    test "$ip" = "$(sql -c "SELECT string_agg(item_id::text, ' ' ORDER BY rank) FROM rec.recommend('als', 3, 10, exclude_seen => false)")"
  hnsw=$(sql -c "SET enable_seqscan = off" -c "SELECT string_agg(i.item_id::text, ' ') FROM (SELECT item_id FROM items_vec
                   ORDER BY embedding <#> (SELECT embedding FROM users_vec WHERE user_id = 3) LIMIT 10) i")
  check "and its HNSW index finds at least 9 of them" \
    test "$(comm -12 <(tr ' ' '\n' <<< "$hnsw" | sort) <(tr ' ' '\n' <<< "$ip" | sort) | wc -l)" -ge 9
  sql -c "SELECT rec.import_factors('from_vec', 'SELECT user_id, embedding FROM users_vec', 'SELECT item_id, embedding FROM items_vec',
                                    seen => 'SELECT user_id, item_id FROM ratings', params => (SELECT jsonb_build_object('regularization', (params->>'regularization')::float8) FROM rec.models WHERE model = 'als'))" >/dev/null
  check "vectors read back from pgvector columns import and recommend as the model they came from" \
    test "$(answers als 1)" = "$(answers from_vec 1)"
else
  for _ in 1 2 3 4; do skip "pgvector is not installed (postgresql-$PG_MAJOR-pgvector)"; done
fi
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_interop" >/dev/null
[ "$failed" = 0 ]
