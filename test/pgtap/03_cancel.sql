-- Training stops within about a second of statement_timeout, pg_cancel_backend or
-- pg_terminate_backend, and a stopped training gives its memory back.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT plan(9);

DROP TABLE IF EXISTS cancel_src;
CREATE TABLE cancel_src AS
SELECT u AS user_id, (u * 31 + n * 17) % 4000 AS item_id FROM generate_series(1, 30000) u, generate_series(1, 8) n;

-- Seconds from the start of a statement (default: a long training) until it was canceled; -1 if
-- it finished.
CREATE FUNCTION pg_temp.seconds_until_canceled(statement text DEFAULT
    $s$SELECT rec.train('cancel_me', 'cancel_src', 'user_id', 'item_id', params => '{"factors": 256, "iterations": 1000}')$s$)
RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  EXECUTE statement;
  RETURN -1;
EXCEPTION WHEN query_canceled THEN
  RETURN extract(epoch FROM clock_timestamp() - t0);
END $$;

-- Seconds until another session running a query that contains `marker` stops running it after
-- `signal` (pg_cancel_backend or pg_terminate_backend); -1 if no such session.
CREATE FUNCTION pg_temp.seconds_to_stop(marker text, signal text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
  victim int;
BEGIN
  SELECT pid INTO victim FROM pg_stat_activity
   WHERE query LIKE '%' || marker || '%' AND pid <> pg_backend_pid() AND state = 'active';
  IF victim IS NULL THEN RETURN -1; END IF;
  EXECUTE format('SELECT %I(%s)', signal, victim);
  LOOP
    PERFORM pg_stat_clear_snapshot();  -- pg_stat_activity is otherwise read once per transaction
    EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = victim AND state = 'active')
           OR clock_timestamp() - t0 > interval '10 s';
    PERFORM pg_sleep(0.01);
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - t0);
END $$;

SET statement_timeout = '800ms';
SELECT ok(s BETWEEN 0.7 AND 1.8, format('statement_timeout of 0.8 s stopped training after %s s', round(s::numeric, 2)))
FROM pg_temp.seconds_until_canceled() s;
RESET statement_timeout;

-- pg_cancel_backend on a session that trains.
SELECT dblink_connect('trainer', format('host=%s port=%s dbname=%s user=%s',
       split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'),
       current_database(), current_user));
SELECT is(dblink_send_query('trainer',
          $$SELECT rec.train('cancel_me', 'cancel_src', 'user_id', 'item_id', params => '{"factors": 256, "iterations": 1000}')$$),
          1, 'training started in another session');
SELECT pg_sleep(1.0);
SELECT ok(s BETWEEN 0 AND 1.0, format('pg_cancel_backend stopped training in %s s (< 1 s)', round(s::numeric, 2)))
FROM pg_temp.seconds_to_stop('cancel_me', 'pg_cancel_backend') s;
SELECT is((SELECT count(*) FROM dblink_get_result('trainer', false) AS t(v int)), 0::bigint, 'the canceled call returned no row');
SELECT dblink_disconnect('trainer');
SELECT is((SELECT count(*) FROM rec.model_versions WHERE model = 'cancel_me'), 0::bigint, 'no partial model was stored');

-- statement_timeout during recommend_all (30,000 users x 4,000 items): stopped between blocks.
SELECT rec.train('cancel_all', 'cancel_src', 'user_id', 'item_id', params => '{"factors": 64, "iterations": 1}');
SET statement_timeout = '300ms';
SELECT ok(s BETWEEN 0.25 AND 1.3, format('statement_timeout of 0.3 s stopped recommend_all after %s s', round(s::numeric, 2)))
FROM pg_temp.seconds_until_canceled($s$SELECT count(*) FROM rec.recommend_all('cancel_all', 50)$s$) s;
RESET statement_timeout;

-- pg_terminate_backend on a session that trains: it is gone within a second, nothing stored.
SELECT dblink_connect('doomed', format('host=%s port=%s dbname=%s user=%s',
       split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'),
       current_database(), current_user));
SELECT dblink_send_query('doomed',
       $$SELECT rec.train('terminate_me', 'cancel_src', 'user_id', 'item_id', params => '{"factors": 256, "iterations": 1000}')$$);
SELECT pg_sleep(1.0);
SELECT ok(s BETWEEN 0 AND 1.0, format('pg_terminate_backend ended the training session in %s s (< 1 s)', round(s::numeric, 2)))
FROM pg_temp.seconds_to_stop('terminate_me', 'pg_terminate_backend') s;
SELECT is((SELECT count(*) FROM rec.model_versions WHERE model = 'terminate_me'), 0::bigint, 'the terminated training stored nothing');

-- Memory: eight more trainings stopped by statement_timeout leave this backend's resident size
-- where two left it (each one holds over 40 MB of factors and interactions while it runs).
CREATE FUNCTION pg_temp.rss_mb() RETURNS float8 LANGUAGE sql AS $$
  SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmRSS:\s+(\d+) kB'))[1]::float8 / 1024
$$;
SET statement_timeout = '400ms';
SELECT pg_temp.seconds_until_canceled() > 0 AS warm_up;
SELECT pg_temp.seconds_until_canceled() > 0 AS warm_up;
RESET statement_timeout;
CREATE TEMP TABLE rss AS SELECT pg_temp.rss_mb() AS after_two;
SET statement_timeout = '400ms';
SELECT pg_temp.seconds_until_canceled() > 0 AS stopped;
SELECT pg_temp.seconds_until_canceled() > 0 AS stopped;
SELECT pg_temp.seconds_until_canceled() > 0 AS stopped;
SELECT pg_temp.seconds_until_canceled() > 0 AS stopped;
SELECT pg_temp.seconds_until_canceled() > 0 AS stopped;
SELECT pg_temp.seconds_until_canceled() > 0 AS stopped;
SELECT pg_temp.seconds_until_canceled() > 0 AS stopped;
SELECT pg_temp.seconds_until_canceled() > 0 AS stopped;
RESET statement_timeout;
SELECT ok(pg_temp.rss_mb() - after_two < 25,
          format('backend memory after 10 stopped trainings: %s MB, after 2: %s MB',
                 round(pg_temp.rss_mb()::numeric), round(after_two::numeric)))
FROM rss;

DROP TABLE cancel_src;
SELECT * FROM finish();
