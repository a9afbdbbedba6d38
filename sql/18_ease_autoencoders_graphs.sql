-- EASE, Mult-VAE, LightGCN and AutoRec through SQL: planted groups recovered, fold-in equal to the
-- training-time scores, EASE's explanations summing to its score, and the serving functions that
-- do not apply refused with 0A000. Every check is a yes/no on planted structure or a comparison.
SET client_min_messages = warning;

-- Users of group u % 4 take items of group i % 4 (80 items); ratings higher inside the group.
CREATE TABLE groups4 AS
SELECT u AS user_id, (((u * 37 + n * 11) % 20) * 4 + u % 4) + 1 AS item_id,
       (4 + (u + n) % 2)::real AS rating
FROM generate_series(1, 240) u, generate_series(1, 10) n;
CREATE TABLE groups4_i AS SELECT DISTINCT user_id, item_id FROM groups4;

-- EASE: closed form, one step, stored as item neighbourhoods.
SELECT rec.train('g_ease', 'groups4_i', 'user_id', 'item_id', algorithm => 'ease',
                 params => '{"regularization": 20}') AS version;
SELECT algorithm, params FROM rec.models WHERE model = 'g_ease';
SELECT count(*) FILTER (WHERE (r.item_id - 1) % 4 = u % 4)::float / count(*) >= 0.95 AS own_group
FROM generate_series(1, 240) u, rec.recommend('g_ease', u, 5) r;
-- A known user's items given as a list score as the user does (the values are read as 0/1):
-- the same top-5 scores, rank by rank (planted data has near-ties, so not compared by item).
SELECT count(DISTINCT u) AS users, max(abs(a.score - b.score)) < 1e-5 AS same_scores
FROM generate_series(1, 240, 7) u,
     rec.recommend('g_ease', u, 5) a
     JOIN rec.recommend_for_items('g_ease', (SELECT array_agg(item_id) FROM groups4_i WHERE user_id = u),
                                  (SELECT array_agg(3.0::real) FROM groups4_i WHERE user_id = u), k => 5) b
     USING (rank);
-- explain's contributions are the exact terms x_uj·B_ji: they add up to predict.
SELECT bool_and(abs(total - rec.predict('g_ease', 1, item_id)) < 1e-4) AS explained
FROM (SELECT r.item_id, sum(e.contribution) AS total
      FROM rec.recommend('g_ease', 1, 3) r, rec.explain('g_ease', 1, r.item_id, 1000) e GROUP BY r.item_id) t;
SELECT bool_and((s.item_id - 1) % 4 = 0) AS similar_in_group FROM rec.similar_items('g_ease', 1, 5) s;
\set VERBOSITY terse
SELECT rec.train('g_ease_bad', 'groups4_i', 'user_id', 'item_id', algorithm => 'ease', params => '{"regularization": 0}');
SELECT rec.train('g_ease_bad', 'groups4_i', 'user_id', 'item_id', algorithm => 'ease', params => '{"alpha": 1}');
\set VERBOSITY default

-- Mult-VAE: the encoder runs on the user's items; fold-in is the same encoder.
SELECT rec.train('g_vae', 'groups4_i', 'user_id', 'item_id', algorithm => 'multvae',
                 params => '{"factors": 8, "hidden": 32, "epochs": 40, "learning_rate": 0.01, "batch_size": 32, "anneal_epochs": 5}') AS version;
SELECT count(*) FILTER (WHERE (r.item_id - 1) % 4 = u % 4)::float / count(*) >= 0.9 AS own_group
FROM generate_series(1, 240) u, rec.recommend('g_vae', u, 5) r;
SELECT count(DISTINCT u) AS users, max(abs(a.score - b.score)) < 1e-4 AS same_scores
FROM generate_series(1, 240, 7) u,
     rec.recommend('g_vae', u, 5) a
     JOIN rec.recommend_for_items('g_vae', (SELECT array_agg(item_id) FROM groups4_i WHERE user_id = u), k => 5) b
     USING (rank);
-- A user the model never saw, known by three items of group 2.
SELECT bool_and((item_id - 1) % 4 = 2) AS new_user_in_group
FROM rec.recommend_for_items('g_vae', ARRAY[3, 7, 11], k => 5);
SELECT count(*) > 0 AS has_curve FROM rec.training_curve('g_vae');
\set VERBOSITY terse
SELECT * FROM rec.explain('g_vae', 1, 3);
\set VERBOSITY default

-- A z-score hybrid of EASE and Mult-VAE serves, folds in and explains (through EASE, the part
-- whose scores are sums over the user's items).
SELECT rec.train('g_mix', 'hybrid', '{"models": {"g_ease": 1, "g_vae": 1}}') AS version;
SELECT count(*) FILTER (WHERE (r.item_id - 1) % 4 = u % 4)::float / count(*) >= 0.9 AS own_group
FROM generate_series(1, 240) u, rec.recommend('g_mix', u, 5) r;
SELECT bool_and((item_id - 1) % 4 = 2) AS new_user_in_group
FROM rec.recommend_for_items('g_mix', ARRAY[3, 7, 11], k => 5);
SELECT count(*) > 0 AS explained FROM rec.explain('g_mix', 1, (SELECT item_id FROM rec.recommend('g_mix', 1, 1)));

-- LightGCN: propagated embeddings served as a factor model.
SELECT rec.train('g_gcn', 'groups4_i', 'user_id', 'item_id', algorithm => 'lightgcn',
                 params => '{"factors": 16, "epochs": 30, "learning_rate": 0.02, "batch_size": 256}') AS version;
SELECT count(*) FILTER (WHERE (r.item_id - 1) % 4 = u % 4)::float / count(*) >= 0.9 AS own_group
FROM generate_series(1, 240) u, rec.recommend('g_gcn', u, 5) r;
SELECT count(*) AS factor_rows FROM rec.item_factors('g_gcn');

-- AutoRec reconstructs ratings: it needs a rating column, and predicts on the rating scale.
\set VERBOSITY terse
SELECT rec.train('g_ar', 'groups4_i', 'user_id', 'item_id', algorithm => 'autorec');
\set VERBOSITY default
SELECT rec.train('g_ar', 'groups4', 'user_id', 'item_id', 'rating', algorithm => 'autorec',
                 params => '{"factors": 16, "epochs": 30, "learning_rate": 0.01}') AS version;
SELECT avg(abs(rec.predict('g_ar', user_id, item_id) - rating)) < 0.6 AS close_to_ratings FROM groups4;

SELECT rec.drop_model(m) FROM unnest(ARRAY['g_mix', 'g_ease', 'g_vae', 'g_gcn', 'g_ar']) m;
DROP TABLE groups4, groups4_i;
