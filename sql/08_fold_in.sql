-- Fold-in: recommendations from a list of items, or from a user's current rows, without retraining.
SELECT rec.train('fi', 'ratings', 'user_id', 'item_id', params => '{"factors": 8, "iterations": 10}');

-- Someone new who liked three group-2 items (2, 6, 10) gets group-2 items, not those three.
SELECT count(*) AS rows, bool_and(item_id % 4 = 2) AS group_2, bool_and(item_id NOT IN (2, 6, 10)) AS not_given
FROM rec.recommend_for_items('fi', ARRAY[2, 6, 10], k => 5);
SELECT count(*) AS with_given_allowed FROM rec.recommend_for_items('fi', ARRAY[2, 6, 10], k => 80, exclude_given => false)
WHERE item_id IN (2, 6, 10);
-- Ratings weight the items; unknown items are ignored; nothing known falls back to popular items.
SELECT count(*) AS rows, bool_and(item_id % 4 = 3) AS group_3
FROM rec.recommend_for_items('fi', ARRAY[3, 7, 2], ARRAY[5, 5, 0.1]::real[], 3);
SELECT count(*) AS rows FROM rec.recommend_for_items('fi', ARRAY[3, 99999], k => 3);
SELECT (SELECT array_agg(item_id ORDER BY rank) FROM rec.recommend_for_items('fi', ARRAY[99999], k => 3))
     = (SELECT array_agg(item_id ORDER BY rank) FROM rec.recommend('fi', -1, 3)) AS unknown_means_popular;

-- A user who arrived after training: the plain call serves popular items, fold_in reads the
-- user's rows from the source now.
INSERT INTO ratings (user_id, item_id, rating) VALUES (5000, 1, 5), (5000, 5, 5), (5000, 9, 5), (5000, 13, 5);
SELECT (SELECT array_agg(item_id ORDER BY rank) FROM rec.recommend('fi', 5000, 5))
     = (SELECT array_agg(item_id ORDER BY rank) FROM rec.recommend('fi', -1, 5)) AS plain_is_popular;
SELECT count(*) AS rows, bool_and(item_id % 4 = 1) AS group_1, bool_and(item_id NOT IN (1, 5, 9, 13)) AS not_seen
FROM rec.recommend('fi', 5000, 5, fold_in => true);
-- The same through the default-model form and recommend_keys.
SELECT count(*) AS rows FROM rec.recommend(5000, 5, fold_in => true) WHERE item_id % 4 = 1;
SELECT count(*) AS rows FROM rec.recommend_keys('fi', 5000, 5, fold_in => true) WHERE item_key::int % 4 = 1;
DELETE FROM ratings WHERE user_id = 5000;

-- item_knn folds in naturally.
SELECT rec.train('fi_knn', 'ratings', 'user_id', 'item_id', algorithm => 'item_knn');
SELECT count(*) AS rows, bool_and(item_id % 4 = 2) AS group_2 FROM rec.recommend_for_items('fi_knn', ARRAY[2, 6, 10], k => 5);

-- Bad input.
SELECT * FROM rec.recommend_for_items('fi', ARRAY[1, 2], ARRAY[1]::real[], 5);
SELECT * FROM rec.recommend_for_items('fi', ARRAY[1, 2], ARRAY[1, 'NaN']::real[], 5);
SELECT * FROM rec.recommend_for_items('fi', ARRAY[1], k => 0);
SELECT * FROM rec.recommend_for_items('nope', ARRAY[1], k => 5);
SELECT count(*) FROM rec.recommend_for_items('fi', NULL::int[], k => 5);

SELECT rec.drop_model('fi'), rec.drop_model('fi_knn');
