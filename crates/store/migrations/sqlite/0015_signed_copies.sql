-- Signed electronic copies (issue 13): a confirmed document is signed by the officer who
-- confirmed it (the `copy.sign` job); the signed PDF's content is kept beside the scan, and
-- the copy is no longer "scan only".
ALTER TABLE digitised_documents ADD COLUMN signed_sha256 TEXT;
ALTER TABLE digitised_documents ADD COLUMN signed_by TEXT;
ALTER TABLE digitised_documents ADD COLUMN signed_at TEXT;
