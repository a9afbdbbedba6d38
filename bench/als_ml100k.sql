-- ALS on MovieLens 100K inside PostgreSQL: end-to-end training time, recommend latency in one
-- session, and full-ranking accuracy on ua.test. Run by bench/run, which loads the tables
-- ml100k (u.data), ua_base and ua_test first. Prints one row per figure.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE OR REPLACE FUNCTION pg_temp.seconds(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  EXECUTE q;
  RETURN extract(epoch FROM clock_timestamp() - t0);
END $$;

-- Per-call latencies of n recommend calls in this session (the model is loaded by a warm-up call).
CREATE OR REPLACE FUNCTION pg_temp.recommend_latencies(model text, n int) RETURNS SETOF float8 LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz;
  users int[] := ARRAY(SELECT DISTINCT user_id FROM ml100k ORDER BY 1);
BEGIN
  PERFORM count(*) FROM rec.recommend(model, users[1], 10);
  FOR i IN 1..n LOOP
    t0 := clock_timestamp();
    PERFORM count(*) FROM rec.recommend(model, users[1 + (i * 7919) % array_length(users, 1)], 10);
    RETURN NEXT extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
END $$;

CREATE TEMP TABLE bench (what text, dataset text, protocol text, figure text, seconds float8);

INSERT INTO bench
SELECT 'ALS implicit 64 f, 15 it: rec.train end to end', 'ML-100K u.data (100,000 rows)',
       'read table + train + store, pgrec.threads=' || current_setting('pgrec.threads'), '', s
FROM pg_temp.seconds($q$SELECT rec.train('bench_full', 'ml100k', 'user_id', 'item_id',
                                          params => '{"factors": 64, "iterations": 15}')$q$) s;

SET pgrec.threads = 2;
INSERT INTO bench
SELECT 'ALS implicit 64 f, 15 it: rec.train end to end', 'ML-100K u.data (100,000 rows)',
       'read table + train + store, pgrec.threads=' || current_setting('pgrec.threads'), '', s
FROM pg_temp.seconds($q$SELECT rec.train('bench_full', 'ml100k', 'user_id', 'item_id',
                                          params => '{"factors": 64, "iterations": 15}')$q$) s;
RESET pgrec.threads;

INSERT INTO bench
SELECT 'rec.recommend(model, user, 10), warm session', 'ML-100K u.data',
       '1,000 calls, one session, plpgsql loop',
       format('p50 %s ms, p99 %s ms',
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3),
              round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 3)),
       sum(ms) / 1000
FROM pg_temp.recommend_latencies('bench_full', 1000) ms;

-- Accuracy: train on ua.base (ratings as implicit interactions), rank every item for each
-- ua.test user, excluding the user's ua.base items; relevant = the user's ua.test items.
INSERT INTO bench
SELECT 'ALS implicit 64 f, 15 it: train on ua.base', 'ML-100K ua.base (90,570 rows)', 'end to end', '', s
FROM pg_temp.seconds($q$SELECT rec.train('bench_ua', 'ua_base', 'user_id', 'item_id',
                                          params => '{"factors": 64, "iterations": 15}')$q$) s;

CREATE TEMP TABLE recs AS
SELECT t.user_id, r.item_id, r.rank
FROM (SELECT DISTINCT user_id FROM ua_test) t, LATERAL rec.recommend('bench_ua', t.user_id, 10) r;

WITH hits AS (
  SELECT r.user_id, r.rank, EXISTS (SELECT 1 FROM ua_test x WHERE x.user_id = r.user_id AND x.item_id = r.item_id) AS hit
  FROM recs r),
per_user AS (
  SELECT h.user_id,
         avg(h.hit::int) AS precision,
         sum(CASE WHEN h.hit THEN 1 / log(2, h.rank + 1) ELSE 0 END) /
           (SELECT sum(1 / log(2, k + 1)) FROM generate_series(1, least(10, (SELECT count(*) FROM ua_test x WHERE x.user_id = h.user_id))) k) AS ndcg
  FROM hits h GROUP BY h.user_id)
INSERT INTO bench
SELECT 'ALS implicit 64 f, 15 it: accuracy', 'ML-100K ua.base -> ua.test',
       'full ranking over all items, ua.base items excluded, 943 users',
       format('P@10 %s, NDCG@10 %s', round(avg(precision), 4), round(avg(ndcg), 4)), NULL
FROM per_user;

\o /dev/null
SELECT rec.drop_model('bench_full'), rec.drop_model('bench_ua');
\o
\pset format unaligned
\pset tuples_only on
\pset fieldsep ' | '
SELECT '| ' || what, dataset, protocol, figure, coalesce(round(seconds::numeric, 3) || ' s', '') || ' |' FROM bench;
