-- Every bad input maps to its SQLSTATE; no argument turned NULL crashes anything.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
SELECT plan(66);

CREATE TEMP TABLE r AS
SELECT u AS user_id, (u * 7 + n * 3) % 40 AS item_id, (n % 5 + 1)::float8 AS rating
FROM generate_series(1, 100) u, generate_series(1, 8) n;
SELECT lives_ok($$SELECT rec.train('t', 'r', 'user_id', 'item_id', params => '{"factors":4,"iterations":2}')$$,
                'a valid train call works');

SELECT throws_ok($$SELECT * FROM rec.recommend('nope', 1, 5)$$, '42704', 'model "nope" does not exist', 'unknown model');
SELECT throws_ok($$SELECT rec.predict('nope', 1, 1)$$, '42704', NULL, 'unknown model in predict');
SELECT throws_ok($$SELECT * FROM rec.similar_items('nope', 1, 5)$$, '42704', NULL, 'unknown model in similar_items');
SELECT throws_ok($$SELECT rec.drop_model('nope')$$, '42704', NULL, 'drop of an unknown model');
SELECT throws_ok($$SELECT rec.deploy('t', 42)$$, '42704', NULL, 'deploy of an unknown version');
SELECT throws_ok($$SELECT * FROM rec.recommend('t', 1, 0)$$, '22023', NULL, 'k = 0');
SELECT throws_ok($$SELECT * FROM rec.recommend('t', 1, -1)$$, '22023', NULL, 'k < 0');
SELECT throws_ok($$SELECT * FROM rec.recommend('t', 1, 2000000000)$$, '22023', NULL, 'absurd k');
SELECT throws_ok($$SELECT rec.train('x', 'r', 'user_id', 'item_id', params => '{"bogus": 1}')$$, '22023',
                 'unknown parameter "bogus" for algorithm als', 'unknown parameter');
SELECT throws_ok($$SELECT rec.train('x', 'r', 'user_id', 'item_id', params => '{"factors": 0}')$$, '22023', NULL, 'factors = 0');
SELECT throws_ok($$SELECT rec.train('x', 'r', 'user_id', 'item_id', params => '{"factors": true}')$$, '22023', NULL, 'factors of the wrong type');
SELECT throws_ok($$SELECT rec.train('x', 'r', 'user_id', 'item_id', params => '{"regularization": -1}')$$, '22023', NULL, 'negative regularization');
SELECT throws_ok($$SELECT rec.train('x', 'r', 'user_id', 'item_id', params => '"text"')$$, '22023', NULL, 'params not an object');
SELECT throws_ok($$SELECT rec.train('x', 'r', 'user_id', 'item_id', algorithm => 'nope')$$, '22023', NULL, 'unknown algorithm');
SELECT throws_ok($$SELECT rec.train('x', 'r', 'user_id', 'item_id', 'rating', params => '{"alpha": "x"}')$$, '22023', NULL, 'alpha of the wrong type');
SELECT throws_ok($$SELECT rec.train('x', 'r WHERE false', 'user_id', 'item_id')$$, '22023', NULL, 'a source that is neither a relation nor a query');
SELECT throws_ok($$SELECT rec.train('x', 'no_table', 'user_id', 'item_id')$$, '42P01', NULL, 'missing table');
SELECT throws_ok($$SELECT rec.train('x', 'r', 'nocol', 'item_id')$$, '42703', NULL, 'missing column');
SELECT throws_ok($$SELECT rec.train('x', 'SELECT 1 AS u, 1 AS i WHERE false', 'u', 'i')$$, '22000', NULL, 'empty source');
SELECT throws_ok($$SELECT rec.train('x', 'SELECT 1 AS u, 1 AS i, ''NaN''::float8 AS v', 'u', 'i', 'v')$$, '22000',
                 'column "v" has a non-finite value (NaN)', 'NaN rating');
