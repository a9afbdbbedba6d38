-- 0.3.0 -> 0.4.0, before the new definitions: the columns and constraints 0.4.0's tables add.
ALTER TABLE rec.model_versions ADD COLUMN search_path text;
ALTER TABLE rec.model_versions ADD UNIQUE (id, model);
-- A deployment that names another model's version was never valid (it could make a model serve
-- a version its owner may not read); such rows are removed, then forbidden.
DELETE FROM rec.deployments d
 WHERE NOT EXISTS (SELECT 1 FROM rec.model_versions v WHERE v.id = d.version_id AND v.model = d.model);
ALTER TABLE rec.deployments ADD FOREIGN KEY (version_id, model) REFERENCES rec.model_versions (id, model) ON DELETE CASCADE;
-- Owners and grants by role OID (regrole), not name: a grant to a dropped role never passes to the
-- next role given its name. The policies that read these columns are created again below.
DROP POLICY claim_as_self ON rec.model_owners;
DROP POLICY owner_drops ON rec.model_owners;
DROP POLICY owner_grants ON rec.model_grants;
DROP POLICY owner_revokes ON rec.model_grants;
DROP POLICY users_read ON rec.model_versions;
DROP POLICY owner_writes ON rec.model_versions;
DROP POLICY users_read ON rec.deployments;
DROP POLICY owner_writes ON rec.deployments;
DROP POLICY owner_writes ON rec.model_chunks;
-- rec.models reads the owner: for the moment of the change it shows none (0.4.0's view follows).
CREATE OR REPLACE VIEW rec.models WITH (security_invoker = true) AS
SELECT v.model, v.version, v.algorithm, v.params, v.source, v.user_col, v.item_col, v.rating_col,
       v.user_type, v.item_type, v.n_users, v.n_items, v.n_interactions, v.rows_skipped,
       v.train_seconds, v.size_bytes, v.metrics, v.created_at, v.created_by,
       (SELECT count(*) FROM rec.model_versions a WHERE a.model = v.model) AS versions,
       d.id = (SELECT max(id) FROM rec.deployments) AS is_default,
       NULL::name AS owner,
       CASE WHEN v.source ~* '^[\s(]*(select|with|values|table)\M' OR v.source LIKE '(%' THEN NULL
            ELSE pg_catalog.to_regclass(v.source) IS NOT NULL END AS source_exists
FROM (SELECT DISTINCT ON (model) id, model, version_id
        FROM rec.deployments ORDER BY model, id DESC) d
JOIN rec.model_versions v ON v.id = d.version_id;
-- A model whose owner role is gone passes to the bootstrap superuser; grants to roles that are gone
-- are removed (they meant nobody).
ALTER TABLE rec.model_owners ALTER COLUMN owner DROP DEFAULT;
ALTER TABLE rec.model_owners ALTER COLUMN owner TYPE regrole
    USING coalesce(pg_catalog.to_regrole(pg_catalog.quote_ident(owner)), 10::pg_catalog.oid::pg_catalog.regrole);
ALTER TABLE rec.model_owners ALTER COLUMN owner SET DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(current_user));
DELETE FROM rec.model_grants WHERE grantee <> 'public' AND pg_catalog.to_regrole(pg_catalog.quote_ident(grantee)) IS NULL;
ALTER TABLE rec.model_grants ALTER COLUMN grantee TYPE regrole
    USING CASE WHEN grantee = 'public' THEN '-'::pg_catalog.regrole ELSE pg_catalog.to_regrole(pg_catalog.quote_ident(grantee)) END;
ALTER TABLE rec.model_grants ALTER COLUMN granted_by DROP DEFAULT;
ALTER TABLE rec.model_grants ALTER COLUMN granted_by TYPE regrole
    USING coalesce(pg_catalog.to_regrole(pg_catalog.quote_ident(granted_by)), 10::pg_catalog.oid::pg_catalog.regrole);
ALTER TABLE rec.model_grants ALTER COLUMN granted_by SET DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(current_user));
