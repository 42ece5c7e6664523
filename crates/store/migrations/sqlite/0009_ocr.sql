-- The text of files (issue 12): per page, as read from a PDF's text layer or recognised by
-- tesseract, with the words' boxes and confidences (JSON), and the page's text folded for
-- search (no diacritics, đ → d).
ALTER TABLE dossier_files ADD COLUMN ocr_status TEXT NOT NULL DEFAULT 'pending';

CREATE TABLE file_pages (
    file_id     BIGINT NOT NULL REFERENCES dossier_files (id),
    page        INTEGER NOT NULL,
    method      TEXT NOT NULL,
    confidence  REAL NOT NULL,
    text        TEXT NOT NULL,
    words       TEXT NOT NULL,
    search_text TEXT NOT NULL,
    read_at     TEXT NOT NULL,
    PRIMARY KEY (file_id, page)
);
