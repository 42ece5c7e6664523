-- Digitisation results and the applicants' electronic data warehouse (issue 12). A confirmed
-- file becomes an electronic copy with a digitisation result code, kept per applicant (citizen
-- ID or tax code) with its validity; a later dossier takes it by reference (a reuse).
CREATE TABLE digitised_documents (
    code            TEXT PRIMARY KEY,
    applicant_id    TEXT NOT NULL,
    file_id         BIGINT NOT NULL UNIQUE REFERENCES dossier_files (id),
    dossier_code    TEXT NOT NULL REFERENCES dossiers (code),
    component_index INTEGER,
    source          TEXT NOT NULL,
    name            TEXT NOT NULL,
    name_folded     TEXT NOT NULL,
    document_kind   TEXT,
    fields          TEXT NOT NULL,
    valid_until     TEXT,
    signed          BOOLEAN NOT NULL DEFAULT FALSE,
    confirmed_by    TEXT NOT NULL,
    confirmed_at    TEXT NOT NULL
);
CREATE INDEX digitised_documents_applicant ON digitised_documents (applicant_id, name_folded);

-- The last number of a digitisation result code given by an agency on a (local) day.
CREATE TABLE digitisation_counters (
    agency_code TEXT NOT NULL,
    day         TEXT NOT NULL,
    last        BIGINT NOT NULL,
    PRIMARY KEY (agency_code, day)
);

-- Typed events for the statistics: component_digitised, result_digitised, reused, signed.
CREATE TABLE digitisation_events (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    at              TEXT NOT NULL,
    agency_code     TEXT NOT NULL,
    dossier_code    TEXT NOT NULL,
    component_index INTEGER,
    document_code   TEXT NOT NULL,
    actor           TEXT NOT NULL
);
CREATE INDEX digitisation_events_at ON digitisation_events (at, kind);
