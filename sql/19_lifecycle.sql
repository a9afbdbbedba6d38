-- The model lifecycle through SQL: a gate that keeps a worse retraining back and deploys a better
-- warm-started one, the history, drift, new items without retraining, the served log with online
-- metrics, a schedule run by the scheduler's own pass, and the errors of each function.
SET client_min_messages = warning;

-- Users of group u % 4 take items of group i % 4; row n of a user happens at time n * 1000 + u,
-- so later rows are later in time for everyone.
CREATE TABLE lc_all AS
SELECT u AS user_id, (((u * 7 + n * 13) % 30) * 4 + u % 4) + 1 AS item_id, n * 1000 + u AS ts
FROM generate_series(1, 300) u, generate_series(0, 19) n;
CREATE TABLE lc_src AS SELECT * FROM lc_all WHERE ts < 14000;
SELECT rec.train('lc', 'lc_src', 'user_id', 'item_id', params => '{"factors": 8, "iterations": 10}') AS version;
SELECT rec.train('lc_pu', 'lc_src', 'user_id', 'item_id', params => '{"factors": 8, "iterations": 5}') AS version;
INSERT INTO lc_src SELECT * FROM lc_all WHERE ts >= 14000 AND ts < 17000;

-- A deliberately worse retraining behind the gate: stored, not deployed, and both scores kept.
SELECT rec.train('lc', 'lc_src', 'user_id', 'item_id',
                 params => '{"factors": 1, "iterations": 1, "gate": {"time_col": "ts"}}') AS version;
SELECT version AS serving FROM rec.models WHERE model = 'lc';
SELECT version, deployed, serving, gate->>'metric' AS metric, (gate->>'challenger')::float8 < (gate->>'champion')::float8 AS worse,
       (gate->>'champion_version')::int AS champion_version, gate->>'reason' AS reason,
       (gate->>'held_out_rows')::int > 0 AS held_out, (gate->>'source_rows')::int AS source_rows
FROM rec.model_history('lc') WHERE version = 2;
-- A better one, warm-started from the serving version: deployed.
SELECT rec.train('lc', 'lc_src', 'user_id', 'item_id',
                 params => '{"factors": 8, "iterations": 4, "warm_start": true, "gate": {"time_col": "ts", "tolerance": 0.02}}') AS version;
SELECT version AS serving FROM rec.models WHERE model = 'lc';
SELECT version, deployed, serving, (warm_start->>'users')::int AS warm_users, (warm_start->>'items')::int AS warm_items,
       gate->>'reason' AS reason
FROM rec.model_history('lc') ORDER BY version DESC;
-- Without a time column the gate holds out a share of each user's rows, and scores both versions
-- on those the serving one did not train on (here: rows added since).
SELECT rec.train('lc_pu', 'lc_src', 'user_id', 'item_id',
                 params => '{"factors": 8, "iterations": 5, "gate": {"test_fraction": 0.2, "tolerance": 0.05}}') AS version;
SELECT deployed, (gate->>'held_out_rows')::int > 0 AS held_out, (gate->>'held_out_known_to_champion')::int > 0 AS some_known,
       gate->'params'->>'time_col' IS NULL AS per_user
