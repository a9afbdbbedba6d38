-- The LibTorch families through SQL: sequential models read the user's current sequence at query
-- time, two_tower recommends an item nobody has rated by its features, neumf ranks as it
-- predicts. Every check is a yes/no on planted structure or a brute-force comparison.
SET client_min_messages = warning;

-- Sequences that walk a cycle of 30 items: after item i comes item i % 30 + 1.
CREATE TABLE walks AS
SELECT u AS user_id, (s + t) % 30 + 1 AS item_id, t AS ts
FROM generate_series(1, 200) u, LATERAL (SELECT (u * 7) % 30 AS s) start, generate_series(0, 9) t;
SELECT rec.train('walk', 'walks', 'user_id', 'item_id', algorithm => 'sasrec', time_col => 'ts',
                 params => '{"factors": 32, "blocks": 1, "max_len": 8, "epochs": 25, "learning_rate": 0.005, "dropout": 0.1}') AS version;
SELECT algorithm, params->>'time_col' AS time_col, n_users, n_items FROM rec.models WHERE model = 'walk';

-- The next item of the rule ranks first for (nearly) every user.
SELECT count(*) FILTER (WHERE r.item_id = (w.last % 30) + 1) >= 190 AS follows_rule
FROM (SELECT user_id, (array_agg(item_id ORDER BY ts DESC))[1] AS last FROM walks GROUP BY user_id) w,
     rec.recommend('walk', w.user_id, 1) r;

-- A new interaction changes the next recommendation without retraining.
SELECT item_id AS next_before FROM rec.recommend('walk', 1, 1);
INSERT INTO walks VALUES (1, 20, 100);
SELECT item_id AS next_after FROM rec.recommend('walk', 1, 1);
-- A user the model never saw is served from the rows the source has now.
INSERT INTO walks VALUES (9999, 5, 1), (9999, 6, 2), (9999, 7, 3);
SELECT item_id AS next_for_new_user FROM rec.recommend('walk', 9999, 1);
-- recommend_for_items reads the array as the sequence, oldest first.
SELECT item_id AS next_for_items FROM rec.recommend_for_items('walk', ARRAY[11, 12, 13], k => 1);
DELETE FROM walks WHERE ts = 100 OR user_id = 9999;

-- recommend agrees with a brute force over predict (unseen items, by score).
SELECT count(*) AS users, count(*) FILTER (WHERE got <> expected) AS different
FROM (SELECT u,
             (SELECT array_agg(item_id ORDER BY rank) FROM rec.recommend('walk', u, 5)) AS got,
             (SELECT array_agg(item_id) FROM (
                SELECT i::bigint AS item_id FROM generate_series(1, 30) i
                WHERE NOT EXISTS (SELECT 1 FROM walks WHERE user_id = u AND item_id = i)
                ORDER BY rec.predict('walk', u, i) DESC, i LIMIT 5) t) AS expected
      FROM generate_series(1, 200, 19) u) c;

-- The training curve is kept with the version; the kept epoch is marked.
SELECT count(*) > 0 AS has_curve, count(*) FILTER (WHERE best) = 1 AS one_best,
       bool_and(loss > 0) AS losses
FROM rec.training_curve('walk');

-- gru4rec learns the same rule.
SELECT rec.train('walk_gru', 'walks', 'user_id', 'item_id', algorithm => 'gru4rec', time_col => 'ts',
                 params => '{"factors": 32, "max_len": 8, "epochs": 25, "learning_rate": 0.005, "dropout": 0.1}') AS version;
SELECT count(*) FILTER (WHERE r.item_id = (w.last % 30) + 1) >= 190 AS follows_rule
FROM (SELECT user_id, (array_agg(item_id ORDER BY ts DESC))[1] AS last FROM walks GROUP BY user_id) w,
     rec.recommend('walk_gru', w.user_id, 1) r;

-- Similar items come from the item embeddings; explain has nothing to sum over.
SELECT count(*) AS similar FROM rec.similar_items('walk', 3, 5);
\set VERBOSITY terse
SELECT * FROM rec.explain('walk', 1, 3);
\set VERBOSITY default

-- Two towers over ids and features: users of group g (u % 3) take items of group g; items
-- 101..106 are in the catalog with a genre but nobody has interacted with them.
CREATE TABLE picks AS
SELECT u AS user_id, i AS item_id FROM generate_series(1, 150) u, generate_series(1, 60) i
WHERE i % 3 = u % 3 AND (u * 7 + i * 13) % 5 < 2;
CREATE TABLE films AS
SELECT i AS item_id, 'genre' || (i % 3) AS genre, ARRAY['tag' || (i % 3), 'any'] AS tags, 1990 + i % 7 AS year
FROM generate_series(1, 60) i
UNION ALL SELECT i, 'genre' || (i % 3), ARRAY['tag' || (i % 3)], 2024 FROM generate_series(101, 106) i;
SELECT rec.train('towers', 'picks', 'user_id', 'item_id', algorithm => 'two_tower',
                 item_features => 'SELECT item_id, genre, tags, year FROM films',
                 params => '{"factors": 16, "epochs": 20, "learning_rate": 0.01}') AS version;
