-- A generated sweep: ids of every built-in type category (arrays, records, ranges, domains, enums,
-- json, and more) over sources of more than one 10,000-row read batch, through training, serving,
-- fold-in and evaluation; then every public function called by a plain role on another role's
-- model. Zero internal errors (scripts/test also fails on any crashed backend in the server log).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
SELECT plan(7);
SET LOCAL client_min_messages = warning;

CREATE TYPE sw_mood AS ENUM ('sad', 'ok', 'happy', 'ecstatic', 'bored', 'calm', 'tense', 'sleepy');
CREATE DOMAIN sw_int AS integer;
CREATE DOMAIN sw_text AS text;
-- The SQL expression of an id of each type from an integer {g}.
CREATE TEMP TABLE sw_types (type text, expr text);
INSERT INTO sw_types VALUES
  ('int[]', 'ARRAY[{g}, {g} + 1]'), ('text[]', 'ARRAY[{g}::text]'), ('record', 'ROW({g}, {g}::text)'),
  ('int4range', 'int4range({g}, {g} + 3)'), ('sw_int', '{g}::sw_int'), ('sw_text', '(''t'' || {g})::sw_text'),
  ('sw_mood', '(enum_range(NULL::sw_mood))[{g} % 8 + 1]'), ('json', 'json_build_object(''g'', {g})'),
  ('jsonb', 'jsonb_build_object(''g'', {g})'), ('uuid', 'md5({g}::text)::uuid'), ('numeric', '({g} / 7.0)::numeric'),
  ('boolean', '({g} % 2 = 0)'), ('date', '''2020-01-01''::date + {g}'), ('timestamptz', '''2020-01-01''::timestamptz + {g} * interval ''1 h'''),
  ('bytea', 'decode(md5({g}::text), ''hex'')'), ('inet', '(''10.0.'' || ({g} % 250) || ''.'' || ({g} % 200))::inet'),
  ('point', 'point({g}, {g})'), ('smallint', '({g} % 30000)::smallint'), ('real', '({g} * 0.5)::real'), ('char', '(chr(65 + {g} % 26))::"char"');

CREATE TEMP TABLE sw_outcomes (type text, step text, sqlstate text, message text);
DO $$
DECLARE
    t record;
    step record;
    st text;
    msg text;
    src text;
BEGIN
    FOR t IN SELECT * FROM sw_types LOOP
        -- 12,000 rows (two read batches): users from g % 300, items from g % 40, of type t.
        src := format('SELECT %s AS u, %s AS i, gg AS ts FROM generate_series(1, 12000) gg',
                      replace(t.expr, '{g}', '(gg % 300)'), replace(t.expr, '{g}', '(gg % 40)'));
        -- A query source (a record can be an id, not a table column).
        FOR step IN SELECT * FROM (VALUES
            ('train popularity', $s$SELECT rec.train('sw', %L, 'u', 'i', algorithm => 'popularity')$s$),
            ('train als', $s$SELECT rec.train('sw', %L, 'u', 'i', params => '{"factors": 4, "iterations": 2}')$s$),
            ('train item_knn', $s$SELECT rec.train('sw_k', %L, 'u', 'i', algorithm => 'item_knn')$s$),
            ('train_agg', $s$SELECT rec.save_model('sw_a', (SELECT rec.train_agg('popularity', u, i) FROM (%s) s))$s$),
            ('recommend', $s$SELECT count(*) FROM rec.recommend_keys('sw', (SELECT u FROM (%s) s LIMIT 1), 5)$s$),
            ('fold-in', $s$SELECT count(*) FROM rec.recommend_keys('sw', (SELECT u FROM (%s) s LIMIT 1), 5, fold_in => true)$s$),
            ('predict', $s$SELECT rec.predict('sw', (SELECT u FROM (%s) s LIMIT 1), (SELECT i FROM (%s) s LIMIT 1))$s$),
            ('similar', $s$SELECT count(*) FROM rec.similar_items_keys('sw', (SELECT i FROM (%s) s LIMIT 1), 3)$s$),
            ('for items', $s$SELECT count(*) FROM rec.recommend_for_items_keys('sw', (SELECT array_agg(i) FROM (SELECT i FROM (%s) s LIMIT 3) x))$s$),
            ('explain', $s$SELECT count(*) FROM rec.explain_keys('sw_k', (SELECT u FROM (%s) s LIMIT 1), (SELECT i FROM (%s) s LIMIT 1))$s$),
            ('recommend_all', $s$SELECT count(*) FROM rec.recommend_all_keys('sw', 3)$s$),
            ('evaluate', $s$SELECT count(*) FROM rec.evaluate('sw', %L, store => false)$s$),
            ('split', $s$SELECT count(*) FROM rec.split('sw_split', %L, 'u', 'i', replace => true)$s$)) s(name, sql)
        LOOP
            BEGIN
                EXECUTE replace(replace(step.sql, '%L', quote_literal(src)), '%s', src);
                st := '00000';
                msg := NULL;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
            END;
            INSERT INTO sw_outcomes VALUES (t.type, step.name, st, msg);
        END LOOP;
        PERFORM rec.drop_model(m) FROM unnest(ARRAY['sw', 'sw_k', 'sw_a']) m
          WHERE EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = m);
    END LOOP;
END $$;
SELECT is((SELECT count(DISTINCT type)::int FROM sw_outcomes), (SELECT count(*)::int FROM sw_types), 'every id type was swept');
SELECT is_empty($$SELECT type, step, message FROM sw_outcomes WHERE sqlstate = 'XX000'$$, 'no internal error for any id type');
SELECT is_empty($$SELECT type, step, sqlstate, message FROM sw_outcomes
                  WHERE step LIKE 'train%' AND sqlstate <> '00000'$$, 'every id type trains over several read batches');
SELECT is_empty($$SELECT type, step, sqlstate, message FROM sw_outcomes
                  WHERE sqlstate !~ '^(00000|22|42|0A)'$$, 'every failure is a user error (a type without equality cannot fold in: 42883)');

-- Every public function as a plain role on another role's model: refused (42501) or harmless.
CREATE ROLE sw_owner;
CREATE ROLE sw_other;
CREATE TABLE sw_owned AS SELECT g % 50 AS u, g % 20 AS i, (g % 5 + 1)::float8 AS r, g AS ts FROM generate_series(1, 1000) g;
ALTER TABLE sw_owned OWNER TO sw_owner;
GRANT SELECT ON sw_owned TO sw_other;
SET LOCAL ROLE sw_owner;
SELECT rec.train('sw_private', 'sw_owned', 'u', 'i', params => '{"factors": 2, "iterations": 1}');
RESET ROLE;
CREATE TEMP TABLE sw_calls (fn text, sqlstate text, message text);
GRANT ALL ON sw_calls TO sw_other;
SET LOCAL ROLE sw_other;
DO $$
DECLARE
    f record;
    args text[];
    st text;
    msg text;
BEGIN
    FOR f IN
        SELECT p.proname,
               (SELECT array_agg(n ORDER BY o) FROM unnest(p.proargnames) WITH ORDINALITY a(n, o)
                 WHERE p.proargmodes IS NULL OR p.proargmodes[o] IN ('i', 'b', 'v')) AS names
          FROM pg_proc p
         WHERE p.pronamespace = 'rec'::regnamespace AND p.prokind = 'f' AND p.proname !~ '^_'
           AND 'model' = ANY (p.proargnames) AND p.proname NOT IN ('train', 'train_async', 'model_owner', 'save_model')
    LOOP
        args := ARRAY(SELECT CASE WHEN f.proname = 'import_factors' AND n IN ('users', 'items')
                                  THEN '''SELECT 1, ARRAY[1, 2]::real[]''' ELSE
                             CASE n WHEN 'model' THEN '''sw_private''' WHEN 'user_id' THEN '3' WHEN 'item_id' THEN '5'
                                    WHEN 'item' THEN '5' WHEN 'k' THEN '5' WHEN 'n' THEN '3' WHEN 'items' THEN 'ARRAY[1, 2]'
                                    WHEN 'test_source' THEN '''sw_owned''' WHEN 'grantee' THEN '''public'''
                                    WHEN 'version' THEN '1' WHEN 'source' THEN '''sw_owned''' WHEN 'every' THEN '''1 day'''
                                    ELSE 'DEFAULT' END END
                        FROM unnest(f.names) n);
        BEGIN
            EXECUTE format('SELECT * FROM rec.%I(%s)', f.proname,
                           array_to_string(ARRAY(SELECT CASE WHEN a = 'DEFAULT' THEN NULL ELSE format('%I => %s', n, a) END
                                                   FROM unnest(f.names, args) x(n, a)), ', '));
            st := '00000';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        END;
        INSERT INTO sw_calls VALUES (f.proname, st, msg);
    END LOOP;
END $$;
RESET ROLE;
SELECT cmp_ok((SELECT count(*)::int FROM sw_calls), '>=', 15, 'every function that takes a model was called');
SELECT is_empty($$SELECT fn, sqlstate, message FROM sw_calls WHERE sqlstate NOT IN ('42501')
$$,
                'each is refused with 42501 (permission denied for the model)');
SELECT is_empty($$SELECT fn, sqlstate, message FROM sw_calls WHERE sqlstate = 'XX000'$$, 'and none errs internally');

SELECT * FROM finish();
ROLLBACK;
