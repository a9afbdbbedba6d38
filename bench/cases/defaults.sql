-- How each family's defaults compare with the best value of a grid, on an 80/20 per-user split
-- (rec.split, seed 42) of every MovieLens set loaded (ml100k, mlsmall): NDCG@10 (full ranking,
-- training items excluded) for the ranking families, RMSE for the rating families. The grid is
-- scored on the same test rows, so "best" is an optimistic bound, not a tuned model's honest score.
-- Also the choices a user with a rating column has, ranked by the same NDCG@10.

-- Scores one training (params over the family's defaults) on a split: NDCG@10 or RMSE.
CREATE OR REPLACE FUNCTION bench.score(train text, test text, algorithm text, rating boolean, params jsonb,
                                       metric text, source text DEFAULT NULL)
RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE v float8;
BEGIN
  PERFORM rec.train('b_def', coalesce(source, train), 'user_id', 'item_id',
                    CASE WHEN rating THEN 'rating' END, algorithm => algorithm, params => params);
  SELECT e.value INTO v FROM rec.evaluate('b_def', test, k => 10, store => false) e WHERE e.metric = score.metric;
  PERFORM rec.drop_model('b_def');
  RETURN v;
END $$;

-- One results row: the defaults' score, the grid's best, and how far the defaults are from it.
CREATE OR REPLACE FUNCTION bench.defaults_row(dataset text, split text, label text, algorithm text, rating boolean,
                                              grid jsonb, metric text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
  d float8;
  best float8;
  best_p jsonb;
  v float8;
  p jsonb;
  lower_is_better boolean := metric IN ('rmse', 'mae');
BEGIN
  d := bench.score(split || '_train', split || '_test', algorithm, rating, '{}', metric);
  FOREACH p IN ARRAY rec.tune_grid(grid) LOOP
    v := bench.score(split || '_train', split || '_test', algorithm, rating, p, metric);
    IF best IS NULL OR (lower_is_better AND v < best) OR (NOT lower_is_better AND v > best) THEN
      best := v;
      best_p := p;
    END IF;
  END LOOP;
  RETURN bench.row(dataset, '80/20 per-user split, seed 42; defaults vs the best of a grid scored on the test rows',
                   label || ' defaults vs grid ' || grid::text,
                   format('%s: defaults %s, grid best %s at %s (defaults %s%% %s)', metric, round(d::numeric, 4),
                          round(best::numeric, 4), best_p,
                          round(abs(100 * (d - best) / best)::numeric, 1),
                          CASE WHEN (lower_is_better AND d <= best) OR (NOT lower_is_better AND d >= best)
                               THEN 'better' ELSE 'worse' END),
                   round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1) || ' s for '
                     || (1 + array_length(rec.tune_grid(grid), 1)) || ' trainings',
                   NULL, 'target: defaults within 5% of the grid best');
END $$;

-- The rows for one data set (a table with user_id, item_id, rating).
CREATE OR REPLACE FUNCTION bench.defaults_rows(dataset text, source text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  split text := 'def_' || source;
  c record;
BEGIN
  IF to_regclass(source) IS NULL THEN
    RETURN;
  END IF;
  PERFORM * FROM rec.split(split, source, 'user_id', 'item_id', method => 'per_user', test_fraction => 0.2,
                           seed => 42, replace => true);
  -- What a user with a rating column can train, by NDCG@10 on the same split.
  FOR c IN SELECT * FROM (VALUES
      ('popularity', 'popularity', false, '{}', NULL),
      ('als, rating_col => ''rating'' (explicit: predicts ratings)', 'als', true, '{}', NULL),
      ('sgd_mf, rating_col => ''rating'' (explicit)', 'sgd_mf', true, '{}', NULL),
      ('als without rating_col (implicit: every rating is one interaction)', 'als', false, '{}', NULL),
      ('als, rating_col => ''rating'', "explicit": false (implicit, the rating weighs the interaction)', 'als', true, '{"explicit": false}', NULL),
      ('als without rating_col on the rows rated 4 or 5', 'als', false, '{}',
       format('SELECT user_id, item_id FROM %I WHERE rating >= 4', split || '_train'))) v(label, algorithm, rating, params, source)
  LOOP
    RETURN NEXT bench.row(dataset, '80/20 per-user split, seed 42; full ranking, training items excluded',
                          c.label, 'ndcg@10 ' || round(bench.score(split || '_train', split || '_test', c.algorithm, c.rating,
                                                                   c.params::jsonb, 'ndcg@10', c.source)::numeric, 4),
                          NULL, NULL, 'which model for ratings');
  END LOOP;
  RETURN NEXT bench.defaults_row(dataset, split, 'als implicit', 'als', false,
    '{"factors": [16, 32, 64, 128], "regularization": [0.01, 1, 10, 30, 100]}', 'ndcg@10');
  RETURN NEXT bench.defaults_row(dataset, split, 'bpr', 'bpr', false,
    '{"factors": [32, 64, 128], "learning_rate": [0.01, 0.05, 0.1], "regularization": [0.001, 0.01, 0.1]}', 'ndcg@10');
  RETURN NEXT bench.defaults_row(dataset, split, 'item_knn', 'item_knn', false,
    '{"neighbors": [20, 50, 100, 200, 400], "shrinkage": [0, 10, 100]}', 'ndcg@10');
  RETURN NEXT bench.defaults_row(dataset, split, 'user_knn', 'user_knn', false,
    '{"neighbors": [20, 50, 100, 200, 400], "shrinkage": [0, 10, 100]}', 'ndcg@10');
  RETURN NEXT bench.defaults_row(dataset, split, 'als explicit', 'als', true,
    '{"factors": [8, 16, 32, 64], "regularization": [0.03, 0.05, 0.1, 0.2]}', 'rmse');
  RETURN NEXT bench.defaults_row(dataset, split, 'sgd_mf', 'sgd_mf', true,
    '{"factors": [20, 50, 100, 200], "regularization": [0.02, 0.05, 0.08, 0.1], "epochs": [20, 40]}', 'rmse');
  RETURN NEXT bench.defaults_row(dataset, split, 'svdpp', 'svdpp', true,
    '{"factors": [10, 20, 50, 100], "regularization": [0.02, 0.05, 0.1], "epochs": [20, 40]}', 'rmse');
  EXECUTE format('DROP TABLE %I, %I', split || '_train', split || '_test');
END $$;

SELECT bench.defaults_rows('ML-100K u.data (100,000 rows)', 'ml100k');
SELECT bench.defaults_rows('ml-latest-small (100,836 rows)', 'mlsmall');
