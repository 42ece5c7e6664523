-- The official-document register (văn bản đến / đi, issue 13): each agency's books of incoming
-- and outgoing documents. An outgoing document is signed by a leader and sealed, then delivered
-- to the recipient agency's incoming book when it uses motcua; an incoming one is verified on
-- arrival. Numbers run per agency, book and year.
CREATE TABLE official_documents (
    id                INTEGER PRIMARY KEY,
    agency_code       TEXT NOT NULL,
    -- in, out
    direction         TEXT NOT NULL,
    year              INTEGER NOT NULL,
    number            INTEGER NOT NULL,
    symbol            TEXT NOT NULL,
    issued_on         TEXT NOT NULL,
    -- the issuing agency (incoming) or the recipient (outgoing), as named
    other_party       TEXT NOT NULL,
    other_agency_code TEXT,
    subject           TEXT NOT NULL,
    signer            TEXT NOT NULL,
    file_name         TEXT NOT NULL,
    sha256            TEXT NOT NULL REFERENCES blobs (sha256),
    size              INTEGER NOT NULL,
    -- signing, sent, received, failed
    state             TEXT NOT NULL,
    reason            TEXT,
    -- incoming: the verification of its signatures on arrival (JSON)
    verification      TEXT,
    -- a delivered copy: the outgoing document it came from
    source_id         INTEGER,
    search_text       TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    UNIQUE (agency_code, direction, year, number)
);
CREATE INDEX official_documents_book ON official_documents (agency_code, direction, issued_on);
