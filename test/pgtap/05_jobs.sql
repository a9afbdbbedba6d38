-- Background jobs: run, report progress, keep serving the old version, cancel, fail clearly,
-- and respect the submitting role. Not wrapped in a transaction: workers see committed rows only.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
SELECT plan(54);

DROP TABLE IF EXISTS job_src, job_secret, job_alice;
CREATE TABLE job_src AS
SELECT u AS user_id, (u * 31 + n * 17) % 2000 AS item_id FROM generate_series(1, 5000) u, generate_series(1, 10) n;

-- A job that succeeds, with its progress and the device it used.
SELECT rec.train_async('jm', 'job_src', 'user_id', 'item_id', params => '{"factors": 8, "iterations": 3}') AS job \gset
SELECT is(rec.wait(:job, '60 s'), 'succeeded', 'a job runs to the end');
SELECT results_eq($$SELECT state, progress, epoch, epochs, version, device_used, loss IS NOT NULL,
                           submitted_at <= started_at AND started_at < finished_at FROM rec.jobs WHERE job = $$ || :job,
                  $$VALUES ('succeeded', 1::real, 3, 3, 1, 'cpu', true, true)$$, 'its row reports the finished run');
SELECT is((SELECT version FROM rec.models WHERE model = 'jm'), 1, 'the job stored and deployed version 1');
SELECT is((SELECT count(*) FROM rec.recommend('jm', 7, 5)), 5::bigint, 'and it serves');

-- While a long job trains version 2, progress shows and version 1 keeps serving.
CREATE TEMP TABLE v1 AS SELECT * FROM rec.recommend('jm', 7, 5);
SELECT rec.train_async('jm', 'job_src', 'user_id', 'item_id', params => '{"factors": 64, "iterations": 400}') AS job \gset
CREATE FUNCTION pg_temp.watch(job bigint) RETURNS TABLE (seen_progress boolean, old_version_served boolean)
LANGUAGE plpgsql AS $$
DECLARE deadline timestamptz := clock_timestamp() + interval '30 s';
BEGIN
  seen_progress := false;
  old_version_served := true;
  WHILE clock_timestamp() < deadline AND NOT seen_progress LOOP
    SELECT j.state = 'running' AND j.epoch >= 1 AND j.progress > 0 AND j.progress < 1 INTO seen_progress
      FROM rec.jobs j WHERE j.job = watch.job;
    old_version_served := old_version_served
      AND (SELECT version FROM rec.models WHERE model = 'jm') = 1
      AND (SELECT count(*) FROM rec.recommend('jm', 7, 5) r JOIN v1 USING (item_id, rank)) = 5;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN NEXT;
END $$;
SELECT results_eq($$SELECT * FROM pg_temp.watch($$ || :job || $$)$$, $$VALUES (true, true)$$,
                  'progress is visible while training, and version 1 serves meanwhile');

-- Progress moves within an epoch too (ALS reports after solving the users).
SELECT rec.train_async('jp', 'job_src', 'user_id', 'item_id', params => '{"factors": 400, "iterations": 2}') AS pjob \gset
CREATE FUNCTION pg_temp.saw_partial_epoch(job bigint) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE deadline timestamptz := clock_timestamp() + interval '60 s'; seen boolean := false;
BEGIN
  WHILE clock_timestamp() < deadline AND NOT seen LOOP
    SELECT j.epoch = 0 AND j.progress > 0 INTO seen FROM rec.jobs j WHERE j.job = saw_partial_epoch.job;
    EXIT WHEN (SELECT j.state FROM rec.jobs j WHERE j.job = saw_partial_epoch.job) NOT IN ('queued', 'running');
    PERFORM pg_sleep(0.01);
  END LOOP;
  RETURN seen;
END $$;
SELECT ok(pg_temp.saw_partial_epoch(:pjob), 'progress shows before the first epoch ends');
SELECT is(rec.cancel(:pjob), 'cancelling', 'and that job can go');

-- rec.cancel stops it within about a second; nothing is stored.
SELECT clock_timestamp() AS t0 \gset
SELECT is(rec.cancel(:job), 'cancelling', 'cancel signals the running job');
SELECT is(rec.wait(:job, '30 s'), 'cancelled', 'the job ends cancelled');
SELECT cmp_ok(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::float8, '<', 1.5::float8, 'within about a second');
SELECT is((SELECT version FROM rec.models WHERE model = 'jm'), 1, 'the cancelled job stored nothing');
SELECT is(rec.cancel(:job), 'cancelled', 'cancelling an ended job changes nothing');

