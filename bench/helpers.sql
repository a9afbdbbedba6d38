-- Helpers for the benchmark cases (schema bench in the benchmark database).
CREATE SCHEMA IF NOT EXISTS bench;

-- Seconds a statement takes.
CREATE OR REPLACE FUNCTION bench.seconds(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  EXECUTE q;
  RETURN extract(epoch FROM clock_timestamp() - t0);
END $$;

-- p50 and p99 (ms) of n rec.recommend(model, user, 10) calls in this session, after a warm-up call
-- (exact => true: bypassing an approximate index).
CREATE OR REPLACE FUNCTION bench.recommend_latency(model text, users int[], n int, exact boolean DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz;
  ms float8[] := '{}';
BEGIN
  PERFORM count(*) FROM rec.recommend(model, users[1], 10, exact => exact);
  FOR i IN 1..n LOOP
    t0 := clock_timestamp();
    PERFORM count(*) FROM rec.recommend(model, users[1 + (i * 7919) % array_length(users, 1)], 10, exact => exact);
    ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RETURN (SELECT format('p50 %s ms, p99 %s ms',
                        round(percentile_cont(0.5) WITHIN GROUP (ORDER BY v)::numeric, 3),
                        round(percentile_cont(0.99) WITHIN GROUP (ORDER BY v)::numeric, 3))
          FROM unnest(ms) v);
END $$;

-- This backend's peak resident memory (VmHWM), as text in MB.
CREATE OR REPLACE FUNCTION bench.peak_memory() RETURNS text LANGUAGE sql AS $$
  SELECT round(substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s+(\d+) kB')::numeric / 1024, 1) || ' MB'
$$;

-- Metric values of an evaluation, formatted "name value, ...", in the order given.
CREATE OR REPLACE FUNCTION bench.metrics(model text, test text, names text[], k int DEFAULT 10)
RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(e.metric || ' ' || round(e.value::numeric, 4), ', ' ORDER BY array_position(names, split_part(e.metric, '@', 1)))
  FROM rec.evaluate(model, test, k => k) e
  WHERE split_part(e.metric, '@', 1) = ANY (names)
$$;

-- One row of the results table.
CREATE OR REPLACE FUNCTION bench.row(dataset text, protocol text, algorithm text, metrics text,
                                     train text, p50 text, anchor text) RETURNS text LANGUAGE sql AS $$
  SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s |', dataset, protocol, algorithm,
                coalesce(metrics, ''), coalesce(train, ''), coalesce(p50, ''), bench.peak_memory(), coalesce(anchor, ''))
$$;

-- Trains `algorithm` on train_source, evaluates it on test_source (full ranking) and returns
-- its results row; the model is dropped afterwards.
-- Neural models also report their epochs (run, kept) and seconds per epoch.
CREATE OR REPLACE FUNCTION bench.ranking_row(dataset text, protocol text, label text, algorithm text,
                                             params jsonb, train_source text, test_source text,
                                             anchor text DEFAULT 'no published anchor for this protocol',
                                             names text[] DEFAULT ARRAY['precision', 'recall', 'ndcg', 'map', 'coverage'])
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  model text := 'b_' || algorithm;
  train_s float8;
  result text;
  users int[];
  epochs int;
  kept int;
BEGIN
  EXECUTE format('SELECT array_agg(DISTINCT user_id) FROM %s', train_source) INTO users;
  train_s := bench.seconds(format('SELECT rec.train(%L, %L, %L, %L, algorithm => %L, params => %L)',
                                  model, train_source, 'user_id', 'item_id', algorithm, params));
  SELECT count(*), max(epoch) FILTER (WHERE best) INTO epochs, kept FROM rec.training_curve(model);
  result := bench.row(dataset, protocol, label,
                      bench.metrics(model, test_source, names),
                      round(train_s::numeric, 3) || ' s' ||
                        CASE WHEN epochs > 0 THEN format(' (%s epochs, best %s; %s s/epoch)', epochs, kept,
                                                         round((train_s / epochs)::numeric, 2)) ELSE '' END,
                      bench.recommend_latency(model, users, 200),
                      anchor);
  PERFORM rec.drop_model(model);
  RETURN result;
END $$;

-- Follows a running job until it ends: seconds from submission to start, training seconds, the
-- worker's peak memory (VmHWM), and the p50 of recommend calls on `probe` made meanwhile.
CREATE OR REPLACE FUNCTION bench.watch_job(job bigint, probe text, users int[],
                                           OUT state text, OUT queue_s float8, OUT train_s float8,
                                           OUT peak_mb float8, OUT p50_ms float8, OUT calls int)
LANGUAGE plpgsql AS $$
DECLARE
  j record;
  t0 timestamptz;
  ms float8[] := '{}';
  hwm float8;
BEGIN
  peak_mb := 0;
  LOOP
    SELECT * INTO j FROM rec.jobs WHERE rec.jobs.job = watch_job.job;
    EXIT WHEN j.state IN ('succeeded', 'failed', 'cancelled');
    IF j.state = 'running' AND j.pid IS NOT NULL THEN
      BEGIN
        hwm := substring(pg_read_file('/proc/' || j.pid || '/status') FROM 'VmHWM:\s+(\d+) kB')::float8 / 1024;
        peak_mb := greatest(peak_mb, hwm);
      EXCEPTION WHEN OTHERS THEN NULL;  -- the worker just exited
      END;
      t0 := clock_timestamp();
      PERFORM count(*) FROM rec.recommend(probe, users[1 + (array_length(ms, 1) * 7919) % array_length(users, 1)], 10);
      ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
    END IF;
    PERFORM pg_sleep(0.02);
  END LOOP;
  state := j.state;
  queue_s := extract(epoch FROM j.started_at - j.submitted_at);
  train_s := extract(epoch FROM j.finished_at - j.started_at);
  calls := coalesce(array_length(ms, 1), 0);
  p50_ms := (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(ms) v);
END $$;
