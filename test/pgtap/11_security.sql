-- Safe in a shared database: no crash on odd id types past one read batch, no internal function
-- for PUBLIC, a model's stored SQL never runs with the caller's rights, caches re-check who asks,
-- nobody chooses another role's default model, diverged or unloadable models are refused.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
SELECT plan(59);

-- 1. Ids of every type category, over more than one 10,000-row read batch: no crash.
SELECT lives_ok($$SELECT rec.train('sec_arr', 'SELECT ARRAY[g % 100] AS u, g % 50 AS i FROM generate_series(1, 30000) g',
                                   'u', 'i', params => '{"factors": 4, "iterations": 2}')$$,
                'array user ids over three read batches train (the output function outlives each batch)');
SELECT is((SELECT count(*)::int FROM rec.recommend('sec_arr', '{7}'::int[], 5)), 5, 'and serve by array id');
CREATE TEMP TABLE sec_arr_test AS SELECT ARRAY[g % 100] AS u, g % 50 AS i FROM generate_series(1, 20001) g;
SELECT lives_ok($$SELECT * FROM rec.evaluate('sec_arr', 'sec_arr_test', store => false)$$,
                'rec.evaluate reads array ids over several batches');
SELECT lives_ok($$SELECT rec.train('sec_row', 'SELECT ROW(g % 90, (g % 90)::text) AS u, g % 40 AS i FROM generate_series(1, 25000) g',
                                   'u', 'i', algorithm => 'popularity')$$, 'record ids over several batches');
SELECT lives_ok($$SELECT rec.train('sec_rng', 'SELECT int4range(g % 80, g % 80 + 5) AS u, (g % 30)::text::jsonb AS i FROM generate_series(1, 25000) g',
                                   'u', 'i', algorithm => 'popularity')$$, 'range users and json items over several batches');
CREATE DOMAIN sec_int AS integer;
SELECT lives_ok($$SELECT rec.train('sec_dom', 'SELECT (g % 70)::sec_int AS u, (g % 30)::sec_int AS i FROM generate_series(1, 12000) g',
                                   'u', 'i', algorithm => 'popularity')$$, 'domain ids');
SELECT is((SELECT item_type FROM rec.model_versions WHERE model = 'sec_dom'), 'sec_int', 'the domain is recorded');
SELECT is((SELECT count(*)::int FROM rec.recommend('sec_dom', 5, 3)), 3, 'a domain over integer serves bigint item ids');

-- 11. No internal function is executable by a plain role.
CREATE ROLE sec_plain;
SELECT is((SELECT coalesce(string_agg(p.oid::regprocedure::text, ', '), '')
             FROM pg_proc p WHERE p.pronamespace = 'rec'::regnamespace AND p.proname LIKE '\_%'
              AND has_function_privilege('sec_plain', p.oid, 'EXECUTE')), '',
          'no rec._* function is executable by a plain role');

-- 6. A model's stored source runs as its owner, security-restricted, never as the caller.
CREATE ROLE sec_mallory;
CREATE SCHEMA sec_m AUTHORIZATION sec_mallory;
CREATE TABLE sec_m.ev AS SELECT u, (u * 3 + k) % 20 AS i FROM generate_series(1, 40) u, generate_series(1, 5) k;
ALTER TABLE sec_m.ev OWNER TO sec_mallory;
CREATE TABLE sec_seen_as (who name, restricted boolean);
GRANT INSERT ON sec_seen_as TO PUBLIC;
CREATE FUNCTION sec_m.touch() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.sec_seen_as VALUES (current_user, false);
    RETURN true;
EXCEPTION WHEN insufficient_privilege THEN
    RETURN true;  -- a security-restricted operation refuses writes... of temp tables; this is not one
END $$;
ALTER FUNCTION sec_m.touch() OWNER TO sec_mallory;
SET ROLE sec_mallory;
SELECT lives_ok($$SELECT rec.train('sec_mal', 'SELECT u, i FROM sec_m.ev WHERE sec_m.touch()', 'u', 'i',
                                   params => '{"factors": 4, "iterations": 2}')$$, 'mallory trains from a query calling her function');
SELECT lives_ok($$SELECT rec.grant_model('sec_mal', 'public')$$, 'and grants the model to public');
RESET ROLE;
DELETE FROM sec_seen_as;
SELECT lives_ok($$SELECT * FROM rec.recommend('sec_mal', 3, 5, fold_in => true)$$, 'a superuser folds in from the model');
SELECT is((SELECT array_agg(DISTINCT who)::text FROM sec_seen_as), '{sec_mallory}',
          'the stored source ran as the model''s owner, not as the superuser');
