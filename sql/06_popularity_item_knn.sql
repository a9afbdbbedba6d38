-- The popularity, item_knn, user_knn and bpr families behind the same train/recommend API.
SELECT rec.train('pop', 'ratings', 'user_id', 'item_id', algorithm => 'popularity');
SELECT rec.train('knn', 'ratings', 'user_id', 'item_id', algorithm => 'item_knn',
                 params => '{"neighbors": 20, "shrinkage": 2}');
SELECT model, algorithm, params FROM rec.models WHERE model IN ('pop', 'knn') ORDER BY model;

-- popularity ranks by number of users, the user's own items excluded.
WITH counts AS (SELECT item_id, count(DISTINCT user_id)::real AS n FROM ratings GROUP BY 1)
SELECT count(*) AS rows,
       bool_and(r.score = (SELECT n FROM counts c WHERE c.item_id = r.item_id)) AS score_is_count,
       bool_and(r.item_id NOT IN (SELECT item_id FROM ratings WHERE user_id = 42)) AS unseen,
       min(r.score) >= (SELECT max(n) FROM counts WHERE item_id NOT IN (SELECT item_id FROM ratings WHERE user_id = 42)
                        AND item_id NOT IN (SELECT item_id FROM rec.recommend('pop', 42, 5))) AS nothing_better_left_out
FROM rec.recommend('pop', 42, 5) r;

-- Rating-weighted popularity is the damped mean rating, (sum + d * mean) / (n + d).
SELECT rec.train('pop_r', 'ratings', 'user_id', 'item_id', 'rating', algorithm => 'popularity',
                 params => '{"weighting": "rating", "damping": 5}');
WITH g AS (SELECT avg(rating) AS mean FROM ratings),
ref AS (SELECT item_id, ((sum(rating) + 5 * (SELECT mean FROM g)) / (count(*) + 5))::real AS score FROM ratings GROUP BY 1)
SELECT bool_and(abs(rec.predict('pop_r', 1, item_id) - score) < 1e-4) AS damped_means FROM ref;

-- item_knn recommends within the user's taste group, and its neighbours are same-group items.
SELECT count(*) AS rows, avg((r.item_id % 4 = u % 4)::int) AS in_group
FROM generate_series(1, 200) u, LATERAL rec.recommend('knn', u, 5) r;
SELECT count(*) AS rows, bool_and(s.item_id % 4 = 2) AS same_group, bool_and(s.score > 0 AND s.score <= 1) AS cosine
FROM rec.similar_items('knn', 6, 10) s;

-- item_knn's ranking score is the sum of the similarities of the user's items: predict agrees
-- with recommend, and nothing scoring higher is left out.
WITH got AS (SELECT * FROM rec.recommend('knn', 42, 5))
SELECT bool_and(abs(rec.predict('knn', 42, item_id) - score) < 1e-4) AS predict_matches,
       (SELECT max(rec.predict('knn', 42, id)) FROM items
         WHERE id NOT IN (SELECT item_id FROM got) AND id NOT IN (SELECT item_id FROM ratings WHERE user_id = 42))
         <= min(score) + 1e-4 AS none_better_left_out
FROM got;

-- user_knn: scores come from the most similar users; predict agrees with recommend.
SELECT rec.train('uknn', 'ratings', 'user_id', 'item_id', algorithm => 'user_knn', params => '{"neighbors": 20}');
SELECT count(*) AS rows, avg((r.item_id % 4 = u % 4)::int) >= 0.95 AS in_group,
       bool_and(abs(rec.predict('uknn', u, r.item_id) - r.score) < 1e-4) AS predict_matches
FROM generate_series(1, 100) u, LATERAL rec.recommend('uknn', u, 5) r;
SELECT count(*) AS rows, bool_and(item_id % 4 = 3) AS group_3 FROM rec.recommend_for_items('uknn', ARRAY[3, 7, 11], k => 5);
SELECT * FROM rec.similar_items('uknn', 6, 5);

-- Evaluated side by side with ALS on the same split.
SELECT * FROM rec.split('fam', 'ratings', 'user_id', 'item_id', method => 'per_user') \g /dev/null
SELECT a AS algorithm, rec.train('fam_' || a, 'fam_train', 'user_id', 'item_id', algorithm => a,
                                 params => CASE a WHEN 'als' THEN '{"factors": 8}'::jsonb WHEN 'bpr' THEN '{"factors": 8, "epochs": 30}' ELSE '{}' END) AS version
FROM unnest(ARRAY['als', 'bpr', 'item_knn', 'popularity']) a;
CREATE TEMP TABLE fam_hr AS
SELECT a AS algorithm, (SELECT value FROM rec.evaluate('fam_' || a, 'fam_test', k => 5, store => false)
                        WHERE metric = 'hr@5') AS hr
FROM unnest(ARRAY['als', 'bpr', 'item_knn', 'popularity']) a;
SELECT algorithm, hr > 0.5 AS hr_above_half, hr > (SELECT hr FROM fam_hr WHERE algorithm = 'popularity') AS beats_popularity
FROM fam_hr WHERE algorithm <> 'popularity' ORDER BY algorithm;

-- Errors name what is wrong.
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', algorithm => 'item_knn', params => '{"similarity": "pearson"}');
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', algorithm => 'item_knn', params => '{"neighbors": 0}');
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', algorithm => 'popularity', params => '{"weighting": "rating"}');
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', algorithm => 'popularity', params => '{"factors": 8}');
SELECT * FROM rec.similar_items('pop', 6, 5);

SELECT rec.train('x', 'ratings', 'user_id', 'item_id', algorithm => 'bpr', params => '{"sampling": "clever"}');

SELECT rec.drop_model(model) FROM rec.models WHERE model IN ('pop', 'pop_r', 'knn', 'uknn', 'fam_als', 'fam_bpr', 'fam_item_knn', 'fam_popularity') \g /dev/null
DROP TABLE fam_train, fam_test;
