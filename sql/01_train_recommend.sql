-- Train ALS on data with planted taste groups and serve it: the first slice, end to end.
CREATE EXTENSION pgrec;

-- 200 users in 4 taste groups; item i belongs to group i % 4; each user has 12 rows of items
-- from its own group (a repeat adds confidence), with ratings 1..5.
CREATE TABLE ratings AS
SELECT u AS user_id, (((u * 7919 + n * 104729) % 20) * 4 + u % 4) AS item_id,
       ((u + n) % 5 + 1)::real AS rating
FROM generate_series(1, 200) u, generate_series(1, 12) n;
CREATE TABLE items AS SELECT i AS id, 'item #' || i AS name FROM generate_series(0, 79) i;

SELECT rec.train('m', 'ratings', user_col => 'user_id', item_col => 'item_id',
                 params => '{"factors": 8, "iterations": 10}');

SELECT model, version, algorithm, user_type, item_type, n_users, n_items, n_interactions,
       rows_skipped, versions, is_default
FROM rec.models;

-- Every user's top 5 lies in its own taste group.
SELECT count(*) AS rows, avg((r.item_id % 4 = u % 4)::int) AS in_group
FROM generate_series(1, 200) u, LATERAL rec.recommend('m', u, 5) r;

-- recommend agrees with a brute-force ranking by predict over every unseen item: same scores,
-- descending, and nothing better left out (floating ties may order differently).
WITH seen AS (SELECT item_id FROM ratings WHERE user_id = 42),
got AS (SELECT item_id, score, rank FROM rec.recommend('m', 42, 10)),
ref AS (SELECT id, rec.predict('m', 42, id) AS p FROM items
        WHERE id NOT IN (SELECT item_id FROM seen) AND rec.predict('m', 42, id) IS NOT NULL)
SELECT count(*) AS rows,
       bool_and(abs(g.score - rec.predict('m', 42, g.item_id)) < 1e-5) AS scores_match,
       bool_and(g.item_id NOT IN (SELECT item_id FROM seen)) AS all_unseen,
       bool_and(g.score <= coalesce((SELECT g2.score FROM got g2 WHERE g2.rank = g.rank - 1), 'Infinity')) AS descending,
       (SELECT max(p) FROM ref WHERE id NOT IN (SELECT item_id FROM got)) <= min(g.score) + 1e-5 AS none_better_left_out
FROM got g;

-- Seen items are excluded unless asked not to.
SELECT count(*) AS seen_in_top20 FROM rec.recommend('m', 42, 20) r
WHERE r.item_id IN (SELECT item_id FROM ratings WHERE user_id = 42);
SELECT count(*) > 0 AS seen_when_allowed FROM rec.recommend('m', 42, 20, exclude_seen => false) r
WHERE r.item_id IN (SELECT item_id FROM ratings WHERE user_id = 42);

-- Joins with the application's own tables.
SELECT i.name LIKE 'item #%' AS named, r.rank FROM rec.recommend('m', 42, 3) r JOIN items i ON i.id = r.item_id
ORDER BY r.rank;

-- The default model is the one trained (deployed) last.
SELECT count(*) FROM rec.recommend(42, 10) d JOIN rec.recommend('m', 42, 10) r USING (item_id, rank);

-- An unknown user gets the most popular items, scored by their number of users.
WITH pop AS (SELECT item_id, count(DISTINCT user_id)::real AS n FROM ratings GROUP BY item_id)
SELECT count(*) AS rows,
       bool_and(r.score = (SELECT n FROM pop WHERE pop.item_id = r.item_id)) AS score_is_count,
       min(r.score) >= (SELECT n FROM pop ORDER BY n DESC LIMIT 1 OFFSET 4) AS most_popular
FROM rec.recommend('m', -1, 5) r;

-- Similar items are items of the same group, with cosine scores in [-1, 1].
SELECT count(*) AS rows, avg((s.item_id % 4 = 2)::int) AS same_group,
       bool_and(s.score BETWEEN -1.0001 AND 1.0001) AS cosine_range,
       bool_and(s.item_id <> 6) AS excludes_itself
FROM rec.similar_items('m', 6, 5) s;

-- predict is NULL for what the model does not know.
SELECT rec.predict('m', 42, 99999) IS NULL AS unknown_item, rec.predict('m', -5, 2) IS NULL AS unknown_user;

-- A new version leaves the old one in rec.model_versions and serves the new one.
SELECT rec.train('m', 'ratings', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 3}');
SELECT model, version, versions, params->>'factors' AS factors FROM rec.models;
SELECT rec.deploy('m', 1);
SELECT version, params->>'factors' AS factors FROM rec.models;

-- Explicit ratings, and the same results twice for the same seed.
SELECT rec.train('stars', 'ratings', 'user_id', 'item_id', rating_col => 'rating',
                 params => '{"factors": 4, "iterations": 5, "seed": 7}');
CREATE TEMP TABLE first_run AS SELECT * FROM rec.recommend('stars', 7, 5);
SELECT rec.train('stars', 'ratings', 'user_id', 'item_id', rating_col => 'rating',
                 params => '{"factors": 4, "iterations": 5, "seed": 7}');
SELECT count(*) AS identical FROM first_run f JOIN rec.recommend('stars', 7, 5) r USING (item_id, rank, score);
SELECT round(avg(abs(rec.predict('stars', user_id, item_id) - rating))::numeric, 1) < 1.5 AS fits
FROM ratings;

SELECT rec.drop_model('stars');
SELECT model FROM rec.models ORDER BY model;