-- An unqualified name in a query source means what it meant to the owner when training: the
-- owner's search_path, never the caller's, and never the caller's temporary tables.
SET ROLE sec_mallory;
SET search_path = sec_m;
SELECT rec.train('sec_mal2', 'SELECT u, i FROM ev', 'u', 'i', params => '{"factors": 4, "iterations": 2}');
SELECT rec.grant_model('sec_mal2', 'public');
RESET search_path;
RESET ROLE;
CREATE FUNCTION pg_temp.shadowed() RETURNS SETOF sec_m.ev LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the caller''s temporary table was read'; END $$;
CREATE TEMP VIEW ev AS SELECT * FROM pg_temp.shadowed();
SET LOCAL search_path = pg_temp, public;
SELECT lives_ok($$SELECT * FROM rec.recommend('sec_mal2', 3, 5, fold_in => true)$$,
                'a caller''s temporary view of the same name shadows nothing in the owner''s source');
SELECT is((SELECT count(*)::int FROM rec.recommend('sec_mal2', 3, 5, fold_in => true)), 5,
          'and the owner''s rows are read, on the owner''s search_path');
RESET search_path;

-- 7. Deployments point at versions of the same model only; caches re-check the role.
SELECT throws_ok(format($$INSERT INTO rec.deployments (model, version_id) VALUES ('sec_mal', %s)$$,
                        (SELECT id FROM rec.model_versions WHERE model = 'sec_arr')), '23503', NULL,
                 'a deployment naming another model''s version violates the foreign key, even for a superuser');
CREATE TEMP TABLE sec_arr_id AS SELECT id FROM rec.model_versions WHERE model = 'sec_arr';
GRANT SELECT ON sec_arr_id TO sec_mallory;
SELECT count(*) FROM rec.recommend('sec_arr', '{7}'::int[], 5);  -- cached in this backend now
SET ROLE sec_mallory;
SELECT throws_ok($$INSERT INTO rec.deployments (model, version_id) SELECT 'sec_mal', id FROM sec_arr_id$$, '23503', NULL,
                 'an owner cannot deploy another model''s (probable) version id under her name');
SELECT throws_ok($$SELECT * FROM rec.evaluate_version((SELECT id FROM sec_arr_id), 'sec_m.ev', 'u', 'i', NULL, 10, true, 0, 42)$$,
                 '42501', NULL, 'a version cached by another role is not served to one that may not use it');

-- 9. The default model is one the caller owns or chose, never the last public deployment.
SELECT is(rec.default_model(), 'sec_mal2', 'mallory''s default is the model she deployed last');
RESET ROLE;
SELECT ok(rec.default_model() NOT IN ('sec_mal', 'sec_mal2'), 'a public model of another role is not the superuser''s default');
SET LOCAL pgrec.default_model = 'sec_mal';
SELECT is(rec.default_model(), 'sec_mal', 'pgrec.default_model chooses one deliberately');
RESET pgrec.default_model;

-- 19, 20. Diverged training and unloadable hybrids are refused; the serving version stays.
CREATE TEMP TABLE sec_ev AS SELECT u, (u * 7 + k) % 30 AS i FROM generate_series(1, 50) u, generate_series(1, 6) k;
SELECT throws_ok($$SELECT rec.train('sec_arr', 'sec_ev', 'u', 'i', rating_col => 'i', algorithm => 'sgd_mf',
                                    params => '{"learning_rate": 1, "init_std": 10, "epochs": 5}')$$, '22000', NULL,
                 'sgd_mf that diverges is refused with 22000');
SELECT throws_ok($$SELECT rec.train('sec_arr', 'sec_ev', 'u', 'i', algorithm => 'bpr', params => '{"learning_rate": 10}')$$,
                 '22000', NULL, 'bpr that diverges is refused with 22000');
SELECT is((SELECT version FROM rec.models WHERE model = 'sec_arr'), 1, 'and the serving version stays');
SELECT throws_ok($$SELECT rec.train('sec_h', 'hybrid', '{"models": {"sec_dom": 1e39}}')$$, '22023', NULL,
                 'a hybrid weight a real cannot hold is refused');
SELECT throws_ok($$SELECT rec.train('sec_h', 'hybrid', '{"models": {"sec_dom": 1e-50}}')$$, '22023', NULL,
                 'so is one that rounds to zero');
