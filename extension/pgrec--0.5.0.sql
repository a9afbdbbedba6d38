-- pgrec 0.5.0: catalog tables, the training entry point and the serving functions.
\echo Use "CREATE EXTENSION pgrec" to load this file. \quit

-- One row per trained model version; the bytes live in rec.model_chunks.
CREATE TABLE rec.model_versions (
    id             bigserial PRIMARY KEY,
    model          text NOT NULL CHECK (model <> '' AND length(model) <= 200),
    version        integer NOT NULL,
    algorithm      text NOT NULL,
    params         jsonb NOT NULL,
    source         text NOT NULL,
    user_col       text NOT NULL,
    item_col       text NOT NULL,
    rating_col     text,
    user_type      text NOT NULL,
    item_type      text NOT NULL,
    n_users        integer NOT NULL,
    n_items        integer NOT NULL,
    n_interactions bigint NOT NULL,
    rows_read      bigint NOT NULL,
    rows_skipped   bigint NOT NULL,
    train_seconds  double precision NOT NULL,
    size_bytes     bigint NOT NULL,
    format_version integer NOT NULL,
    metrics        jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     name NOT NULL DEFAULT current_user,
    search_path    text,  -- the path the source was read with (fold-in and sequences read it again)
    UNIQUE (model, version),
    UNIQUE (id, model)
);

-- A model version's serialized bytes, in order, at most 1 MiB a row.
CREATE TABLE rec.model_chunks (
    version_id bigint NOT NULL REFERENCES rec.model_versions (id) ON DELETE CASCADE,
    seq        integer NOT NULL,
    data       bytea NOT NULL,
    PRIMARY KEY (version_id, seq)
);
-- Model bytes are floats and integer ids: pglz saves little on them and costs a pass over every
-- saved model (about a sixth of a small training's time); they are stored out of line, as they are.
ALTER TABLE rec.model_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- Append-only: the newest row for a model names the version that serves it; the newest row of
-- all names the default model of rec.recommend(user, k).
CREATE TABLE rec.deployments (
    id          bigserial PRIMARY KEY,
    model       text NOT NULL,
    version_id  bigint NOT NULL REFERENCES rec.model_versions (id) ON DELETE CASCADE,
    deployed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    deployed_by name NOT NULL DEFAULT current_user,
    -- A deployment names a version of the same model, never another model's.
    FOREIGN KEY (version_id, model) REFERENCES rec.model_versions (id, model) ON DELETE CASCADE
);
CREATE INDEX ON rec.deployments (model, id);
CREATE INDEX ON rec.deployments (version_id);

-- pg_dump keeps the models (data of extension tables is otherwise skipped).
SELECT pg_catalog.pg_extension_config_dump('rec.model_versions', '');
SELECT pg_catalog.pg_extension_config_dump('rec.model_versions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('rec.model_chunks', '');
SELECT pg_catalog.pg_extension_config_dump('rec.deployments', '');
SELECT pg_catalog.pg_extension_config_dump('rec.deployments_id_seq', '');

-- One row per model: the version that serves it and how it was trained.
-- Who owns each model name (the role that trained its first version; members of that role act
-- as the owner) and whom the owner let use it. Model names and grants are visible to everyone;
-- versions, their bytes and deployments only to roles that may use the model (see the policies).
CREATE TABLE rec.model_owners (
    model text PRIMARY KEY,
    owner regrole NOT NULL DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(current_user))
);
CREATE TABLE rec.model_grants (
    model      text NOT NULL REFERENCES rec.model_owners (model) ON DELETE CASCADE,
    grantee    regrole NOT NULL,  -- a role, or '-' (OID 0): public
    granted_by regrole NOT NULL DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(current_user)),
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, grantee)
);
SELECT pg_catalog.pg_extension_config_dump('rec.model_owners', '');
SELECT pg_catalog.pg_extension_config_dump('rec.model_grants', '');

-- Whether the current role is `role` or a member of it (a superuser acts as every role); false for
-- a role that no longer exists. Roles are kept by OID: a grant to a dropped role never passes to
-- a new role of the same name.
CREATE FUNCTION rec.acts_as(role regrole)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pgrec_acts_as'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rec.acts_as(regrole) IS 'whether you are the role or a member of it (false for a dropped role)';

-- The model rec.recommend(user, k) serves the current role: pgrec.default_model when set, else
-- the model deployed last among those the role owns (never one another role merely granted).
CREATE FUNCTION rec.default_model()
RETURNS text
AS 'MODULE_PATHNAME', 'pgrec_default_model'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION rec.default_model() IS
  'the model rec.recommend(user, k) serves you: pgrec.default_model, else the one you deployed last';

-- The trained models: the version that serves each, the ones the caller may use.
CREATE VIEW rec.models WITH (security_invoker = true) AS
SELECT v.model, v.version, v.algorithm, v.params, v.source, v.user_col, v.item_col, v.rating_col,
       v.user_type, v.item_type, v.n_users, v.n_items, v.n_interactions, v.rows_skipped,
       v.train_seconds, v.size_bytes, v.metrics, v.created_at, v.created_by,
       (SELECT count(*) FROM rec.model_versions a WHERE a.model = v.model) AS versions,
       v.model IS NOT DISTINCT FROM (SELECT rec.default_model()) AS is_default,
       (SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid = o.owner) AS owner,
       CASE WHEN v.source ~* '^[\s(]*(select|with|values|table)\M' OR v.source LIKE '(%' THEN NULL
            ELSE pg_catalog.to_regclass(v.source) IS NOT NULL END AS source_exists
FROM (SELECT DISTINCT ON (model) id, model, version_id
        FROM rec.deployments ORDER BY model, id DESC) d
JOIN rec.model_versions v ON v.id = d.version_id
LEFT JOIN rec.model_owners o ON o.model = v.model;

CREATE FUNCTION rec.train(model text, source text, user_col text, item_col text,
                          rating_col text DEFAULT NULL, algorithm text DEFAULT 'als',
                          params jsonb DEFAULT '{}', time_col text DEFAULT NULL,
                          item_features text DEFAULT NULL, user_features text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'pgrec_train'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION rec.train(text, text, text, text, text, text, jsonb, text, text, text) IS
  'trains a model from a table, view or query and deploys it; returns the new version number (time_col orders sequences for sasrec/gru4rec; item_features/user_features are queries of side features for two_tower)';

CREATE FUNCTION rec.train(model text, algorithm text, params jsonb)
RETURNS integer
AS 'MODULE_PATHNAME', 'pgrec_train_mix'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION rec.train(text, text, jsonb) IS
  'builds a hybrid of trained models (algorithm ''hybrid'', params {"models": {name: weight}, "normalize": "zscore" | "raw"}) and deploys it';

-- The training curve of an iterative model version (the current one by default): loss and the
-- validation NDCG@10 per epoch, and which epoch's weights were kept.
CREATE FUNCTION rec.training_curve(model text, version integer DEFAULT NULL)
RETURNS TABLE (epoch integer, loss double precision, ndcg_at_10 double precision, best boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v integer := training_curve.version;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = training_curve.model) THEN
        RAISE EXCEPTION 'model "%" does not exist', training_curve.model USING ERRCODE = 'undefined_object';
    END IF;
    IF v IS NULL THEN
        SELECT m.version INTO v FROM rec.models m WHERE m.model = training_curve.model;
        IF v IS NULL THEN
            RAISE EXCEPTION 'permission denied for model "%"', training_curve.model USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM rec.model_versions mv WHERE mv.model = training_curve.model AND mv.version = v) THEN
        IF NOT EXISTS (SELECT 1 FROM rec.model_versions mv WHERE mv.model = training_curve.model) THEN
            RAISE EXCEPTION 'permission denied for model "%"', training_curve.model USING ERRCODE = 'insufficient_privilege';
        END IF;
        RAISE EXCEPTION 'model "%" version % does not exist', training_curve.model, v USING ERRCODE = 'undefined_object';
    END IF;
    RETURN QUERY
    SELECT (e->>'epoch')::integer, (e->>'loss')::double precision, (e->>'ndcg@10')::double precision,
           coalesce((e->>'best')::boolean, false)
      FROM rec.model_versions mv, jsonb_array_elements(mv.metrics->'training') e
     WHERE mv.model = training_curve.model AND mv.version = v
     ORDER BY 1;
END;
$$;
COMMENT ON FUNCTION rec.training_curve(text, integer) IS
  'per-epoch training loss (and validation NDCG@10 for the LibTorch families) of an iterative model version (the deployed one by default); ALS records its objective with params {"track_loss": true}';

