-- Files of dossiers (issue 12). Contents are blobs in the object store, named by their SHA-256
-- (written and synced before the row that names them commits; one copy however often sent).
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY,
    size       BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- A file handed in with a dossier: a component's (component_index) or the result's.
CREATE TABLE dossier_files (
    id              INTEGER PRIMARY KEY,
    dossier_code    TEXT NOT NULL REFERENCES dossiers (code),
    purpose         TEXT NOT NULL,
    component_index INTEGER,
    sha256          TEXT NOT NULL REFERENCES blobs (sha256),
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    size            BIGINT NOT NULL,
    pages           INTEGER,
    uploaded_by     TEXT NOT NULL,
    uploaded_at     TEXT NOT NULL
);
CREATE INDEX dossier_files_dossier ON dossier_files (dossier_code, id);
CREATE INDEX dossier_files_blob ON dossier_files (sha256);
