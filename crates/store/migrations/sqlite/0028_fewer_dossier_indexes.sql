-- Every intake writes one entry into each index of `dossiers`, and every action that changes
-- an indexed column (status, agency, deadline) writes one into each again: at a million
-- dossiers these inserts land on pages no longer cached, and they are what grows with the
-- data. Two of them cost that on every row for nothing:
--
-- * `dossiers_applicant (applicant_id)` is the first column of `dossiers_submitted
--   (applicant_id, procedure_code, submitted_at)`, which serves the same lookups.
-- * `dossiers_owner` and `dossiers_parent` indexed every row's owner and parent dossier,
--   though most dossiers are filed at the counter (no owner account) and have no parent.
--   They keep only the rows that have one: `owner_id = $1` and `parent_code = $1` imply
--   `IS NOT NULL`, so both databases still answer those lookups from them.
DROP INDEX dossiers_applicant;
DROP INDEX dossiers_owner;
CREATE INDEX dossiers_owner ON dossiers (owner_id) WHERE owner_id IS NOT NULL;
DROP INDEX dossiers_parent;
CREATE INDEX dossiers_parent ON dossiers (parent_code) WHERE parent_code IS NOT NULL;
