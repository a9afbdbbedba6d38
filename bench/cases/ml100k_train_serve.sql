-- ML-100K u.data: rec.train end to end (1 and 2 threads) and rec.recommend latency in one session.
SELECT bench.row('ML-100K u.data (100,000 rows)', 'train on all rows; 1,000 recommend(user, 10) calls, one warm session',
                 'als implicit, 64 f, 15 it, pgrec.threads=1', NULL,
                 round(bench.seconds($q$SELECT rec.train('b_full', 'ml100k', 'user_id', 'item_id',
                                        params => '{"factors": 64, "iterations": 15}')$q$)::numeric, 3) || ' s',
                 bench.recommend_latency('b_full', ARRAY(SELECT DISTINCT user_id FROM ml100k ORDER BY 1), 1000),
                 'implicit 0.7.3 ALS (Python, outside a DB): 2.30 s for 460k rows on 1 thread; recommend p50 0.09 ms');
SET pgrec.threads = 2;
SELECT bench.row('ML-100K u.data (100,000 rows)', 'train on all rows', 'als implicit, 64 f, 15 it, pgrec.threads=2', NULL,
                 round(bench.seconds($q$SELECT rec.train('b_full', 'ml100k', 'user_id', 'item_id',
                                        params => '{"factors": 64, "iterations": 15}')$q$)::numeric, 3) || ' s',
                 NULL, 'implicit 0.7.3 ALS: 1.10 s for 460k rows on 2 threads');
SELECT rec.drop_model('b_full') \g /dev/null
