-- Explanations: which of the user's items drove a score.
SELECT rec.train('ex', 'ratings', 'user_id', 'item_id', params => '{"factors": 8, "iterations": 10}');
SELECT rec.train('ex_knn', 'ratings', 'user_id', 'item_id', algorithm => 'item_knn');

-- The top recommendation of user 42 is explained by the user's own items (42 is in group 2),
-- largest first; the shares of all the user's items add up to 1.
WITH top AS (SELECT item_id FROM rec.recommend('ex', 42, 1))
SELECT count(*) AS rows,
       bool_and(e.item_id IN (SELECT item_id FROM ratings WHERE user_id = 42)) AS users_items,
       bool_and(e.item_id % 4 = 2) AS same_group
FROM top, LATERAL rec.explain('ex', 42, top.item_id, 3) e;
SELECT round(sum(share)::numeric, 3) AS shares_add_up
FROM rec.explain('ex', 42, (SELECT item_id FROM rec.recommend('ex', 42, 1)), 1000);
SELECT bool_and(contribution >= next) AS descending
FROM (SELECT contribution, lead(contribution) OVER (ORDER BY rank) AS next FROM rec.explain('ex', 42, 2, 20)) e
WHERE next IS NOT NULL;

-- item_knn: the contributions are the neighbour similarities, and they add up to the score.
SELECT abs(sum(contribution) - rec.predict('ex_knn', 42, 6)) < 1e-4 AS sums_to_score
FROM rec.explain('ex_knn', 42, 6, 1000);

-- Unknown user or item: no rows; popularity has nothing to explain; n is checked.
SELECT count(*) AS rows FROM rec.explain('ex', 99999, 6);
SELECT count(*) AS rows FROM rec.explain('ex', 42, 99999);
SELECT rec.train('ex_pop', 'ratings', 'user_id', 'item_id', algorithm => 'popularity');
SELECT * FROM rec.explain('ex_pop', 42, 6);
SELECT * FROM rec.explain('ex', 42, 6, 0);

SELECT rec.drop_model('ex'), rec.drop_model('ex_knn'), rec.drop_model('ex_pop');