-- The planner's row estimate for the serving functions: the call's k (see SupportRequestRows).
CREATE FUNCTION rec._rows_support(internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'pgrec_rows_support'
LANGUAGE C STRICT;

CREATE FUNCTION rec.recommend(model text, user_id "any", k integer, exclude_seen boolean DEFAULT true,
                              fold_in boolean DEFAULT false, candidates bigint[] DEFAULT NULL,
                              exclude bigint[] DEFAULT NULL, exact boolean DEFAULT NULL)
RETURNS TABLE (item_id bigint, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_recommend'
LANGUAGE C STABLE PARALLEL SAFE COST 100 ROWS 10
SUPPORT rec._rows_support;
COMMENT ON FUNCTION rec.recommend(text, "any", integer, boolean, boolean, bigint[], bigint[], boolean) IS
  'the k best items for a user (popular items for a user the model has not seen); fold_in reads the user''s current rows; candidates/exclude filter before ranking; exact => true bypasses an approximate index';

CREATE FUNCTION rec.recommend(user_id "any", k integer, exclude_seen boolean DEFAULT true,
                              fold_in boolean DEFAULT false, candidates bigint[] DEFAULT NULL,
                              exclude bigint[] DEFAULT NULL, exact boolean DEFAULT NULL)
RETURNS TABLE (item_id bigint, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_recommend_default'
LANGUAGE C STABLE PARALLEL SAFE COST 100 ROWS 10
SUPPORT rec._rows_support;
COMMENT ON FUNCTION rec.recommend("any", integer, boolean, boolean, bigint[], bigint[], boolean) IS
  'rec.recommend with the default model (rec.default_model())';

CREATE FUNCTION rec.recommend_all(model text, k integer DEFAULT 10, exclude_seen boolean DEFAULT true,
                                  users bigint[] DEFAULT NULL)
RETURNS TABLE (user_id bigint, item_id bigint, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_recommend_all'
LANGUAGE C STABLE PARALLEL SAFE COST 100000 ROWS 100000
SUPPORT rec._rows_support;
COMMENT ON FUNCTION rec.recommend_all(text, integer, boolean, bigint[]) IS
  'the k best items of every user of the model (or of the listed users), computed in blocks and streamed';

CREATE FUNCTION rec.recommend_all_keys(model text, k integer DEFAULT 10, exclude_seen boolean DEFAULT true,
                                       users text[] DEFAULT NULL)
RETURNS TABLE (user_key text, item_key text, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_recommend_all'
LANGUAGE C STABLE PARALLEL SAFE COST 100000 ROWS 100000
SUPPORT rec._rows_support;
COMMENT ON FUNCTION rec.recommend_all_keys(text, integer, boolean, text[]) IS
  'rec.recommend_all with ids as text (for models whose ids are not integers)';

CREATE FUNCTION rec.recommend_keys(model text, user_id "any", k integer, exclude_seen boolean DEFAULT true,
                                   fold_in boolean DEFAULT false, candidates text[] DEFAULT NULL,
                                   exclude text[] DEFAULT NULL, exact boolean DEFAULT NULL)
RETURNS TABLE (item_key text, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_recommend'
LANGUAGE C STABLE PARALLEL SAFE COST 100 ROWS 10
SUPPORT rec._rows_support;
COMMENT ON FUNCTION rec.recommend_keys(text, "any", integer, boolean, boolean, text[], text[], boolean) IS
  'rec.recommend with item ids as text: for models whose item ids are text, uuid or any type';

CREATE FUNCTION rec.recommend_for_items(model text, items anyarray, ratings real[] DEFAULT NULL,
                                        k integer DEFAULT 10, exclude_given boolean DEFAULT true,
                                        candidates bigint[] DEFAULT NULL, exclude bigint[] DEFAULT NULL)
RETURNS TABLE (item_id bigint, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_recommend_for_items'
LANGUAGE C STABLE PARALLEL SAFE COST 100 ROWS 10
SUPPORT rec._rows_support;
COMMENT ON FUNCTION rec.recommend_for_items(text, anyarray, real[], integer, boolean, bigint[], bigint[]) IS
  'the k best items for someone who has these items (with these ratings): fold-in, no retraining';

CREATE FUNCTION rec.recommend_for_items_keys(model text, items anyarray, ratings real[] DEFAULT NULL,
                                             k integer DEFAULT 10, exclude_given boolean DEFAULT true,
                                             candidates text[] DEFAULT NULL, exclude text[] DEFAULT NULL)
RETURNS TABLE (item_key text, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_recommend_for_items'
LANGUAGE C STABLE PARALLEL SAFE COST 100 ROWS 10
SUPPORT rec._rows_support;

CREATE FUNCTION rec.explain(model text, user_id "any", item "any", n integer DEFAULT 10)
RETURNS TABLE (item_id bigint, contribution real, share real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_explain'
LANGUAGE C STABLE PARALLEL SAFE COST 100 ROWS 10
SUPPORT rec._rows_support;
COMMENT ON FUNCTION rec.explain(text, "any", "any", integer) IS
  'the user''s items that contributed most to the model''s score of an item, with their share of it';

CREATE FUNCTION rec.explain_keys(model text, user_id "any", item "any", n integer DEFAULT 10)
RETURNS TABLE (item_key text, contribution real, share real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_explain'
LANGUAGE C STABLE PARALLEL SAFE COST 100 ROWS 10
SUPPORT rec._rows_support;

CREATE FUNCTION rec.predict(model text, user_id "any", item_id "any")
RETURNS real
AS 'MODULE_PATHNAME', 'pgrec_predict'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 1000;
COMMENT ON FUNCTION rec.predict(text, "any", "any") IS
  'the model''s score for a user and an item; NULL when either is unknown to the model';

CREATE FUNCTION rec.similar_items(model text, item "any", k integer, candidates bigint[] DEFAULT NULL,
                                  exclude bigint[] DEFAULT NULL)
RETURNS TABLE (item_id bigint, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_similar_items'
LANGUAGE C STABLE PARALLEL SAFE COST 100 ROWS 10
SUPPORT rec._rows_support;
COMMENT ON FUNCTION rec.similar_items(text, "any", integer, bigint[], bigint[]) IS
  'the k items closest to an item (cosine of item factors; an item_knn model''s neighbours); empty for an unknown item; candidates/exclude filter before ranking';

CREATE FUNCTION rec.similar_items_keys(model text, item "any", k integer, candidates text[] DEFAULT NULL,
                                       exclude text[] DEFAULT NULL)
RETURNS TABLE (item_key text, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_similar_items'
LANGUAGE C STABLE PARALLEL SAFE COST 100 ROWS 10
SUPPORT rec._rows_support;

-- Factor vectors out (to pgvector, numpy, another service) and in (factors trained elsewhere).
CREATE FUNCTION rec.user_factors(model text)
RETURNS TABLE (user_id bigint, factors real[])
AS 'MODULE_PATHNAME', 'pgrec_user_factors'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 1000 ROWS 10000;
COMMENT ON FUNCTION rec.user_factors(text) IS
  'every user''s factor vector of a factor model (score = user vector . item vector, plus the global mean for explicit models)';

CREATE FUNCTION rec.user_factors_keys(model text)
RETURNS TABLE (user_key text, factors real[])
AS 'MODULE_PATHNAME', 'pgrec_user_factors'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 1000 ROWS 10000;
COMMENT ON FUNCTION rec.user_factors_keys(text) IS
  'rec.user_factors with ids as text (for models whose user ids are not integers)';

CREATE FUNCTION rec.item_factors(model text)
RETURNS TABLE (item_id bigint, factors real[])
AS 'MODULE_PATHNAME', 'pgrec_item_factors'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 1000 ROWS 10000;
COMMENT ON FUNCTION rec.item_factors(text) IS
  'every item''s factor vector of a factor model (castable to pgvector''s vector; rank by inner product)';

CREATE FUNCTION rec.item_factors_keys(model text)
RETURNS TABLE (item_key text, factors real[])
AS 'MODULE_PATHNAME', 'pgrec_item_factors'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 1000 ROWS 10000;
COMMENT ON FUNCTION rec.item_factors_keys(text) IS
  'rec.item_factors with ids as text (for models whose item ids are not integers)';

CREATE FUNCTION rec.global_mean(model text)
RETURNS real
AS 'MODULE_PATHNAME', 'pgrec_global_mean'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rec.global_mean(text) IS
  'what a factor model adds to every user . item dot product: the mean rating of an explicit model, 0 for implicit ones';

CREATE FUNCTION rec.import_factors(model text, users text, items text, kind text DEFAULT 'implicit',
                                   seen text DEFAULT NULL, params jsonb DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'pgrec_import_factors'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION rec.import_factors(text, text, text, text, text, jsonb) IS
  'stores user and item factors trained elsewhere (queries of (id, vector)) as a new version of a factor model and deploys it';

-- Training as an aggregate over any query: rec.save_model(name, rec.train_agg(...)) stores it.
CREATE FUNCTION rec._train_agg_step(internal, text, "any", "any")
RETURNS internal AS 'MODULE_PATHNAME', 'pgrec_train_agg_step' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION rec._train_agg_step(internal, text, "any", "any", double precision)
RETURNS internal AS 'MODULE_PATHNAME', 'pgrec_train_agg_step' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION rec._train_agg_step(internal, text, "any", "any", jsonb)
RETURNS internal AS 'MODULE_PATHNAME', 'pgrec_train_agg_step' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION rec._train_agg_step(internal, text, "any", "any", double precision, jsonb)
RETURNS internal AS 'MODULE_PATHNAME', 'pgrec_train_agg_step' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION rec._train_agg_final(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'pgrec_train_agg_final' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION rec._train_agg_combine(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'pgrec_train_agg_combine' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION rec._train_agg_serialize(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'pgrec_train_agg_serialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION rec._train_agg_deserialize(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'pgrec_train_agg_deserialize' LANGUAGE C STRICT PARALLEL SAFE;

CREATE AGGREGATE rec.train_agg(algorithm text, user_id "any", item_id "any") (
    SFUNC = rec._train_agg_step, STYPE = internal, FINALFUNC = rec._train_agg_final,
    FINALFUNC_MODIFY = READ_WRITE, COMBINEFUNC = rec._train_agg_combine,
    SERIALFUNC = rec._train_agg_serialize, DESERIALFUNC = rec._train_agg_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE rec.train_agg(algorithm text, user_id "any", item_id "any", rating double precision) (
    SFUNC = rec._train_agg_step, STYPE = internal, FINALFUNC = rec._train_agg_final,
    FINALFUNC_MODIFY = READ_WRITE, COMBINEFUNC = rec._train_agg_combine,
    SERIALFUNC = rec._train_agg_serialize, DESERIALFUNC = rec._train_agg_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE rec.train_agg(algorithm text, user_id "any", item_id "any", params jsonb) (
    SFUNC = rec._train_agg_step, STYPE = internal, FINALFUNC = rec._train_agg_final,
    FINALFUNC_MODIFY = READ_WRITE, COMBINEFUNC = rec._train_agg_combine,
    SERIALFUNC = rec._train_agg_serialize, DESERIALFUNC = rec._train_agg_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE rec.train_agg(algorithm text, user_id "any", item_id "any", rating double precision, params jsonb) (
    SFUNC = rec._train_agg_step, STYPE = internal, FINALFUNC = rec._train_agg_final,
    FINALFUNC_MODIFY = READ_WRITE, COMBINEFUNC = rec._train_agg_combine,
    SERIALFUNC = rec._train_agg_serialize, DESERIALFUNC = rec._train_agg_deserialize, PARALLEL = SAFE);

CREATE FUNCTION rec.save_model(name text, model bytea)
RETURNS integer
AS 'MODULE_PATHNAME', 'pgrec_save_model'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION rec.save_model(text, bytea) IS
  'stores a model value (from rec.train_agg) as a new version of a model and deploys it';

-- The role that owns a model (members of it act as the owner); 42704 for a model nobody trained.
CREATE FUNCTION rec.model_owner(model text)
RETURNS regrole
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o regrole;
BEGIN
    SELECT mo.owner INTO o FROM rec.model_owners mo WHERE mo.model = model_owner.model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    RETURN o;
END;
$$;
COMMENT ON FUNCTION rec.model_owner(text) IS 'the role that owns a model (its members may change it)';

-- Lets a role (or 'public') use a model: recommend, predict, evaluate, read its versions.
CREATE FUNCTION rec.grant_model(model text, grantee text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_owner regrole;
    g_role regrole;
BEGIN
    -- A role by its OID ('-', OID 0, for public).
    g_role := CASE WHEN lower(grantee) = 'public' THEN '-'::regrole ELSE to_regrole(quote_ident(grantee)) END;
    IF g_role IS NULL THEN
        RAISE EXCEPTION 'role "%" does not exist', grantee USING ERRCODE = 'undefined_object';
    END IF;
    -- The owner read here, not through rec.model_owner(): its error would name that function.
    v_owner := (SELECT mo.owner FROM rec.model_owners mo WHERE mo.model = grant_model.model);
    IF v_owner IS NULL THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT rec.acts_as(v_owner) THEN
        RAISE EXCEPTION 'permission denied for model "%"', model USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'Only its owner and members of that role may change it.';
    END IF;
    INSERT INTO rec.model_grants (model, grantee) VALUES (grant_model.model, g_role) ON CONFLICT DO NOTHING;
END;
$$;

-- Takes back what rec.grant_model gave.
CREATE FUNCTION rec.revoke_model(model text, grantee text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_owner regrole;
    g_role regrole;
BEGIN
    -- A role by its OID ('-', OID 0, for public).
    g_role := CASE WHEN lower(grantee) = 'public' THEN '-'::regrole ELSE to_regrole(quote_ident(grantee)) END;
    IF g_role IS NULL THEN
        RAISE EXCEPTION 'role "%" does not exist', grantee USING ERRCODE = 'undefined_object';
    END IF;
    -- The owner read here, not through rec.model_owner(): its error would name that function.
    v_owner := (SELECT mo.owner FROM rec.model_owners mo WHERE mo.model = revoke_model.model);
    IF v_owner IS NULL THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT rec.acts_as(v_owner) THEN
        RAISE EXCEPTION 'permission denied for model "%"', model USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'Only its owner and members of that role may change it.';
    END IF;
    DELETE FROM rec.model_grants g
     WHERE g.model = revoke_model.model
       AND g.grantee = g_role;
END;
$$;

-- Makes a trained version the one that serves `model` (and the default model).
CREATE FUNCTION rec.deploy(model text, version integer DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_owner regrole;
    v_id bigint;
    v_version integer;
BEGIN
    -- Train, deploy and drop of one name take turns (rec.train takes the same lock).
    PERFORM pg_advisory_xact_lock(hashtext('pgrec:' || model));
    -- The owner read here, not through rec.model_owner(): its error would name that function.
    v_owner := (SELECT mo.owner FROM rec.model_owners mo WHERE mo.model = deploy.model);
    IF v_owner IS NULL THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT rec.acts_as(v_owner) THEN
        RAISE EXCEPTION 'permission denied for model "%"', model USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'Only its owner and members of that role may change it.';
    END IF;
    SELECT id, mv.version INTO v_id, v_version FROM rec.model_versions mv
     WHERE mv.model = deploy.model AND (deploy.version IS NULL OR mv.version = deploy.version)
     ORDER BY mv.version DESC LIMIT 1;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'model "%"% does not exist', model,
              CASE WHEN version IS NULL THEN '' ELSE format(' version %s', version) END
              USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO rec.deployments (model, version_id) VALUES (deploy.model, v_id);
    RETURN v_version;
END;
$$;

-- Deletes every version of a model; returns how many versions were removed.
CREATE FUNCTION rec.drop_model(model text)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_owner regrole;
    n integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('pgrec:' || model));
    -- The owner read here, not through rec.model_owner(): its error would name that function.
    v_owner := (SELECT mo.owner FROM rec.model_owners mo WHERE mo.model = drop_model.model);
    IF v_owner IS NULL THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT rec.acts_as(v_owner) THEN
        RAISE EXCEPTION 'permission denied for model "%"', model USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'Only its owner and members of that role may change it.';
    END IF;
    -- The versions' mapped files go with them (trigger versions_deleted).
    DELETE FROM rec.model_versions mv WHERE mv.model = drop_model.model;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM rec.model_owners o WHERE o.model = drop_model.model;
    IF n = 0 THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    RETURN n;
END;
$$;

-- The SELECT that tags each source row as train or test (columns pgrec_row, pgrec_is_test); what
-- rec.split and rec.tune run. Row order never matters: the draw is a hash of (user, item, seed).
-- `source` is a schema-qualified relation (rec.qualify_source) or a query; the SQL returned runs
-- with the caller's search_path, so every function in it is schema-qualified.
CREATE FUNCTION rec.split_query(source text, user_col text, item_col text, method text,
                                test_fraction double precision, seed integer, time_col text,
                                fold integer DEFAULT 0, folds integer DEFAULT 1)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src text;
    draw text;
    is_test text;
BEGIN
    IF source IS NULL OR user_col IS NULL OR item_col IS NULL OR method IS NULL OR seed IS NULL THEN
        RAISE EXCEPTION 'source, user_col, item_col, method and seed must not be null'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF method <> 'fold' AND NOT (test_fraction > 0 AND test_fraction < 1) THEN
        RAISE EXCEPTION 'test_fraction must be between 0 and 1 (exclusive), not %', test_fraction
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF method IN ('leave_last_out', 'temporal') AND time_col IS NULL THEN
        RAISE EXCEPTION 'method % needs time_col', method USING ERRCODE = 'invalid_parameter_value';
    END IF;
    src := CASE WHEN source ~* '^[\s(]*(select|with|values|table)\M'
                THEN '(' || source || E'\n) AS s'
                ELSE source::regclass::text || ' AS s' END;
    draw := format('((pg_catalog.hashtextextended(s.%I::text || pg_catalog.chr(31) || s.%I::text, %s) & 1073741823)::float8 / 1073741824.0)',
                   user_col, item_col, seed);
    is_test := CASE method
        WHEN 'random' THEN format('%s < %s', draw, test_fraction)
        WHEN 'per_user' THEN format(
            'pg_catalog.row_number() OVER (PARTITION BY s.%1$I ORDER BY %2$s, s.%3$I::text) <= '
            'least(pg_catalog.round(pg_catalog.count(*) OVER (PARTITION BY s.%1$I) * %4$s), '
            'pg_catalog.count(*) OVER (PARTITION BY s.%1$I) - 1)',
            user_col, draw, item_col, test_fraction)
        WHEN 'leave_last_out' THEN format(
            'pg_catalog.row_number() OVER (PARTITION BY s.%1$I ORDER BY s.%2$I DESC, %3$s) = 1 '
            'AND pg_catalog.count(*) OVER (PARTITION BY s.%1$I) > 1',
            user_col, time_col, draw)
        WHEN 'temporal' THEN format(
            's.%1$I > (SELECT pg_catalog.percentile_disc(%2$s) WITHIN GROUP (ORDER BY s.%1$I) FROM %3$s)',
            time_col, 1 - test_fraction, src)
        WHEN 'fold' THEN format('pg_catalog.floor(%s * %s) = %s', draw, folds, fold)
    END;
    IF is_test IS NULL THEN
        RAISE EXCEPTION 'unknown split method "%"', method
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Methods: random, per_user, leave_last_out, temporal.';
    END IF;
    RETURN format('SELECT s AS pgrec_row, (%s) AS pgrec_is_test FROM %s', is_test, src);
END;
$$;

-- Splits a source into tables NAME_train and NAME_test (all the source's columns), reproducibly,
-- in the caller's current schema.
CREATE FUNCTION rec.split(name text, source text, user_col text, item_col text,
                          method text DEFAULT 'random', test_fraction double precision DEFAULT 0.2,
                          seed integer DEFAULT 42, time_col text DEFAULT NULL,
                          replace boolean DEFAULT false)
RETURNS TABLE (relation regclass, rows bigint)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    caller_path text := pg_catalog.current_setting('search_path');
    src text;
    target_schema text;
    q text;
    part text;
    target text;
    statement text;
    n bigint;
BEGIN
    -- pgrec's own SQL runs on a pinned path; the caller's names resolve on the caller's.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF name IS NULL OR name = '' THEN
        RAISE EXCEPTION 'name must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF source IS NULL THEN
        RAISE EXCEPTION 'source, user_col, item_col, method and seed must not be null'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The caller's names, resolved on the caller's path.
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
    src := rec.qualify_source(source);
    target_schema := pg_catalog.current_schema();
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF target_schema IS NULL THEN
        RAISE EXCEPTION 'no schema on search_path to create %_train and %_test in', name, name
              USING ERRCODE = 'invalid_schema_name';
    END IF;
    q := rec.split_query(src, user_col, item_col, method, test_fraction, seed, time_col);
    IF NOT coalesce(replace, false) THEN
        FOREACH part IN ARRAY ARRAY['train', 'test'] LOOP
            IF pg_catalog.to_regclass(format('%I.%I', target_schema, name || '_' || part)) IS NOT NULL THEN
                RAISE EXCEPTION 'relation %.% already exists', pg_catalog.quote_ident(target_schema),
                      pg_catalog.quote_ident(name || '_' || part)
                      USING ERRCODE = 'duplicate_table',
                            HINT = 'Use replace => true to replace both tables of the split.';
            END IF;
        END LOOP;
    END IF;
    FOREACH part IN ARRAY ARRAY['train', 'test'] LOOP
        target := format('%I.%I', target_schema, name || '_' || part);
        IF replace THEN
            EXECUTE format('DROP TABLE IF EXISTS %s', target);
        END IF;
        statement := format('CREATE TABLE %s AS SELECT (q.pgrec_row).* FROM (%s) q WHERE %s q.pgrec_is_test',
                            target, q, CASE part WHEN 'train' THEN 'NOT' ELSE '' END);
        -- A query source runs as the caller wrote it.
        PERFORM pg_catalog.set_config('search_path', caller_path, true);
        EXECUTE statement;
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        relation := target::regclass;
        rows := n;
        RETURN NEXT;
    END LOOP;
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
END;
$$;

-- The source as pgrec stores it: a relation schema-qualified as the caller's search_path finds it,
-- or a query unchanged.
CREATE FUNCTION rec.qualify_source(source text)
RETURNS text
AS 'MODULE_PATHNAME', 'pgrec_qualify'
LANGUAGE C STABLE STRICT;

-- Scores one stored version (an id of rec.model_versions the caller may use) on held-out rows,
-- reading test_source with `search_path` (the current one when null); rec.evaluate calls it for the
-- serving version.
CREATE FUNCTION rec.evaluate_version(version_id bigint, test_source text, user_col text, item_col text,
                                     rating_col text, k integer, exclude_seen boolean,
                                     sampled_negatives integer, seed bigint, search_path text DEFAULT NULL)
RETURNS TABLE (metric text, value double precision)
AS 'MODULE_PATHNAME', 'pgrec_evaluate'
LANGUAGE C VOLATILE;

-- Scores a model's serving version on held-out interactions; stores the result with the version.
CREATE FUNCTION rec.evaluate(model text, test_source text, k integer DEFAULT 10,
                             metrics text[] DEFAULT NULL, user_col text DEFAULT NULL,
                             item_col text DEFAULT NULL, rating_col text DEFAULT NULL,
                             exclude_seen boolean DEFAULT true, sampled_negatives integer DEFAULT 0,
                             seed bigint DEFAULT 42, store boolean DEFAULT true)
RETURNS TABLE (metric text, value double precision)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    caller_path text := pg_catalog.current_setting('search_path');
    known constant text[] := ARRAY['precision', 'recall', 'ndcg', 'hr', 'map', 'mrr', 'coverage',
                                   'popularity', 'rmse', 'mae'];
    counts constant text[] := ARRAY['users', 'cold_users', 'test_rows', 'unknown_items'];
    v_id bigint;
    v_user_col text;
    v_item_col text;
    v_rating_col text;
    bad text;
    result jsonb := '{}';
    protocol text;
    r record;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    SELECT mv.id, mv.user_col, mv.item_col, mv.rating_col
      INTO v_id, v_user_col, v_item_col, v_rating_col
      FROM rec.deployments d JOIN rec.model_versions mv ON mv.id = d.version_id
     WHERE d.model = evaluate.model ORDER BY d.id DESC LIMIT 1;
    IF v_id IS NULL AND EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = evaluate.model) THEN
        RAISE EXCEPTION 'permission denied for model "%"', evaluate.model USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'model "%" does not exist', evaluate.model USING ERRCODE = 'undefined_object';
    END IF;
    -- A model made by rec.train_agg or rec.import_factors has no source columns to fall back on.
    IF coalesce(evaluate.user_col, v_user_col) IN ('(aggregate)', '(import)')
       OR coalesce(evaluate.item_col, v_item_col) IN ('(aggregate)', '(import)') THEN
        RAISE EXCEPTION 'model "%" was made by %: name the test source''s columns', evaluate.model,
              CASE WHEN coalesce(evaluate.user_col, v_user_col) = '(import)' OR coalesce(evaluate.item_col, v_item_col) = '(import)'
                   THEN 'rec.import_factors' ELSE 'rec.train_agg' END
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Pass user_col and item_col (and rating_col for an explicit-ratings model) to rec.evaluate.';
    END IF;
    SELECT m INTO bad FROM unnest(evaluate.metrics) m WHERE m IS NULL OR NOT m = ANY (known) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown metric "%"', bad USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Metrics: ' || array_to_string(known, ', ') || '.';
    END IF;
    FOR r IN
        SELECT e.metric AS m, e.value AS v
          FROM rec.evaluate_version(v_id, test_source, coalesce(evaluate.user_col, v_user_col),
                             coalesce(evaluate.item_col, v_item_col),
                             coalesce(evaluate.rating_col, v_rating_col),
                             k, exclude_seen, sampled_negatives, seed, caller_path) e
    LOOP
        result := result || jsonb_build_object(r.m, r.v);
        IF evaluate.metrics IS NULL OR r.m = ANY (counts)
           OR split_part(split_part(r.m, '@', 1), ' ', 1) = ANY (evaluate.metrics) THEN
            metric := r.m;
            value := r.v;
            RETURN NEXT;
        END IF;
    END LOOP;
    IF store THEN
        -- One entry per (test source, protocol): a sampled run does not overwrite a full one.
        protocol := CASE WHEN sampled_negatives > 0
                         THEN format('%s sampled negatives per test item', sampled_negatives)
                         ELSE 'full ranking over all items' END
                    || CASE WHEN exclude_seen THEN ', training items excluded' ELSE '' END;
        UPDATE rec.model_versions mv
           SET metrics = mv.metrics || jsonb_build_object(test_source || ' / ' || protocol,
                   result || jsonb_build_object('protocol', protocol, 'k', k, 'evaluated_at', now()))
         WHERE mv.id = v_id;
    END IF;
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
END;
$$;

-- Every combination of a parameter grid ({"factors": [32, 64], "regularization": [0.01, 0.1]}:
-- four objects), in key order; 22023 unless the grid is an object of non-empty arrays.
CREATE FUNCTION rec.tune_grid(grid jsonb)
RETURNS jsonb[]
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    combos jsonb[] := ARRAY['{}'::jsonb];
    next_combos jsonb[];
    key text;
    vals jsonb;
    c jsonb;
    val jsonb;
BEGIN
    IF grid IS NULL OR jsonb_typeof(grid) <> 'object' THEN
        RAISE EXCEPTION 'grid must be a JSON object of arrays, like ''{"factors": [32, 64]}'''
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR key, vals IN SELECT g.key, g.value FROM jsonb_each(grid) g ORDER BY g.key LOOP
        IF jsonb_typeof(vals) <> 'array' OR jsonb_array_length(vals) = 0 THEN
            RAISE EXCEPTION 'grid entry "%" must be a non-empty array', key USING ERRCODE = 'invalid_parameter_value';
        END IF;
        next_combos := ARRAY[]::jsonb[];
        FOREACH c IN ARRAY combos LOOP
            FOR val IN SELECT e FROM jsonb_array_elements(vals) e LOOP
                next_combos := next_combos || (c || jsonb_build_object(key, val));
            END LOOP;
        END LOOP;
        combos := next_combos;
    END LOOP;
    RETURN combos;
END;
$$;
COMMENT ON FUNCTION rec.tune_grid(jsonb) IS 'every combination of a parameter grid, in the order rec.tune tries them';

-- Trains every combination of a parameter grid on validation splits, reports each, and trains
-- NAME on the whole source with the best one.
CREATE FUNCTION rec.tune(name text, source text, user_col text, item_col text,
                         rating_col text DEFAULT NULL, algorithm text DEFAULT 'als',
                         grid jsonb DEFAULT '{}', base_params jsonb DEFAULT '{}',
                         folds integer DEFAULT 1, validation_fraction double precision DEFAULT 0.2,
                         metric text DEFAULT NULL, k integer DEFAULT 10, seed integer DEFAULT 42)
RETURNS TABLE (params jsonb, score double precision, seconds double precision, best boolean)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    caller_path text := pg_catalog.current_setting('search_path');
    m text := coalesce(metric, CASE WHEN rating_col IS NULL THEN 'ndcg' ELSE 'rmse' END);
    combos jsonb[];
    c jsonb;
    lower_is_better boolean;
    scratch text;
    q text;
    f integer;
    total double precision;
    t0 timestamptz;
    results jsonb := '[]';
    best_params jsonb;
    best_score double precision;
    s double precision;
    src text;
    statement text;
    final_params jsonb;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF name IS NULL OR name = '' OR length(name) > 200 THEN
        RAISE EXCEPTION 'name must be 1 to 200 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF folds IS NULL OR folds < 1 OR folds > 20 THEN
        RAISE EXCEPTION 'folds must be between 1 and 20, not %', folds USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF m NOT IN ('precision', 'recall', 'ndcg', 'hr', 'map', 'mrr', 'rmse', 'mae') THEN
        RAISE EXCEPTION 'unknown metric "%"', m USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Metrics: precision, recall, ndcg, hr, map, mrr, rmse, mae.';
    END IF;
    IF m IN ('rmse', 'mae') AND rating_col IS NULL THEN
        RAISE EXCEPTION 'metric % needs rating_col', m USING ERRCODE = 'invalid_parameter_value';
    END IF;
    combos := rec.tune_grid(grid);
    lower_is_better := m IN ('rmse', 'mae');
    -- The scratch model's name has a fixed length whatever NAME's.
    scratch := '__tune_' || md5(name);
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
    src := rec.qualify_source(source);
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF EXISTS (SELECT 1 FROM rec.model_versions mv WHERE mv.model = scratch) THEN
        PERFORM rec.drop_model(scratch);
    END IF;

    FOREACH c IN ARRAY combos LOOP
        total := 0;
        t0 := clock_timestamp();
        FOR f IN 0 .. folds - 1 LOOP
            q := rec.split_query(src, user_col, item_col,
                                   CASE WHEN folds = 1 THEN 'per_user' ELSE 'fold' END,
                                   validation_fraction, seed, NULL, f, folds);
            IF to_regclass('pg_temp.pgrec_tune_train') IS NOT NULL THEN
                DROP TABLE pg_temp.pgrec_tune_train, pg_temp.pgrec_tune_test;
            END IF;
            -- A query source runs as the caller wrote it; the tables land in pg_temp.
            statement := format('CREATE TEMP TABLE pgrec_tune_train AS SELECT (q.pgrec_row).* FROM (%s) q WHERE NOT q.pgrec_is_test; '
                                'CREATE TEMP TABLE pgrec_tune_test AS SELECT (q.pgrec_row).* FROM (%s) q WHERE q.pgrec_is_test', q, q);
            PERFORM pg_catalog.set_config('search_path', caller_path, true);
            EXECUTE statement;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            PERFORM rec.train(scratch, 'pg_temp.pgrec_tune_train', user_col, item_col, rating_col,
                              algorithm, base_params || c);
            SELECT e.value INTO s FROM rec.evaluate(scratch, 'pg_temp.pgrec_tune_test', k,
                                                    NULL, NULL, NULL, NULL, true, 0, 42, false) e
             WHERE split_part(e.metric, '@', 1) = m;
            total := total + s;
            PERFORM rec.drop_model(scratch);
        END LOOP;
        s := total / folds;
        results := results || jsonb_build_object('params', c, 'score', s,
                                                 'seconds', extract(epoch FROM clock_timestamp() - t0));
        IF best_score IS NULL OR (lower_is_better AND s < best_score) OR (NOT lower_is_better AND s > best_score) THEN
            best_score := s;
            best_params := c;
        END IF;
    END LOOP;
    DROP TABLE pg_temp.pgrec_tune_train, pg_temp.pgrec_tune_test;

    final_params := base_params || best_params;
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
    PERFORM rec.train(name, src, user_col, item_col, rating_col, algorithm, final_params);
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    UPDATE rec.model_versions mv
       SET metrics = mv.metrics || jsonb_build_object('tune', jsonb_build_object(
               'metric', m || '@' || k, 'folds', folds, 'validation_fraction', validation_fraction,
               'results', results, 'best', best_params))
     WHERE mv.id = (SELECT d.version_id FROM rec.deployments d WHERE d.model = name ORDER BY d.id DESC LIMIT 1);
    RETURN QUERY
    SELECT base_params || (r->'params'), (r->>'score')::float8, (r->>'seconds')::float8,
           (r->'params') = best_params
      FROM jsonb_array_elements(results) r;
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
END;
$$;


-- Background training jobs (rec.train_async). Rows are visible and changeable only by the role
-- that submitted them (row-level security); superusers see all.
CREATE TABLE rec.job_queue (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL DEFAULT 'train' CHECK (kind IN ('train', 'tune')),
    args          jsonb NOT NULL DEFAULT '{}',
    result        jsonb,
    model         text NOT NULL CHECK (model <> '' AND length(model) <= 200),
    algorithm     text NOT NULL,
    params        jsonb NOT NULL,
    source        text NOT NULL,
    user_col      text NOT NULL,
    item_col      text NOT NULL,
    rating_col    text,
    device        text NOT NULL,
    state         text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelling', 'cancelled')),
    progress      real NOT NULL DEFAULT 0,
    epoch         integer NOT NULL DEFAULT 0,
    epochs        integer,
    loss          double precision,
    device_used   text,
    version       integer,
    submitted_by  oid NOT NULL DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(current_user))::oid,
    submitted_by_name name NOT NULL DEFAULT current_user,
    submitted_at  timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    pid           integer,
    error_code    text,
    error         text
);
CREATE INDEX ON rec.job_queue (state) WHERE state IN ('queued', 'running', 'cancelling');
ALTER TABLE rec.job_queue ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_jobs ON rec.job_queue
    USING (submitted_by = pg_catalog.to_regrole(pg_catalog.quote_ident(current_user))::oid)
    WITH CHECK (submitted_by = pg_catalog.to_regrole(pg_catalog.quote_ident(current_user))::oid);
GRANT SELECT, INSERT, UPDATE ON rec.job_queue TO PUBLIC;
GRANT USAGE ON SEQUENCE rec.job_queue_id_seq TO PUBLIC;

-- Whether pid is a live pgrec training worker, read from the server's shared state now (not a
-- transaction's snapshot of pg_stat_activity); rec.jobs shows a running job whose worker is gone
-- as failed.
CREATE FUNCTION rec.training_worker_alive(pid integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pgrec_job_worker_alive'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

-- Jobs as their submitters see them; a running job whose worker is gone shows as failed.
CREATE VIEW rec.jobs WITH (security_invoker = true) AS
SELECT j.id AS job, j.model, j.algorithm,
       CASE WHEN j.state IN ('running', 'cancelling') AND NOT rec.training_worker_alive(j.pid)
            THEN 'failed' ELSE j.state END AS state,
       j.progress, j.epoch, j.epochs, j.loss, j.device, j.device_used, j.version,
       pg_catalog.format('%s', j.submitted_by::pg_catalog.regrole)::pg_catalog.name AS submitted_by, j.submitted_at, j.started_at,
       j.finished_at, j.pid,
       CASE WHEN j.state IN ('running', 'cancelling') AND NOT rec.training_worker_alive(j.pid)
            THEN 'worker crashed or was stopped before the job finished' ELSE j.error END AS error,
       j.error_code, j.kind, j.params, j.source, j.result
FROM rec.job_queue j;
GRANT SELECT ON rec.jobs TO PUBLIC;

-- Starts a worker for each job queued (rec.train_async, rec.tune_async): it waits for the
-- submitting transaction to commit.
CREATE FUNCTION rec._jobs_queued()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pgrec_jobs_queued'
LANGUAGE C;
CREATE TRIGGER jobs_queued AFTER INSERT ON rec.job_queue
    FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION rec._jobs_queued();

CREATE FUNCTION rec.train_async(model text, source text, user_col text, item_col text,
                                rating_col text DEFAULT NULL, algorithm text DEFAULT 'als',
                                params jsonb DEFAULT '{}', device text DEFAULT NULL,
                                time_col text DEFAULT NULL, item_features text DEFAULT NULL,
                                user_features text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'pgrec_train_async'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION rec.train_async(text, text, text, text, text, text, jsonb, text, text, text, text) IS
  'queues a training job for a background worker; returns the job id at once';

-- rec.tune as a background job: returns the job id at once; rec.jobs.result holds the table
-- rec.tune would have returned. The job reads the source with the caller's search_path.
CREATE FUNCTION rec.tune_async(name text, source text, user_col text, item_col text,
                               rating_col text DEFAULT NULL, algorithm text DEFAULT 'als',
                               grid jsonb DEFAULT '{}', base_params jsonb DEFAULT '{}',
                               folds integer DEFAULT 1, validation_fraction double precision DEFAULT 0.2,
                               metric text DEFAULT NULL, k integer DEFAULT 10, seed integer DEFAULT 42)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    caller_path text := pg_catalog.current_setting('search_path');
    m text := coalesce(metric, CASE WHEN rating_col IS NULL THEN 'ndcg' ELSE 'rmse' END);
    job bigint;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF name IS NULL OR name = '' OR length(name) > 200 THEN
        RAISE EXCEPTION 'name must be 1 to 200 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF folds IS NULL OR folds < 1 OR folds > 20 THEN
        RAISE EXCEPTION 'folds must be between 1 and 20, not %', folds USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF m NOT IN ('precision', 'recall', 'ndcg', 'hr', 'map', 'mrr', 'rmse', 'mae') THEN
        RAISE EXCEPTION 'unknown metric "%"', m USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Metrics: precision, recall, ndcg, hr, map, mrr, rmse, mae.';
    END IF;
    IF m IN ('rmse', 'mae') AND rating_col IS NULL THEN
        RAISE EXCEPTION 'metric % needs rating_col', m USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM rec.tune_grid(grid);
    IF source IS NULL OR user_col IS NULL OR item_col IS NULL OR algorithm IS NULL THEN
        RAISE EXCEPTION 'source, user_col, item_col and algorithm must not be null'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The worker has its own search_path: keep a relation name schema-qualified, and the
    -- caller's path for a query's names.
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
    source := rec.qualify_source(source);
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    -- A trigger on the queue starts the worker once this transaction commits.
    INSERT INTO rec.job_queue (kind, model, algorithm, params, source, user_col, item_col, rating_col,
                               device, args)
    VALUES ('tune', name, algorithm, coalesce(base_params, '{}'), source, user_col, item_col, rating_col,
            'cpu', jsonb_build_object('grid', grid, 'folds', folds, 'validation_fraction', validation_fraction,
                                      'metric', m, 'k', k, 'seed', seed, 'search_path', caller_path))
    RETURNING id INTO job;
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
    RETURN job;
END;
$$;


-- Stops a queued or running job of the caller (any job for a superuser); returns its new state.
CREATE FUNCTION rec.cancel(job bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j_state text;
    j_pid integer;
BEGIN
    SELECT q.state, q.pid INTO j_state, j_pid FROM rec.job_queue q WHERE q.id = job FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % does not exist', job USING ERRCODE = 'undefined_object',
              HINT = 'rec.jobs lists your jobs.';
    END IF;
    IF j_state = 'queued' THEN
        UPDATE rec.job_queue SET state = 'cancelled', finished_at = now() WHERE id = job;
        RETURN 'cancelled';
    ELSIF j_state IN ('running', 'cancelling') THEN
        UPDATE rec.job_queue SET state = 'cancelling' WHERE id = job;
        PERFORM pg_cancel_backend(j_pid);
        RETURN 'cancelling';
    END IF;
    RETURN j_state;
END;
$$;

-- Blocks (interruptibly) until a job ends or the timeout passes; returns its state then.
CREATE FUNCTION rec.wait(job bigint, timeout interval DEFAULT '1 hour')
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
    j_state text;
    mine boolean;
BEGIN
    SELECT q.xmin::text::bigint = pg_current_xact_id_if_assigned()::text::bigint % 4294967296 INTO mine FROM rec.job_queue q WHERE q.id = job;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % does not exist', job USING ERRCODE = 'undefined_object';
    END IF;
    IF mine THEN
        RAISE EXCEPTION 'job % was submitted in this transaction: commit before waiting for it', job
              USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    LOOP
        SELECT j.state INTO j_state FROM rec.jobs j WHERE j.job = wait.job;
        EXIT WHEN j_state IN ('succeeded', 'failed', 'cancelled') OR clock_timestamp() >= deadline;
        PERFORM pg_sleep(0.02);
    END LOOP;
    RETURN j_state;
END;
$$;

-- Model privileges, enforced by row-level security (superusers and the tables' owner bypass it).
-- "owns": the caller is a member of the model's owner role; "uses": owns, or a grant to the
-- caller's roles or to public.
ALTER TABLE rec.model_owners ENABLE ROW LEVEL SECURITY;
CREATE POLICY anyone_reads ON rec.model_owners FOR SELECT USING (true);
CREATE POLICY claim_as_self ON rec.model_owners FOR INSERT
    WITH CHECK (rec.acts_as(owner));
CREATE POLICY owner_drops ON rec.model_owners FOR DELETE
    USING (rec.acts_as(owner));

ALTER TABLE rec.model_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY anyone_reads ON rec.model_grants FOR SELECT USING (true);
CREATE POLICY owner_grants ON rec.model_grants FOR INSERT WITH CHECK (EXISTS (
    SELECT 1 FROM rec.model_owners o WHERE o.model = model_grants.model
       AND rec.acts_as(o.owner)));
CREATE POLICY owner_revokes ON rec.model_grants FOR DELETE USING (EXISTS (
    SELECT 1 FROM rec.model_owners o WHERE o.model = model_grants.model
       AND rec.acts_as(o.owner)));

ALTER TABLE rec.model_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_read ON rec.model_versions FOR SELECT USING (
    EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = model_versions.model
               AND rec.acts_as(o.owner))
    OR EXISTS (SELECT 1 FROM rec.model_grants g WHERE g.model = model_versions.model
               AND (g.grantee::pg_catalog.oid = 0 OR rec.acts_as(g.grantee))));
CREATE POLICY owner_writes ON rec.model_versions FOR ALL
    USING (EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = model_versions.model
               AND rec.acts_as(o.owner)));

ALTER TABLE rec.deployments ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_read ON rec.deployments FOR SELECT USING (
    EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = deployments.model
               AND rec.acts_as(o.owner))
    OR EXISTS (SELECT 1 FROM rec.model_grants g WHERE g.model = deployments.model
               AND (g.grantee::pg_catalog.oid = 0 OR rec.acts_as(g.grantee))));
CREATE POLICY owner_writes ON rec.deployments FOR ALL
    USING (EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = deployments.model
               AND rec.acts_as(o.owner)));

-- A version's bytes are readable where the version is (the subquery sees model_versions through
-- its own policies), writable by the model's owner.
ALTER TABLE rec.model_chunks ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_read ON rec.model_chunks FOR SELECT
    USING (EXISTS (SELECT 1 FROM rec.model_versions v WHERE v.id = model_chunks.version_id));
CREATE POLICY owner_writes ON rec.model_chunks FOR ALL
    USING (EXISTS (SELECT 1 FROM rec.model_versions v JOIN rec.model_owners o ON o.model = v.model
                    WHERE v.id = model_chunks.version_id
                      AND rec.acts_as(o.owner)));

-- Backends cache which version serves a name; any change here empties those caches at commit.
CREATE FUNCTION rec._models_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pgrec_models_changed'
LANGUAGE C;
CREATE TRIGGER models_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rec.deployments
    FOR EACH STATEMENT EXECUTE FUNCTION rec._models_changed();
CREATE TRIGGER models_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rec.model_owners
    FOR EACH STATEMENT EXECUTE FUNCTION rec._models_changed();
CREATE TRIGGER models_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rec.model_grants
    FOR EACH STATEMENT EXECUTE FUNCTION rec._models_changed();
CREATE TRIGGER models_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rec.model_versions
    FOR EACH STATEMENT EXECUTE FUNCTION rec._models_changed();

-- The mapped files of deleted versions go with them (on this server; standbys keep theirs).
CREATE FUNCTION rec._versions_deleted()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pgrec_versions_deleted'
LANGUAGE C;
CREATE TRIGGER versions_deleted AFTER DELETE ON rec.model_versions
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION rec._versions_deleted();

GRANT SELECT, INSERT, DELETE ON rec.model_owners, rec.model_grants TO PUBLIC;
GRANT SELECT, INSERT, DELETE ON rec.model_versions, rec.model_chunks, rec.deployments TO PUBLIC;
GRANT UPDATE (metrics) ON rec.model_versions TO PUBLIC;
GRANT USAGE ON SEQUENCE rec.model_versions_id_seq, rec.deployments_id_seq TO PUBLIC;

GRANT USAGE ON SCHEMA rec TO PUBLIC;
GRANT SELECT ON rec.models TO PUBLIC;

-- Internal functions (aggregate support and triggers) are not for calling: PostgreSQL calls
-- them, checking the aggregate's or trigger's owner, never the caller.
REVOKE ALL ON FUNCTION rec._train_agg_step(internal, text, "any", "any"),
    rec._train_agg_step(internal, text, "any", "any", double precision),
    rec._train_agg_step(internal, text, "any", "any", jsonb),
    rec._train_agg_step(internal, text, "any", "any", double precision, jsonb),
    rec._train_agg_final(internal), rec._train_agg_combine(internal, internal),
    rec._train_agg_serialize(internal), rec._train_agg_deserialize(bytea, internal),
    rec._models_changed(), rec._versions_deleted(), rec._jobs_queued(), rec._rows_support(internal) FROM PUBLIC;

-- The database owner can dump the database (pg_dump --enable-row-security, as that role): it
-- reads every model, deployment and job, and the sequences' positions.
CREATE POLICY database_owner_reads ON rec.model_versions FOR SELECT TO pg_database_owner USING (true);
CREATE POLICY database_owner_reads ON rec.model_chunks FOR SELECT TO pg_database_owner USING (true);
CREATE POLICY database_owner_reads ON rec.deployments FOR SELECT TO pg_database_owner USING (true);
CREATE POLICY database_owner_reads ON rec.job_queue FOR SELECT TO pg_database_owner USING (true);
GRANT SELECT ON SEQUENCE rec.model_versions_id_seq, rec.deployments_id_seq, rec.job_queue_id_seq TO pg_database_owner;

-- Model lifecycle: history, drift, new items without retraining, scheduled retraining, and the
-- log of what was served with the online metrics built on it.

-- Every version of a model the caller may use, newest first: how and when it was trained, on how
-- much data, what the gate decided, and whether it served (and serves now).
CREATE FUNCTION rec.model_history(model text)
RETURNS TABLE (version integer, algorithm text, created_at timestamptz, created_by name,
               train_seconds double precision, n_users integer, n_items integer, n_interactions bigint,
               rows_read bigint, params jsonb, warm_start jsonb, gate jsonb, deployed boolean,
               serving boolean, first_deployed_at timestamptz, metrics jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF model IS NULL THEN
        RAISE EXCEPTION 'model must not be null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = model_history.model) THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM rec.model_versions v WHERE v.model = model_history.model) THEN
        RAISE EXCEPTION 'permission denied for model "%"', model USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT v.version, v.algorithm, v.created_at, v.created_by, v.train_seconds, v.n_users, v.n_items,
           v.n_interactions, v.rows_read, v.params, v.metrics->'warm_start', v.metrics->'gate',
           d.first IS NOT NULL, v.id = s.version_id, d.first, v.metrics
      FROM rec.model_versions v
      LEFT JOIN (SELECT dd.version_id, min(dd.deployed_at) AS first FROM rec.deployments dd
                  WHERE dd.model = model_history.model GROUP BY dd.version_id) d ON d.version_id = v.id
      LEFT JOIN (SELECT dd.version_id FROM rec.deployments dd WHERE dd.model = model_history.model
                  ORDER BY dd.id DESC LIMIT 1) s ON true
     WHERE v.model = model_history.model
     ORDER BY v.version DESC;
END;
$$;
COMMENT ON FUNCTION rec.model_history(text) IS
  'every version of a model, newest first: training time, data size, parameters, gate metrics, who trained it, whether it served';

-- How the model's source changed since its serving version was trained: rows now and then, users
-- and items it does not know, and the share of interactions on the top 1% of items then and now.
-- The stored source is read as the model's owner (security-restricted, the owner's search_path).
CREATE FUNCTION rec.drift(model text,
                          OUT version integer, OUT trained_at timestamptz, OUT rows_at_training bigint,
                          OUT rows_now bigint, OUT new_rows bigint, OUT new_users bigint, OUT new_items bigint,
                          OUT unknown_user_share double precision, OUT unknown_item_share double precision,
                          OUT unknown_share double precision, OUT top1_share_at_training double precision,
                          OUT top1_share_now double precision)
AS 'MODULE_PATHNAME', 'pgrec_drift'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rec.drift(text) IS
  'how the model''s source changed since the serving version was trained: new rows, unknown users and items, popularity shift';

-- New or changed items of a factor model solved against its fixed user factors, as a new version
-- that is deployed (implicit's partial_fit_items): no full training. The source holds the items'
-- interactions (the model's column names unless given).
CREATE FUNCTION rec.update_items(model text, source text, user_col text DEFAULT NULL, item_col text DEFAULT NULL,
                                 rating_col text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'pgrec_update_items'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION rec.update_items(text, text, text, text, text) IS
  'solves the vectors of new or changed items against the fixed user factors and deploys the result as a new version';

-- The rows of a version's source now, counted as a role (the scheduler's min_new_rows check).
CREATE FUNCTION rec._source_rows(version_id bigint, as_role oid)
RETURNS bigint
AS 'MODULE_PATHNAME', 'pgrec_source_rows'
LANGUAGE C VOLATILE STRICT;

-- Retraining schedules: one per model. The launcher submits a train_async job with the serving
-- version's arguments, as the role that scheduled it, when `every` has passed since the last run
-- (or since the serving version was trained), or earlier once min_new_rows rows were added since
-- the last run (or since the serving version's data, before the first).
CREATE TABLE rec.model_schedules (
    model        text PRIMARY KEY REFERENCES rec.model_owners (model) ON DELETE CASCADE,
    owner        regrole NOT NULL DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(current_user)),
    every        interval NOT NULL CHECK (every > '0'::interval),
    min_new_rows bigint CHECK (min_new_rows > 0),
    gate         jsonb,
    params       jsonb NOT NULL DEFAULT '{}',
    device       text NOT NULL DEFAULT 'cpu',
    next_run     timestamptz NOT NULL,
    last_run     timestamptz,
    last_job     bigint,
    rows_at_last_run bigint,  -- the source's rows when the last job was submitted (min_new_rows counts from them)
    runs         integer NOT NULL DEFAULT 0,
    failed_at    timestamptz,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('rec.model_schedules', '');
ALTER TABLE rec.model_schedules ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_read ON rec.model_schedules FOR SELECT USING (
    EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = model_schedules.model
               AND rec.acts_as(o.owner))
    OR EXISTS (SELECT 1 FROM rec.model_grants g WHERE g.model = model_schedules.model
               AND (g.grantee::pg_catalog.oid = 0 OR rec.acts_as(g.grantee))));
CREATE POLICY owner_writes ON rec.model_schedules FOR ALL
    USING (EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = model_schedules.model
               AND rec.acts_as(o.owner)))
    WITH CHECK (owner = pg_catalog.to_regrole(pg_catalog.quote_ident(current_user))
                AND EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = model_schedules.model
                               AND rec.acts_as(o.owner)));
GRANT SELECT, INSERT, UPDATE, DELETE ON rec.model_schedules TO PUBLIC;

-- The schedules the caller may see, with what their last run did.
CREATE VIEW rec.schedules WITH (security_invoker = true) AS
SELECT s.model, (SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid = s.owner) AS owner,
       s.every, s.min_new_rows, s.gate, s.params, s.device,
       CASE WHEN s.failed_at IS NOT NULL THEN 'failed'
            WHEN j.state IN ('queued', 'running', 'cancelling') THEN 'running'
            ELSE 'active' END AS state,
       s.next_run, s.last_run, s.last_job, j.state AS last_outcome, j.version AS last_version,
       (v.metrics #>> '{gate,deployed}')::boolean AS last_deployed,
       v.metrics #>> '{gate,reason}' AS last_gate_reason,
       coalesce(s.error, j.error) AS last_error, s.failed_at, s.runs
FROM rec.model_schedules s
LEFT JOIN rec.job_queue j ON j.id = s.last_job
LEFT JOIN rec.model_versions v ON v.model = s.model AND v.version = j.version;
GRANT SELECT ON rec.schedules TO PUBLIC;

-- Whether background jobs and schedules run on this server (pgrec is in shared_preload_libraries).
CREATE FUNCTION rec.jobs_available()
RETURNS boolean
AS 'MODULE_PATHNAME', 'pgrec_jobs_available'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION rec.jobs_available() IS
  'whether background jobs and schedules run here (pgrec in shared_preload_libraries)';

-- Trains rank `rank` of a distributed job (rec.train_async with params' "distributed") in this
-- session, on this server's copy of the source, as the job's submitter; returns what it read.
CREATE FUNCTION rec.join_training(job bigint, rank integer, address text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgrec_join_training'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION rec.join_training(bigint, integer, text) IS
  'joins a distributed training job as one of its ranks (run on a server holding the source, e.g. a standby)';

-- Every algorithm rec.train knows, with what it can do.
CREATE FUNCTION rec.algorithms(OUT algorithm text, OUT libtorch_device boolean, OUT warm_start boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgrec_algorithms'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rec.algorithms() IS
  'the algorithms rec.train knows: whether each trains on a LibTorch device (GPU) when asked, and whether it warm-starts';

-- Retrains `model` on a schedule, as the calling role (which must own it and may log in); returns
-- the first run's time. Scheduling a model again replaces its schedule (and clears a failure).
CREATE FUNCTION rec.schedule(model text, every interval, min_new_rows bigint DEFAULT NULL,
                             gate jsonb DEFAULT NULL, params jsonb DEFAULT NULL, device text DEFAULT NULL,
                             start_at timestamptz DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_owner regrole;
    v rec.model_versions;
    warm boolean;
    first_run timestamptz;
    bad text;
BEGIN
    IF model IS NULL THEN
        RAISE EXCEPTION 'model must not be null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('pgrec:' || model));
    v_owner := (SELECT mo.owner FROM rec.model_owners mo WHERE mo.model = schedule.model);
    IF v_owner IS NULL THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT rec.acts_as(v_owner) THEN
        RAISE EXCEPTION 'permission denied for model "%"', model USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'Only its owner and members of that role may schedule it.';
    END IF;
    IF every IS NULL OR every <= '0'::interval THEN
        RAISE EXCEPTION 'every must be a positive interval, not %', coalesce(every::text, 'NULL')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_new_rows IS NOT NULL AND min_new_rows < 1 THEN
        RAISE EXCEPTION 'min_new_rows must be at least 1, not %', min_new_rows USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF gate IS NOT NULL AND jsonb_typeof(gate) <> 'object' THEN
        RAISE EXCEPTION 'gate must be a JSON object, like ''{"metric": "ndcg", "tolerance": 0.01}'''
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT k INTO bad FROM jsonb_object_keys(coalesce(gate, '{}')) k
     WHERE k NOT IN ('metric', 'k', 'test_fraction', 'tolerance', 'time_col', 'seed') LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown gate parameter "%"', bad USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Gate parameters: metric, k, test_fraction, tolerance, time_col, seed.';
    END IF;
    IF params IS NOT NULL AND jsonb_typeof(params) <> 'object' THEN
        RAISE EXCEPTION 'params must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF device IS NOT NULL AND device !~ '^(auto|cpu|torch-cpu|cuda(:[0-9]{1,4})?)$' THEN
        RAISE EXCEPTION 'unknown device "%"', device USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Devices: auto, cpu, cuda, cuda:N, torch-cpu.';
    END IF;
    IF NOT coalesce((SELECT r.rolcanlogin FROM pg_roles r WHERE r.oid = to_regrole(quote_ident(current_user))), false) THEN
        RAISE EXCEPTION 'role % cannot log in, and a scheduled job runs as the role that scheduled it', quote_ident(current_user)
              USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    IF NOT rec.jobs_available() THEN
        RAISE EXCEPTION 'scheduled training needs pgrec in shared_preload_libraries'
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = 'Add shared_preload_libraries = ''pgrec'' to postgresql.conf and restart.';
    END IF;
    SELECT mv.* INTO v FROM rec.deployments d JOIN rec.model_versions mv ON mv.id = d.version_id
     WHERE d.model = schedule.model ORDER BY d.id DESC LIMIT 1;
    IF v.source IN ('(rec.train_agg)', '(rec.import_factors)', '(rec.hybrid)') OR v.algorithm = 'hybrid' THEN
        RAISE EXCEPTION 'model "%" was built by %, not trained on a source: it cannot be retrained on a schedule',
              model, trim(both '()' from v.source) USING ERRCODE = 'feature_not_supported',
              HINT = 'Schedule the models it is made of.';
    END IF;
    warm := coalesce((SELECT a.warm_start FROM rec.algorithms() a WHERE a.algorithm = v.algorithm), false);
    first_run := coalesce(start_at, v.created_at + every);
    INSERT INTO rec.model_schedules AS s (model, owner, every, min_new_rows, gate, params, device, next_run)
    VALUES (schedule.model, to_regrole(quote_ident(current_user)), every, min_new_rows, gate,
            coalesce(params, CASE WHEN warm THEN '{"warm_start": true}'::jsonb ELSE '{}'::jsonb END),
            coalesce(device, current_setting('pgrec.device')),
            first_run)
    ON CONFLICT ON CONSTRAINT model_schedules_pkey DO UPDATE
       SET owner = EXCLUDED.owner, every = EXCLUDED.every, min_new_rows = EXCLUDED.min_new_rows,
           gate = EXCLUDED.gate, params = EXCLUDED.params, device = EXCLUDED.device,
           next_run = EXCLUDED.next_run, failed_at = NULL, error = NULL;
    RETURN first_run;
END;
$$;
COMMENT ON FUNCTION rec.schedule(text, interval, bigint, jsonb, jsonb, text, timestamptz) IS
  'retrains a model as a background job every interval (or once min_new_rows rows arrived), optionally behind a gate';

-- Removes a model's schedule; returns whether there was one.
CREATE FUNCTION rec.unschedule(model text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_owner regrole;
BEGIN
    v_owner := (SELECT mo.owner FROM rec.model_owners mo WHERE mo.model = unschedule.model);
    IF v_owner IS NULL THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT rec.acts_as(v_owner) THEN
        RAISE EXCEPTION 'permission denied for model "%"', model USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'Only its owner and members of that role may unschedule it.';
    END IF;
    DELETE FROM rec.model_schedules s WHERE s.model = unschedule.model;
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION rec.unschedule(text) IS 'removes a model''s retraining schedule';

-- One pass of the scheduler (the launcher's dispatcher runs it in each database, as a superuser):
-- submits a job for each due schedule, as its owner; a schedule whose owner lost the right to run
-- it, or whose last job failed for lack of rights, is marked failed and not run again until it is
-- scheduled again. Returns the number of jobs submitted.
CREATE FUNCTION rec._run_schedules()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s rec.model_schedules;
    v rec.model_versions;
    j record;
    r record;
    due boolean;
    n_rows bigint;
    job bigint;
    submitted integer := 0;
    fail text;
BEGIN
    FOR s IN SELECT * FROM rec.model_schedules ms WHERE ms.failed_at IS NULL ORDER BY ms.next_run
             FOR UPDATE SKIP LOCKED LOOP
        BEGIN
            fail := NULL;
            SELECT q.state, q.error_code, q.error INTO j FROM rec.job_queue q WHERE q.id = s.last_job;
            CONTINUE WHEN FOUND AND j.state IN ('queued', 'running', 'cancelling');
            SELECT ro.rolname, ro.rolcanlogin INTO r FROM pg_roles ro WHERE ro.oid = s.owner;
            IF FOUND AND j.state = 'failed' AND j.error_code IN ('42501', '42P01', '42703', '42704', '28000', '3F000') THEN
                fail := format('job %s failed: %s', s.last_job, j.error);
            ELSIF NOT FOUND THEN
                fail := 'the role that scheduled it no longer exists';
            ELSIF NOT r.rolcanlogin THEN
                fail := format('role %s cannot log in, and a scheduled job runs as the role that scheduled it', quote_ident(r.rolname));
            ELSIF NOT pg_has_role(s.owner, (SELECT o.owner FROM rec.model_owners o WHERE o.model = s.model), 'MEMBER') THEN
                fail := format('role %s no longer acts as the owner of model "%s"', quote_ident(r.rolname), s.model);
            END IF;
            SELECT mv.* INTO v FROM rec.deployments d JOIN rec.model_versions mv ON mv.id = d.version_id
             WHERE d.model = s.model ORDER BY d.id DESC LIMIT 1;
            IF fail IS NULL AND v.id IS NULL THEN
                fail := 'no version of the model serves';
            END IF;
            IF fail IS NOT NULL THEN
                UPDATE rec.model_schedules ms SET failed_at = now(), error = fail WHERE ms.model = s.model;
                CONTINUE;
            END IF;
            -- New rows count from the last run (a gate that kept its version back does not make
            -- the next pass retrain on the same rows), else from the serving version's data.
            n_rows := CASE WHEN s.min_new_rows IS NOT NULL THEN rec._source_rows(v.id, s.owner) END;
            due := s.next_run <= now()
                   OR n_rows - coalesce(s.rows_at_last_run, (v.metrics #>> '{gate,source_rows}')::bigint, v.rows_read)
                      >= s.min_new_rows;
            CONTINUE WHEN NOT due;
            -- The job row's role is the schedule's: the queue's trigger starts the worker as it.
            INSERT INTO rec.job_queue (model, algorithm, params, source, user_col, item_col, rating_col, device,
                                       args, submitted_by, submitted_by_name)
            VALUES (s.model, v.algorithm,
                    (v.params - 'ann_lists' - 'ann_probes') || s.params
                      || CASE WHEN s.gate IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('gate', s.gate) END,
                    v.source, v.user_col, v.item_col, v.rating_col, s.device,
                    jsonb_build_object('search_path', v.search_path, 'schedule', true), s.owner, r.rolname)
            RETURNING id INTO job;
            UPDATE rec.model_schedules ms SET last_job = job, last_run = now(), next_run = now() + s.every,
                   rows_at_last_run = coalesce(n_rows, ms.rows_at_last_run), runs = ms.runs + 1, error = NULL
             WHERE ms.model = s.model;
            submitted := submitted + 1;
        EXCEPTION WHEN OTHERS THEN
            UPDATE rec.model_schedules ms SET failed_at = now(), error = SQLERRM WHERE ms.model = s.model;
        END;
    END LOOP;
    RETURN submitted;
END;
$$;

-- What rec.recommend served, when pgrec.log_recommendations is on: one row per call, the items
-- in rank order. Readable by the roles that may use the model; its owner may delete rows.
CREATE TABLE rec.served (
    id         bigserial PRIMARY KEY,
    model      text NOT NULL REFERENCES rec.model_owners (model) ON DELETE CASCADE,
    version    integer NOT NULL,
    user_id    text NOT NULL,
    items      text[] NOT NULL,
    served_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    served_by  oid NOT NULL DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(current_user))::oid
);
CREATE INDEX ON rec.served (model, served_at);
SELECT pg_catalog.pg_extension_config_dump('rec.served', '');
SELECT pg_catalog.pg_extension_config_dump('rec.served_id_seq', '');
ALTER TABLE rec.served ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_read ON rec.served FOR SELECT USING (
    EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = served.model
               AND rec.acts_as(o.owner))
    OR EXISTS (SELECT 1 FROM rec.model_grants g WHERE g.model = served.model
               AND (g.grantee::pg_catalog.oid = 0 OR rec.acts_as(g.grantee))));
CREATE POLICY users_log ON rec.served FOR INSERT WITH CHECK (
    served_by = pg_catalog.to_regrole(pg_catalog.quote_ident(current_user))::oid
    AND (EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = served.model AND rec.acts_as(o.owner))
         OR EXISTS (SELECT 1 FROM rec.model_grants g WHERE g.model = served.model
                    AND (g.grantee::pg_catalog.oid = 0 OR rec.acts_as(g.grantee)))));
CREATE POLICY owner_deletes ON rec.served FOR DELETE USING (
    EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = served.model AND rec.acts_as(o.owner)));
GRANT SELECT, INSERT, DELETE ON rec.served TO PUBLIC;
GRANT USAGE ON SEQUENCE rec.served_id_seq TO PUBLIC;

-- Online quality per version: the lists served (rec.served) joined with the interactions of the
-- same user and item that came within `within` after each list (the source's time column): hit
-- rate (lists with at least one hit), precision (hits per list length), coverage (items served
-- over the version's catalog). Lists served less than `within` ago may still gain hits.
CREATE FUNCTION rec.online_metrics(model text, source text, within interval DEFAULT '1 day',
                                   time_col text DEFAULT NULL, user_col text DEFAULT NULL,
                                   item_col text DEFAULT NULL, since timestamptz DEFAULT NULL)
RETURNS TABLE (version integer, lists bigint, users bigint, k double precision, hits bigint,
               hit_rate double precision, "precision" double precision, coverage double precision)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    caller_path text := pg_catalog.current_setting('search_path');
    v rec.model_versions;
    u_col text;
    i_col text;
    t_col text;
    t_type text;
    src text;
    t_expr text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF model IS NULL OR source IS NULL THEN
        RAISE EXCEPTION 'model and source must not be null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF within IS NULL OR within <= '0'::interval THEN
        RAISE EXCEPTION 'within must be a positive interval' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT mv.* INTO v FROM rec.deployments d JOIN rec.model_versions mv ON mv.id = d.version_id
     WHERE d.model = online_metrics.model ORDER BY d.id DESC LIMIT 1;
    IF v.id IS NULL AND EXISTS (SELECT 1 FROM rec.model_owners o WHERE o.model = online_metrics.model) THEN
        RAISE EXCEPTION 'permission denied for model "%"', model USING ERRCODE = 'insufficient_privilege';
    ELSIF v.id IS NULL THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    u_col := coalesce(user_col, v.user_col);
    i_col := coalesce(item_col, v.item_col);
    t_col := coalesce(time_col, v.params ->> 'time_col');
    IF t_col IS NULL THEN
        RAISE EXCEPTION 'online_metrics needs time_col: the source column that says when each interaction happened'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
    src := CASE WHEN source ~* '^[\s(]*(select|with|values|table)\M' THEN '(' || source || E'\n)'
                ELSE rec.qualify_source(source) END;
    EXECUTE format('SELECT pg_catalog.format_type(pg_catalog.pg_typeof(s.%I)::pg_catalog.oid, NULL) FROM %s AS s LIMIT 1',
                   t_col, src) INTO t_type;
    t_expr := CASE WHEN t_type IN ('smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision')
                   THEN format('pg_catalog.to_timestamp(s.%I::pg_catalog.float8)', t_col)
                   ELSE format('s.%I::pg_catalog.timestamptz', t_col) END;
    RETURN QUERY EXECUTE format(
        'WITH lists AS (SELECT sv.id, sv.version, sv.user_id, sv.items, sv.served_at FROM rec.served sv '
        '                WHERE sv.model OPERATOR(pg_catalog.=) $1 AND ($2::pg_catalog.timestamptz IS NULL OR sv.served_at OPERATOR(pg_catalog.>=) $2)), '
        '     hit AS (SELECT l.id, pg_catalog.count(DISTINCT s.%2$I::pg_catalog.text) AS n FROM lists l JOIN %3$s AS s '
        '               ON s.%1$I::pg_catalog.text OPERATOR(pg_catalog.=) l.user_id '
        '              AND s.%2$I::pg_catalog.text OPERATOR(pg_catalog.=) ANY (l.items) '
        '              AND %4$s OPERATOR(pg_catalog.>) l.served_at AND %4$s OPERATOR(pg_catalog.<=) (l.served_at OPERATOR(pg_catalog.+) $3) '
        '            GROUP BY l.id) '
        'SELECT l.version, pg_catalog.count(*), pg_catalog.count(DISTINCT l.user_id), '
        '       pg_catalog.avg(pg_catalog.cardinality(l.items))::pg_catalog.float8, '
        '       COALESCE(pg_catalog.sum(h.n), 0)::pg_catalog.int8, '
        '       pg_catalog.avg((COALESCE(h.n, 0) OPERATOR(pg_catalog.>) 0)::pg_catalog.int4)::pg_catalog.float8, '
        '       pg_catalog.avg(COALESCE(h.n, 0)::pg_catalog.float8 OPERATOR(pg_catalog./) GREATEST(pg_catalog.cardinality(l.items), 1)), '
        '       (SELECT pg_catalog.count(DISTINCT it)::pg_catalog.float8 OPERATOR(pg_catalog./) GREATEST(mv.n_items, 1) '
        '          FROM lists l2, pg_catalog.unnest(l2.items) it WHERE l2.version OPERATOR(pg_catalog.=) l.version) '
        '  FROM lists l LEFT JOIN hit h ON h.id OPERATOR(pg_catalog.=) l.id '
        '  JOIN rec.model_versions mv ON mv.model OPERATOR(pg_catalog.=) $1 AND mv.version OPERATOR(pg_catalog.=) l.version '
        ' GROUP BY l.version, mv.n_items ORDER BY l.version',
        u_col, i_col, src, t_expr)
    USING model, since, within;
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
END;
$$;
COMMENT ON FUNCTION rec.online_metrics(text, text, interval, text, text, text, timestamptz) IS
  'hit rate, precision and coverage of the served lists (rec.served) against the interactions that followed, per version';

REVOKE ALL ON FUNCTION rec._run_schedules(), rec._source_rows(bigint, oid) FROM PUBLIC;

-- The database owner dumps schedules and the served log too (pg_dump --enable-row-security).
CREATE POLICY database_owner_reads ON rec.model_schedules FOR SELECT TO pg_database_owner USING (true);
CREATE POLICY database_owner_reads ON rec.served FOR SELECT TO pg_database_owner USING (true);
GRANT SELECT ON SEQUENCE rec.served_id_seq TO pg_database_owner;
