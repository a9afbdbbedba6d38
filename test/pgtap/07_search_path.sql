-- Every public function keeps working when the caller's search_path puts a schema of hostile
-- look-alikes of the built-ins pgrec calls before pg_catalog: none of them is ever called.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
SELECT plan(28);

CREATE SCHEMA hostile;
DO $$
DECLARE
    f text[];
BEGIN
    FOREACH f SLICE 1 IN ARRAY ARRAY[
        ['format(text, text)', 'text'], ['format(text, text, text)', 'text'],
        ['format(text, text, text, text)', 'text'], ['quote_ident(text)', 'text'],
        ['quote_literal(text)', 'text'], ['lower(text)', 'text'], ['upper(text)', 'text'],
        ['split_part(text, text, integer)', 'text'], ['array_to_string(text[], text)', 'text'],
        ['to_regrole(text)', 'regrole'], ['to_regclass(text)', 'regclass'],
        ['pg_has_role(oid, text)', 'boolean'], ['now()', 'timestamptz'], ['clock_timestamp()', 'timestamptz'],
        ['current_schema()', 'name'], ['current_setting(text)', 'text'], ['set_config(text, text, boolean)', 'text'],
        ['chr(integer)', 'text'], ['round(numeric)', 'numeric'], ['floor(double precision)', 'double precision'],
        ['jsonb_build_object(text, double precision)', 'jsonb'], ['jsonb_build_object(text, jsonb)', 'jsonb'],
        ['jsonb_typeof(jsonb)', 'text'], ['hashtext(text)', 'integer'],
        ['hashtextextended(text, bigint)', 'bigint'], ['pg_advisory_xact_lock(bigint)', 'void'],
        ['pg_sleep(double precision)', 'void'], ['length(text)', 'integer'], ['pg_cancel_backend(integer)', 'boolean']]
    LOOP
        EXECUTE format('CREATE FUNCTION hostile.%s RETURNS %s LANGUAGE plpgsql AS $b$BEGIN RAISE EXCEPTION %L; END$b$',
                       f[1], f[2], 'hijacked: ' || f[1]);
    END LOOP;
END $$;
CREATE FUNCTION hostile.unnest(text[]) RETURNS SETOF text LANGUAGE plpgsql AS $b$BEGIN RAISE EXCEPTION 'hijacked: unnest'; END$b$;
CREATE FUNCTION hostile.jsonb_each(jsonb) RETURNS TABLE (key text, value jsonb)
LANGUAGE plpgsql AS $b$BEGIN RAISE EXCEPTION 'hijacked: jsonb_each'; END$b$;
CREATE FUNCTION hostile.jsonb_array_elements(jsonb) RETURNS SETOF jsonb
LANGUAGE plpgsql AS $b$BEGIN RAISE EXCEPTION 'hijacked: jsonb_array_elements'; END$b$;

-- Runs a statement with the hostile schema first on the path; 'ok', or the error it raised.
CREATE FUNCTION pg_temp.hostile(statement text) RETURNS text
LANGUAGE plpgsql SET search_path = hostile, pg_catalog, public AS $f$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $f$;

-- The trap works: plain calls on that path reach the look-alikes.
SELECT is(pg_temp.hostile($$SELECT format('%s-%s', 'a', 'b')$$), 'P0001 hijacked: format(text, text, text)', 'the trap catches format');
SELECT is(pg_temp.hostile($$SELECT quote_ident('x')$$), 'P0001 hijacked: quote_ident(text)', 'the trap catches quote_ident');

