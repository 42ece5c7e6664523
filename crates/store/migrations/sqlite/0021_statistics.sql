-- Statistics (docs/domain.md §Statistics). One row of facts per counted dossier (not an
-- inter-agency child case), kept in the transaction of every change, and monthly sums per
-- (month, agency, procedure, channel) kept by adding each change's difference. A report adds
-- up whole months here and reads the facts for partial months; `motcua stats rebuild`
-- recomputes both from the dossiers' events.
CREATE TABLE stat_facts (
    dossier_code        TEXT PRIMARY KEY,
    agency_code         TEXT NOT NULL,
    procedure_code      TEXT NOT NULL,
    channel             TEXT NOT NULL,
    -- components the dossier was received with
    components          INTEGER NOT NULL,
    received_at         TEXT,
    due_at              TEXT,
    waiting_since       TEXT,
    overdue_since       TEXT,
    ended_at            TEXT,
    -- early, on_time, late, refused, withdrawn
    outcome             TEXT,
    first_supplement_at TEXT,
    paid_online         BOOLEAN NOT NULL DEFAULT 0,
    digitised           BOOLEAN NOT NULL DEFAULT 0,
    reused              BOOLEAN NOT NULL DEFAULT 0,
    result_digitised    BOOLEAN NOT NULL DEFAULT 0,
    result_electronic   BOOLEAN NOT NULL DEFAULT 0,
    -- the applicant's rating: very_satisfied, satisfied, unsatisfied
    rating              TEXT,
    rated_at            TEXT
);
CREATE INDEX stat_facts_received ON stat_facts (received_at);
CREATE INDEX stat_facts_ended ON stat_facts (ended_at);
CREATE INDEX stat_facts_overdue ON stat_facts (overdue_since);
CREATE INDEX stat_facts_supplement ON stat_facts (first_supplement_at);
CREATE INDEX stat_facts_open ON stat_facts (received_at) WHERE ended_at IS NULL;
CREATE INDEX stat_facts_rated ON stat_facts (rated_at);

CREATE TABLE stat_monthly (
    month             INTEGER NOT NULL,
    agency_code       TEXT NOT NULL,
    procedure_code    TEXT NOT NULL,
    channel           TEXT NOT NULL,
    received          INTEGER NOT NULL DEFAULT 0,
    early             INTEGER NOT NULL DEFAULT 0,
    on_time           INTEGER NOT NULL DEFAULT 0,
    late              INTEGER NOT NULL DEFAULT 0,
    refused           INTEGER NOT NULL DEFAULT 0,
    withdrawn         INTEGER NOT NULL DEFAULT 0,
    overdue_began     INTEGER NOT NULL DEFAULT 0,
    overdue_ended     INTEGER NOT NULL DEFAULT 0,
    open_at_start     INTEGER NOT NULL DEFAULT 0,
    overdue_at_start  INTEGER NOT NULL DEFAULT 0,
    supplements       INTEGER NOT NULL DEFAULT 0,
    digitised         INTEGER NOT NULL DEFAULT 0,
    reused            INTEGER NOT NULL DEFAULT 0,
    paid_online       INTEGER NOT NULL DEFAULT 0,
    result_digitised  INTEGER NOT NULL DEFAULT 0,
    result_electronic INTEGER NOT NULL DEFAULT 0,
    very_satisfied    INTEGER NOT NULL DEFAULT 0,
    satisfied         INTEGER NOT NULL DEFAULT 0,
    unsatisfied       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, agency_code, procedure_code, channel)
);

-- A dossier's digitisation records, read when its figures are refreshed.
CREATE INDEX digitisation_events_dossier ON digitisation_events (dossier_code);

-- When the statistics were last rebuilt from the events: a database upgraded with dossiers
-- but no row here is rebuilt once at start (its older dossiers have no facts yet).
CREATE TABLE stat_built (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at TEXT NOT NULL
);
