-- pgrec 0.1.0: catalog tables, the training entry point and the serving functions.
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
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     name NOT NULL DEFAULT current_user,
    UNIQUE (model, version)
);

-- A model version's serialized bytes, in order, at most 1 MiB a row.
CREATE TABLE rec.model_chunks (
    version_id bigint NOT NULL REFERENCES rec.model_versions (id) ON DELETE CASCADE,
    seq        integer NOT NULL,
    data       bytea NOT NULL,
    PRIMARY KEY (version_id, seq)
);

-- Append-only: the newest row for a model names the version that serves it; the newest row of
-- all names the default model of rec.recommend(user, k).
CREATE TABLE rec.deployments (
    id          bigserial PRIMARY KEY,
    model       text NOT NULL,
    version_id  bigint NOT NULL REFERENCES rec.model_versions (id) ON DELETE CASCADE,
    deployed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    deployed_by name NOT NULL DEFAULT current_user
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
CREATE VIEW rec.models AS
SELECT v.model, v.version, v.algorithm, v.params, v.source, v.user_col, v.item_col, v.rating_col,
       v.user_type, v.item_type, v.n_users, v.n_items, v.n_interactions, v.rows_skipped,
       v.train_seconds, v.size_bytes, v.created_at, v.created_by,
       (SELECT count(*) FROM rec.model_versions a WHERE a.model = v.model) AS versions,
       d.id = (SELECT max(id) FROM rec.deployments) AS is_default
FROM (SELECT DISTINCT ON (model) id, model, version_id
        FROM rec.deployments ORDER BY model, id DESC) d
JOIN rec.model_versions v ON v.id = d.version_id;

CREATE FUNCTION rec.train(model text, source text, user_col text, item_col text,
                          rating_col text DEFAULT NULL, algorithm text DEFAULT 'als',
                          params jsonb DEFAULT '{}')
RETURNS integer
AS 'MODULE_PATHNAME', 'pgrec_train'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION rec.train(text, text, text, text, text, text, jsonb) IS
  'trains a model from a table, view or query and deploys it; returns the new version number';

CREATE FUNCTION rec.recommend(model text, user_id "any", k integer, exclude_seen boolean DEFAULT true)
RETURNS TABLE (item_id bigint, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_recommend'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION rec.recommend(text, "any", integer, boolean) IS
  'the k best items for a user (popular items for a user the model has not seen)';

CREATE FUNCTION rec.recommend(user_id "any", k integer, exclude_seen boolean DEFAULT true)
RETURNS TABLE (item_id bigint, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_recommend_default'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION rec.recommend("any", integer, boolean) IS
  'rec.recommend with the default model (the one deployed last)';

CREATE FUNCTION rec.recommend_keys(model text, user_id "any", k integer, exclude_seen boolean DEFAULT true)
RETURNS TABLE (item_key text, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_recommend'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION rec.recommend_keys(text, "any", integer, boolean) IS
  'rec.recommend with item ids as text: for models whose item ids are text, uuid or any type';

CREATE FUNCTION rec.predict(model text, user_id "any", item_id "any")
RETURNS real
AS 'MODULE_PATHNAME', 'pgrec_predict'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rec.predict(text, "any", "any") IS
  'the model''s score for a user and an item; NULL when either is unknown to the model';

CREATE FUNCTION rec.similar_items(model text, item "any", k integer)
RETURNS TABLE (item_id bigint, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_similar_items'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION rec.similar_items(text, "any", integer) IS
  'the k items closest to an item (cosine of item factors); empty for an unknown item';

CREATE FUNCTION rec.similar_items_keys(model text, item "any", k integer)
RETURNS TABLE (item_key text, score real, rank integer)
AS 'MODULE_PATHNAME', 'pgrec_similar_items'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;

-- Makes a trained version the one that serves `model` (and the default model).
CREATE FUNCTION rec.deploy(model text, version integer DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
    v_version integer;
BEGIN
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
    n integer;
BEGIN
    DELETE FROM rec.model_versions mv WHERE mv.model = drop_model.model;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    RETURN n;
END;
$$;

GRANT USAGE ON SCHEMA rec TO PUBLIC;
GRANT SELECT ON rec.models, rec.model_versions, rec.model_chunks, rec.deployments TO PUBLIC;
