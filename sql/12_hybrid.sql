-- Hybrids: a weighted mix of trained models, each part's scores normalised before mixing.
-- Ratings with planted taste groups: users like the items of their own group (u % 3 = i % 3).
CREATE TABLE hr AS
SELECT u AS user_id, i AS item_id,
       (CASE WHEN u % 3 = i % 3 THEN 4.5 ELSE 1.5 END + ((u * 31 + i * 17) % 5 - 2) * 0.1)::real AS rating
FROM generate_series(1, 90) u, generate_series(1, 60) i
WHERE (u * 7 + i * 13) % 10 < 4;
SELECT rec.train('h_mf', 'hr', 'user_id', 'item_id', 'rating', 'sgd_mf', '{"factors": 8, "epochs": 30, "seed": 1}');
SELECT rec.train('h_knn', 'hr', 'user_id', 'item_id', 'rating', 'item_knn', '{"neighbors": 20}');
SELECT rec.train('h_mix', 'hybrid', '{"models": {"h_mf": 0.6, "h_knn": 0.4}}');

-- Rating models mix raw by default: the source is theirs, the parts' versions are recorded.
SELECT algorithm, params, source, rating_col, n_users, n_items FROM rec.models WHERE model = 'h_mix';

-- predict is the weighted mean of the parts' predictions.
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE abs(rec.predict('h_mix', u, i)
                                  - (0.6 * rec.predict('h_mf', u, i) + 0.4 * rec.predict('h_knn', u, i))) > 1e-4) AS off
FROM generate_series(1, 90, 7) u, generate_series(1, 60, 5) i;

-- recommend ranks unseen items by that prediction (a brute-force reference in SQL).
SELECT count(*) AS users,
       count(*) FILTER (WHERE got <> expected) AS different
FROM (SELECT u,
             (SELECT array_agg(item_id ORDER BY rank) FROM rec.recommend('h_mix', u, 5)) AS got,
             (SELECT array_agg(item_id) FROM (
                SELECT i::bigint AS item_id FROM generate_series(1, 60) i
                WHERE NOT EXISTS (SELECT 1 FROM hr WHERE user_id = u AND item_id = i)
                ORDER BY round(rec.predict('h_mix', u, i)::numeric, 4) DESC, i LIMIT 5) t) AS expected
      FROM generate_series(1, 90, 9) u) c;

-- The mix recommends the user's own group.
SELECT round(avg((r.item_id % 3 = u % 3)::int), 2) AS in_group
FROM generate_series(1, 30) u, rec.recommend('h_mix', u, 5) r;

-- A hybrid is a snapshot: retraining or dropping a part leaves it serving as it was.
CREATE TEMP TABLE before AS SELECT item_id, score FROM rec.recommend('h_mix', 4, 5);
SELECT rec.train('h_mf', 'hr', 'user_id', 'item_id', 'rating', 'sgd_mf', '{"factors": 4, "epochs": 5, "seed": 9}');
SELECT rec.drop_model('h_knn');
SELECT count(*) AS same_rows FROM rec.recommend('h_mix', 4, 5) r JOIN before b USING (item_id, score);

-- Fold-in reads the shared source; similar items and explanations mix the parts' own.
SELECT count(*) AS folded FROM rec.recommend('h_mix', 4, 5, fold_in => true);
SELECT count(*) AS similar, bool_and(item_id % 3 = 0) AS same_group FROM rec.similar_items('h_mix', 3, 3);
SELECT count(*) AS reasons FROM rec.explain('h_mix', 4, (SELECT item_id FROM rec.recommend('h_mix', 4, 1)), 3);

-- Implicit parts mix by z-score: an unknown user still gets popular items.
CREATE TABLE hc AS
SELECT u AS user_id, (u % 4) + 4 * ((u * 13 + n * 7) % 25) AS item_id
FROM generate_series(1, 120) u, generate_series(1, 8) n;
SELECT rec.train('c_als', 'hc', 'user_id', 'item_id', params => '{"factors": 8, "iterations": 8}');
SELECT rec.train('c_knn', 'hc', 'user_id', 'item_id', algorithm => 'item_knn');
SELECT rec.train('c_mix', 'hybrid', '{"models": {"c_als": 1, "c_knn": 1}}');
SELECT params->>'normalize' AS normalize FROM rec.models WHERE model = 'c_mix';
SELECT round(avg((r.item_id % 4 = u % 4)::int), 2) AS in_group
FROM generate_series(1, 40) u, rec.recommend('c_mix', u, 5) r;
SELECT count(*) AS popular FROM rec.recommend('c_mix', -5, 5);
SELECT count(*) FILTER (WHERE metric = 'rmse') AS has_rmse, count(*) > 0 AS evaluated
FROM rec.evaluate('c_mix', 'hc', store => false);

SELECT rec.drop_model(m) FROM unnest(ARRAY['h_mf', 'h_mix', 'c_als', 'c_knn', 'c_mix']) m;
DROP TABLE hr, hc;
