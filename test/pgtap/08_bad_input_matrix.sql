-- Every public function, every argument in turn replaced by NULL and by hostile values of its
-- type (empty, huge, negative, NaN, malformed JSON, empty and NULL-holding arrays, ids of every
-- kind): each call ends normally or with a SQLSTATE that names the problem — never an internal
-- error, an untagged RAISE, or a crash (scripts/test also scans the server log for signals).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
SELECT plan(7);
SET LOCAL client_min_messages = warning;

CREATE TABLE bi_src AS
SELECT u AS user_id, (u * 7 + n * 3) % 30 AS item_id, (n % 5 + 1)::float8 AS rating, n AS ts
FROM generate_series(1, 40) u, generate_series(1, 6) n;
INSERT INTO bi_src VALUES (1, 1, 'NaN', 99), (2, 2, NULL, 99), (NULL, 3, 1, 99), (3, NULL, 1, 99);
CREATE TABLE bi_test AS SELECT * FROM bi_src WHERE ts = 6 AND rating = rating;
CREATE TABLE bi_text AS SELECT 'u' || user_id AS user_id, 'i' || item_id AS item_id FROM bi_src;
SELECT rec.train('bi', 'SELECT * FROM bi_src WHERE rating <> ''NaN''', 'user_id', 'item_id', 'rating', 'sgd_mf',
                 '{"factors": 2, "epochs": 2}');
SELECT rec.train('bi_t', 'bi_text', 'user_id', 'item_id', params => '{"factors": 2, "iterations": 1}');

-- A valid value for each parameter name (NULL where the default is NULL); `type`, when set, only
-- for parameters of that type (rec.import_factors' items are a query, recommend_for_items' an array).
CREATE TEMP TABLE valid (name text, value text, type text);
INSERT INTO valid VALUES
  ('model', $$'bi'$$), ('source', $$'SELECT * FROM bi_src WHERE rating <> ''NaN'''$$), ('test_source', $$'bi_test'$$), ('user_col', $$'user_id'$$),
  ('item_col', $$'item_id'$$), ('rating_col', $$'rating'$$), ('algorithm', $$'sgd_mf'$$),
  ('params', $$'{"factors": 2, "epochs": 1}'$$), ('user_id', '3'), ('item', '5'), ('item_id', '5'), ('k', '5'),
  ('exclude_seen', 'true'), ('fold_in', 'false'), ('candidates', 'NULL'), ('exclude', 'NULL'),
  ('items', 'ARRAY[1, 2]'), ('ratings', 'NULL'), ('exclude_given', 'true'), ('n', '3'), ('version', '1'),
  ('name', $$'bi_split'$$), ('method', $$'random'$$), ('test_fraction', '0.2'), ('seed', '42'),
  ('time_col', 'NULL'), ('replace', 'true'), ('metrics', 'NULL'), ('sampled_negatives', '0'),
  ('store', 'false'), ('grid', $$'{}'$$), ('base_params', $$'{"epochs": 1}'$$), ('folds', '1'),
  ('validation_fraction', '0.2'), ('metric', 'NULL'), ('job', '1'), ('timeout', $$'0.1 s'$$),
  ('grantee', $$'public'$$), ('fold', '0'), ('pid', '0'), ('search_path', 'NULL'),
  ('every', $$'1 day'$$), ('min_new_rows', 'NULL'), ('gate', 'NULL'), ('device', 'NULL'), ('start_at', 'NULL'),
  ('within', $$'1 day'$$), ('since', 'NULL'),
  ('version_id', $$(SELECT id FROM rec.model_versions WHERE model = 'bi' ORDER BY id DESC LIMIT 1)$$);
INSERT INTO valid VALUES
  ('users', $$'SELECT DISTINCT user_id, ARRAY[1, 2]::real[] FROM bi_src WHERE user_id IS NOT NULL'$$, 'text'),
  ('items', $$'SELECT DISTINCT item_id, ARRAY[2, 1]::real[] FROM bi_src WHERE item_id IS NOT NULL'$$, 'text'),
  ('kind', $$'implicit'$$, 'text'), ('seen', 'NULL', 'text');

-- Hostile values by SQL type.
CREATE TEMP TABLE hostile (type text, value text);
INSERT INTO hostile VALUES
  ('text', 'NULL'), ('text', $$''$$), ('text', $$repeat('x', 300)$$), ('text', $$E'a"b''c; -- \\x01'$$),
  ('text', $$'SELECT 1/0'$$),
  ('integer', 'NULL'), ('integer', '-1'), ('integer', '0'), ('integer', '2147483647'),
  ('bigint', 'NULL'), ('bigint', '-1'), ('bigint', '9223372036854775807'),
  ('double precision', 'NULL'), ('double precision', $$'NaN'$$), ('double precision', $$'-Infinity'$$),
  ('double precision', '-1'), ('double precision', '2'),
  ('boolean', 'NULL'),
  ('jsonb', 'NULL'), ('jsonb', $$'[]'$$), ('jsonb', $$'"x"'$$), ('jsonb', $$'null'$$),
  ('jsonb', $$'{"factors": -1}'$$), ('jsonb', $$'{"factors": 1e308}'$$), ('jsonb', $$'{"x": {"y": [1]}}'$$),
  ('jsonb', $$'{"models": {"bi": "NaN"}}'$$),
  ('bigint[]', 'NULL'), ('bigint[]', $$'{}'$$), ('bigint[]', $$'{NULL}'$$), ('bigint[]', 'ARRAY[-1, 9223372036854775807]'),
  ('text[]', 'NULL'), ('text[]', $$'{}'$$), ('text[]', $$'{NULL}'$$), ('text[]', $$'{bogus}'$$),
  ('real[]', 'NULL'), ('real[]', $$'{}'$$), ('real[]', $$'{NaN}'$$), ('real[]', $$'{1,2,3,4,5}'$$),
  ('anyarray', 'NULL'), ('anyarray', $$'{}'::int[]$$), ('anyarray', $$'{NULL}'::int[]$$),
  ('anyarray', $$ARRAY['u1', 'nope']$$), ('anyarray', $$ARRAY[1.5, 2.5]$$),
  ('"any"', 'NULL::int'), ('"any"', $$'zzz'::text$$), ('"any"', '1.5::float8'), ('"any"', '(-1)::bigint'),
  ('"any"', $$'00000000-0000-0000-0000-000000000000'::uuid$$), ('"any"', 'true'),
  ('interval', 'NULL'), ('interval', $$'-1 s'$$);