SELECT rec.train('sec_stars', 'sec_ev', 'u', 'i', rating_col => 'i', params => '{"factors": 4}');
SELECT throws_ok($$SELECT * FROM rec.recommend_for_items('sec_stars', ARRAY[1, 2], ARRAY[-3e38, 1]::real[])$$, '22000', NULL,
                 'fold-in ratings that overflow the scores are an error, not an empty answer');


-- 2. Training memory is estimated before anything large is allocated: 53200 with the estimate.
SET LOCAL pgrec.max_training_memory = '1MB';
SELECT throws_like($$SELECT rec.train('sec_mem', 'sec_ev', 'u', 'i', params => '{"factors": 512}')$$,
                   '%would need about % of memory, more than pgrec.max_training_memory (1 MB)%',
                   'a training over the memory limit is refused with its estimate');
SELECT throws_ok($$SELECT rec.train('sec_mem', 'SELECT g % 500 AS u, g AS i FROM generate_series(1, 20000) g', 'u', 'i',
                                    algorithm => 'item_knn')$$, '53200', NULL,
                 'every family is estimated (neighbours too)');
SELECT throws_ok($$SELECT rec.save_model('sec_mem', (SELECT rec.train_agg('als', u, i, '{"factors": 512}'::jsonb) FROM sec_ev))$$,
                 '53200', NULL, 'and so is rec.train_agg');
RESET pgrec.max_training_memory;
SET LOCAL ROLE sec_plain;
SELECT throws_ok($$SET pgrec.max_training_memory = '100GB'$$, '42501', NULL, 'only a superuser raises the limit');
RESET ROLE;

-- 5. rec.evaluate pins its model while the caller's SQL runs (and may load and evict others).
CREATE TEMP TABLE sec_many AS SELECT 'sec_p' || n AS name FROM generate_series(1, 10) n;
SELECT count(rec.train(name, 'sec_ev', 'u', 'i', algorithm => 'popularity')) FROM sec_many;
CREATE FUNCTION pg_temp.sec_evict() RETURNS boolean LANGUAGE sql VOLATILE AS
  $$SELECT count(rec.predict(name, 1, 1)) >= 0 FROM sec_many$$;
CREATE TEMP TABLE sec_eval_plain AS SELECT * FROM rec.evaluate('sec_stars', 'sec_ev', store => false);
SELECT results_eq($$SELECT * FROM rec.evaluate('sec_stars', 'SELECT u, i FROM sec_ev WHERE pg_temp.sec_evict()', store => false) ORDER BY 1$$,
                  $$SELECT * FROM sec_eval_plain ORDER BY 1$$,
                  'evaluate gives the same metrics when its test query evicts the model from the cache');

-- 8. A hybrid copies its parts: mixing needs their owner, so a revoke takes the model back.
SET ROLE sec_mallory;
SELECT rec.revoke_model('sec_mal', 'public');
SELECT rec.grant_model('sec_mal', 'sec_plain');
RESET ROLE;
GRANT SELECT ON sec_ev TO sec_plain;
SET ROLE sec_plain;
SELECT lives_ok($$SELECT * FROM rec.recommend('sec_mal', 3, 5)$$, 'a grantee uses the model');
SELECT throws_ok($$SELECT rec.train('sec_copy', 'hybrid', '{"models": {"sec_mal": 1}}')$$, '42501', NULL,
                 'but cannot copy it into a hybrid of their own');
RESET ROLE;
SET ROLE sec_mallory;
SELECT rec.revoke_model('sec_mal', 'sec_plain');
RESET ROLE;
SET ROLE sec_plain;
SELECT throws_ok($$SELECT * FROM rec.recommend('sec_mal', 3, 5)$$, '42501', NULL, 'after the revoke the model is out of reach');
RESET ROLE;

-- 10. Grants are kept by role OID: a new role with a dropped grantee's name gets nothing.
CREATE ROLE sec_dave;
SET ROLE sec_mallory;
SELECT rec.grant_model('sec_mal', 'sec_dave');
RESET ROLE;
DROP ROLE sec_dave;
CREATE ROLE sec_dave;
SET ROLE sec_dave;
SELECT throws_ok($$SELECT * FROM rec.recommend('sec_mal', 3, 5)$$, '42501', NULL,
                 'a grant to a dropped role does not pass to the next role of that name');
RESET ROLE;
SELECT is((SELECT pg_typeof(owner)::text FROM rec.model_owners LIMIT 1), 'regrole', 'owners are role OIDs (shown as names)');

