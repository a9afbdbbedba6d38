-- Filters that do not lose rows: candidates and exclusions are applied before ranking, so a
-- selective filter still yields k rows (unlike filtering the output of a top-k).
CREATE TABLE catalog AS SELECT i AS id, (ARRAY['drama', 'comedy', 'horror'])[i % 3 + 1] AS genre,
       i % 100 = 7 AS rare FROM generate_series(0, 4999) i;
CREATE TABLE clicks AS
SELECT u AS user_id, ((u * 7919 + n * 104729) % 1250) * 4 + u % 4 AS item_id
FROM generate_series(1, 600) u, generate_series(1, 15) n;
SELECT rec.train('cat', 'clicks', 'user_id', 'item_id', params => '{"factors": 8, "iterations": 5}');

-- A 1%-selective predicate: ranking only its items gives k rows, all passing it.
SELECT count(*) AS rows, bool_and(c.rare) AS all_rare
FROM rec.recommend('cat', 42, 10, candidates => ARRAY(SELECT id FROM catalog WHERE rare)) r
JOIN catalog c ON c.id = r.item_id;
-- Filtering the top 10 afterwards keeps almost nothing.
SELECT count(*) < 10 AS post_filter_loses_rows
FROM rec.recommend('cat', 42, 10) r JOIN catalog c ON c.id = r.item_id WHERE c.rare;

-- The candidates are ranked as recommend would rank them.
WITH filtered AS (SELECT item_id, score FROM rec.recommend('cat', 42, 5, candidates => ARRAY(SELECT id FROM catalog WHERE genre = 'horror'))),
full_list AS (SELECT r.item_id, r.score FROM rec.recommend('cat', 42, 5000) r JOIN catalog c ON c.id = r.item_id
              WHERE c.genre = 'horror' ORDER BY r.rank LIMIT 5)
SELECT (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM filtered)
     = (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM full_list) AS same_as_full_ranking;

-- exclude drops items; both work for the popular fallback and for fold-in too.
SELECT count(*) AS rows, bool_and(item_id NOT IN (SELECT item_id FROM rec.recommend('cat', 42, 3))) AS excluded
FROM rec.recommend('cat', 42, 3, exclude => ARRAY(SELECT item_id FROM rec.recommend('cat', 42, 3)));
SELECT count(*) AS rows, bool_and(item_id % 100 = 7) AS rare_only
FROM rec.recommend('cat', -1, 5, candidates => ARRAY(SELECT id FROM catalog WHERE rare));
SELECT count(*) AS rows, bool_and(item_id % 100 = 7) AS rare_only
FROM rec.recommend_for_items('cat', ARRAY[1, 5, 9], k => 5, candidates => ARRAY(SELECT id FROM catalog WHERE rare));
-- Unknown ids in the lists are ignored; an empty candidate list gives nothing.
SELECT count(*) AS rows FROM rec.recommend('cat', 42, 5, candidates => ARRAY[7, 107, 999999]);
SELECT count(*) AS rows FROM rec.recommend('cat', 42, 5, candidates => '{}');
-- NULL where a value is needed is an error; NULL model or user gives no rows.
SELECT * FROM rec.recommend('cat', 42, NULL);
SELECT count(*) AS rows FROM rec.recommend('cat', NULL::int, 5);

SELECT rec.drop_model('cat');
DROP TABLE catalog, clicks;
