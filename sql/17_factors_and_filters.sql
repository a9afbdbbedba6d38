-- Factor vectors out and in (rec.user_factors / item_factors / import_factors), similar_items'
-- filters, and the planner's row estimate of the serving functions (on the planted data of 01).
SET client_min_messages = warning;
-- The SQLSTATE and message of a call that fails.
CREATE FUNCTION error_of(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE state text; message text;
BEGIN
  EXECUTE call;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
  RETURN state || ' ' || message;
END $$;
SELECT rec.train('f_als', 'ratings', 'user_id', 'item_id', params => '{"factors": 8, "iterations": 5}');

-- Every user and item with a vector of the model's width; score = user . item.
SELECT count(*) AS items, min(array_length(factors, 1)) AS dims, max(array_length(factors, 1)) AS dims_max
FROM rec.item_factors('f_als');
SELECT count(*) AS users FROM rec.user_factors('f_als');
SELECT abs((SELECT sum(u.x * i.x) FROM unnest((SELECT factors FROM rec.user_factors('f_als') WHERE user_id = 3)) WITH ORDINALITY u(x, j)
                JOIN unnest((SELECT factors FROM rec.item_factors('f_als') WHERE item_id = 7)) WITH ORDINALITY i(x, j) USING (j))
           - rec.predict('f_als', 3, 7)) < 1e-5 AS dot_is_the_score;
-- Text ids: the _keys variants; the bigint ones refuse with 42804.
CREATE TABLE f_text_ratings AS SELECT 'u' || user_id AS who, 'i' || item_id AS what FROM ratings;
SELECT rec.train('f_keys', 'f_text_ratings', 'who', 'what', params => '{"factors": 4, "iterations": 3}');
SELECT count(*), min(item_key) FROM rec.item_factors_keys('f_keys');
SELECT count(*), min(user_key) FROM rec.user_factors_keys('f_keys');
SELECT error_of('SELECT count(*) FROM rec.user_factors(''f_keys'')') AS error;
-- Kinds without vectors: 0A000.
SELECT rec.train('f_knn', 'ratings', 'user_id', 'item_id', algorithm => 'item_knn');
SELECT error_of('SELECT count(*) FROM rec.item_factors(''f_knn'')') AS error;
SELECT rec.global_mean('f_als') AS implicit_mean;
SELECT error_of('SELECT rec.global_mean(''f_knn'')') AS error;
SELECT error_of('SELECT rec.global_mean(''no_model'')') AS error;
SELECT rec.global_mean(NULL) IS NULL AS null_model;
-- Two towers store their towers' outputs as factors: exported like any factor model.
SELECT rec.train('f_tt', 'ratings', 'user_id', 'item_id', algorithm => 'two_tower',
                 params => '{"factors": 4, "epochs": 2, "validation": false}');
SELECT count(*) AS items, min(array_length(factors, 1)) AS dims FROM rec.item_factors('f_tt');

-- Imported again: the same recommendations (ids and scores), also from a text id query.
SELECT rec.import_factors('f_in', 'SELECT * FROM rec.user_factors(''f_als'')', 'SELECT item_id::text, factors FROM rec.item_factors(''f_als'')',
                          seen => 'SELECT user_id, item_id::text FROM ratings',
                          params => (SELECT jsonb_build_object('regularization', (params->>'regularization')::float8) FROM rec.models WHERE model = 'f_als'));
SELECT algorithm, source, user_type, item_type, n_users, n_items, n_interactions FROM rec.models WHERE model = 'f_in';
SELECT bool_and(a.item_id::text = b.item_key AND a.score = b.score) AND count(*) = 100 AS same_answers
FROM generate_series(1, 20) u, rec.recommend('f_als', u, 5) a
JOIN rec.recommend_keys('f_in', u, 5) b USING (rank);
SELECT (SELECT array_agg(item_id::text ORDER BY rank) FROM rec.recommend_for_items('f_als', ARRAY[1, 2, 3], k => 5))
     = (SELECT array_agg(item_key ORDER BY rank) FROM rec.recommend_for_items_keys('f_in', ARRAY['1', '2', '3'], k => 5)) AS same_fold_in;
-- A large catalog (pgrec.ann_min_items, here lowered) gets its approximate index on import too.
SET pgrec.ann_min_items = 50;
SELECT rec.import_factors('f_ivf', 'SELECT * FROM rec.user_factors(''f_als'')', 'SELECT * FROM rec.item_factors(''f_als'')',
                          seen => 'SELECT user_id, item_id FROM ratings');
RESET pgrec.ann_min_items;
SELECT params ? 'ann_lists' AS indexed FROM rec.models WHERE model = 'f_ivf';
SELECT bool_and(a.item_id = b.item_id) AS exact_answers_match
FROM generate_series(1, 20) u, rec.recommend('f_als', u, 5) a JOIN rec.recommend('f_ivf', u, 5, exact => true) b USING (rank);
-- Without seen rows nothing is excluded; the owner is the caller; a second import is version 2.
SELECT rec.import_factors('f_in', 'SELECT * FROM rec.user_factors(''f_als'')', 'SELECT * FROM rec.item_factors(''f_als'')');
SELECT version, n_interactions, owner FROM rec.models WHERE model = 'f_in';
-- Bad input: clear errors with their SQLSTATE, nothing stored.
SELECT error_of(format('SELECT rec.import_factors(%L, %L, %L%s)', 'f_bad', u, i, extra)) AS error
FROM (VALUES ('SELECT 1, ARRAY[1, 2]::real[]', 'SELECT 1, ARRAY[1, 2, 3]::real[]', ''),
             ('VALUES (1, ARRAY[1, 2]::real[]), (1, ARRAY[3, 4]::real[])', 'SELECT 1, ARRAY[1, 2]::real[]', ''),
             ('SELECT 1, NULL::real[]', 'SELECT 1, ARRAY[1, 2]::real[]', ''),
             ('SELECT NULL::int, ARRAY[1, 2]::real[]', 'SELECT 1, ARRAY[1, 2]::real[]', ''),
             ('SELECT 1, ARRAY[1, ''NaN'']::real[]', 'SELECT 1, ARRAY[1, 2]::real[]', ''),
             ('SELECT 1, ARRAY[1, NULL]::real[]', 'SELECT 1, ARRAY[1, 2]::real[]', ''),
             ('SELECT 1, ARRAY[]::real[]', 'SELECT 1, ARRAY[1, 2]::real[]', ''),
             ('SELECT 1, ''hello''::text', 'SELECT 1, ARRAY[1, 2]::real[]', ''),
             ('SELECT 1, ''[1, x]''::text::name', 'SELECT 1, ARRAY[1, 2]::real[]', ''),
             ('SELECT 1', 'SELECT 1, ARRAY[1, 2]::real[]', ''),
             ('SELECT 1, ARRAY[1, 2]::real[] WHERE false', 'SELECT 1, ARRAY[1, 2]::real[]', ''),
             ('SELECT 1, ARRAY[1, 2]::real[]', 'SELECT 1, ARRAY[1, 2]::real[]', ', kind => ''both'''),
             ('SELECT 1, ARRAY[1, 2]::real[]', 'SELECT 1, ARRAY[1, 2]::real[]', ', params => ''{"lambda": 1}'''),
             ('SELECT 1, ARRAY[1, 2]::real[]', 'SELECT 1, ARRAY[1, 2]::real[]', ', params => ''{"regularization": -1}'''),
             ('SELECT 1, ARRAY[1, 2]::real[]', 'SELECT 1, ARRAY[1, 2]::real[]', ', seen => ''SELECT 1'''),
             ('SELECT 1, ARRAY[1, 2]::real[]', 'SELECT 1, ARRAY[1, 2]::real[]', ', kind => ''explicit'', seen => ''SELECT 1, 1'''),
             ('SELECT 1, ARRAY[1, 2]::real[]', 'SELECT 1, ARRAY[1, 2]::real[]', ', seen => ''SELECT 1, 1, ''''x'''''''),
             ('no_such_table', 'SELECT 1, ARRAY[1, 2]::real[]', ''),
             ('SELECT 1, ARRAY[1, 2]::real[]; DROP TABLE ratings', 'SELECT 1, ARRAY[1, 2]::real[]', ''),
             ('SELECT 1, ARRAY[1, 2]::real[]', '', '')) AS t(u, i, extra);
SELECT error_of('SELECT rec.import_factors(''f_bad'', ''SELECT 1, ARRAY[1, 2]::real[]'', NULL)') AS error;
SELECT error_of('SELECT * FROM rec.item_factors(''no_model'')') AS error;
SELECT count(*) FROM rec.model_versions WHERE model = 'f_bad';
-- Text forms of vectors ('[1,2]', as pgvector prints them) read too.
SELECT rec.import_factors('f_text', 'SELECT 1, ''[1, 0]''::text::name', 'VALUES (10, ''{0.5,0.25}''::text::name), (11, ''[0,1]''::text::name)');
SELECT item_id, score FROM rec.recommend('f_text', 1, 2);
-- Evaluated like any model, given the test source's columns.
SELECT error_of('SELECT * FROM rec.evaluate(''f_in'', ''ratings'')') AS error;
SELECT count(*) > 0 AS evaluated FROM rec.evaluate('f_ivf', 'ratings', user_col => 'user_id', item_col => 'item_id', exclude_seen => false);
-- Fold-in from a source: an imported model has none.
SELECT error_of('SELECT count(*) FROM rec.recommend(''f_in'', 1, 3, fold_in => true)') AS error;

-- similar_items: candidates and exclude filter before ranking, for factor and neighbour models.
SELECT count(*) = 5 AND bool_and(item_id IN (4, 8, 12, 16, 20, 24)) AS only_candidates
FROM rec.similar_items('f_als', 0, 5, candidates => ARRAY[4, 8, 12, 16, 20, 24]::bigint[]);
SELECT NOT EXISTS (SELECT 1 FROM rec.similar_items('f_als', 0, 10, exclude => (SELECT array_agg(item_id) FROM rec.similar_items('f_als', 0, 3))) s
                   WHERE s.item_id IN (SELECT item_id FROM rec.similar_items('f_als', 0, 3))) AS excluded;
SELECT (SELECT array_agg(item_id ORDER BY rank) FROM rec.similar_items('f_knn', 0, 4, exclude => ARRAY[(SELECT item_id FROM rec.similar_items('f_knn', 0, 1))]))
     = (SELECT array_agg(item_id ORDER BY rank) FROM rec.similar_items('f_knn', 0, 5) WHERE rank > 1) AS knn_exclude;
SELECT count(*) FROM rec.similar_items_keys('f_keys', 'i0', 3, candidates => ARRAY['none', 'i4']);
SELECT count(*) FROM rec.similar_items('f_als', NULL::int, 3);
SELECT error_of('SELECT count(*) FROM rec.similar_items(''f_als'', 0, NULL)') AS error;

-- The planner expects k rows (k times the users listed for recommend_all), not a fixed guess.
CREATE FUNCTION plan_rows(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN ' || query LOOP
    RETURN (regexp_match(line, 'rows=(\d+)'))[1]::bigint;
  END LOOP;
END $$;
SELECT plan_rows('SELECT * FROM rec.recommend(''f_als'', 3, 7)') AS recommend,
       plan_rows('SELECT * FROM rec.recommend_keys(''f_als'', 3, 25)') AS recommend_keys,
       plan_rows('SELECT * FROM rec.similar_items(''f_als'', 3, 42)') AS similar,
       plan_rows('SELECT * FROM rec.explain(''f_als'', 3, 4, 3)') AS explain,
       plan_rows('SELECT * FROM rec.recommend_for_items(''f_als'', ARRAY[1, 2], k => 15)') AS for_items,
       plan_rows('SELECT * FROM rec.recommend_all(''f_als'', 5, users => ARRAY[1, 2, 3]::bigint[])') AS all_listed,
       plan_rows('SELECT * FROM rec.recommend_all(''f_als'', 5)') AS all_users;
DROP FUNCTION plan_rows(text);
DROP FUNCTION error_of(text);
