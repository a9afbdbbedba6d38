-- Distributed training's parameters and rec.join_training: every refusal has its SQLSTATE; a
-- distributed job's secret is drawn at submission and only its submitter sees it; only the
-- submitter can join, and only a distributed job that has not ended. (The training itself, a
-- primary and a standby: test/shell/distributed.sh.)
-- Not wrapped in a transaction: jobs run in workers that see committed rows only.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
SELECT plan(20);

DROP TABLE IF EXISTS dt_src;
DROP ROLE IF EXISTS dt_alice;
DROP ROLE IF EXISTS dt_bob;
CREATE ROLE dt_alice LOGIN;
CREATE ROLE dt_bob LOGIN;
CREATE TABLE dt_src AS SELECT u AS user_id, (u * 7 + n * 3) % 40 AS item_id FROM generate_series(1, 60) u, generate_series(1, 6) n;
GRANT SELECT ON dt_src TO dt_alice, dt_bob;

SET ROLE dt_alice;
SELECT throws_ok($$SELECT rec.train('dt', 'dt_src', 'user_id', 'item_id',
                   params => '{"distributed": {"ranks": 2, "rendezvous": "127.0.0.1:29511"}}')$$,
                 '0A000', NULL, 'rec.train refuses a distributed training: it runs as a job');
SELECT throws_ok($$SELECT rec.train_async('dt', 'dt_src', 'user_id', 'item_id',
                   params => '{"distributed": {"ranks": 0, "rendezvous": "127.0.0.1:29511"}}')$$,
                 '22023', 'distributed.ranks must be a whole number from 1 to 256', 'ranks out of range');
SELECT throws_ok($$SELECT rec.train_async('dt', 'dt_src', 'user_id', 'item_id',
                   params => '{"distributed": {"ranks": 2, "rendezvous": "127.0.0.1:29511x"}}')$$,
                 '22023', NULL, 'a rendezvous that is not host:port');
SELECT throws_ok($$SELECT rec.train_async('dt', 'dt_src', 'user_id', 'item_id',
                   params => '{"distributed": {"ranks": 2}}')$$,
                 '22023', 'distributed needs a rendezvous', 'no rendezvous');
SELECT throws_ok($$SELECT rec.train_async('dt', 'dt_src', 'user_id', 'item_id',
                   params => '{"distributed": {"ranks": 2, "rendezvous": "127.0.0.1:29511", "port": 1}}')$$,
                 '22023', 'unknown distributed parameter "port"', 'an unknown key');
SELECT throws_ok($$SELECT rec.train_async('dt', 'dt_src', 'user_id', 'item_id',
                   params => '{"distributed": 2}')$$,
                 '22023', 'distributed must be a JSON object', 'not an object');
SELECT throws_ok($$SELECT rec.train_async('dt', 'dt_src', 'user_id', 'item_id', algorithm => 'item_knn',
                   params => '{"distributed": {"ranks": 2, "rendezvous": "127.0.0.1:29511"}}')$$,
                 '0A000', 'item_knn does not train distributed', 'not neighbours: their item side is not a sum over users');
SELECT throws_ok($$SELECT rec.train_async('dt', 'dt_src', 'user_id', 'item_id', algorithm => 'ease',
                   params => '{"distributed": {"ranks": 2, "rendezvous": "127.0.0.1:29511"}}')$$,
                 '0A000', 'ease does not train distributed', 'not EASE: its closed form needs every user''s rows');
SELECT throws_ok($$SELECT rec.train_async('dt', 'dt_src', 'user_id', 'item_id', algorithm => 'two_tower',
                   params => '{"item_features": "SELECT 1, 1", "distributed": {"ranks": 2, "rendezvous": "127.0.0.1:29511"}}')$$,
                 '0A000', 'a distributed two_tower training reads no item_features, user_features or init_from',
                 'no side features');
SELECT throws_ok($$SELECT rec.train_async('dt', 'dt_src', 'user_id', 'item_id', algorithm => 'neumf',
                   params => '{"gradient_exchange": "rows", "distributed": {"ranks": 2, "rendezvous": "127.0.0.1:29511"}}')$$,
                 '22023', NULL, 'gradient_exchange is auto, dense or sparse');

-- A job nobody joins: its secret is drawn at submission; it fails within its 1-second timeout.
SELECT rec.train_async('dt', 'dt_src', 'user_id', 'item_id',
                       params => '{"distributed": {"ranks": 2, "rendezvous": "127.0.0.1:29511", "timeout": 1}}') AS job \gset
SELECT ok((SELECT params->'distributed'->>'secret' ~ '^[0-9a-f]{64}$' FROM rec.job_queue WHERE id = :job),
          'the job carries a 64-hex-digit secret drawn at submission');
SELECT is(rec.wait(:job, '60 s'), 'failed', 'the job fails when its other rank never joins');
SELECT ok((SELECT error LIKE '%could not join%' FROM rec.job_queue WHERE id = :job), 'saying it could not join');

-- A plain job to join by mistake.
SELECT rec.train_async('dt_plain', 'dt_src', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 2}') AS plain \gset
SELECT is(rec.wait(:plain, '60 s'), 'succeeded', 'a plain job runs');
SELECT throws_ok(format('SELECT rec.join_training(%s, 1)', :plain), '22023', NULL, 'joining a job that is not distributed');
SELECT throws_ok(format('SELECT rec.join_training(%s, 0)', :job), '22023', NULL, 'rank 0 is the worker');
SELECT throws_ok(format('SELECT rec.join_training(%s, 1)', :job), '55000', NULL, 'joining a job that ended');
SELECT throws_ok('SELECT rec.join_training(NULL, 1)', '22023', NULL, 'a null job');
RESET ROLE;
SET ROLE dt_bob;
SELECT is((SELECT count(*) FROM rec.job_queue WHERE id = :job), 0::bigint, 'another role does not see the job nor its secret');
SELECT throws_ok(format('SELECT rec.join_training(%s, 1)', :job), '42704', NULL, 'and cannot join it');
RESET ROLE;

SELECT * FROM finish();
SELECT count(rec.drop_model(m)) FROM unnest(ARRAY['dt_plain']) m WHERE EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = m);
DROP TABLE dt_src;
DROP OWNED BY dt_alice, dt_bob;
DROP ROLE dt_alice;
DROP ROLE dt_bob;
