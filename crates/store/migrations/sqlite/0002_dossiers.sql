-- Dossiers, their daily code counters, workflow processes, idempotent intake and the audit chain.

CREATE TABLE procedure_processes (
    procedure_code TEXT PRIMARY KEY REFERENCES procedures (code) ON DELETE CASCADE,
    data           TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

-- The last number given to a receiving agency on a (local) day: dossier codes are
-- {agency}-{yyMMdd}-{NNNN}.
CREATE TABLE dossier_counters (
    agency_code TEXT NOT NULL,
    day         TEXT NOT NULL,
    last        BIGINT NOT NULL,
    PRIMARY KEY (agency_code, day)
);

-- The current state of each dossier (a projection of its audit records), with the columns the
-- work queues filter on. `data` is the whole domain record as JSON.
CREATE TABLE dossiers (
    code             TEXT PRIMARY KEY,
    procedure_code   TEXT NOT NULL,
    channel          TEXT NOT NULL,
    status           TEXT NOT NULL,
    receiving_agency TEXT NOT NULL,
    current_agency   TEXT NOT NULL,
    assignee         TEXT,
    owner_id         BIGINT,
    applicant_id     TEXT NOT NULL,
    parent_code      TEXT REFERENCES dossiers (code),
    submitted_at     TEXT NOT NULL,
    received_at      TEXT,
    due_at           TEXT,
    queue_due        TEXT NOT NULL,
    paused_at        TEXT,
    ended_at         TEXT,
    timeliness       TEXT,
    imported         BOOLEAN NOT NULL DEFAULT FALSE,
    version          BIGINT NOT NULL,
    updated_at       TEXT NOT NULL,
    data             TEXT NOT NULL
);
CREATE INDEX dossiers_queue ON dossiers (current_agency, queue_due, code);
CREATE INDEX dossiers_status ON dossiers (status, queue_due, code);
CREATE INDEX dossiers_queue_all ON dossiers (queue_due, code);
CREATE INDEX dossiers_owner ON dossiers (owner_id);
CREATE INDEX dossiers_applicant ON dossiers (applicant_id);
CREATE INDEX dossiers_parent ON dossiers (parent_code);

CREATE TABLE idempotency_keys (
    actor        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (actor, key)
);

-- Append-only audit records. A record is written in the transaction of the change it
-- describes; a sealer then gives it its place in the SHA-256 chain (seq, prev_hash, hash), in
-- batches, so writers never wait on one chain lock.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    seq        BIGINT UNIQUE,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    action     TEXT NOT NULL,
    before     TEXT,
    after      TEXT,
    data       TEXT NOT NULL,
    prev_hash  TEXT,
    hash       TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_key, id);
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
