-- 0.3.0 -> 0.4.0, before the new definitions: the columns and constraints 0.4.0's tables add.
ALTER TABLE rec.model_versions ADD COLUMN search_path text;
ALTER TABLE rec.model_versions ADD UNIQUE (id, model);
-- A deployment that names another model's version was never valid (it could make a model serve
-- a version its owner may not read); such rows are removed, then forbidden.
DELETE FROM rec.deployments d
 WHERE NOT EXISTS (SELECT 1 FROM rec.model_versions v WHERE v.id = d.version_id AND v.model = d.model);
ALTER TABLE rec.deployments ADD FOREIGN KEY (version_id, model) REFERENCES rec.model_versions (id, model) ON DELETE CASCADE;
