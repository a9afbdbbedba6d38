-- Background jobs (rec.train_async): queue-to-start latency, training time, peak worker memory,
-- and rec.recommend latency while a job trains versus idle. Needs shared_preload_libraries.
SELECT rec.train('b_probe', 'ml100k', 'user_id', 'item_id', params => '{"factors": 64}') \g /dev/null
SELECT ARRAY(SELECT DISTINCT user_id FROM ml100k ORDER BY 1) AS users \gset
SELECT bench.recommend_latency('b_probe', :'users', 500) AS idle \gset

SELECT rec.train_async('b_job', 'ml100k', 'user_id', 'item_id', params => '{"factors": 64, "iterations": 15}') AS job \gset
SELECT * FROM bench.watch_job(:job, 'b_probe', :'users') \gset w_
SELECT bench.row('ML-100K u.data (100,000 rows)', 'rec.train_async, one worker, pgrec.threads=' || current_setting('pgrec.threads'),
                 'als implicit, 64 f, 15 it (' || :'w_state' || ')',
                 format('queue to start %s s; recommend during training p50 %s ms (%s calls) vs idle %s',
                        round(:'w_queue_s'::numeric, 3), round(:'w_p50_ms'::numeric, 3), :'w_calls', :'idle'),
                 round(:'w_train_s'::numeric, 3) || ' s', NULL,
                 'worker peak ' || round(:'w_peak_mb'::numeric, 1) || ' MB (the memory column is this session''s)');

\if :{?synth_rows}
\else
\set synth_rows 20000000
\endif
SELECT :synth_rows > 0 AS run_synth \gset
\if :run_synth
-- 138k users x 27k items with power-law popularity (item = 27000 * u^2.5 for uniform u).
DROP TABLE IF EXISTS synth;
CREATE UNLOGGED TABLE synth AS
SELECT u AS user_id, floor(27000 * power(random(), 2.5))::int AS item_id
FROM generate_series(1, 138000) u, generate_series(1, greatest(1, :synth_rows / 138000)) n;
SELECT count(*) AS synth_count FROM synth \gset
SELECT rec.train_async('b_synth', 'synth', 'user_id', 'item_id', params => '{"factors": 64, "iterations": 15}') AS job \gset
SELECT * FROM bench.watch_job(:job, 'b_probe', :'users') \gset w_
SELECT bench.row(format('synthetic power-law (%s rows, 138,000 users, 27,000 items)', to_char(:synth_count, 'FM999,999,999')),
                 'rec.train_async, one worker, pgrec.threads=' || current_setting('pgrec.threads'),
                 'als implicit, 64 f, 15 it (' || :'w_state' || ')',
                 format('queue to start %s s; recommend (ML-100K model) during training p50 %s ms (%s calls) vs idle %s',
                        round(:'w_queue_s'::numeric, 3), round(:'w_p50_ms'::numeric, 3), :'w_calls', :'idle'),
                 round(:'w_train_s'::numeric, 1) || ' s', NULL,
                 'worker peak ' || round(:'w_peak_mb'::numeric, 1) || ' MB; implicit 0.7.3 on ML-20M (8 cores): 0.84 s/iteration');
DROP TABLE synth;
SELECT rec.drop_model('b_synth') \g /dev/null
\endif
SELECT rec.drop_model('b_probe'), rec.drop_model('b_job') \g /dev/null
