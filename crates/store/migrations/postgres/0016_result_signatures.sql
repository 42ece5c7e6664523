-- The leader's signing queue (issue 13): a dossier's result file is signed by the leader and
-- sealed by the agency as one job (`result.sign`); its state is kept per file. A signed
-- result joins the applicant's warehouse as a signed electronic result.
CREATE TABLE result_signatures (
    file_id        BIGINT PRIMARY KEY REFERENCES dossier_files (id),
    dossier_code   TEXT NOT NULL,
    agency_code    TEXT NOT NULL,
    -- queued, signing, signed, refused, failed
    state          TEXT NOT NULL,
    leader         TEXT NOT NULL,
    -- why the leader (or their device) refused, or why signing failed
    reason         TEXT,
    signed_sha256  TEXT,
    document_code  TEXT,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX result_signatures_dossier ON result_signatures (dossier_code);
