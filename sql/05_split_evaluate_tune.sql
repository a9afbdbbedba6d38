-- rec.split, rec.evaluate and rec.tune on the planted data of 01, checked against SQL references.
ALTER TABLE ratings ADD COLUMN ts int;
UPDATE ratings SET ts = (user_id * 37 + item_id * 11) % 1000;

-- Splits are reproducible, disjoint and complete.
SELECT * FROM rec.split('rs', 'ratings', 'user_id', 'item_id', test_fraction => 0.25, seed => 1);
SELECT * FROM rec.split('rs2', 'ratings', 'user_id', 'item_id', test_fraction => 0.25, seed => 1);
SELECT (SELECT count(*) FROM (TABLE rs_test EXCEPT ALL TABLE rs2_test) d) AS differs_same_seed,
       (SELECT count(*) FROM (TABLE rs_train UNION ALL TABLE rs_test) u) AS together,
       (SELECT count(*) FROM (TABLE rs_train INTERSECT TABLE rs_test) i) AS overlap,
       (SELECT count(*) FROM ((TABLE rs_train UNION ALL TABLE rs_test) EXCEPT ALL TABLE ratings) x) AS invented;
SELECT * FROM rec.split('rs2', 'ratings', 'user_id', 'item_id', test_fraction => 0.25, seed => 2, replace => true);
SELECT count(*) > 0 AS another_seed_differs FROM (TABLE rs_test EXCEPT TABLE rs2_test) d;

-- per_user: each user keeps most rows for training and gives ~20% to the test.
SELECT * FROM rec.split('pu', 'ratings', 'user_id', 'item_id', method => 'per_user');
SELECT min(n) AS min_test_per_user, max(n) AS max_test_per_user
FROM (SELECT user_id, count(*) n FROM pu_test GROUP BY 1) t;

-- leave_last_out: one row per user, the user's latest.
SELECT * FROM rec.split('llo', 'ratings', 'user_id', 'item_id', method => 'leave_last_out', time_col => 'ts');
SELECT bool_and(t.ts >= (SELECT max(ts) FROM llo_train x WHERE x.user_id = t.user_id)) AS is_latest
FROM llo_test t;

-- temporal: every test row is later than every training row.
SELECT * FROM rec.split('tmp', 'SELECT * FROM ratings', 'user_id', 'item_id', method => 'temporal',
                        time_col => 'ts', test_fraction => 0.1);
SELECT (SELECT min(ts) FROM tmp_test) > (SELECT max(ts) FROM tmp_train) AS later;

-- evaluate equals an independent SQL implementation of the same metrics.
SELECT rec.train('ev', 'pu_train', 'user_id', 'item_id', params => '{"factors": 2, "iterations": 1, "seed": 3}');
CREATE TEMP TABLE got AS SELECT * FROM rec.evaluate('ev', 'pu_test', k => 5);
CREATE TEMP TABLE ref AS
WITH lists AS (
  SELECT u.user_id, r.item_id, r.rank,
         EXISTS (SELECT 1 FROM pu_test t WHERE t.user_id = u.user_id AND t.item_id = r.item_id) AS hit
  FROM (SELECT DISTINCT user_id FROM pu_test) u, LATERAL rec.recommend('ev', u.user_id, 5) r),
rel AS (SELECT user_id, count(DISTINCT item_id) AS n FROM pu_test GROUP BY 1),
per_user AS (
  SELECT l.user_id,
         count(*) FILTER (WHERE hit) / 5.0 AS p,
         count(*) FILTER (WHERE hit)::float8 / rel.n AS r,
         coalesce(sum(1 / log(2, rank + 1)) FILTER (WHERE hit), 0)
           / (SELECT sum(1 / log(2, j + 1)) FROM generate_series(1, least(5, rel.n)) j) AS ndcg,
         (count(*) FILTER (WHERE hit) > 0)::int AS hr,
         coalesce(1.0 / min(rank) FILTER (WHERE hit), 0) AS rr,
         coalesce(sum((SELECT count(*) FROM lists l2 WHERE l2.user_id = l.user_id AND l2.hit AND l2.rank <= l.rank)::float8 / l.rank)
                  FILTER (WHERE hit), 0) / least(5, rel.n) AS ap
  FROM lists l JOIN rel USING (user_id) GROUP BY l.user_id, rel.n)
