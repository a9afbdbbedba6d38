-- recommend_all: every user's top-k in blocks of matrix products, streamed; the same lists as
-- recommend gives one user at a time (scores may differ in the last float digits).
CREATE TABLE ra AS
SELECT u AS user_id, (u % 5) + 5 * ((hashint4(u * 100 + n) & 2147483647) % 60) AS item_id
FROM generate_series(1, 700) u, generate_series(1, 10) n;
SELECT rec.train('ra', 'ra', 'user_id', 'item_id', params => '{"factors": 8, "iterations": 6}');

SET pgrec.threads = 2;
CREATE TEMP TABLE batch AS SELECT * FROM rec.recommend_all('ra', 5);
CREATE TEMP TABLE single AS SELECT u AS user_id, r.* FROM generate_series(1, 700) u, rec.recommend('ra', u, 5) r;
RESET pgrec.threads;
SELECT count(*) AS rows, count(DISTINCT user_id) AS users FROM batch;
-- Same items per user (set and order) for nearly all users; scores within 1e-4 everywhere.
SELECT count(*) FILTER (WHERE b.l = s.l) >= 693 AS same_lists
FROM (SELECT user_id, array_agg(item_id ORDER BY rank) l FROM batch GROUP BY 1) b
JOIN (SELECT user_id, array_agg(item_id ORDER BY rank) l FROM single GROUP BY 1) s USING (user_id);
SELECT max(abs(b.score - s.score)) < 1e-4 AS same_scores FROM batch b JOIN single s USING (user_id, item_id);
-- Seen items are excluded unless asked; the ranks run 1..k.
SELECT count(*) AS seen_rows FROM batch b JOIN ra USING (user_id, item_id);
SELECT count(*) > 0 AS seen_when_asked FROM rec.recommend_all('ra', 5, exclude_seen => false) b JOIN ra USING (user_id, item_id);
SELECT min(rank), max(rank) FROM batch;

-- A list of users, in order; an unknown id gets the popular items, echoed as given.
SELECT user_id, count(*) AS rows, bool_and(item_id IN (SELECT item_id FROM rec.recommend('ra', user_id, 3))) AS as_recommend
FROM rec.recommend_all('ra', 3, users => ARRAY[5, 999999, 6]) GROUP BY user_id ORDER BY user_id;
SELECT count(*) AS rows FROM rec.recommend_all('ra', 3, users => '{}');
SELECT count(*) AS rows FROM rec.recommend_all_keys('ra', 3, users => ARRAY['5', 'nobody']);

-- Other model kinds go user by user, with the same results as recommend.
SELECT rec.train('ra_knn', 'ra', 'user_id', 'item_id', algorithm => 'item_knn');
SELECT count(*) = 0 AS same_as_recommend FROM (
  SELECT user_id, item_id, rank FROM rec.recommend_all('ra_knn', 4, users => ARRAY[1, 2, 3, 4])
  EXCEPT SELECT u, r.item_id, r.rank FROM generate_series(1, 4) u, rec.recommend('ra_knn', u, 4) r) d;

-- A LATERAL join over many users runs in parallel workers (recommend is PARALLEL SAFE), with
-- the same rows as a serial plan.
CREATE TABLE ra_users AS SELECT generate_series(1, 700) AS id;
ANALYZE ra_users;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT u.id, r.item_id FROM ra_users u, LATERAL rec.recommend('ra', u.id, 5) r;
CREATE TEMP TABLE parallel_rows AS SELECT u.id, r.item_id FROM ra_users u, LATERAL rec.recommend('ra', u.id, 5) r;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT count(*) AS rows, count(*) FILTER (WHERE (id, item_id) IN (SELECT user_id, item_id FROM single)) AS as_serial
FROM parallel_rows;
DROP TABLE ra_users;

-- Errors: k out of range, unknown model; NULL model gives no rows; text ids need the _keys form.
SELECT * FROM rec.recommend_all('ra', 0);
SELECT * FROM rec.recommend_all('nope', 5);
SELECT count(*) FROM rec.recommend_all(NULL, 5);
CREATE TABLE ra_text AS SELECT 'u' || user_id AS user_id, item_id FROM ra;
SELECT rec.train('ra_text', 'ra_text', 'user_id', 'item_id', algorithm => 'popularity');
SELECT * FROM rec.recommend_all('ra_text', 1) LIMIT 1;
SELECT user_key FROM rec.recommend_all_keys('ra_text', 1) ORDER BY 1 LIMIT 2;
-- Stopped by a timeout between blocks like any long query.
SELECT rec.drop_model(m) FROM unnest(ARRAY['ra', 'ra_knn', 'ra_text']) m;
DROP TABLE ra, ra_text;
