-- Background jobs nobody can stall: slots are counted from pgrec's own workers (not from an
-- application_name anyone can set), a job that could never start is refused or failed, liveness
-- is read now (not from a transaction's snapshot), tune_async keeps the caller's search_path.
-- Not wrapped in a transaction: workers see committed rows only.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT plan(18);

-- How a dblink session reaches this server, whatever the server's own environment says.
CREATE FUNCTION pg_temp.here(extra text DEFAULT '') RETURNS text LANGUAGE sql AS $$
  SELECT format('host=%s port=%s dbname=%s user=%s %s', split_part(current_setting('unix_socket_directories'), ',', 1),
                current_setting('port'), current_database(), current_user, extra)
$$;

DROP TABLE IF EXISTS js_src;
DROP SCHEMA IF EXISTS js_schema CASCADE;
CREATE TABLE js_src AS SELECT u AS user_id, (u * 7 + n) % 40 AS item_id FROM generate_series(1, 300) u, generate_series(1, 5) n;

-- 12. Sessions that call themselves 'pgrec training job' take no slot.
SELECT dblink_connect('js_fake1', pg_temp.here('application_name=''pgrec training job'''));
SELECT dblink_connect('js_fake2', pg_temp.here('application_name=''pgrec training job'''));
SELECT dblink_connect('js_fake3', pg_temp.here('application_name=''pgrec training job'''));
SELECT rec.train_async('js_a', 'js_src', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}') AS job \gset
SELECT is(rec.wait(:job, '60 s'), 'succeeded', 'a job runs although three sessions pass themselves off as jobs');
SELECT dblink_disconnect('js_fake1'), dblink_disconnect('js_fake2'), dblink_disconnect('js_fake3');

-- 11, 12. Jobs submitted in a transaction that stays open hold at most pgrec.max_workers worker
-- slots while they wait for it (parallel query keeps the rest), and all of them run after it commits.
BEGIN;
WITH jobs AS MATERIALIZED (
    SELECT rec.train_async('js_o' || n, 'js_src', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}') AS job
      FROM generate_series(1, 5) n)
SELECT min(job) AS first, max(job) AS last, count(*) AS submitted FROM jobs \gset
SELECT is(:submitted::int, 5, 'five jobs are queued in one transaction');
SELECT pg_sleep(1);
SELECT cmp_ok((SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'pgrec training worker'), '<=',
              current_setting('pgrec.max_workers')::int, 'five jobs in an open transaction hold at most pgrec.max_workers slots');
COMMIT;
CREATE FUNCTION pg_temp.all_done(first bigint, last bigint) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE deadline timestamptz := clock_timestamp() + interval '90 s';
BEGIN
  WHILE clock_timestamp() < deadline LOOP
    IF NOT EXISTS (SELECT 1 FROM rec.job_queue WHERE id BETWEEN first AND last AND state <> 'succeeded') THEN RETURN true; END IF;
    PERFORM pg_sleep(0.2);
  END LOOP;
  RETURN false;
END $$;
SELECT ok(pg_temp.all_done(:first, :last), 'and all five run once it commits');

-- 13. A NOLOGIN role cannot submit a job that could never start; a dropped submitter's job fails.
DROP ROLE IF EXISTS js_nologin;
CREATE ROLE js_nologin NOLOGIN;
GRANT SELECT ON js_src TO js_nologin;
SET ROLE js_nologin;
SELECT throws_ok($$SELECT rec.train_async('js_n', 'js_src', 'user_id', 'item_id')$$, '28000', NULL,
                 'a role that cannot log in cannot queue a job');
SELECT throws_ok($$SELECT rec.tune_async('js_n', 'js_src', 'user_id', 'item_id', grid => '{"factors": [2]}')$$, '28000', NULL,
                 'nor a tuning job');
RESET ROLE;
-- A job whose role can no longer log in (changed after submission) is failed by the next pass,
-- and a job queued after it still runs.
DROP ROLE IF EXISTS js_later;
CREATE ROLE js_later LOGIN;
GRANT SELECT ON js_src TO js_later;
BEGIN;
SET LOCAL ROLE js_later;
SELECT rec.train_async('js_l', 'js_src', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}') AS stuck \gset
RESET ROLE;
ALTER ROLE js_later NOLOGIN;
COMMIT;
SELECT rec.train_async('js_b', 'js_src', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}') AS after \gset
SELECT is(rec.wait(:after, '60 s'), 'succeeded', 'a job queued after an unstartable one runs');
CREATE FUNCTION pg_temp.settled(job bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE deadline timestamptz := clock_timestamp() + interval '30 s'; s text;
BEGIN
  LOOP
    SELECT q.state || ' ' || coalesce(q.error_code, '') INTO s FROM rec.job_queue q WHERE q.id = job;
    EXIT WHEN s NOT LIKE 'queued%' OR clock_timestamp() > deadline;
    PERFORM pg_sleep(0.2);
  END LOOP;
  RETURN s;
END $$;
SELECT is(pg_temp.settled(:stuck), 'failed 28000', 'the unstartable job is failed with 28000, not left queued');
DROP ROLE IF EXISTS js_gone;
CREATE ROLE js_gone LOGIN;
GRANT SELECT ON js_src TO js_gone;
BEGIN;
SET LOCAL ROLE js_gone;
SELECT rec.train_async('js_g', 'js_src', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}') AS gone \gset
RESET ROLE;
REVOKE ALL ON js_src FROM js_gone;
DROP ROLE js_gone;
COMMIT;
SELECT is(pg_temp.settled(:gone), 'failed 42704', 'a job whose role was dropped is failed with 42704');

-- 14. Liveness is read from pgrec's shared state, not a snapshot taken before the job started.
BEGIN;  -- READ COMMITTED: rows are read anew by each statement, pg_stat_activity once per transaction
SELECT count(*) FROM pg_stat_activity;  -- the snapshot of pg_stat_activity is taken now
SELECT dblink_connect('js_submit', pg_temp.here());
SELECT job FROM dblink('js_submit', $$SELECT rec.train_async('js_c', 'js_src', 'user_id', 'item_id', params => '{"factors": 64, "iterations": 300}')$$)
    AS t(job bigint) \gset
CREATE FUNCTION pg_temp.running(job bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE deadline timestamptz := clock_timestamp() + interval '30 s'; s text;
BEGIN
  LOOP
    SELECT t.state INTO s FROM dblink('js_submit', format('SELECT state FROM rec.jobs WHERE job = %s', job)) AS t(state text);
    EXIT WHEN s <> 'queued' OR clock_timestamp() > deadline;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN s;
END $$;
SELECT is(pg_temp.running(:job), 'running', 'the job is running (as another session sees it)');
SELECT is((SELECT state FROM rec.jobs WHERE job = :job), 'running',
          'and a transaction that took its pg_stat_activity snapshot before the job started sees it running, not failed');
SELECT ok(rec.training_worker_alive((SELECT pid FROM rec.job_queue WHERE id = :job)), 'training_worker_alive sees the worker');
COMMIT;
SELECT rec.cancel(:job);
SELECT dblink_disconnect('js_submit');
SELECT ok(NOT rec.training_worker_alive(pg_backend_pid()), 'a plain session is not a training worker');

-- 15. tune_async reads the source on the submitter's search_path.
CREATE SCHEMA js_schema;
CREATE TABLE js_schema.js_events AS SELECT * FROM js_src;
SET search_path = js_schema, public;
SELECT rec.tune_async('js_t', 'SELECT user_id, item_id FROM js_events', 'user_id', 'item_id',
                      grid => '{"factors": [2]}', base_params => '{"iterations": 2}') AS job \gset
RESET search_path;
SELECT is(rec.wait(:job, '120 s'), 'succeeded', 'a tune job resolves the query''s names on the submitter''s search_path');
SELECT is((SELECT device_used FROM rec.jobs WHERE job = :job), 'cpu', 'a tune job says where its trainings ran: the CPU');

-- 17. Train, deploy and drop of one name take turns; concurrent trains under REPEATABLE READ are
-- a serialization failure, not a duplicate key.
SELECT dblink_connect('js_a1', pg_temp.here());
SELECT dblink_connect('js_a2', pg_temp.here());
SELECT rec.train('js_race', 'js_src', 'user_id', 'item_id', algorithm => 'popularity');
SELECT dblink_exec('js_a1', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT * FROM dblink('js_a1', 'SELECT count(*) FROM rec.model_versions') AS t(n bigint);  -- its snapshot
SELECT rec.train('js_race', 'js_src', 'user_id', 'item_id', algorithm => 'popularity');  -- version 2, committed
SELECT throws_ok($$SELECT * FROM dblink('js_a1', 'SELECT rec.train(''js_race'', ''js_src'', ''user_id'', ''item_id'', algorithm => ''popularity'')') AS t(v int)$$,
                 '40001', NULL, 'a train under REPEATABLE READ that a concurrent train overtook fails with 40001');
SELECT dblink_exec('js_a1', 'ROLLBACK');
-- A drop that waits for a train in progress drops what the train committed: no version without an owner.
SELECT dblink_exec('js_a1', 'BEGIN');
SELECT * FROM dblink('js_a1', 'SELECT rec.train(''js_race2'', ''js_src'', ''user_id'', ''item_id'', algorithm => ''popularity'')') AS t(v int);
SELECT dblink_send_query('js_a2', 'SELECT rec.drop_model(''js_race2'')');
SELECT pg_sleep(0.3);
SELECT dblink_exec('js_a1', 'COMMIT');
SELECT is((SELECT n FROM dblink_get_result('js_a2') AS t(n int)), 1, 'the waiting drop removes the version the train committed');
SELECT is((SELECT count(*)::int FROM rec.model_versions v
            WHERE NOT EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = v.model)), 0, 'no version is left without an owner');
SELECT dblink_disconnect('js_a1'), dblink_disconnect('js_a2');
SELECT rec.drop_model('js_race');

SELECT * FROM finish();
SELECT rec.drop_model(m) FROM unnest(ARRAY['js_a', 'js_b', 'js_t', 'js_o1', 'js_o2', 'js_o3', 'js_o4', 'js_o5']) m
 WHERE m IN (SELECT model FROM rec.models);
REVOKE ALL ON js_src FROM js_nologin, js_later;
DROP ROLE IF EXISTS js_nologin, js_later;