SELECT 'precision@5' AS metric, avg(p)::float8 AS value FROM per_user
UNION ALL SELECT 'recall@5', avg(r) FROM per_user
UNION ALL SELECT 'ndcg@5', avg(ndcg) FROM per_user
UNION ALL SELECT 'hr@5', avg(hr) FROM per_user
UNION ALL SELECT 'map@5', avg(ap) FROM per_user
UNION ALL SELECT 'mrr@5', avg(rr) FROM per_user
UNION ALL SELECT 'coverage@5', (SELECT count(DISTINCT item_id) FROM lists)::float8 / (SELECT n_items FROM rec.models WHERE model = 'ev')
UNION ALL SELECT 'users', count(*) FROM per_user;
SELECT r.metric, round(r.value::numeric, 2) AS value, abs(g.value - r.value) < 1e-9 AS same
FROM ref r LEFT JOIN got g USING (metric) ORDER BY r.metric;
SELECT metric FROM got WHERE metric NOT IN (SELECT metric FROM ref) ORDER BY metric;

-- Even this weak model beats a random guess (hr@5 about 0.12 here); sampled metrics are labelled.
SELECT value > 0.2 AS better_than_random FROM got WHERE metric = 'hr@5';
SELECT metric FROM rec.evaluate('ev', 'pu_test', metrics => ARRAY['hr'], sampled_negatives => 20, store => false);

-- Stored with the version, one entry per test source and protocol.
SELECT jsonb_object_keys(metrics) AS stored FROM rec.models WHERE model = 'ev';

-- rmse and mae of an explicit model equal the SQL reference over the known (user, item) pairs.
SELECT rec.train('ev_stars', 'pu_train', 'user_id', 'item_id', 'rating', params => '{"factors": 4, "iterations": 5}');
SELECT abs(e.value - (SELECT sqrt(avg((rec.predict('ev_stars', user_id, item_id) - rating) ^ 2))
                      FROM pu_test WHERE rec.predict('ev_stars', user_id, item_id) IS NOT NULL)) < 1e-6 AS rmse_matches
FROM rec.evaluate('ev_stars', 'pu_test', metrics => ARRAY['rmse']) e WHERE e.metric = 'rmse';
SELECT abs(e.value - (SELECT avg(abs(rec.predict('ev_stars', user_id, item_id) - rating))
                      FROM pu_test WHERE rec.predict('ev_stars', user_id, item_id) IS NOT NULL)) < 1e-6 AS mae_matches
FROM rec.evaluate('ev_stars', 'pu_test', metrics => ARRAY['mae']) e WHERE e.metric = 'mae';

-- tune: every combination once, the best by the metric, and the model trained with it.
CREATE TEMP TABLE tuned AS
SELECT * FROM rec.tune('tuned', 'ratings', 'user_id', 'item_id',
                       grid => '{"factors": [2, 8], "regularization": [0.01, 1]}',
                       base_params => '{"iterations": 4}', metric => 'ndcg', k => 5);
SELECT params, round(score::numeric, 2) > 0 AS scored, best FROM tuned ORDER BY params::text;
SELECT (SELECT params FROM tuned WHERE best) = (SELECT params FROM tuned ORDER BY score DESC LIMIT 1) AS best_is_max;
SELECT m.params->>'factors' = t.params->>'factors' AS trained_with_best, m.metrics ? 'tune' AS recorded
FROM rec.models m, tuned t WHERE m.model = 'tuned' AND t.best;
SELECT count(*) AS scratch_models FROM rec.model_versions WHERE model LIKE '\_\_tune%';

SELECT rec.drop_model(model) FROM rec.models WHERE model IN ('ev', 'ev_stars', 'tuned') ORDER BY model;
DROP TABLE rs_train, rs_test, rs2_train, rs2_test, pu_train, pu_test, llo_train, llo_test, tmp_train, tmp_test;
ALTER TABLE ratings DROP COLUMN ts;
