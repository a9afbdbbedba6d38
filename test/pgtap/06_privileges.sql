-- Privileges: training reads with the caller's rights (row-level security included); a model is
-- its owner's until the owner grants it; names with quotes, semicolons and comments are data.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pgrec;
SELECT plan(40);

CREATE ROLE pgrec_t_alice;
CREATE ROLE pgrec_t_bob;
CREATE TABLE priv_alice AS
SELECT u AS user_id, (u * 7 + n * 3) % 40 AS item_id FROM generate_series(1, 60) u, generate_series(1, 6) n;
CREATE TABLE priv_bob AS TABLE priv_alice;
GRANT SELECT ON priv_alice TO pgrec_t_alice;
GRANT SELECT ON priv_bob TO pgrec_t_bob;

SET ROLE pgrec_t_alice;
SELECT lives_ok($$SELECT rec.train('priv_a', 'priv_alice', 'user_id', 'item_id', params => '{"factors": 4, "iterations": 3}')$$,
                'alice trains from her table');
SELECT is((SELECT owner::text FROM rec.models WHERE model = 'priv_a'), 'pgrec_t_alice', 'the trainer owns the model');
CREATE TEMP TABLE alice_sees AS SELECT item_id FROM rec.recommend('priv_a', 3, 5);
RESET ROLE;
CREATE TEMP TABLE alice_version AS SELECT max(id) AS id FROM rec.model_versions WHERE model = 'priv_a';
GRANT SELECT ON alice_sees, alice_version TO pgrec_t_bob;

-- Bob can neither read Alice's table nor use, see, change or extend her model.
SET ROLE pgrec_t_bob;
SELECT throws_ok($$SELECT rec.train('priv_b', 'priv_alice', 'user_id', 'item_id')$$, '42501', NULL,
                 'training reads the source with the caller''s privileges');
SELECT throws_ok($$SELECT * FROM rec.recommend('priv_a', 3, 5)$$, '42501', 'permission denied for model "priv_a"',
                 'recommend needs a grant');
SELECT throws_ok($$SELECT rec.predict('priv_a', 3, 7)$$, '42501', NULL, 'predict needs a grant');
SELECT throws_ok($$SELECT * FROM rec.similar_items('priv_a', 7, 3)$$, '42501', NULL, 'similar_items needs a grant');
SELECT throws_ok($$SELECT * FROM rec.explain('priv_a', 3, 7)$$, '42501', NULL, 'explain needs a grant');
SELECT throws_ok($$SELECT * FROM rec.recommend_for_items('priv_a', ARRAY[1, 2])$$, '42501', NULL, 'fold-in needs a grant');
SELECT throws_ok($$SELECT * FROM rec.evaluate('priv_a', 'priv_bob')$$, '42501', NULL, 'evaluate needs a grant');
SELECT throws_ok($$SELECT * FROM rec.evaluate_version((SELECT id FROM alice_version), 'priv_bob', 'user_id', 'item_id', NULL, 5, true, 0, 1)$$,
                 '42501', NULL, 'evaluate_version checks the version too');
SELECT is((SELECT count(*) FROM rec.models WHERE model = 'priv_a'), 0::bigint, 'rec.models hides it');
SELECT is((SELECT count(*) FROM rec.model_versions), 0::bigint, 'its versions are hidden');
SELECT is((SELECT count(*) FROM rec.model_chunks), 0::bigint, 'its bytes are hidden');
SELECT is((SELECT count(*) FROM rec.deployments), 0::bigint, 'its deployments are hidden');
SELECT throws_ok($$SELECT rec.drop_model('priv_a')$$, '42501', NULL, 'bob cannot drop it');
SELECT throws_ok($$SELECT rec.deploy('priv_a', 1)$$, '42501', NULL, 'bob cannot deploy it');
SELECT throws_ok($$SELECT rec.grant_model('priv_a', 'pgrec_t_bob')$$, '42501', NULL, 'bob cannot grant it to himself');
SELECT throws_ok($$SELECT rec.train('priv_a', 'priv_bob', 'user_id', 'item_id')$$, '42501', NULL,
                 'bob cannot train a version of it');
SELECT throws_ok($$SELECT rec.train('priv_h', 'hybrid', '{"models": {"priv_a": 1}}')$$, '42501', NULL,
                 'bob cannot mix it into a hybrid');
SELECT throws_ok($$INSERT INTO rec.deployments (model, version_id) SELECT 'priv_a', 1$$, '42501', NULL,
                 'nor deploy it by hand');
SELECT throws_ok($$INSERT INTO rec.model_grants (model, grantee) VALUES ('priv_a', 'pgrec_t_bob')$$, '42501', NULL,
                 'nor grant it by hand');
