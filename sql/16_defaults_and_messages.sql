-- What a newcomer meets: defaults chosen by measurement, visible fallbacks, ids of the wrong type
-- refused, errors that say what to do (on the planted data of 01).

-- Implicit ALS's defaults: 32 factors, regularization 0.1 x interactions per user (2,400 rows,
-- 200 users: 1.2), and the effective value is what rec.models shows; a given value is kept exactly.
SELECT rec.train('d_als', 'ratings', 'user_id', 'item_id');
SELECT params->'factors' AS factors, params->'regularization' AS regularization
FROM rec.models WHERE model = 'd_als';
-- The planted groups are found with the defaults (every user's top 5 in its own group).
SELECT avg((r.item_id % 4 = u % 4)::int) > 0.9 AS finds_the_groups
FROM generate_series(1, 200) u, LATERAL rec.recommend('d_als', u, 5) r;
SELECT rec.train('d_als', 'ratings', 'user_id', 'item_id', params => '{"regularization": 0.1, "alpha": 0.3}');
SELECT params->>'regularization' AS regularization, params->>'alpha' AS alpha FROM rec.models WHERE model = 'd_als';
-- item_knn keeps 20 neighbours with shrinkage 10 by default; user_knn 100 without.
SELECT rec.train('d_knn', 'ratings', 'user_id', 'item_id', algorithm => 'item_knn');
SELECT rec.train('d_uknn', 'ratings', 'user_id', 'item_id', algorithm => 'user_knn');
SELECT model, params FROM rec.models WHERE model IN ('d_knn', 'd_uknn') ORDER BY model;
-- The LibTorch families stop by early stopping: the epoch cap is only a cap.
SELECT rec.train('d_nn', 'ratings', 'user_id', 'item_id', algorithm => 'neumf',
                 params => '{"factors": 4, "mlp_factors": 4, "mlp_layers": 1, "patience": 1}');
SELECT params->'epochs' AS epoch_cap, (SELECT count(*) FROM rec.training_curve('d_nn')) < 200 AS stopped_early
FROM rec.models WHERE model = 'd_nn';
SELECT rec.train('d_nn', 'ratings', 'user_id', 'item_id', algorithm => 'neumf',
                 params => '{"factors": 4, "mlp_factors": 4, "mlp_layers": 1, "validation": false, "epochs": 2}');
SELECT params->'epochs' AS epochs FROM rec.models WHERE model = 'd_nn';

-- A user the model does not know gets popular items, and a NOTICE says so (naming the model, also
-- the default model); fold-in without rows says that.
SELECT count(*) FROM rec.recommend('d_als', 99999, 3);
SET pgrec.default_model = 'd_als';
SELECT count(*) FROM rec.recommend(99999, 3);
RESET pgrec.default_model;
SELECT count(*) FROM rec.recommend('d_als', 99999, 3, fold_in => true);
SELECT count(*) FROM rec.recommend_for_items('d_als', ARRAY[99999], k => 3);
-- A known user gets no NOTICE.
SELECT count(*) FROM rec.recommend('d_als', 1, 3);

-- Ids of a type that cannot name the model's ids are 42804; text names any id.
\set VERBOSITY default
SELECT * FROM rec.recommend('d_als', 42.0, 3);
SELECT * FROM rec.recommend('d_als', 42.5::float8, 3);
SELECT rec.predict('d_als', 42, 3.0);
SELECT * FROM rec.similar_items('d_als', 1.0, 3);
SELECT * FROM rec.explain('d_als', 42::numeric, 1);
SELECT * FROM rec.recommend_for_items('d_als', ARRAY[1.0, 2.0], k => 3);
SELECT count(*) FROM rec.recommend('d_als', 42::smallint, 3);
SELECT count(*) FROM rec.recommend('d_als', '42'::text, 3);
SELECT count(*) FROM rec.recommend('d_als', '42', 3);
CREATE TABLE text_ids AS SELECT 'u' || user_id AS user_id, item_id FROM ratings;
SELECT rec.train('d_text', 'text_ids', 'user_id', 'item_id', algorithm => 'popularity');
SELECT * FROM rec.recommend('d_text', 42, 3);
SELECT count(*) FROM rec.recommend('d_text', 'u42', 3);

-- Errors that say what to do.
SELECT * FROM rec.split('d_split', 'ratings', 'user_id', 'item_id');
SELECT * FROM rec.split('d_split', 'ratings', 'user_id', 'item_id');
SELECT rec.save_model('d_agg', rec.train_agg('popularity', user_id, item_id)) FROM d_split_train;
SELECT * FROM rec.evaluate('d_agg', 'd_split_test');
SELECT metric FROM rec.evaluate('d_agg', 'd_split_test', user_col => 'user_id', item_col => 'item_id')
WHERE metric = 'ndcg@10';
SELECT rec.train('d_bad', 'ratings', 'user_id', 'item_id', params => '{"factors": "32"}');
SELECT rec.train('d_bad', 'ratings', 'user_id', 'item_id', params => '{"iterations": true}');
SELECT rec.train('d_bad', 'ratings', 'user_id', 'item_id', params => '{"alpha": [1]}');
SELECT rec.deploy('d_nope');
SELECT rec.drop_model('d_nope');
SELECT rec.grant_model('d_nope', 'public');
-- A role without a grant is told whom to ask, and what that role should run.
CREATE ROLE pgrec_owner;
CREATE ROLE pgrec_newcomer;
GRANT SELECT ON ratings TO pgrec_owner;
SET ROLE pgrec_owner;
SELECT rec.train('d_owned', 'ratings', 'user_id', 'item_id', algorithm => 'popularity');
SET ROLE pgrec_newcomer;
SELECT * FROM rec.recommend('d_owned', 1, 3);
SET ROLE pgrec_owner;
SELECT rec.drop_model('d_owned');
RESET ROLE;
REVOKE SELECT ON ratings FROM pgrec_owner;
DROP ROLE pgrec_owner, pgrec_newcomer;
\set VERBOSITY terse

SELECT rec.drop_model(m) FROM unnest(ARRAY['d_als', 'd_knn', 'd_uknn', 'd_nn', 'd_text', 'd_agg']) m;
DROP TABLE text_ids, d_split_train, d_split_test;
