-- Foundation: administrative units, agencies, procedure catalogue, calendar, users.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE admin_units (
    id          INTEGER PRIMARY KEY,
    ref_key     TEXT NOT NULL UNIQUE,
    level       TEXT NOT NULL CHECK (level IN ('province', 'district', 'commune')),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_id   INTEGER REFERENCES admin_units (id),
    valid_from  TEXT,
    valid_to    TEXT,
    search_text TEXT NOT NULL
);
CREATE INDEX admin_units_level_code ON admin_units (level, code);
CREATE INDEX admin_units_parent ON admin_units (parent_id);

CREATE TABLE admin_unit_links (
    from_id INTEGER NOT NULL REFERENCES admin_units (id),
    to_id   INTEGER NOT NULL REFERENCES admin_units (id),
    note    TEXT NOT NULL,
    PRIMARY KEY (from_id, to_id)
);
CREATE INDEX admin_unit_links_to ON admin_unit_links (to_id);

CREATE TABLE agencies (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    parent_code    TEXT REFERENCES agencies (code),
    unit_code      TEXT,
    one_stop_point BOOLEAN NOT NULL DEFAULT FALSE,
    provenance     TEXT,
    search_text    TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX agencies_parent ON agencies (parent_code);
CREATE INDEX agencies_unit ON agencies (unit_code);

CREATE TABLE procedures (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    field        TEXT NOT NULL,
    levels       TEXT NOT NULL,
    online_level TEXT NOT NULL,
    published    BOOLEAN NOT NULL,
    search_text  TEXT NOT NULL,
    data         TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX procedures_field ON procedures (field);

CREATE TABLE calendar_years (
    year       INTEGER PRIMARY KEY,
    source     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE calendar_entries (
    year INTEGER NOT NULL REFERENCES calendar_years (year) ON DELETE CASCADE,
    date TEXT NOT NULL,
    key  TEXT NOT NULL,
    name TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (year, date)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    agency_code   TEXT REFERENCES agencies (code),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TEXT NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX api_tokens_expiry ON api_tokens (expires_at);