CREATE TABLE sp_ratings AS
SELECT u AS user_id, (u * 7 + n * 3) % 40 AS item_id, (n % 5 + 1)::float8 AS rating, n AS ts
FROM generate_series(1, 80) u, generate_series(1, 8) n;
SELECT is(pg_temp.hostile($$SELECT rec.train('sp', 'sp_ratings', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}')$$),
          'ok', 'train');
SELECT is(pg_temp.hostile($$SELECT rec.train('sp_knn', 'sp_ratings', 'user_id', 'item_id', 'rating', 'item_knn')$$), 'ok', 'train explicit');
SELECT is(pg_temp.hostile($$SELECT rec.train('sp_mf', 'sp_ratings', 'user_id', 'item_id', 'rating', 'sgd_mf', '{"epochs": 2}')$$), 'ok', 'train sgd_mf');
SELECT is(pg_temp.hostile($$SELECT rec.train('sp_h', 'hybrid', '{"models": {"sp_knn": 1, "sp_mf": 1}}')$$), 'ok', 'train a hybrid');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.recommend('sp', 3, 5)$$), 'ok', 'recommend');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.recommend(3, 5)$$), 'ok', 'recommend with the default model');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.recommend('sp', 3, 5, fold_in => true, candidates => ARRAY[1, 2, 3])$$), 'ok', 'recommend with fold-in and filters');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.recommend_keys('sp', 3, 5)$$), 'ok', 'recommend_keys');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.recommend_for_items('sp', ARRAY[1, 2], k => 5)$$), 'ok', 'recommend_for_items');
SELECT is(pg_temp.hostile($$SELECT rec.predict('sp', 3, 7)$$), 'ok', 'predict');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.similar_items('sp', 7, 3)$$), 'ok', 'similar_items');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.explain('sp', 3, 7)$$), 'ok', 'explain');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.split('sp_split', 'sp_ratings', 'user_id', 'item_id', method => 'per_user')$$), 'ok', 'split');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.split('sp_q', 'SELECT * FROM sp_ratings', 'user_id', 'item_id', method => 'temporal', time_col => 'ts')$$),
          'ok', 'split of a query that names the caller''s table');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.evaluate('sp', 'sp_split_test')$$), 'ok', 'evaluate (stores metrics)');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.evaluate('sp_knn', 'SELECT * FROM sp_split_test', rating_col => 'rating', sampled_negatives => 5)$$),
          'ok', 'evaluate a query source');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.tune('sp_t', 'sp_ratings', 'user_id', 'item_id', grid => '{"factors": [2, 4]}', base_params => '{"iterations": 2}')$$),
          'ok', 'tune');
SELECT is(pg_temp.hostile($$SELECT * FROM rec.models$$), 'ok', 'rec.models');
SELECT is(pg_temp.hostile($$SELECT rec.grant_model('sp', 'public')$$), 'ok', 'grant_model');
SELECT is(pg_temp.hostile($$SELECT rec.revoke_model('sp', 'public')$$), 'ok', 'revoke_model');
SELECT is(pg_temp.hostile($$SELECT rec.deploy('sp', 1)$$), 'ok', 'deploy');
SELECT is(pg_temp.hostile($$SELECT rec.save_model('sp_agg', (SELECT rec.train_agg('popularity', user_id, item_id) FROM sp_ratings))$$),
          'ok', 'train_agg and save_model');
SELECT is(pg_temp.hostile($$SELECT rec.cancel(rec.tune_async('sp_ta', 'sp_ratings', 'user_id', 'item_id'))$$), 'ok', 'tune_async and cancel');
SELECT is(pg_temp.hostile($$SELECT rec.drop_model('sp_agg')$$), 'ok', 'drop_model');

-- Every function in rec is C, a SQL wrapper of schema-qualified calls, or pins its search_path.
SELECT is_empty($$SELECT p.proname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                  WHERE p.pronamespace = 'rec'::regnamespace AND l.lanname = 'plpgsql'
                    AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
                    AND NOT p.prosrc ~ '^\s*DECLARE\s+caller_path text := pg_catalog\.current_setting\(''search_path''\);.*?\mBEGIN\s+(--[^\n]*\n\s*)*PERFORM pg_catalog\.set_config\(''search_path'', ''pg_catalog, pg_temp'', true\);'$$,
                'every plpgsql function pins search_path (in its SET clause, or first thing after reading the caller''s)');
SELECT is_empty($$SELECT p.proname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                  WHERE p.pronamespace = 'rec'::regnamespace AND l.lanname = 'sql'
                    AND p.prosrc !~ 'rec\._[a-z_]+\(pg_catalog\.current_setting\(''search_path''\)'$$,
                'every SQL function only hands the caller''s path to a pinned one');

SELECT * FROM finish();
ROLLBACK;
