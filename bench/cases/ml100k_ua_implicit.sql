-- ML-100K ua.base -> ua.test, ratings as implicit interactions, full ranking: every family.
SELECT bench.ranking_row('ML-100K ua.base -> ua.test', 'full ranking over all items, ua.base items excluded, 943 users',
                         label, algorithm, params::jsonb, 'ua_base', 'ua_test')
FROM (VALUES ('popularity (count)', 'popularity', '{}'),
             ('item_knn, cosine, 100 neighbours', 'item_knn', '{}'),
             ('user_knn, cosine, 100 neighbours', 'user_knn', '{}'),
             ('bpr, 64 f, 50 epochs, uniform negatives', 'bpr', '{}'),
             ('als implicit, 64 f, 15 it', 'als', '{"factors": 64, "iterations": 15}')) v(label, algorithm, params);