SELECT throws_ok($$SELECT rec.train('x', 'SELECT 1 AS u, 1 AS i, ''Infinity''::float8 AS v', 'u', 'i', 'v')$$, '22000', NULL, 'infinite rating');
SELECT throws_ok($$SELECT * FROM rec.recommend('t', 1, 5) UNION ALL SELECT * FROM rec.recommend('t2', 1, 5)$$, '42704', NULL, 'second model unknown');
SELECT throws_ok($$SELECT * FROM rec.recommend_for_items('t', ARRAY[1, 2], ARRAY[1]::real[], 5)$$, '22023', NULL, 'fold-in: lengths differ');
SELECT throws_ok($$SELECT * FROM rec.recommend_for_items('t', ARRAY[1], ARRAY['Infinity']::real[], 5)$$, '22000', NULL, 'fold-in: infinite rating');
SELECT throws_ok($$SELECT * FROM rec.recommend_for_items('nope', ARRAY[1], k => 5)$$, '42704', NULL, 'fold-in: unknown model');
SELECT throws_ok($$SELECT * FROM rec.recommend_for_items('t', ARRAY[1], k => NULL)$$, '22023', NULL, 'fold-in: NULL k');
SELECT throws_ok($$SELECT rec.train('x', 'r', 'user_id', 'item_id', algorithm => 'sgd_mf')$$, '22023', NULL, 'sgd_mf without ratings');
SELECT lives_ok($$SELECT rec.train('pop_t', 'r', 'user_id', 'item_id', algorithm => 'popularity')$$, 'a popularity model');
SELECT throws_ok($$SELECT * FROM rec.similar_items('pop_t', 1, 5)$$, '0A000', NULL, 'popularity has no similar items');
SELECT throws_ok($$SELECT * FROM rec.explain('pop_t', 1, 1)$$, '0A000', NULL, 'popularity has nothing to explain');
SELECT throws_ok($$SELECT * FROM rec.explain('t', 1, 1, -1)$$, '22023', NULL, 'explain: n < 1');
SELECT throws_ok($$SELECT * FROM rec.explain('nope', 1, 1)$$, '42704', NULL, 'explain: unknown model');
SELECT throws_ok($$SELECT rec.train_agg('magic', user_id, item_id) FROM r$$, '22023', NULL, 'train_agg: unknown algorithm');
SELECT throws_ok($$SELECT rec.train_agg('als', user_id, item_id) FROM r WHERE false$$, '22000', NULL, 'train_agg: no rows');
SELECT throws_ok($$SELECT rec.save_model('y', '\x00'::bytea)$$, '22000', NULL, 'save_model: not a model');
SELECT lives_ok($$SELECT rec.save_model('agg_t', rec.train_agg('popularity', user_id, item_id)) FROM r$$, 'an aggregate model');
SELECT throws_ok($$SELECT * FROM rec.recommend('agg_t', 1, 5, fold_in => true)$$, '0A000', NULL, 'fold_in needs a source');
-- The _keys variants share the code and the checks.
SELECT is((SELECT count(*) FROM rec.similar_items_keys('t', 1, 3)), 3::bigint, 'similar_items_keys works');
SELECT is((SELECT count(*) FROM rec.explain_keys('t', 1, 1, 3)) BETWEEN 1 AND 3, true, 'explain_keys works');
SELECT is((SELECT count(*) FROM rec.recommend_for_items_keys('t', ARRAY['1', '2'], k => 3)), 3::bigint, 'recommend_for_items_keys works');
SELECT throws_ok($$SELECT * FROM rec.similar_items_keys('t', 1, 0)$$, '22023', NULL, 'similar_items_keys: k = 0');
SELECT throws_ok($$SELECT * FROM rec.explain_keys('nope', 1, 1)$$, '42704', NULL, 'explain_keys: unknown model');
SELECT throws_ok($$SELECT * FROM rec.recommend_for_items_keys('t', ARRAY['1'], ARRAY[1, 2]::real[], 3)$$, '22023', NULL,
                 'recommend_for_items_keys: lengths differ');
SELECT is((SELECT count(*) FROM rec.model_versions WHERE model = 'x'), 0::bigint, 'failed trainings left nothing');

