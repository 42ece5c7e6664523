-- Search over the fields officers confirmed (issue 12): each digitised document's name, code
-- and confirmed fields, folded (no diacritics, đ → d), beside the text of the files' pages.
-- Rows written before this column are filled at start-up (the partial index finds them).
ALTER TABLE digitised_documents ADD COLUMN search_text TEXT;
CREATE INDEX digitised_documents_unsearchable ON digitised_documents (code) WHERE search_text IS NULL;
