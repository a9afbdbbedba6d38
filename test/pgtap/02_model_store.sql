-- Models are stored in chunks, checked when loaded, cached per version, and kept by pg_dump.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
SELECT plan(17);

CREATE TEMP TABLE r AS
SELECT u AS user_id, (u * 7 + n * 3) % 40 AS item_id FROM generate_series(1, 100) u, generate_series(1, 8) n;

SELECT is(rec.train('s', 'r', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}'), 1, 'first version is 1');
SELECT is((SELECT sum(length(data))::bigint FROM rec.model_chunks c JOIN rec.model_versions v ON v.id = c.version_id
           WHERE v.model = 's'), (SELECT size_bytes FROM rec.model_versions WHERE model = 's'),
          'chunks hold exactly size_bytes');
SELECT is((SELECT substr(data, 1, 8) FROM rec.model_chunks c JOIN rec.model_versions v ON v.id = c.version_id
           WHERE v.model = 's' AND seq = 0), '\x50475245434d444c'::bytea, 'the format starts with its magic');

-- A model big enough to need several chunks round-trips.
CREATE TEMP TABLE wide AS
SELECT u AS user_id, (u * 13 + n) % 5000 AS item_id FROM generate_series(1, 3000) u, generate_series(1, 5) n;
SELECT is(rec.train('wide', 'wide', 'user_id', 'item_id', params => '{"factors": 64, "iterations": 1}'), 1, 'a wide model trains');
SELECT cmp_ok((SELECT count(*) FROM rec.model_chunks c JOIN rec.model_versions v ON v.id = c.version_id
               WHERE v.model = 'wide'), '>', 1::bigint, 'it spans several chunks');
SELECT is((SELECT count(*) FROM rec.recommend('wide', 17, 10)), 10::bigint, 'and serves');

-- Damage is detected when a version is loaded (this version was never loaded in this session).
SELECT is(rec.train('s', 'r', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}'), 2, 'second version is 2');
UPDATE rec.model_chunks c SET data = overlay(data PLACING '\xdeadbeef'::bytea FROM 200)
FROM rec.model_versions v WHERE v.id = c.version_id AND v.model = 's' AND v.version = 2;
-- (Training also wrote the version's mapped file, from the sound bytes: remove it, so the
-- damaged table is what is read.)
SELECT format($$COPY (SELECT '') TO PROGRAM 'rm -f pgrec_models/%s_%s_*.model'$$,
              (SELECT oid FROM pg_database WHERE datname = current_database()),
              (SELECT id FROM rec.model_versions WHERE model = 's' AND version = 2)) \gexec
SELECT throws_ok($$SELECT * FROM rec.recommend('s', 1, 5)$$, '22000', 'model data is corrupt (checksum mismatch)',
                 'a damaged model is refused');
SELECT lives_ok($$SELECT rec.deploy('s', 1)$$, 'rolling back to version 1');

-- The second call of a session does not reload: damage done after the first load goes unseen
-- by this backend (the cache is keyed by the immutable version id).
SELECT is((SELECT count(*) FROM rec.recommend('wide', 17, 10)), 10::bigint, 'wide is loaded');
UPDATE rec.model_chunks c SET data = overlay(data PLACING '\xdeadbeef'::bytea FROM 200)
FROM rec.model_versions v WHERE v.id = c.version_id AND v.model = 'wide';
SELECT is((SELECT count(*) FROM rec.recommend('wide', 17, 10)), 10::bigint, 'served from the cache, not reloaded');
SELECT is((SELECT count(*) FROM rec.recommend('s', 1, 5)), 5::bigint, 'version 1 serves again');

SELECT set_eq($$SELECT c.relname::text FROM pg_extension e, unnest(e.extconfig) t(oid) JOIN pg_class c ON c.oid = t.oid
               WHERE e.extname = 'pgrec'$$,
              ARRAY['model_versions', 'model_versions_id_seq', 'model_chunks', 'deployments', 'deployments_id_seq',
                    'model_owners', 'model_grants', 'model_schedules', 'served', 'served_id_seq'],
              'pg_dump keeps the model tables');

-- A model outlives its source: dropping the table leaves it serving, and rec.models says so.
CREATE TABLE gone AS SELECT * FROM r;
SELECT rec.train('orphan', 'gone', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}');
SELECT is((SELECT source || ' ' || source_exists FROM rec.models WHERE model = 'orphan'), 'public.gone true',
          'the source is recorded schema-qualified');
DROP TABLE gone;
SELECT is((SELECT source_exists FROM rec.models WHERE model = 'orphan'), false, 'rec.models says the source is gone');
SELECT is((SELECT count(*) FROM rec.recommend('orphan', 5, 5)), 5::bigint, 'the model still serves');
SELECT throws_ok($$SELECT * FROM rec.recommend('orphan', 5, 5, fold_in => true)$$, '42P01', NULL,
                 'fold-in, which reads the source, says what is missing');

SELECT * FROM finish();
ROLLBACK;