FROM rec.model_history('lc_pu') WHERE version = 2;
-- Again on the same rows: the same rows are held out (the split is a hash with the gate's seed),
-- and the serving version did not train on them either, so both are scored on them.
SELECT rec.train('lc_pu', 'lc_src', 'user_id', 'item_id',
                 params => '{"factors": 8, "iterations": 5, "gate": {"test_fraction": 0.2}}') AS version;
SELECT version, deployed, serving, gate->>'reason' AS reason FROM rec.model_history('lc_pu') ORDER BY version DESC LIMIT 2;

-- Drift: 900 more rows of known users and items, then 40 rows of 4 new users and 2 new items.
INSERT INTO lc_src SELECT * FROM lc_all WHERE ts >= 17000;
SELECT rows_now - rows_at_training AS new_rows, new_rows AS reported, new_users, new_items,
       unknown_user_share, unknown_item_share
FROM rec.drift('lc');
INSERT INTO lc_src SELECT 1000 + u, 500 + u % 2, 20000 + n FROM generate_series(1, 4) u, generate_series(1, 10) n;
SELECT new_users, new_items, round(unknown_user_share::numeric, 4) AS unknown_user_share,
       round(unknown_item_share::numeric, 4) AS unknown_item_share, round(unknown_share::numeric, 4) AS unknown_share,
       top1_share_at_training > 0 AND top1_share_now > 0 AS popularity_shares
FROM rec.drift('lc');

-- New items without retraining: items 601-604, each taken by a third of one group's users.
CREATE TABLE lc_new AS SELECT u AS user_id, 600 + u % 4 + 1 AS item_id FROM generate_series(1, 300) u WHERE u % 3 = 0;
SELECT rec.update_items('lc', 'lc_new') AS version;
SELECT version, n_items, metrics->'update_items'->>'items_added' AS added FROM rec.models WHERE model = 'lc';
-- Each new item reaches the users of its group (who have not taken it) before those of others.
SELECT count(*) FILTER (WHERE (r.item_id - 601) % 4 = u % 4)::float / count(*) >= 0.9 AS own_group
FROM generate_series(1, 300) u, rec.recommend('lc', u, 50) r WHERE r.item_id > 600 AND u % 3 <> 0;

-- The served log: off by default, every call when on, none at rate 0.
SELECT count(*) FROM generate_series(1, 5) u, rec.recommend('lc', u, 3);
SET pgrec.log_recommendations = on;
SELECT count(*) FROM generate_series(1, 20) u, rec.recommend('lc', u, 4);
SET pgrec.log_sample_rate = 0;
SELECT count(*) FROM generate_series(21, 40) u, rec.recommend('lc', u, 4);
RESET pgrec.log_sample_rate;
RESET pgrec.log_recommendations;
SELECT count(*) AS lists, count(DISTINCT user_id) AS users, min(cardinality(items)) AS k, max(version) AS version,
       bool_and(served_by = (SELECT oid FROM pg_roles WHERE rolname = current_user)) AS by_me
FROM rec.served WHERE model = 'lc';
-- A simulated user of each even id takes the first item an hour later; odd ones take nothing.
CREATE TABLE lc_clicks AS
SELECT s.user_id::int AS user_id, s.items[1]::int AS item_id, s.served_at + interval '1 hour' AS at
FROM rec.served s WHERE s.model = 'lc' AND s.user_id::int % 2 = 0;
SELECT version, lists, users, k, hits, hit_rate, "precision", coverage > 0 AS coverage
FROM rec.online_metrics('lc', 'lc_clicks', within => '2 hours', time_col => 'at');
SELECT hits, hit_rate FROM rec.online_metrics('lc', 'lc_clicks', within => '30 minutes', time_col => 'at');
SELECT hits FROM rec.online_metrics('lc', 'SELECT user_id, item_id, at FROM lc_clicks WHERE user_id <= 10',
                                    within => '2 hours', time_col => 'at');

-- A schedule. The launcher runs the scheduler's pass every pgrec.naptime, and the test runs the
-- same pass once itself: whichever comes first submits the job (a schedule's row is locked while a
-- pass handles it, and a pass skips a schedule whose job is still queued or running).
CREATE FUNCTION pg_temp.runs_reach(n integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE deadline timestamptz := clock_timestamp() + interval '90 s'; s record;
BEGIN
  LOOP
    SELECT ms.runs, j.state INTO s FROM rec.model_schedules ms LEFT JOIN rec.jobs j ON j.job = ms.last_job
     WHERE ms.model = 'lc';
    EXIT WHEN s.runs >= n AND s.state IN ('succeeded', 'failed', 'cancelled') OR clock_timestamp() > deadline;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN s.runs || ' ' || s.state;
END $$;
SELECT rec.schedule('lc', every => '1 day', min_new_rows => 30, gate => '{"time_col": "ts", "tolerance": 1}') > now() AS later;
SELECT model, every, min_new_rows, params, device FROM rec.schedules;
SELECT rec._run_schedules() >= 0 AS passed;  -- 940 rows arrived since the data of the serving version
SELECT pg_temp.runs_reach(1);
SELECT model, state, last_outcome, last_version, last_deployed, runs, next_run > now() + interval '23 hours' AS next_tomorrow
FROM rec.schedules;
SELECT j.params->>'warm_start' AS warm, j.params->'gate'->>'time_col' AS gate_time, j.submitted_by = current_user AS as_owner
FROM rec.jobs j JOIN rec.model_schedules s ON s.last_job = j.job;
SELECT rec._run_schedules() AS submitted;  -- nothing new since it trained
INSERT INTO lc_src SELECT u, (((u * 7 + 19 * 13) % 30) * 4 + u % 4) + 1, 21000 + u FROM generate_series(1, 40) u;
SELECT rec._run_schedules() >= 0 AS passed;  -- 40 new rows: at least min_new_rows
SELECT pg_temp.runs_reach(2);
SELECT state, last_outcome, last_version, runs FROM rec.schedules;
SELECT rec._run_schedules() AS submitted;
SELECT rec.unschedule('lc'), rec.unschedule('lc');

-- The LibTorch families warm-start too (here LightGCN: its base embeddings by id, the new users
-- drawn as a cold start would): two epochs on the grown data keep every group's items first.
-- rec.algorithms() says which algorithms can.
SELECT algorithm, libtorch_device, warm_start FROM rec.algorithms() ORDER BY algorithm;
CREATE TABLE lc_gcn AS SELECT * FROM lc_all WHERE ts < 10000;
SELECT rec.train('lc_gcn', 'lc_gcn', 'user_id', 'item_id', algorithm => 'lightgcn',
                 params => '{"factors": 16, "epochs": 30, "learning_rate": 0.02, "batch_size": 256}') AS version;
INSERT INTO lc_gcn SELECT * FROM lc_all WHERE ts >= 10000 AND ts < 12000
UNION ALL SELECT 2000 + u, (u * 4 + n * 8) % 120 + 1, 20000 + n FROM generate_series(1, 4) u, generate_series(0, 5) n;
SELECT rec.train('lc_gcn', 'lc_gcn', 'user_id', 'item_id', algorithm => 'lightgcn',
                 params => '{"factors": 16, "epochs": 2, "learning_rate": 0.02, "batch_size": 256, "warm_start": true}') AS version;
SELECT version, (warm_start->>'from_version_id')::bigint = (SELECT id FROM rec.model_versions WHERE model = 'lc_gcn' AND version = 1) AS from_v1,
       (warm_start->>'users')::int AS warm_users, (warm_start->>'items')::int AS warm_items
FROM rec.model_history('lc_gcn') WHERE version = 2;
SELECT count(*) FILTER (WHERE (r.item_id - 1) % 4 = u % 4)::float / count(*) >= 0.9 AS own_group
FROM generate_series(1, 300) u, rec.recommend('lc_gcn', u, 5) r;
-- A wider network cannot start from the serving one.
SELECT rec.train('lc_gcn', 'lc_gcn', 'user_id', 'item_id', algorithm => 'lightgcn',
                 params => '{"factors": 32, "epochs": 1, "warm_start": true}');

-- Errors.
\set VERBOSITY terse
SELECT rec.train('lc', 'lc_src', 'user_id', 'item_id', params => '{"gate": 1}');
SELECT rec.train('lc', 'lc_src', 'user_id', 'item_id', params => '{"gate": {"metric": "rmse"}}');
SELECT rec.train('lc', 'lc_src', 'user_id', 'item_id', params => '{"gate": {"tolerence": 0.1}}');
SELECT rec.train('lc', 'lc_src', 'user_id', 'item_id', params => '{"gate": {"test_fraction": 0.9}}');
SELECT rec.train('lc', 'lc_src', 'user_id', 'item_id', params => '{"warm_start": "yes"}');
SELECT rec.train('lc', 'lc_src', 'user_id', 'item_id', params => '{"warm_start": true, "factors": 16}');
SELECT rec.train('lc', 'lc_src', 'user_id', 'item_id', algorithm => 'item_knn', params => '{"warm_start": true}');
SELECT rec.train('lc', 'lc_src', 'user_id', 'item_id', algorithm => 'bpr', params => '{"warm_start": true}');
SELECT rec.train('lc', 'lc_src', 'user_id', 'item_id', params => '{"gate": {"time_col": "no_such_column"}}');
SELECT version AS still_serving FROM rec.models WHERE model = 'lc';
SELECT rec.train_agg('als', user_id, item_id, '{"warm_start": true}'::jsonb) IS NOT NULL FROM lc_src;
SELECT rec.schedule('no_such_model', '1 day');
SELECT rec.schedule('lc', '0 s');
SELECT rec.schedule('lc', NULL);
SELECT rec.schedule('lc', '1 day', min_new_rows => 0);
SELECT rec.schedule('lc', '1 day', gate => '{"metrik": "ndcg"}');
SELECT rec.schedule('lc', '1 day', gate => '[1]');
SELECT rec.schedule('lc', '1 day', device => 'tpu');
SELECT rec.unschedule('no_such_model');
SELECT rec.save_model('lc_agg', rec.train_agg('als', user_id, item_id, '{"factors": 4, "iterations": 2}'::jsonb)) FROM lc_src;
SELECT rec.schedule('lc_agg', '1 day');
SELECT * FROM rec.drift('lc_agg');
SELECT * FROM rec.drift('no_such_model');
SELECT * FROM rec.model_history('no_such_model');
SELECT rec.train('lc_bpr', 'lc_src', 'user_id', 'item_id', algorithm => 'bpr', params => '{"epochs": 1}');
SELECT rec.update_items('lc_bpr', 'lc_new');
SELECT rec.update_items('lc', 'SELECT 5000 AS user_id, 9000 AS item_id');
SELECT rec.update_items('lc', 'SELECT user_id::text, item_id FROM lc_new');
SELECT rec.update_items('no_such_model', 'lc_new');
SELECT * FROM rec.online_metrics('lc', 'lc_clicks');
SELECT * FROM rec.online_metrics('lc', 'lc_clicks', within => '-1 hour', time_col => 'at');
SELECT * FROM rec.online_metrics('no_such_model', 'lc_clicks', time_col => 'at');
\set VERBOSITY default
