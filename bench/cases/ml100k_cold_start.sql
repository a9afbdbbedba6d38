-- ML-100K cold start: a tenth of the items (by a hash of the id) are new: every rating of theirs
-- is held out and the model learns from the rest, with every item's genres and release year from
-- u.item. Ranked among the new items only (the model never saw a rating of any of them).
CREATE TABLE cs_items AS
SELECT item_id,
       ARRAY(SELECT g FROM unnest(ARRAY['unknown', 'Action', 'Adventure', 'Animation', 'Children''s', 'Comedy', 'Crime',
                                        'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror', 'Musical', 'Mystery',
                                        'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western'], flags) AS t(g, f) WHERE f = 1) AS genres,
       nullif(right(released, 4), '')::int AS year,
       abs(hashint4(item_id)) % 10 = 0 AS is_new
FROM ml100k_items;
CREATE TABLE cs_train AS SELECT r.* FROM ml100k r JOIN cs_items i USING (item_id) WHERE NOT i.is_new;
CREATE TABLE cs_test AS SELECT r.* FROM ml100k r JOIN cs_items i USING (item_id) WHERE i.is_new;
SELECT array_agg(item_id::bigint) AS new_items, count(*) AS n_new FROM cs_items WHERE is_new \gset
SELECT bench.seconds($q$SELECT rec.train('b_cold', 'cs_train', 'user_id', 'item_id', algorithm => 'two_tower',
                                         item_features => 'SELECT item_id, genres, year FROM cs_items')$q$) AS train_s \gset
-- recall@10 per user with test ratings: the share of their new items in the top 10 of the new ones.
SELECT round(avg(hit::numeric / least(n, 10)), 4) AS recall, round(avg(10.0 / :n_new * n / least(n, 10)), 4) AS random_recall,
       count(*) AS users
FROM (SELECT t.user_id, count(DISTINCT t.item_id) AS n,
             (SELECT count(*) FROM rec.recommend('b_cold', t.user_id, 10, candidates => :'new_items')
               WHERE item_id IN (SELECT item_id FROM cs_test x WHERE x.user_id = t.user_id)) AS hit
      FROM cs_test t GROUP BY t.user_id) u \gset
SELECT bench.row('ML-100K cold start (' || :n_new || ' new items, ' || :users || ' users)',
                 'a tenth of the items held out entirely; item features: genres (array), year; ranked among the new items',
                 'two_tower, 64 f, id_dropout 0.5',
                 'recall@10 ' || :recall || ' (random ranking: ' || :random_recall || ')',
                 round(:train_s::numeric, 3) || ' s', NULL,
                 'no published anchor for this protocol; matrix factorisation cannot rank items without ratings');
SELECT rec.drop_model('b_cold') \g /dev/null
DROP TABLE cs_items, cs_train, cs_test;
