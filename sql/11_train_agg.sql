-- Training as an aggregate over any query, stored with rec.save_model.
SELECT rec.save_model('agg', rec.train_agg('als', user_id, item_id, '{"factors": 8, "iterations": 10}'::jsonb))
FROM ratings;
-- Over the same rows in the same order it is the same model as rec.train.
SELECT rec.train('direct', 'ratings', 'user_id', 'item_id', params => '{"factors": 8, "iterations": 10}');
SELECT count(*) AS same_rows
FROM rec.recommend('agg', 42, 10) a JOIN rec.recommend('direct', 42, 10) d USING (item_id, rank);
SELECT model, algorithm, source, n_users, n_items, n_interactions, params->>'factors' AS factors
FROM rec.models WHERE model = 'agg';

-- Any query: WHERE and JOIN; explicit ratings; text ids.
SELECT rec.save_model('agg_q', rec.train_agg('item_knn', r.user_id, r.item_id))
FROM ratings r JOIN items i ON i.id = r.item_id WHERE r.user_id % 2 = 0;
SELECT n_users, n_items FROM rec.models WHERE model = 'agg_q';
SELECT rec.save_model('agg_r', rec.train_agg('sgd_mf', user_id, item_id, rating, '{"factors": 4, "epochs": 5}'::jsonb))
FROM ratings;
SELECT algorithm, params->>'epochs' AS epochs FROM rec.models WHERE model = 'agg_r';
SELECT rec.save_model('agg_t', rec.train_agg('popularity', 'u' || user_id, 'i' || item_id)) FROM ratings;
SELECT user_type, item_type, count(*) OVER () AS models FROM rec.models WHERE model = 'agg_t';
-- NULL users or items are skipped.
SELECT rec.save_model('agg_n', rec.train_agg('popularity', CASE WHEN user_id % 2 = 0 THEN user_id END, item_id)) FROM ratings;
SELECT n_users FROM rec.models WHERE model = 'agg_n';

-- A parallel plan (partial aggregates combined) gives the same data.
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT rec.train_agg('als', user_id, item_id) FROM ratings;
SELECT rec.save_model('agg_par', rec.train_agg('als', user_id, item_id, '{"factors": 8, "iterations": 10}'::jsonb))
FROM ratings;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT a.n_users = p.n_users AND a.n_items = p.n_items AND a.n_interactions = p.n_interactions AS same_data
FROM rec.models a, rec.models p WHERE a.model = 'agg' AND p.model = 'agg_par';
SELECT count(*) AS rows, avg((r.item_id % 4 = 42 % 4)::int) >= 0.9 AS in_group FROM rec.recommend('agg_par', 42, 5) r;

-- Errors.
SELECT rec.train_agg('magic', user_id, item_id) FROM ratings;
SELECT rec.train_agg('als', user_id, item_id) FROM ratings WHERE false;
SELECT rec.train_agg('sgd_mf', user_id, item_id) FROM ratings;
SELECT rec.train_agg('als', user_id, item_id, '{"factorz": 1}'::jsonb) FROM ratings;
SELECT rec.save_model('bad', '\x0001'::bytea);
SELECT rec.save_model('', rec.train_agg('popularity', user_id, item_id)) FROM ratings;

SELECT rec.drop_model(model) FROM rec.models WHERE model IN ('agg', 'direct', 'agg_q', 'agg_r', 'agg_t', 'agg_n', 'agg_par') \g /dev/null
