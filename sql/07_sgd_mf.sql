-- Biased matrix factorisation by SGD (sgd_mf) and SVD++ on explicit ratings with a planted rule:
-- users love the items of their own group (5 stars) and dislike the rest (1 star).
CREATE TABLE stars AS
SELECT user_id, item_id, CASE WHEN user_id % 4 = item_id % 4 THEN 5 ELSE 1 END::real AS rating
FROM ratings
UNION ALL
SELECT u, (u * 13 + n * 7) % 80, CASE WHEN u % 4 = ((u * 13 + n * 7) % 80) % 4 THEN 5 ELSE 1 END
FROM generate_series(1, 200) u, generate_series(1, 6) n;
SELECT * FROM rec.split('st', 'stars', 'user_id', 'item_id', method => 'per_user', test_fraction => 0.2) \g /dev/null

SELECT rec.train('mf', 'st_train', 'user_id', 'item_id', 'rating', algorithm => 'sgd_mf',
                 params => '{"factors": 8, "epochs": 40, "learning_rate": 0.02}');
SELECT rec.train('pp', 'st_train', 'user_id', 'item_id', 'rating', algorithm => 'svdpp',
                 params => '{"factors": 8, "epochs": 40, "learning_rate": 0.02}');
SELECT model, algorithm, params->>'factors' AS factors FROM rec.models WHERE model IN ('mf', 'pp') ORDER BY model;

-- Both predict the held-out ratings far better than the mean rating would.
WITH mean AS (SELECT avg(rating) AS m FROM st_train),
base AS (SELECT sqrt(avg((rating - (SELECT m FROM mean)) ^ 2)) AS rmse FROM st_test)
SELECT a AS model, (SELECT value FROM rec.evaluate(a, 'st_test', metrics => ARRAY['rmse'], store => false)
                    WHERE metric = 'rmse') < 0.5 * (SELECT rmse FROM base) AS beats_mean_by_half
FROM unnest(ARRAY['mf', 'pp']) a;

-- Recommendations are the user's own group, and predict agrees with recommend's scores.
SELECT count(*) AS rows, avg((r.item_id % 4 = u % 4)::int) >= 0.9 AS mostly_in_group,
       bool_and(abs(rec.predict('mf', u, r.item_id) - r.score) < 1e-4) AS predict_matches
FROM generate_series(1, 50) u, LATERAL rec.recommend('mf', u, 5) r;

-- sgd_mf needs ratings; its parameters are checked.
SELECT rec.train('x', 'st_train', 'user_id', 'item_id', algorithm => 'sgd_mf');
SELECT rec.train('x', 'st_train', 'user_id', 'item_id', 'rating', algorithm => 'sgd_mf', params => '{"learning_rate": 0}');
SELECT rec.train('x', 'st_train', 'user_id', 'item_id', 'rating', algorithm => 'svdpp', params => '{"validation": 0.9}');

SELECT rec.drop_model(model) FROM rec.models WHERE model IN ('mf', 'pp') \g /dev/null
DROP TABLE stars, st_train, st_test;