-- Every argument of rec.train turned NULL in turn: 22023 naming it, never a crash.
CREATE FUNCTION pg_temp.train_state(m text, s text, u text, i text, a text DEFAULT 'als', p jsonb DEFAULT '{}')
RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM rec.train(m, s, u, i, NULL, a, p);
  RETURN 'trained';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $f$;
SELECT is(pg_temp.train_state(NULL, 'r', 'user_id', 'item_id'), '22023 model must not be null', 'NULL model');
SELECT is(pg_temp.train_state('n', NULL, 'user_id', 'item_id'), '22023 source must not be null', 'NULL source');
SELECT is(pg_temp.train_state('n', 'r', NULL, 'item_id'), '22023 user_col must not be null', 'NULL user_col');
SELECT is(pg_temp.train_state('n', 'r', 'user_id', NULL), '22023 item_col must not be null', 'NULL item_col');
SELECT is(pg_temp.train_state('n', 'r', 'user_id', 'item_id', NULL), '22023 algorithm must not be null', 'NULL algorithm');
SELECT is(pg_temp.train_state('n', 'r', 'user_id', 'item_id', 'als', NULL), 'trained', 'NULL params mean defaults');
-- Strict serving functions return nothing for NULLs.
SELECT is((SELECT count(*) FROM rec.recommend(NULL::text, 1, 5)), 0::bigint, 'NULL model: no rows');

-- Hybrids: the parts must exist, weigh something, share id types and not be hybrids themselves.
SELECT has_function('rec', 'train', ARRAY['text', 'text', 'jsonb'], 'rec.train(model, algorithm, params) builds hybrids');
SELECT lives_ok($$SELECT rec.train('t2', 'r', 'user_id', 'item_id', algorithm => 'item_knn')$$, 'a second part');
SELECT lives_ok($$SELECT rec.train('hy', 'hybrid', '{"models": {"t": 0.7, "t2": 0.3}}')$$, 'a valid hybrid');
SELECT throws_ok($$SELECT rec.train('hx', 'hybrid', '{"models": {"t": 1, "nope": 1}}')$$, '42704',
                 'model "nope" does not exist', 'a hybrid of an unknown model');
SELECT throws_ok($$SELECT rec.train('hx', 'hybrid', '{"models": {"t": 0}}')$$, '22023',
                 'the weight of model "t" must be a positive number between 1e-30 and 1e30', 'a zero weight');
SELECT throws_ok($$SELECT rec.train('hx', 'hybrid', '{"models": {"t": "heavy"}}')$$, '22023', NULL, 'a weight that is not a number');
SELECT throws_ok($$SELECT rec.train('hx', 'hybrid', '{"models": {}}')$$, '22023', NULL, 'no parts');
SELECT throws_ok($$SELECT rec.train('hx', 'hybrid', '{"weights": {"t": 1}}')$$, '22023', NULL, 'no models key');
SELECT throws_ok($$SELECT rec.train('hx', 'hybrid', '{"models": {"t": 1}, "normalize": "minmax"}')$$, '22023', NULL, 'an unknown normalisation');
SELECT throws_ok($$SELECT rec.train('hx', 'hybrid', '{"models": {"hy": 1}}')$$, '22023', NULL, 'a hybrid of a hybrid');
SELECT throws_ok($$SELECT rec.train('hx', 'hybrid', NULL)$$, '22023', NULL, 'NULL params');
SELECT throws_ok($$SELECT rec.train('hx', 'als', '{}')$$, '22023', NULL, 'the three-argument form with another algorithm');
SELECT throws_ok($$SELECT rec.train('hx', 'r', 'user_id', 'item_id', algorithm => 'hybrid')$$, '22023',
                 'a hybrid mixes trained models and reads no source', 'hybrid with a source');
CREATE TEMP TABLE rt AS SELECT user_id::text AS user_id, item_id FROM r;
SELECT rec.train('t3', 'rt', 'user_id', 'item_id', algorithm => 'popularity');
SELECT throws_ok($$SELECT rec.train('hx', 'hybrid', '{"models": {"t": 1, "t3": 1}}')$$, '22023', NULL, 'parts with different id types');

SELECT * FROM finish();
ROLLBACK;
