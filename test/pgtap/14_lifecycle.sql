-- The lifecycle functions and their privileges: only a model's owner schedules, unschedules and
-- updates it; roles that may not use it see neither its schedule, its history, its drift nor what
-- it served; a stored source is read as the owner; the scheduler's own functions are not for
-- calling; and a schedule whose owner lost access fails visibly once, instead of retrying.
-- Not wrapped in a transaction: scheduled jobs run in workers that see committed rows only.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
SELECT plan(36);

DROP TABLE IF EXISTS lc_alice_src;
SELECT count(rec.drop_model(m)) AS dropped FROM unnest(ARRAY['lca', 'lcb']) m
 WHERE EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = m) \gset
DROP ROLE IF EXISTS lc_alice;
DROP ROLE IF EXISTS lc_bob;
DROP ROLE IF EXISTS lc_carol;
CREATE ROLE lc_alice LOGIN;
CREATE ROLE lc_bob LOGIN;
CREATE ROLE lc_carol LOGIN;
CREATE TABLE lc_alice_src AS
SELECT u AS user_id, (u * 7 + n * 3) % 40 AS item_id, n * 100 + u AS ts FROM generate_series(1, 80) u, generate_series(1, 8) n;
GRANT SELECT ON lc_alice_src TO lc_alice;

SET ROLE lc_alice;
SELECT lives_ok($$SELECT rec.train('lca', 'lc_alice_src', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 3}')$$,
                'alice trains lca');
SELECT lives_ok($$SELECT rec.grant_model('lca', 'lc_carol')$$, 'and lets carol use it');
SELECT lives_ok($$SELECT rec.schedule('lca', '1 day')$$, 'alice schedules her model');
SET pgrec.log_recommendations = on;
SELECT is((SELECT count(*) FROM rec.recommend('lca', 3, 5)), 5::bigint, 'alice is served, and it is logged');
RESET pgrec.log_recommendations;
RESET ROLE;