-- Clear errors.
SELECT throws_ok($$SELECT rec.train('sec_x', '-- a comment
INSERT INTO sec_ev VALUES (1, 1) RETURNING u, i', 'u', 'i')$$, '22023', NULL,
                 'a statement that is not a query is refused as such');
SELECT throws_ok($$SELECT * FROM rec.training_curve('sec_nothing')$$, '42704', NULL, 'training_curve of an unknown model');
SET LOCAL ROLE sec_dave;
SELECT throws_ok($$SELECT * FROM rec.training_curve('sec_arr')$$, '42501', NULL, 'training_curve of a model one may not use');
RESET ROLE;
SELECT throws_ok($$SELECT rec.revoke_model('sec_arr', 'sec_no_such_role')$$, '42704', NULL, 'revoke_model of an unknown role');
SELECT throws_ok($$SELECT rec.train_async('sec_y', 'sec_ev', 'u', 'i', device => 'cuda:4294967295')$$, '22023', NULL,
                 'a device number that does not fit is refused');

SELECT lives_ok($$SELECT rec.train('sec_c', '/* the events */ -- of last week
SELECT u, i FROM sec_ev', 'u', 'i', algorithm => 'popularity')$$, 'a query after comments is a query');
SELECT lives_ok($$SELECT rec.train('sec_seed', 'sec_ev', 'u', 'i', algorithm => 'bpr',
                                   params => '{"seed": 9223372036854775807, "epochs": 1, "factors": 4}')$$,
                'the largest seed is read exactly');
SELECT throws_ok($$SELECT rec.train('sec_seed', 'sec_ev', 'u', 'i', algorithm => 'bpr', params => '{"seed": 9223372036854775808}')$$,
                 '22023', NULL, 'one more is out of range, not rounded');
SELECT lives_ok(format($$SELECT * FROM rec.tune(%L, 'sec_ev', 'u', 'i', algorithm => 'popularity')$$, repeat('t', 195)),
                'rec.tune takes a model name of 195 characters');
CREATE TEMP TABLE sec_text_ev AS SELECT u::text AS u, i::text AS i FROM sec_ev;
SELECT rec.train('sec_text', 'sec_text_ev', 'u', 'i', algorithm => 'popularity');
SELECT throws_like($$SELECT rec.train('sec_h2', 'hybrid', '{"models": {"sec_stars": 1, "sec_text": 1}}')$$,
                   '%"sec_text" has text users and text items, and "sec_stars" has integer and integer%',
                   'a hybrid of models with different id types names both models');

-- The public helpers on bad input: a SQLSTATE that names the problem, or a plain answer.
SELECT throws_ok($$SELECT rec.model_owner('sec_no_such_model')$$, '42704', NULL, 'model_owner of an unknown model');
SELECT is(rec.model_owner('sec_arr')::text, current_user::text, 'model_owner names the trainer');
SELECT is(rec.acts_as(NULL), NULL, 'acts_as(NULL) is NULL');
SELECT is(rec.acts_as(4000000000::oid::regrole), false, 'acts_as a role that does not exist is false');
SELECT is(rec.training_worker_alive(-1), false, 'training_worker_alive of no process is false');
SELECT throws_ok($$SELECT rec.tune_grid('[1, 2]')$$, '22023', NULL, 'tune_grid needs an object');
SELECT throws_ok($$SELECT rec.tune_grid('{"factors": []}')$$, '22023', NULL, 'tune_grid entries must be non-empty arrays');
SELECT is(cardinality(rec.tune_grid('{"factors": [2, 4], "iterations": [1, 2, 3]}')), 6, 'tune_grid expands every combination');
SELECT throws_ok($$SELECT rec.split_query('sec_ev', 'u', 'i', 'sideways', 0.2, 1, NULL)$$, '22023', NULL,
                 'split_query of an unknown method');
SELECT throws_ok($$SELECT rec.qualify_source('sec_ev; DROP TABLE sec_ev')$$, '22023', NULL,
                 'qualify_source of something that is neither a name nor a query');
SELECT is(rec.qualify_source('SELECT 1'), 'SELECT 1', 'qualify_source keeps a query as it is');
SELECT throws_ok($$SELECT * FROM rec.evaluate_version(-1, 'sec_ev', 'u', 'i', NULL, 10, true, 0, 42)$$, '42501', NULL,
                 'evaluate_version of a version that does not exist');

SELECT * FROM finish();
ROLLBACK;
