-- ML-100K by time: a model trained on the first 80% serves; the data grows to the first 90%, and
-- the model is retrained from scratch (cold) or from the serving version (warm_start) for a given
-- number of iterations or epochs; both are scored on the last 10% (full ranking, training items
-- excluded; RMSE for sgd_mf). How many iterations does a warm retraining need to match a cold one?
CREATE TEMP TABLE ws_cut AS
SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY ts) AS p80, percentile_disc(0.9) WITHIN GROUP (ORDER BY ts) AS p90
FROM ml100k;
CREATE TABLE ws_base AS SELECT m.* FROM ml100k m, ws_cut c WHERE m.ts <= c.p80;
CREATE TABLE ws_train AS SELECT m.* FROM ml100k m, ws_cut c WHERE m.ts <= c.p90;
CREATE TABLE ws_test AS SELECT m.* FROM ml100k m, ws_cut c WHERE m.ts > c.p90;

-- One row: `algorithm` retrained on ws_train for `steps` (cold, or warm from version 1 of the
-- model that serves ws_base's training), scored on ws_test.
CREATE FUNCTION pg_temp.retrain_row(label text, algorithm text, params jsonb, step_key text, steps int, warm boolean,
                                    rating_col text, names text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  model text := 'ws_' || algorithm || CASE WHEN warm THEN '_warm' ELSE '_cold' END;
  p jsonb := params || jsonb_build_object(step_key, steps) || CASE WHEN warm THEN '{"warm_start": true}'::jsonb ELSE '{}'::jsonb END;
  s float8;
BEGIN
  IF warm THEN
    PERFORM rec.deploy(model, 1);  -- every warm run starts from the version trained on the first 80%
  END IF;
  s := bench.seconds(format('SELECT rec.train(%L, %L, %L, %L, %L, algorithm => %L, params => %L)',
                            model, 'ws_train', 'user_id', 'item_id', rating_col, algorithm, p));
  RETURN bench.row('ML-100K by time', 'first 80% serves; retrained on the first 90%, scored on the last 10% (full ranking)',
                   format('%s, %s, %s %s', label, CASE WHEN warm THEN 'warm' ELSE 'cold' END, steps, step_key),
                   bench.metrics(model, 'ws_test', names), round(s::numeric, 3) || ' s', NULL,
                   'no published anchor for this protocol');
END $$;

SELECT rec.train('ws_als_warm', 'ws_base', 'user_id', 'item_id', params => '{"factors": 64, "iterations": 15}') \g /dev/null
SELECT rec.train('ws_bpr_warm', 'ws_base', 'user_id', 'item_id', algorithm => 'bpr', params => '{"factors": 64}') \g /dev/null
SELECT rec.train('ws_sgd_mf_warm', 'ws_base', 'user_id', 'item_id', 'rating', algorithm => 'sgd_mf') \g /dev/null
SELECT rec.train('ws_lightgcn_warm', 'ws_base', 'user_id', 'item_id', algorithm => 'lightgcn',
                 params => '{"factors": 64, "epochs": 40, "patience": 0}') \g /dev/null
SELECT pg_temp.retrain_row('als implicit, 64 f', 'als', '{"factors": 64}', 'iterations', n, w, NULL, ARRAY['ndcg', 'recall'])
FROM (VALUES (false), (true)) a(w), unnest(ARRAY[1, 2, 3, 5, 15]) n ORDER BY w, n;
SELECT pg_temp.retrain_row('bpr, 64 f', 'bpr', '{"factors": 64}', 'epochs', n, w, NULL, ARRAY['ndcg', 'recall'])
FROM (VALUES (false), (true)) a(w), unnest(ARRAY[5, 10, 20, 50]) n ORDER BY w, n;
SELECT pg_temp.retrain_row('sgd_mf, 100 f', 'sgd_mf', '{}', 'epochs', n, w, 'rating', ARRAY['rmse', 'mae'])
FROM (VALUES (false), (true)) a(w), unnest(ARRAY[2, 5, 10, 20]) n ORDER BY w, n;
-- A LibTorch family: LightGCN's base embeddings start from the serving version's (by id).
SELECT pg_temp.retrain_row('lightgcn, 64 f, 3 layers', 'lightgcn', '{"factors": 64, "patience": 0}', 'epochs', n, w, NULL,
                           ARRAY['ndcg', 'recall'])
FROM (VALUES (false, ARRAY[5, 10, 20, 40]), (true, ARRAY[2, 5, 10])) a(w, steps), unnest(steps) n ORDER BY w, n;
SELECT rec.drop_model(m) FROM rec.model_owners, unnest(ARRAY['ws_als_cold', 'ws_als_warm', 'ws_bpr_cold', 'ws_bpr_warm',
                                                              'ws_sgd_mf_cold', 'ws_sgd_mf_warm', 'ws_lightgcn_cold', 'ws_lightgcn_warm']) m
 WHERE model = m \g /dev/null
DROP TABLE ws_base, ws_train, ws_test;
