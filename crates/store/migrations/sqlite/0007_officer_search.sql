-- The officers' search box (issue 11): the applicant's name folded for search (lower case,
-- no diacritics, as `motcua_domain::text::fold`), so "nguyen van an" finds "Nguyễn Văn An".
-- Filled on every write of the row; rows written before this migration are filled at start-up
-- (NULL until then).
ALTER TABLE dossiers ADD COLUMN applicant_folded TEXT;
CREATE INDEX dossiers_submitted ON dossiers (applicant_id, procedure_code, submitted_at);

-- User administration (issue 11): accounts searched by username and name without diacritics
-- (filled on every write; older rows at start-up).
ALTER TABLE users ADD COLUMN search_text TEXT;
