-- A session caches which version serves a name; a deployment committed by another session is
-- seen by its next call, and a rollback leaves nothing stale behind.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT plan(9);

DROP TABLE IF EXISTS cache_src;
SELECT rec.drop_model(model) FROM rec.models WHERE model = 'sc';
CREATE TABLE cache_src AS SELECT u AS user_id, (u * 7 + n * 3) % 40 AS item_id FROM generate_series(1, 100) u, generate_series(1, 6) n;
SELECT rec.train('sc', 'cache_src', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}');
SELECT rec.train('sc', 'cache_src', 'user_id', 'item_id', algorithm => 'popularity');
SELECT rec.deploy('sc', 1);
-- Popularity scores are whole counts; ALS scores are not.
SELECT is((SELECT bool_and(score = round(score)) FROM rec.recommend('sc', 5, 5)), false, 'version 1 (ALS) serves, now cached');

SELECT dblink_connect('deployer', format('host=%s port=%s dbname=%s user=%s',
       split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'),
       current_database(), current_user));
SELECT * FROM dblink('deployer', $$SELECT rec.deploy('sc', 2)$$) AS t(version int);
SELECT is((SELECT bool_and(score = round(score)) FROM rec.recommend('sc', 5, 5)), true,
          'another session''s deployment shows on the next call');
SELECT is((SELECT bool_and(score = round(score)) FROM rec.recommend(5, 5)), true, 'and for the default model');

BEGIN;
SELECT rec.deploy('sc', 1);
SELECT is((SELECT bool_and(score = round(score)) FROM rec.recommend('sc', 5, 5)), false, 'a deployment in this transaction shows at once');
ROLLBACK;
SELECT is((SELECT bool_and(score = round(score)) FROM rec.recommend('sc', 5, 5)), true, 'and is forgotten with its rollback');

-- Each version also lives in a file the sessions map: a fresh session maps it rather than
-- reading the table, and dropping the model removes the files.
CREATE TEMP TABLE sc_files AS
SELECT f FROM pg_ls_dir('pgrec_models') f
WHERE f LIKE (SELECT oid FROM pg_database WHERE datname = current_database()) || '\_%'
  AND split_part(f, '_', 2)::bigint IN (SELECT id FROM rec.model_versions WHERE model = 'sc');
SELECT is((SELECT count(*) FROM sc_files), 2::bigint, 'training wrote a file for each version');
SELECT is((SELECT count(*) FROM dblink('deployer', $$SELECT * FROM rec.recommend('sc', 5, 5)$$) AS t(i bigint, s real, r int)),
          5::bigint, 'a fresh session serves');
SELECT ok((SELECT pg_read_file('/proc/' || pid || '/maps') LIKE '%pgrec_models/%' FROM
           dblink('deployer', 'SELECT pg_backend_pid()') AS t(pid int)), 'from the mapped file');
SELECT dblink_disconnect('deployer');
SELECT rec.drop_model('sc');
SELECT is((SELECT count(*) FROM pg_ls_dir('pgrec_models') f WHERE f IN (SELECT f FROM sc_files)), 0::bigint,
          'dropping the model removed its files');
DROP TABLE cache_src;
SELECT * FROM finish();