SELECT throws_ok($$INSERT INTO rec.model_owners (model, owner) VALUES ('priv_new', 'pgrec_t_alice')$$, '42501', NULL,
                 'nor claim a name for someone else');
RESET ROLE;
SELECT is((SELECT count(*) FROM rec.model_versions WHERE model = 'priv_a'), 1::bigint, 'nothing of hers changed');

-- A grant lets Bob use it (the same answer as Alice's); a revoke stops him again, even though
-- his backend has the model cached.
SET ROLE pgrec_t_alice;
SELECT lives_ok($$SELECT rec.grant_model('priv_a', 'pgrec_t_bob')$$, 'alice grants bob');
RESET ROLE;
SET ROLE pgrec_t_bob;
SELECT set_eq($$SELECT item_id FROM rec.recommend('priv_a', 3, 5)$$, $$SELECT item_id FROM alice_sees$$,
              'bob gets what alice gets');
SELECT is((SELECT owner::text FROM rec.models WHERE model = 'priv_a'), 'pgrec_t_alice', 'and sees the model');
SELECT throws_ok($$SELECT rec.drop_model('priv_a')$$, '42501', NULL, 'a grant is not ownership');
RESET ROLE;
SET ROLE pgrec_t_alice;
SELECT rec.revoke_model('priv_a', 'pgrec_t_bob');
RESET ROLE;
SET ROLE pgrec_t_bob;
SELECT throws_ok($$SELECT * FROM rec.recommend('priv_a', 3, 5)$$, '42501', NULL, 'revoked, with the model in the cache');
RESET ROLE;
SET ROLE pgrec_t_alice;
SELECT rec.grant_model('priv_a', 'public');
RESET ROLE;
SET ROLE pgrec_t_bob;
SELECT is((SELECT count(*) FROM rec.recommend('priv_a', 3, 5)), 5::bigint, 'a grant to public');
RESET ROLE;
SELECT throws_ok($$SELECT rec.grant_model('priv_a', 'pgrec_no_such_role')$$, '42704', NULL, 'grant to an unknown role');
SELECT throws_ok($$SELECT rec.grant_model('priv_nope', 'public')$$, '42704', NULL, 'grant of an unknown model');

-- Members of the owner role act as the owner.
GRANT pgrec_t_alice TO pgrec_t_bob;
SET ROLE pgrec_t_bob;
SELECT lives_ok($$SELECT rec.deploy('priv_a', 1)$$, 'a member of the owner role deploys');
RESET ROLE;
REVOKE pgrec_t_alice FROM pgrec_t_bob;

-- Row-level security on the source decides what a role trains on.
CREATE TABLE priv_rls AS SELECT * FROM priv_alice;
ALTER TABLE priv_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY even_users ON priv_rls TO pgrec_t_bob USING (user_id % 2 = 0);
GRANT SELECT ON priv_rls TO pgrec_t_bob;
SET ROLE pgrec_t_bob;
SELECT lives_ok($$SELECT rec.train('priv_rls_model', 'priv_rls', 'user_id', 'item_id', algorithm => 'popularity')$$,
                'bob trains on what the policy shows him');
SELECT is((SELECT n_users FROM rec.models WHERE model = 'priv_rls_model'), 30, 'only the even users');
SELECT is((SELECT count(*) FROM rec.recommend('priv_rls_model', 3, 5)), 5::bigint, 'an odd user is unknown: popular items');
SELECT ok(NOT EXISTS (SELECT 1 FROM rec.recommend('priv_rls_model', 4, 50) r
                      WHERE r.item_id NOT IN (SELECT item_id FROM priv_rls)), 'every item came from a visible row');
RESET ROLE;

-- Identifiers with quotes, semicolons and comment markers are quoted, never spliced.
CREATE TABLE "we""ird; --t" ("u;--" int, "i""x; DROP TABLE priv_alice; --" int);
INSERT INTO "we""ird; --t" SELECT user_id, item_id FROM priv_alice;
SELECT lives_ok($$SELECT rec.train('priv_q', 'public."we""ird; --t"', 'u;--', 'i"x; DROP TABLE priv_alice; --',
                                   params => '{"factors": 4, "iterations": 2}')$$, 'a hostile table and column name');
SELECT is((SELECT count(*) FROM rec.recommend('priv_q', 3, 5)), 5::bigint, 'serves');
SELECT is((SELECT count(*) FROM rec.recommend('priv_q', 3, 5, fold_in => true)), 5::bigint, 'fold-in reads it back');
SELECT has_table('priv_alice', 'nothing was executed from the names');

SELECT * FROM finish();
ROLLBACK;