CREATE TEMP TABLE outcomes (fn text, arg text, value text, sqlstate text, message text);

DO $$
DECLARE
    f record;
    args text[];
    i int;
    h record;
    call text;
    st text;
    msg text;
BEGIN
    FOR f IN
        SELECT p.proname, p.oid, p.pronargs,
               (SELECT array_agg(n ORDER BY o) FROM unnest(p.proargnames) WITH ORDINALITY a(n, o)
                 WHERE p.proargmodes IS NULL OR p.proargmodes[o] IN ('i', 'b', 'v')) AS names,
               (SELECT array_agg(format_type(t, NULL) ORDER BY o) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY a(t, o)) AS types
          FROM pg_proc p
         WHERE p.pronamespace = 'rec'::regnamespace AND p.prokind = 'f' AND p.proname !~ '^_'
           AND p.proname NOT IN ('train_async', 'tune_async')  -- jobs: test/pgtap/05_jobs.sql
    LOOP
        args := ARRAY(SELECT coalesce((SELECT v.value FROM valid v WHERE v.name = a.n AND (v.type IS NULL OR v.type = f.types[a.o])
                                        ORDER BY v.type NULLS LAST LIMIT 1), 'NULL')
                        FROM unnest(f.names) WITH ORDINALITY a(n, o) ORDER BY a.o);
        FOR i IN 1 .. f.pronargs LOOP
            FOR h IN SELECT value FROM hostile
                      WHERE type = f.types[i]
                         OR (type = '"any"' AND f.types[i] = '"any"' AND f.names[i] NOT LIKE 'item%')
                         OR (type = 'anyarray' AND f.types[i] = 'anyarray')
                         OR (type = 'bigint' AND f.types[i] = '"any"' AND f.names[i] LIKE 'item%')
            LOOP
                call := format('SELECT * FROM rec.%I(%s)', f.proname,
                               array_to_string(args[1:i - 1] || h.value || args[i + 1:], ', '));
                BEGIN
                    EXECUTE call;
                    RAISE EXCEPTION USING ERRCODE = 'PR000';  -- done: undo what the call did
                EXCEPTION WHEN OTHERS THEN
                    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
                END;
                INSERT INTO outcomes VALUES (f.proname, f.names[i], h.value, st, msg);
            END LOOP;
        END LOOP;
    END LOOP;
END $$;

SELECT cmp_ok((SELECT count(*) FROM outcomes), '>', 400::bigint, 'hundreds of hostile calls ran');
SELECT cmp_ok((SELECT count(DISTINCT fn) FROM outcomes), '>=', 20::bigint, 'over every public function');
SELECT is_empty($$SELECT fn, arg, value, message FROM outcomes WHERE sqlstate = 'XX000'$$, 'no internal error');
SELECT is_empty($$SELECT fn, arg, value, message FROM outcomes WHERE sqlstate = 'P0001'$$, 'no error without a SQLSTATE');
SELECT is_empty($$SELECT fn, arg, value, sqlstate, message FROM outcomes
                  WHERE sqlstate !~ '^(PR000|22|23|42|0A|3F|53|54|55|57014)'$$,
                'every error is a user error: bad value, bad name, unsupported, resource, state or cancel');
SELECT ok((SELECT bool_and(EXISTS (SELECT 1 FROM outcomes o WHERE o.fn = f.fn AND o.sqlstate = 'PR000'))
           FROM (SELECT DISTINCT fn FROM outcomes WHERE fn NOT IN ('cancel', 'wait', 'drop_model', 'grant_model', 'revoke_model', 'save_model',
                                                         'model_owner', 'tune_grid',
                                                         -- the model is their only argument: every call is hostile
                                                         'model_history', 'drift', 'unschedule', 'join_training',
                                                         -- needs a time column, and the matrix's time_col is NULL
                                                         'online_metrics')) f),
          'every function that can succeed here did, for some hostile value');
SELECT cmp_ok((SELECT count(*) FROM outcomes WHERE sqlstate = 'PR000'), '>', 50::bigint,
              'and many hostile calls simply work (NULL model: no rows; unknown ids: popular items)');

SELECT * FROM finish();
ROLLBACK;