-- How many rows a statement changed.
CREATE FUNCTION pg_temp.changed(statement text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint; BEGIN EXECUTE statement; GET DIAGNOSTICS n = ROW_COUNT; RETURN n; END $$;

-- Bob may not use lca: he can neither change its lifecycle nor read any of it.
SET ROLE lc_bob;
SELECT throws_ok($$SELECT rec.schedule('lca', '1 hour')$$, '42501', NULL, 'bob cannot schedule it');
SELECT throws_ok($$SELECT rec.unschedule('lca')$$, '42501', NULL, 'nor unschedule it');
SELECT throws_ok($$SELECT rec.update_items('lca', 'SELECT 1 AS user_id, 2 AS item_id')$$, '42501', NULL, 'nor update its items');
SELECT throws_ok($$SELECT * FROM rec.model_history('lca')$$, '42501', NULL, 'nor read its history');
SELECT throws_ok($$SELECT * FROM rec.drift('lca')$$, '42501', NULL, 'nor its drift');
SELECT throws_ok($$SELECT * FROM rec.online_metrics('lca', 'SELECT 1 AS user_id, 2 AS item_id, now() AS at', time_col => 'at')$$,
                 '42501', NULL, 'nor its online metrics');
SELECT is((SELECT count(*) FROM rec.schedules WHERE model = 'lca'), 0::bigint, 'its schedule is hidden');
SELECT is((SELECT count(*) FROM rec.model_schedules WHERE model = 'lca'), 0::bigint, 'in the table too');
SELECT is((SELECT count(*) FROM rec.served WHERE model = 'lca'), 0::bigint, 'what it served is hidden');
SELECT throws_ok($$INSERT INTO rec.served (model, version, user_id, items) VALUES ('lca', 1, '3', ARRAY['1'])$$,
                 '42501', NULL, 'bob cannot write into its log');
SELECT is(pg_temp.changed($$UPDATE rec.model_schedules SET every = '1 s' WHERE model = 'lca'$$), 0::bigint,
          'an UPDATE of its schedule row changes nothing');
SELECT throws_ok($$SELECT rec._run_schedules()$$, '42501', NULL, 'the scheduler''s pass is not for calling');
SELECT throws_ok($$SELECT rec._source_rows(1, 10)$$, '42501', NULL, 'nor its row count');
RESET ROLE;

-- Carol may use it: she reads its schedule, history, drift and log, and changes none of them.
SET ROLE lc_carol;
SELECT is((SELECT count(*) FROM rec.schedules WHERE model = 'lca'), 1::bigint, 'carol sees its schedule');
SELECT is((SELECT count(*) FROM rec.model_history('lca')), 1::bigint, 'and its history');
SELECT is((SELECT rows_now FROM rec.drift('lca')), 640::bigint,
          'drift reads the stored source as its owner (carol cannot read lc_alice_src herself)');
SELECT throws_ok($$SELECT count(*) FROM lc_alice_src$$, '42501', NULL, 'indeed she cannot');
SELECT is((SELECT count(*) FROM rec.served WHERE model = 'lca'), 1::bigint, 'carol reads what it served');
SET pgrec.log_recommendations = on;
SELECT is((SELECT count(*) FROM rec.recommend('lca', 4, 3)), 3::bigint, 'carol is served, logged as herself');
RESET pgrec.log_recommendations;
SELECT is(pg_temp.changed($$DELETE FROM rec.served WHERE model = 'lca'$$), 0::bigint, 'she cannot delete its log');
SELECT throws_ok($$SELECT rec.schedule('lca', '1 hour')$$, '42501', NULL, 'nor schedule it');
SELECT throws_ok($$SELECT rec.unschedule('lca')$$, '42501', NULL, 'nor unschedule it');
SELECT throws_ok($$SELECT rec.update_items('lca', 'SELECT 1 AS user_id, 2 AS item_id')$$, '42501', NULL, 'nor update its items');
RESET ROLE;
SELECT results_eq($$SELECT user_id, pg_catalog.format('%s', served_by::regrole) FROM rec.served WHERE model = 'lca' ORDER BY id$$,
                  $$VALUES ('3', 'lc_alice'), ('4', 'lc_carol')$$, 'each list is logged with the role it was served to');

-- The owner loses access to the source: the scheduled job fails, and the schedule shows it as
-- failed once instead of retrying.
SET ROLE lc_alice;
SELECT lives_ok($$SELECT rec.schedule('lca', '1 s', start_at => now() - interval '1 s')$$, 'alice schedules lca to run now');
RESET ROLE;
REVOKE SELECT ON lc_alice_src FROM lc_alice;
CREATE FUNCTION pg_temp.schedule_state(m text, want text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE deadline timestamptz := clock_timestamp() + interval '60 s'; got text;
BEGIN
  LOOP
    SELECT state INTO got FROM rec.schedules WHERE model = m;
    EXIT WHEN got = want OR clock_timestamp() > deadline;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN got;
END $$;
SELECT is(pg_temp.schedule_state('lca', 'failed'), 'failed', 'the schedule ends failed');
SELECT ok((SELECT last_error LIKE '%permission denied%' FROM rec.schedules WHERE model = 'lca'),
          'and says why: permission denied for the source');
SELECT is((SELECT last_outcome FROM rec.schedules WHERE model = 'lca'), 'failed', 'its last job failed');
SELECT pg_sleep(3) AS slept \gset
-- (more than one launcher pass)
SELECT is((SELECT runs FROM rec.schedules WHERE model = 'lca'), 1, 'it ran once and is not retried');
SELECT is((SELECT version FROM rec.models WHERE model = 'lca'), 1, 'the serving version is unchanged');

-- A schedule whose owner may no longer log in fails without submitting a job.
GRANT SELECT ON lc_alice_src TO lc_alice;
SET ROLE lc_alice;
SELECT rec.train('lcb', 'lc_alice_src', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}') AS version \gset
SELECT rec.schedule('lcb', '1 s', start_at => now() + interval '2 s') AS first_run \gset
RESET ROLE;
ALTER ROLE lc_alice NOLOGIN;
SELECT is(pg_temp.schedule_state('lcb', 'failed'), 'failed', 'a NOLOGIN owner''s schedule fails');
SELECT is((SELECT (runs, last_job IS NULL, last_error LIKE '%cannot log in%') FROM rec.schedules WHERE model = 'lcb'),
          (0, true, true), 'without a job, saying the role cannot log in');

SELECT * FROM finish();
ALTER ROLE lc_alice LOGIN;
SELECT count(rec.drop_model(m)) AS dropped FROM unnest(ARRAY['lca', 'lcb']) m \gset
DROP FUNCTION pg_temp.changed(text), pg_temp.schedule_state(text, text);
DROP TABLE lc_alice_src;
DROP ROLE lc_alice;
DROP ROLE lc_bob;
DROP ROLE lc_carol;
