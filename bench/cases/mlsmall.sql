-- ml-latest-small, 80/20 per-user random split (rec.split, seed 42): implicit ranking and explicit RMSE.
SELECT * FROM rec.split('mls', 'mlsmall', 'user_id', 'item_id', method => 'per_user', test_fraction => 0.2,
                        seed => 42, replace => true) \g /dev/null
SELECT round(bench.seconds($q$SELECT rec.train('b_mls', 'mls_train', 'user_id', 'item_id',
                               params => '{"factors": 64, "iterations": 15}')$q$)::numeric, 3) AS train_s \gset
SELECT bench.row('ml-latest-small (100,836 rows)', '80/20 per-user split, seed 42; full ranking, training items excluded',
                 'als implicit, 64 f, 15 it',
                 bench.metrics('b_mls', 'mls_test', ARRAY['precision', 'recall', 'ndcg', 'map', 'coverage']),
                 :'train_s' || ' s',
                 bench.recommend_latency('b_mls', ARRAY(SELECT DISTINCT user_id FROM mls_train ORDER BY 1), 200),
                 'no published anchor for this protocol');
SELECT round(bench.seconds($q$SELECT rec.train('b_mls_x', 'mls_train', 'user_id', 'item_id', 'rating',
                               params => '{"factors": 32, "iterations": 15, "regularization": 0.1}')$q$)::numeric, 3) AS train_s \gset
SELECT bench.row('ml-latest-small (100,836 rows)', '80/20 per-user split, seed 42; predict test ratings',
                 'als explicit, 32 f, 15 it, reg 0.1', bench.metrics('b_mls_x', 'mls_test', ARRAY['rmse', 'mae']),
                 :'train_s' || ' s', NULL, 'no published anchor for this protocol');
SELECT rec.drop_model('b_mls'), rec.drop_model('b_mls_x') \g /dev/null
DROP TABLE mls_train, mls_test;
