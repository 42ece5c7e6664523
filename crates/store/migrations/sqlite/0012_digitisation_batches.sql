-- Backward digitisation in bulk (issue 12): `motcua digitize batch DIR --map FILE.csv`. A batch
-- is named by its folder and the content of its map, so that running the same command again
-- continues it: each line of the map is attached once (file_id set) or refused once (error),
-- and the files' pages are read by the file.ocr jobs, page by page.
CREATE TABLE digitisation_batches (
    id          TEXT PRIMARY KEY,
    folder      TEXT NOT NULL,
    map_name    TEXT NOT NULL,
    started_by  TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT
);

CREATE TABLE digitisation_batch_items (
    batch_id     TEXT NOT NULL REFERENCES digitisation_batches (id),
    line         INTEGER NOT NULL,
    path         TEXT NOT NULL,
    dossier_code TEXT NOT NULL,
    component    TEXT NOT NULL,
    file_id      BIGINT REFERENCES dossier_files (id),
    error        TEXT,
    PRIMARY KEY (batch_id, line)
);

-- The same file attached again to the same component (a batch resumed after a crash) is found,
-- not attached twice.
CREATE INDEX dossier_files_same ON dossier_files (dossier_code, component_index, sha256);
