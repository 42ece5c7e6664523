-- Resumable uploads (issue 12): a file sent in chunks over a slow link, continuing after a
-- dropped connection. The bytes received so far are a file in the staging folder (its length,
-- synced, is the offset); the row says whose upload it is and for which dossier component.
-- When the last chunk arrives the file is checked and attached like any upload (file_id).
CREATE TABLE uploads (
    id              TEXT PRIMARY KEY,
    dossier_code    TEXT NOT NULL REFERENCES dossiers (code),
    component_index INTEGER,
    name            TEXT NOT NULL,
    size            BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    file_id         BIGINT REFERENCES dossier_files (id)
);
CREATE INDEX uploads_created ON uploads (created_at);
