-- Slips issued in the workflow, rendered and signed by the officer who issued them, kept with
-- the dossier (issue 13): the `slip.sign` job follows each change that issues a slip.
CREATE TABLE dossier_slips (
    id            INTEGER PRIMARY KEY,
    dossier_code  TEXT NOT NULL REFERENCES dossiers (code),
    kind          TEXT NOT NULL,
    issued_at     TEXT NOT NULL,
    signer        TEXT NOT NULL,
    sha256        TEXT NOT NULL REFERENCES blobs (sha256),
    size          INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (dossier_code, kind, issued_at)
);
