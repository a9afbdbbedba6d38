-- Large catalogs: factor models from pgrec.ann_min_items items on get an IVF index, and
-- rec.recommend searches it unless exact => true; filters and seen items never cost rows.
CREATE TABLE ann_big AS
SELECT u AS user_id, (u % 20) * 100 + (hashint4(u * 37 + n) & 2147483647) % 100 AS item_id
FROM generate_series(1, 1500) u, generate_series(1, 12) n;
SET pgrec.ann_min_items = 1000;
SELECT rec.train('ann_big', 'ann_big', 'user_id', 'item_id', params => '{"factors": 16, "iterations": 6}');
SELECT n_items, (params->>'ann_lists')::int AS ann_lists FROM rec.models WHERE model = 'ann_big';
RESET pgrec.ann_min_items;
SELECT rec.train('small', 'ann_big', 'user_id', 'item_id', params => '{"factors": 16, "iterations": 6}');
SELECT params ? 'ann_lists' AS small_has_index FROM rec.models WHERE model = 'small';

-- Probing every list is the exact search; few lists find most of the exact top 10.
CREATE FUNCTION pg_temp.overlap(probes int) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE hits bigint;
BEGIN
  PERFORM set_config('pgrec.ann_probes', probes::text, true);
  SELECT count(*) INTO hits
  FROM generate_series(1, 1500, 15) u,
       LATERAL (SELECT item_id FROM rec.recommend('ann_big', u, 10)
                INTERSECT SELECT item_id FROM rec.recommend('ann_big', u, 10, exact => true)) x;
  RETURN round(hits / 1000.0, 2);
END $$;
SELECT pg_temp.overlap(1000) AS all_lists, pg_temp.overlap(8) >= 0.9 AS eight_lists_find_90_percent;

-- Seen items stay out; a filter that leaves 1% of the catalog still yields k rows.
SET pgrec.ann_probes = 2;
SELECT count(*) AS seen FROM rec.recommend('ann_big', 7, 10) r JOIN ann_big b ON b.user_id = 7 AND b.item_id = r.item_id;
SELECT count(*) AS rows, bool_and(item_id % 100 = 3) AS only_unexcluded
FROM rec.recommend('ann_big', 7, 10, exclude => ARRAY(SELECT i FROM generate_series(0, 1999) i WHERE i % 100 <> 3));
-- A candidate list always ranks exactly.
SELECT array_agg(item_id ORDER BY rank) = (SELECT array_agg(item_id ORDER BY rank)
          FROM rec.recommend('ann_big', 7, 5, candidates => ARRAY(SELECT generate_series(0, 1999, 3)), exact => true)) AS candidates_exact
FROM rec.recommend('ann_big', 7, 5, candidates => ARRAY(SELECT generate_series(0, 1999, 3)));
RESET pgrec.ann_probes;
SELECT rec.drop_model('ann_big'), rec.drop_model('small');
DROP TABLE ann_big;
