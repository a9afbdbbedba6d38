-- Bad input gets a clear error; nothing is half-written.
SELECT * FROM rec.recommend('no_such_model', 1, 10);
SELECT rec.predict('no_such_model', 1, 1);
SELECT rec.drop_model('no_such_model');
SELECT rec.deploy('m', 99);
SELECT * FROM rec.recommend('m', 1, 0);
SELECT * FROM rec.recommend('m', 1, -3);
SELECT * FROM rec.recommend('m', 1, 1000000);
SELECT * FROM rec.similar_items('m', 1, 0);
SELECT rec.train('x', 'no_such_table', 'user_id', 'item_id');
SELECT rec.train('x', 'ratings', 'no_such_column', 'item_id');
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', rating_col => 'no_such_column');
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', algorithm => 'magic');
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', params => '{"factorz": 8}');
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', params => '{"factors": -8}');
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', params => '{"factors": "many"}');
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', params => '{"iterations": 2.5}');
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', params => '{"explicit": true}');
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', params => '[1, 2]');
SELECT rec.train('x', 'ratings', 'user_id', 'item_id', params => '{"solver": "magic"}');
SELECT rec.train(NULL, 'ratings', 'user_id', 'item_id');
SELECT rec.train('', 'ratings', 'user_id', 'item_id');
SELECT rec.train('x', 'SELECT user_id, item_id FROM ratings WHERE false', 'user_id', 'item_id');
SELECT rec.train('x', 'SELECT 1 AS u, 2 AS i; DROP TABLE ratings', 'u', 'i');
SELECT rec.train('x', 'SELECT 1 AS u, 2 AS i, ''NaN''::float8 AS r', 'u', 'i', 'r');
SELECT rec.train('x', 'SELECT 1 AS u, 2 AS i, ''-Infinity''::float8 AS r', 'u', 'i', 'r');
SELECT rec.train('x', 'SELECT 1 AS u, 2 AS i, 1e300::float8 AS r', 'u', 'i', 'r');
SELECT rec.train('x', 'SELECT 1 AS u, 2 AS i, ''abc''::text AS r', 'u', 'i', 'r');
SELECT rec.train('x', 'WITH d AS (DELETE FROM ratings RETURNING *) SELECT user_id, item_id FROM d', 'user_id', 'item_id');
-- NULL arguments of serving functions give no rows (they are strict).
SELECT count(*) FROM rec.recommend('m', NULL::int, 10);
SELECT rec.predict('m', 1, NULL::int) IS NULL AS null_predict;
-- After all of that, nothing named x exists and the data is intact.
SELECT count(*) AS x_versions FROM rec.model_versions WHERE model = 'x';
SELECT count(*) AS ratings FROM ratings;
