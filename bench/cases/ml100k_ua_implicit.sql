-- ML-100K ua.base -> ua.test, ratings as implicit interactions, full ranking: every family.
SELECT bench.ranking_row('ML-100K ua.base -> ua.test', 'full ranking over all items, ua.base items excluded, 943 users',
                         label, algorithm, params::jsonb, 'ua_base', 'ua_test')
FROM (VALUES ('popularity (count)', 'popularity', '{}'),
             ('item_knn, cosine, 100 neighbours', 'item_knn', '{}'),
             ('user_knn, cosine, 100 neighbours', 'user_knn', '{}'),
             ('bpr, 64 f, 50 epochs, uniform negatives', 'bpr', '{}'),
             ('als implicit, 64 f, 15 it', 'als', '{"factors": 64, "iterations": 15}'),
             ('ease, λ 250, 1000 entries of B per item', 'ease', '{}'),
             ('multvae, 600 → 200, β cap 0.2, early stopping', 'multvae', '{}'),
             ('lightgcn, 64 f, 3 layers, early stopping', 'lightgcn', '{}')) v(label, algorithm, params);
-- A z-score hybrid of three of them, equal weights (not tuned); its time is all four steps.
SELECT bench.seconds($q$SELECT rec.train('bh_als', 'ua_base', 'user_id', 'item_id', params => '{"factors": 64, "iterations": 15}'),
                               rec.train('bh_bpr', 'ua_base', 'user_id', 'item_id', algorithm => 'bpr'),
                               rec.train('bh_uknn', 'ua_base', 'user_id', 'item_id', algorithm => 'user_knn')$q$) AS parts_s \gset
SELECT bench.seconds($q$SELECT rec.train('bh', 'hybrid', '{"models": {"bh_als": 1, "bh_bpr": 1, "bh_uknn": 1}}')$q$) AS mix_s \gset
SELECT bench.row('ML-100K ua.base -> ua.test', 'full ranking over all items, ua.base items excluded, 943 users',
                 'hybrid (z-score mix, equal weights): als + bpr + user_knn as above',
                 bench.metrics('bh', 'ua_test', ARRAY['precision', 'recall', 'ndcg', 'map', 'coverage']),
                 round((:parts_s + :mix_s)::numeric, 3) || ' s (mixing: ' || round(:mix_s::numeric, 3) || ' s)',
                 bench.recommend_latency('bh', ARRAY(SELECT DISTINCT user_id FROM ua_base), 200),
                 'no published anchor for this protocol');
SELECT rec.drop_model(m) FROM unnest(ARRAY['bh', 'bh_als', 'bh_bpr', 'bh_uknn']) m \g /dev/null