-- pg_cancel_backend on the worker does the same.
SELECT rec.train_async('jm', 'job_src', 'user_id', 'item_id', params => '{"factors": 64, "iterations": 400}') AS job \gset
CREATE FUNCTION pg_temp.worker_pid(job bigint) RETURNS int LANGUAGE plpgsql AS $$
DECLARE p int; deadline timestamptz := clock_timestamp() + interval '30 s';
BEGIN
  LOOP
    SELECT j.pid INTO p FROM rec.jobs j WHERE j.job = worker_pid.job AND j.state = 'running' AND j.epoch >= 1;
    EXIT WHEN p IS NOT NULL OR clock_timestamp() > deadline;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN p;
END $$;
SELECT ok(pg_cancel_backend(pg_temp.worker_pid(:job)), 'pg_cancel_backend reaches the worker');
SELECT is(rec.wait(:job, '30 s'), 'cancelled', 'and the job ends cancelled');

-- A queued job can be cancelled before it starts (submitted and cancelled in one transaction).
BEGIN;
SELECT rec.train_async('jm', 'job_src', 'user_id', 'item_id') AS job \gset
SELECT throws_ok('SELECT rec.wait(' || :job || ')', '55000', NULL, 'waiting in the submitting transaction is refused');
ROLLBACK;
BEGIN;
SELECT rec.train_async('jq', 'job_src', 'user_id', 'item_id') AS job \gset
SELECT is(rec.cancel(:job), 'cancelled', 'a queued job is cancelled at once');
COMMIT;
SELECT is(rec.wait(:job, '10 s'), 'cancelled', 'and never runs');

-- The LibTorch trainer (the GPU code path) runs in the worker on the CPU too.
SELECT rec.train_async('jt', 'job_src', 'user_id', 'item_id', params => '{"factors": 8, "iterations": 3}',
                       device => 'torch-cpu') AS job \gset
SELECT is(rec.wait(:job, '60 s'), 'succeeded', 'a job on the LibTorch trainer succeeds');
SELECT is((SELECT device_used FROM rec.jobs WHERE job = :job), 'torch-cpu', 'and says where it ran');
SELECT is((SELECT count(*) FROM rec.recommend('jt', 7, 5)), 5::bigint, 'its model serves from the ordinary backend');
SELECT is(pg_read_file('/proc/self/maps') LIKE '%libtorch%', false, 'which has not loaded LibTorch');
SELECT is(pg_read_file('/proc/' || split_part(pg_read_file('postmaster.pid'), E'\n', 1) || '/maps') LIKE '%libtorch%',
          false, 'nor has the postmaster');

-- Other families run as jobs too; those without a GPU trainer say so for a GPU device.
SELECT rec.train_async('jk', 'job_src', 'user_id', 'item_id', algorithm => 'item_knn') AS job \gset
SELECT is(rec.wait(:job, '60 s'), 'succeeded', 'an item_knn job succeeds');
SELECT is((SELECT device_used FROM rec.jobs WHERE job = :job), 'cpu', 'on the CPU');
SELECT rec.train_async('jk', 'job_src', 'user_id', 'item_id', algorithm => 'item_knn', device => 'torch-cpu') AS job \gset
SELECT is(rec.wait(:job, '60 s'), 'failed', 'item_knn on a LibTorch device fails');
SELECT is((SELECT error_code FROM rec.jobs WHERE job = :job), '0A000', 'with 0A000');
SELECT rec.train_async('je', 'job_src', 'user_id', 'item_id', algorithm => 'ease') AS job \gset
SELECT is(rec.wait(:job, '60 s'), 'succeeded', 'an ease job succeeds');
SELECT is((SELECT count(*) FROM rec.recommend('je', (SELECT min(user_id) FROM job_src), 5)), 5::bigint, 'and serves');
SELECT rec.train_async('je', 'job_src', 'user_id', 'item_id', algorithm => 'ease', device => 'torch-cpu') AS job \gset
SELECT is(rec.wait(:job, '60 s'), 'failed', 'ease on a LibTorch device fails');
SELECT is((SELECT error_code FROM rec.jobs WHERE job = :job), '0A000', 'with 0A000');
SELECT rec.train_async('jv', 'job_src', 'user_id', 'item_id', algorithm => 'multvae',
                       params => '{"epochs": 3, "hidden": 16, "factors": 4}') AS job \gset
SELECT is(rec.wait(:job, '120 s'), 'succeeded', 'a multvae job succeeds');
SELECT is((SELECT count(*) FROM rec.training_curve('jv')), 3::bigint, 'with its training curve');

-- rec.tune as a background job.
SELECT rec.tune_async('jtuned', 'job_src', 'user_id', 'item_id', grid => '{"factors": [2, 4]}',
                      base_params => '{"iterations": 2}', k => 5) AS job \gset
