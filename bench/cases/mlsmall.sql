-- ml-latest-small, 80/20 per-user random split (rec.split, seed 42): ranking for every family,
-- and explicit RMSE for ALS.
SELECT * FROM rec.split('mls', 'mlsmall', 'user_id', 'item_id', method => 'per_user', test_fraction => 0.2,
                        seed => 42, replace => true) \g /dev/null
SELECT bench.ranking_row('ml-latest-small (100,836 rows)', '80/20 per-user split, seed 42; full ranking, training items excluded',
                         label, algorithm, params::jsonb, 'mls_train', 'mls_test')
FROM (VALUES ('popularity (count)', 'popularity', '{}'),
             ('item_knn, cosine, 100 neighbours', 'item_knn', '{}'),
             ('user_knn, cosine, 100 neighbours', 'user_knn', '{}'),
             ('bpr, 64 f, 50 epochs, uniform negatives', 'bpr', '{}'),
             ('als implicit, 64 f, 15 it', 'als', '{"factors": 64, "iterations": 15}'),
             ('ease, λ 250, 1000 entries of B per item', 'ease', '{}'),
             ('multvae, 600 → 200, β cap 0.2, early stopping', 'multvae', '{}'),
             ('lightgcn, 64 f, 3 layers, early stopping', 'lightgcn', '{}')) v(label, algorithm, params);
SELECT round(bench.seconds($q$SELECT rec.train('b_mls_x', 'mls_train', 'user_id', 'item_id', 'rating',
                               params => '{"factors": 32, "iterations": 15, "regularization": 0.1}')$q$)::numeric, 3) AS train_s \gset
SELECT bench.row('ml-latest-small (100,836 rows)', '80/20 per-user split, seed 42; predict test ratings',
                 'als explicit, 32 f, 15 it, reg 0.1', bench.metrics('b_mls_x', 'mls_test', ARRAY['rmse', 'mae']),
                 :'train_s' || ' s', NULL, 'no published anchor for this protocol');
SELECT rec.drop_model('b_mls_x') \g /dev/null
DROP TABLE mls_train, mls_test;
