-- Data of 0.1.0 carried into 0.2.0 (appended to the generated update script).
-- Every existing model belongs to the role that trained its first version; 0.1.0 let every role
-- use every model, so each keeps a grant to public (its owner can revoke it).
INSERT INTO rec.model_owners (model, owner)
SELECT DISTINCT ON (model) model, created_by FROM rec.model_versions ORDER BY model, version;
INSERT INTO rec.model_grants (model, grantee, granted_by)
SELECT model, 'public', owner FROM rec.model_owners;
