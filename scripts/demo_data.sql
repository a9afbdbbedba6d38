-- The demo data set: 1,000 users x 400 items with planted tastes (each user likes two genres),
-- 20 rated interactions per user in time order. Used by scripts/demo and by the documentation's
-- examples (test/shell/doc_examples.sh), which assume these tables.
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, genre text);
CREATE TABLE ratings (user_id int NOT NULL, item_id int NOT NULL, rating real, ts bigint);
SELECT setseed(0.42);
INSERT INTO items
SELECT i, g || ' #' || (i / 8 + 1), g
FROM generate_series(0, 399) i,
     LATERAL (SELECT (ARRAY['Space opera', 'Film noir', 'Romcom', 'Documentary', 'Horror', 'Western',
                            'Animation', 'Musical'])[i % 8 + 1] AS g) genre;
INSERT INTO ratings (user_id, item_id, rating, ts)
SELECT u, 8 * floor(random() * 50)::int + CASE WHEN random() < 0.7 THEN u % 8 ELSE (u / 8 + 1) % 8 END,
       ceil(random() * 5), n
FROM generate_series(1, 1000) u, generate_series(1, 20) n;
CREATE INDEX ON ratings (user_id, ts);  -- fold-in and sequential models read a user's rows at query time
ANALYZE items, ratings;
