-- rec.split, rec.evaluate and rec.tune: bad arguments get 22023/42704 and create nothing.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
SELECT plan(20);

CREATE TEMP TABLE r AS
SELECT u AS user_id, (u * 7 + n * 3) % 40 AS item_id, (n % 5 + 1)::float8 AS rating, n AS ts
FROM generate_series(1, 60) u, generate_series(1, 6) n;
SELECT rec.train('e', 'r', 'user_id', 'item_id', params => '{"factors": 2, "iterations": 1}');

SELECT throws_ok($$SELECT * FROM rec.split('s', 'r', 'user_id', 'item_id', method => 'magic')$$, '22023',
                 'unknown split method "magic"', 'unknown method');
SELECT throws_ok($$SELECT * FROM rec.split('s', 'r', 'user_id', 'item_id', test_fraction => 0)$$, '22023', NULL, 'fraction 0');
SELECT throws_ok($$SELECT * FROM rec.split('s', 'r', 'user_id', 'item_id', test_fraction => 1)$$, '22023', NULL, 'fraction 1');
SELECT throws_ok($$SELECT * FROM rec.split('s', 'r', 'user_id', 'item_id', test_fraction => 'NaN')$$, '22023', NULL, 'fraction NaN');
SELECT throws_ok($$SELECT * FROM rec.split('s', 'r', 'user_id', 'item_id', method => 'leave_last_out')$$, '22023',
                 'method leave_last_out needs time_col', 'leave_last_out without time');
SELECT throws_ok($$SELECT * FROM rec.split('', 'r', 'user_id', 'item_id')$$, '22023', NULL, 'empty name');
SELECT throws_ok($$SELECT * FROM rec.split('s', 'r', NULL, 'item_id')$$, '22023', NULL, 'NULL column');
SELECT throws_ok($$SELECT * FROM rec.split('s', 'nope', 'user_id', 'item_id')$$, '42P01', NULL, 'missing source');
SELECT hasnt_table('s_train', 'failed splits created nothing');

SELECT throws_ok($$SELECT * FROM rec.evaluate('nope', 'r')$$, '42704', NULL, 'evaluate: unknown model');
SELECT throws_ok($$SELECT * FROM rec.evaluate('e', 'r', k => 0)$$, '22023', NULL, 'evaluate: k = 0');
SELECT throws_ok($$SELECT * FROM rec.evaluate('e', 'r', sampled_negatives => -1)$$, '22023', NULL, 'evaluate: negative sample');
SELECT throws_ok($$SELECT * FROM rec.evaluate('e', 'r', metrics => ARRAY['accuracy'])$$, '22023',
                 'unknown metric "accuracy"', 'evaluate: unknown metric');
SELECT throws_ok($$SELECT * FROM rec.evaluate('e', 'SELECT 1 AS user_id, 2 AS item_id WHERE false')$$, '22000', NULL,
                 'evaluate: empty test source');

SELECT throws_ok($$SELECT * FROM rec.tune('t', 'r', 'user_id', 'item_id', grid => '[1]')$$, '22023', NULL, 'tune: grid not an object');
SELECT throws_ok($$SELECT * FROM rec.tune('t', 'r', 'user_id', 'item_id', grid => '{"factors": 8}')$$, '22023',
                 'grid entry "factors" must be a non-empty array', 'tune: grid entry not an array');
SELECT throws_ok($$SELECT * FROM rec.tune('t', 'r', 'user_id', 'item_id', folds => 0)$$, '22023', NULL, 'tune: folds 0');
SELECT throws_ok($$SELECT * FROM rec.tune('t', 'r', 'user_id', 'item_id', metric => 'rmse')$$, '22023',
                 'metric rmse needs rating_col', 'tune: rmse without ratings');
SELECT throws_ok($$SELECT * FROM rec.tune('t', 'r', 'user_id', 'item_id', grid => '{"factorz": [1]}')$$, '22023',
                 'unknown parameter "factorz" for algorithm als', 'tune: a bad grid key fails like train');
SELECT is((SELECT count(*) FROM rec.model_versions WHERE model IN ('t', '__tune_t')), 0::bigint, 'failed tunes left no model');

SELECT * FROM finish();
ROLLBACK;
