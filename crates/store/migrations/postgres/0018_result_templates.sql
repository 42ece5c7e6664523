-- Result templates per procedure (issue 13): the document an agency issues as a result,
-- written by an administrator with placeholders the dossier fills.
CREATE TABLE result_templates (
    procedure_code  TEXT PRIMARY KEY REFERENCES procedures (code),
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    signer_title    TEXT NOT NULL,
    updated_by      TEXT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
