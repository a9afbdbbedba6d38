-- ML-100K ua.base -> ua.test, ratings as implicit interactions, full ranking.
SELECT round(bench.seconds($q$SELECT rec.train('b_ua', 'ua_base', 'user_id', 'item_id',
                               params => '{"factors": 64, "iterations": 15}')$q$)::numeric, 3) AS train_s \gset
SELECT bench.row('ML-100K ua.base -> ua.test', 'full ranking over all items, ua.base items excluded, 943 users',
                 'als implicit, 64 f, 15 it',
                 bench.metrics('b_ua', 'ua_test', ARRAY['precision', 'recall', 'ndcg', 'map', 'coverage']),
                 :'train_s' || ' s',
                 bench.recommend_latency('b_ua', ARRAY(SELECT DISTINCT user_id FROM ua_base ORDER BY 1), 200),
                 'no published anchor for this protocol');
SELECT rec.drop_model('b_ua') \g /dev/null
