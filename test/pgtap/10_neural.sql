-- The LibTorch families: their bad inputs map to SQLSTATEs, and a background job trains one.
-- Not wrapped in a transaction: the worker sees committed rows only.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
SELECT plan(19);

DROP TABLE IF EXISTS nn_events, nn_items;
CREATE TABLE nn_events AS
SELECT u AS user_id, (u + t) % 25 + 1 AS item_id, t AS ts, 'u' || u AS user_key
FROM generate_series(1, 60) u, generate_series(0, 7) t;
CREATE TABLE nn_items AS SELECT i AS item_id, 'g' || (i % 2) AS genre FROM generate_series(1, 25) i;

SELECT throws_ok($$SELECT rec.train('nn_bad', 'nn_events', 'user_id', 'item_id', algorithm => 'sasrec')$$, '22023',
                 'sasrec learns from the order of each user''s rows: give time_col, the column that orders them',
                 'a sequential model without time_col');
SELECT throws_ok($$SELECT rec.train('nn_bad', 'nn_events', 'user_id', 'item_id', algorithm => 'gru4rec', time_col => 'nope')$$,
                 '42703', NULL, 'a time column that does not exist');
SELECT throws_ok($$SELECT rec.train('nn_bad', 'nn_events', 'user_id', 'item_id', algorithm => 'two_tower',
                                    item_features => 'SELECT item_id, genre FROM nn_items UNION ALL SELECT 3, ''x''')$$,
                 '22000', 'the feature query returns id 3 more than once; each id needs exactly one row',
                 'a feature query with a duplicate id names it');
SELECT throws_ok($$SELECT rec.train('nn_bad', 'nn_events', 'user_id', 'item_id', algorithm => 'two_tower',
                                    user_features => 'SELECT user_key, 1 FROM nn_events')$$,
                 '22023', NULL, 'a feature id of another kind than the source''s');
SELECT throws_ok($$SELECT rec.train('nn_bad', 'nn_events', 'user_id', 'item_id', algorithm => 'two_tower',
                                    item_features => 'SELECT item_id FROM nn_items')$$,
                 '22023', NULL, 'a feature query without features');
SELECT throws_ok($$SELECT rec.train('nn_bad', 'nn_events', 'user_id', 'item_id', algorithm => 'two_tower',
                                    item_features => 'DELETE FROM nn_items')$$,
                 NULL, NULL, 'a feature query that is not a SELECT');
SELECT throws_ok($$SELECT rec.train('nn_bad', 'nn_events', 'user_id', 'item_id', algorithm => 'sasrec', time_col => 'ts',
                                    params => '{"heads": 5, "factors": 16}')$$, '22023', NULL, 'heads that do not divide factors');
SELECT throws_ok($$SELECT rec.train('nn_bad', 'nn_events', 'user_id', 'item_id', algorithm => 'neumf', params => '{"negatives": 0}')$$,
                 '22023', NULL, 'negatives out of range');
SELECT throws_ok($$SELECT rec.train('nn_bad', 'nn_events', 'user_id', 'item_id', algorithm => 'neumf', params => '{"init_from": "no_model"}')$$,
                 '42704', NULL, 'init_from an unknown model');
SELECT throws_ok($$SELECT rec.train('nn_bad', 'nn_events', 'user_id', 'item_id', algorithm => 'neumf', params => '{"max_len": 5}')$$,
                 '22023', 'unknown parameter "max_len" for algorithm neumf', 'a sequential key on neumf');
SELECT throws_ok($$SELECT rec.train_agg('gru4rec', user_id, item_id) FROM nn_events$$, '0A000', NULL,
                 'train_agg of a neural family');
-- Seconds from the start of a long LibTorch training until statement_timeout stopped it; -1 if
-- it finished.
CREATE FUNCTION pg_temp.seconds_until_canceled() RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  PERFORM rec.train('nn_bad', 'nn_events', 'user_id', 'item_id', algorithm => 'sasrec', time_col => 'ts',
                    params => '{"epochs": 10000, "patience": 0, "factors": 8}');
  RETURN -1;
EXCEPTION WHEN query_canceled THEN
  RETURN extract(epoch FROM clock_timestamp() - t0);
END $$;
-- (Called once: BETWEEN would evaluate it twice, the second time after the timeout has fired.)
SET statement_timeout = '500ms';
SELECT pg_temp.seconds_until_canceled() AS canceled_after \gset
RESET statement_timeout;
SELECT ok(:canceled_after BETWEEN 0.4 AND 1.5, 'statement_timeout stops a LibTorch training within a second');
SELECT is((SELECT count(*) FROM rec.models WHERE model = 'nn_bad'), 0::bigint, 'nothing was stored');

-- A background job trains a sequential model (time_col travels in the job's params).
SELECT rec.train_async('nn_seq', 'nn_events', 'user_id', 'item_id', algorithm => 'gru4rec', time_col => 'ts',
                       params => '{"factors": 16, "epochs": 4, "max_len": 6}', device => 'torch-cpu') AS job \gset
SELECT is(rec.wait(:job, '120 s'), 'succeeded', 'a gru4rec job runs to the end');
SELECT results_eq($$SELECT algorithm, params->>'time_col', epoch <= 4, device_used FROM rec.jobs WHERE job = $$ || :job,
                  $$VALUES ('gru4rec', 'ts', true, 'torch-cpu')$$, 'its row reports the family and its time column');
SELECT ok((SELECT count(*) FROM rec.training_curve('nn_seq')) BETWEEN 1 AND 4, 'its training curve is stored');
SELECT is((SELECT count(*) FROM rec.recommend('nn_seq', 5, 3)), 3::bigint, 'and it serves');
SELECT throws_ok($$SELECT * FROM rec.explain('nn_seq', 5, 3)$$, '0A000', NULL, 'explain of a sequential model');

-- The worker runs feature queries with the submitter's search_path.
DROP SCHEMA IF EXISTS nn_s CASCADE;
CREATE SCHEMA nn_s;
CREATE TABLE nn_s.feats AS SELECT item_id, genre FROM nn_items;
SET search_path = nn_s, public;
SELECT rec.train_async('nn_tt', 'nn_events', 'user_id', 'item_id', algorithm => 'two_tower',
                       item_features => 'SELECT item_id, genre FROM feats', params => '{"factors": 8, "epochs": 2}') AS job \gset
RESET search_path;
SELECT is(rec.wait(:job, '120 s'), 'succeeded', 'a two_tower job reads an unqualified feature table on the submitter''s path');

SELECT rec.drop_model(m) FROM unnest(ARRAY['nn_seq', 'nn_tt']) m;
DROP SCHEMA nn_s CASCADE;
DROP TABLE nn_events, nn_items;
SELECT * FROM finish();