SELECT is(rec.wait(:job, '60 s'), 'succeeded', 'a tune job succeeds');
SELECT results_eq($$SELECT jsonb_array_length(result), (SELECT count(*) FROM jsonb_array_elements(result) r WHERE (r->>'best')::boolean)
                    FROM rec.jobs WHERE job = $$ || :job, $$VALUES (2, 1::bigint)$$, 'its result holds every combination and one best');
SELECT is((SELECT version FROM rec.jobs WHERE job = :job), (SELECT version FROM rec.models WHERE model = 'jtuned'),
          'and names the version it deployed');
SELECT throws_ok($$SELECT rec.tune_async('j', 'job_src', 'user_id', 'item_id', grid => '{"factors": 4}')$$, '22023', NULL,
                 'a bad grid is refused at submission');

-- Clear failures.
SELECT rec.train_async('jc', 'job_src', 'user_id', 'item_id', device => 'cuda') AS job \gset
SELECT is(rec.wait(:job, '30 s'), 'failed', 'device cuda without a GPU fails the job');
SELECT is((SELECT error_code FROM rec.jobs WHERE job = :job), '0A000', 'with 0A000');
SELECT throws_ok($$SELECT rec.train_async('jx', 'no_such_table', 'user_id', 'item_id')$$, '42P01', NULL,
                 'a missing source is refused at submission');
SELECT rec.train_async('jx', 'SELECT user_id, item_id FROM job_src WHERE user_id / 0 = 1', 'user_id', 'item_id') AS job \gset
SELECT is(rec.wait(:job, '30 s'), 'failed', 'a source query that fails fails the job');
SELECT is((SELECT error_code || ' ' || error FROM rec.jobs WHERE job = :job), '22012 division by zero', 'with PostgreSQL''s own error');
-- Bad data fails the job with the SQLSTATE and message rec.train gives.
SELECT rec.train_async('jn', 'SELECT 1 AS u, 2 AS i, ''NaN''::float8 AS r', 'u', 'i', 'r') AS job \gset
SELECT is(rec.wait(:job, '30 s'), 'failed', 'a job on bad data fails');
SELECT is((SELECT error_code || ': ' || error FROM rec.jobs WHERE job = :job),
          '22000: column "r" has a non-finite value (NaN)', 'like rec.train would');
SELECT throws_ok($$SELECT rec.train_async('j', 'job_src', 'user_id', 'item_id', device => 'gpu')$$, '22023', NULL,
                 'unknown device is refused at submission');
SELECT throws_ok($$SELECT rec.train_async('j', 'job_src', 'user_id', 'item_id', params => '{"factorz": 1}')$$, '22023', NULL,
                 'bad params are refused at submission');
SELECT throws_ok($$SELECT rec.cancel(-1)$$, '42704', NULL, 'unknown job');

-- Jobs run as the role that submitted them.
DROP ROLE IF EXISTS pgrec_alice;
CREATE ROLE pgrec_alice LOGIN;
CREATE TABLE job_secret AS SELECT * FROM job_src;
CREATE TABLE job_alice AS SELECT * FROM job_src WHERE user_id <= 500;
GRANT SELECT ON job_alice TO pgrec_alice;
SELECT rec.train_async('root_job', 'job_src', 'user_id', 'item_id', params => '{"iterations": 1}') AS root_job \gset
SET ROLE pgrec_alice;
SELECT rec.train_async('alice_secret', 'job_secret', 'user_id', 'item_id') AS job \gset
SELECT is(rec.wait(:job, '30 s'), 'failed', 'a role that cannot read the source cannot train on it through a job');
SELECT is((SELECT error_code FROM rec.jobs WHERE job = :job), '42501', 'permission denied');
SELECT rec.train_async('alice_ok', 'job_alice', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}') AS job \gset
SELECT is(rec.wait(:job, '30 s'), 'succeeded', 'the same role trains on its own table');
SELECT is((SELECT created_by::text FROM rec.model_versions WHERE model = 'alice_ok'), 'pgrec_alice', 'as itself');
SELECT is((SELECT count(*) FROM rec.jobs WHERE submitted_by <> 'pgrec_alice'), 0::bigint, 'it sees only its own jobs');
SELECT throws_ok('SELECT rec.cancel(' || :root_job || ')', '42704', NULL, 'and cannot cancel another role''s job');
RESET ROLE;
SELECT is(rec.wait(:root_job, '30 s'), 'succeeded', 'the other role''s job was untouched');
SELECT cmp_ok((SELECT count(DISTINCT submitted_by) FROM rec.jobs), '>=', 2::bigint, 'a superuser sees every job');

\o /dev/null
SELECT rec.drop_model(m) FROM unnest(ARRAY['jm', 'jt', 'jk', 'je', 'jv', 'jtuned', 'alice_ok', 'root_job']) m;
\o
DROP TABLE job_src, job_secret, job_alice;
DROP ROLE pgrec_alice;
SELECT * FROM finish();
