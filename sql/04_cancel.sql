-- statement_timeout stops training and leaves no partial model.
CREATE TABLE big AS SELECT u AS user_id, (u * 31 + n * 17) % 3000 AS item_id
FROM generate_series(1, 20000) u, generate_series(1, 10) n;
SET statement_timeout = '300ms';
SELECT rec.train('slow', 'big', 'user_id', 'item_id', params => '{"factors": 128, "iterations": 1000}');
RESET statement_timeout;
SELECT count(*) AS slow_versions FROM rec.model_versions WHERE model = 'slow';
-- The session is usable afterwards.
SELECT count(*) FROM rec.recommend('m', 42, 3);