SELECT n_items FROM rec.models WHERE model = 'towers';
-- Among the new items, each user's best is of the user's group.
SELECT count(*) AS users, count(*) FILTER (WHERE r.item_id % 3 = u % 3) >= 140 AS new_items_by_genre
FROM generate_series(1, 150) u,
     rec.recommend('towers', u, 1, candidates => ARRAY[101, 102, 103, 104, 105, 106]::bigint[]) r;
-- A new item reaches the full top-10 of users of its group.
SELECT count(DISTINCT u) > 0 AS new_items_in_top10
FROM generate_series(1, 150) u, rec.recommend('towers', u, 10) r WHERE r.item_id > 100;

-- NeuMF: predict is a probability and recommend ranks by it.
SELECT rec.train('nmf', 'picks', 'user_id', 'item_id', algorithm => 'neumf',
                 params => '{"factors": 8, "mlp_factors": 8, "epochs": 30, "learning_rate": 0.01}') AS version;
SELECT bool_and(p > 0 AND p < 1) AS probabilities
FROM (SELECT rec.predict('nmf', u, i) AS p FROM generate_series(1, 150, 13) u, generate_series(1, 60, 7) i) t;
SELECT count(*) AS users, count(*) FILTER (WHERE got <> expected) AS different
FROM (SELECT u,
             (SELECT array_agg(item_id ORDER BY rank) FROM rec.recommend('nmf', u, 5)) AS got,
             (SELECT array_agg(item_id) FROM (
                SELECT i::bigint AS item_id FROM generate_series(1, 60) i
                WHERE NOT EXISTS (SELECT 1 FROM picks WHERE user_id = u AND item_id = i)
                ORDER BY rec.predict('nmf', u, i) DESC, i LIMIT 5) t) AS expected
      FROM generate_series(1, 150, 11) u) c;
SELECT avg((r.item_id % 3 = u % 3)::int) >= 0.75 AS mostly_in_group
FROM generate_series(1, 150) u, rec.recommend('nmf', u, 5) r;

-- NeuMF can start its GMF branch from a trained factor model.
SELECT rec.train('nmf_mf', 'picks', 'user_id', 'item_id', algorithm => 'als', params => '{"factors": 6}') AS version;
SELECT rec.train('nmf2', 'picks', 'user_id', 'item_id', algorithm => 'neumf',
                 params => '{"init_from": "nmf_mf", "epochs": 2}') AS version;
SELECT params->>'factors' AS gmf_factors, params->>'init_from' AS init_from FROM rec.models WHERE model = 'nmf2';

-- Bad input: clear errors, nothing trained.
\set VERBOSITY terse
SELECT rec.train('bad', 'walks', 'user_id', 'item_id', algorithm => 'sasrec');
SELECT rec.train('bad', 'walks', 'user_id', 'item_id', algorithm => 'sasrec', time_col => 'no_such_column');
SELECT rec.train('bad', 'picks', 'user_id', 'item_id', algorithm => 'two_tower',
                 item_features => 'SELECT item_id, genre FROM films UNION ALL SELECT 7, ''x''');
SELECT rec.train('bad', 'picks', 'user_id', 'item_id', algorithm => 'two_tower',
                 item_features => 'SELECT genre, item_id FROM films');
SELECT rec.train('bad', 'picks', 'user_id', 'item_id', algorithm => 'two_tower', item_features => 'SELECT item_id FROM films');
SELECT rec.train('bad', 'picks', 'user_id', 'item_id', algorithm => 'neumf', params => '{"init_from": "walk"}');
SELECT rec.train('bad', 'walks', 'user_id', 'item_id', algorithm => 'sasrec', time_col => 'ts', params => '{"heads": 3}');
SELECT rec.recommend_for_items('nmf', ARRAY[1, 2], k => 3);
SELECT rec.train_agg('sasrec', user_id, item_id) FROM walks;
\set VERBOSITY default
SELECT count(*) AS bad_models FROM rec.models WHERE model = 'bad';

SELECT rec.drop_model(m) FROM unnest(ARRAY['walk', 'walk_gru', 'towers', 'nmf', 'nmf_mf', 'nmf2']) m;
DROP TABLE walks, picks, films;
