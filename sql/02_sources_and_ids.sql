-- Sources may be tables, views or queries; ids may be integers, text or uuid.
CREATE VIEW recent AS SELECT * FROM ratings WHERE user_id <= 100;
SELECT rec.train('from_view', 'recent', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}');
SELECT n_users FROM rec.models WHERE model = 'from_view';

SELECT rec.train('from_query', 'SELECT user_id AS u, item_id AS i FROM ratings WHERE item_id % 2 = 0',
                 'u', 'i', params => '{"factors": 4, "iterations": 2}');
SELECT n_items, user_type FROM rec.models WHERE model = 'from_query';

-- text and uuid ids: rec.recommend_keys returns the item ids as text.
CREATE TABLE text_ratings AS
SELECT 'user-' || user_id AS who, md5(item_id::text)::uuid AS what FROM ratings;
SELECT rec.train('keys', 'text_ratings', 'who', 'what', params => '{"factors": 4, "iterations": 3}');
SELECT user_type, item_type FROM rec.models WHERE model = 'keys';
SELECT count(*) AS rows, bool_and(k.item_key::uuid IN (SELECT what FROM text_ratings)) AS known
FROM rec.recommend_keys('keys', 'user-42'::text, 5) k;
SELECT rec.predict('keys', 'user-42'::text, md5('2')::uuid) IS NOT NULL AS predicted;
SELECT * FROM rec.recommend('keys', 'user-42'::text, 5);

-- bigint ids beyond the int range survive the round trip.
CREATE TABLE big_ratings AS SELECT user_id::bigint + 5000000000 AS u, item_id::bigint + 9000000000 AS i FROM ratings;
SELECT rec.train('big', 'big_ratings', 'u', 'i', params => '{"factors": 4, "iterations": 3}');
SELECT bool_and(item_id > 9000000000) AS big_ids, count(*) FROM rec.recommend('big', 5000000042, 5);

-- NULL users and items are skipped and counted.
CREATE TABLE holes AS SELECT user_id, item_id FROM ratings
UNION ALL SELECT NULL, 1 UNION ALL SELECT 1, NULL;
SELECT rec.train('holes', 'holes', 'user_id', 'item_id', params => '{"factors": 2, "iterations": 1}');
SELECT rows_skipped, n_interactions FROM rec.models WHERE model = 'holes';

-- A column name is a name, never SQL.
CREATE TABLE odd ("user; DROP TABLE ratings; --" int, "it""em" int);
INSERT INTO odd SELECT user_id, item_id FROM ratings;
SELECT rec.train('odd', 'odd', 'user; DROP TABLE ratings; --', 'it"em', params => '{"factors": 2, "iterations": 1}');
SELECT count(*) > 0 AS ratings_still_there FROM ratings;

SELECT rec.drop_model(model) FROM rec.models WHERE model <> 'm' ORDER BY model;
