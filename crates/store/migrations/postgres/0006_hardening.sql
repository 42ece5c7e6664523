-- Hardening (issue 11).

-- The audit chain is keyed with a secret kept outside the database: every record carries the
-- HMAC its writer computed (`mac`), and the chain's hashes are HMACs from `keyed_from_seq` on.
-- Records written before this migration (`id < legacy_below_id`) have no MAC, and those
-- sealed before it keep their unkeyed hashes.
ALTER TABLE audit_log ADD COLUMN mac TEXT;
ALTER TABLE audit_head ADD COLUMN keyed_from_seq BIGINT NOT NULL DEFAULT 1;
ALTER TABLE audit_head ADD COLUMN legacy_below_id BIGINT NOT NULL DEFAULT 1;
UPDATE audit_head SET keyed_from_seq = seq + 1,
    legacy_below_id = COALESCE((SELECT MAX(id) FROM audit_log), 0) + 1;

-- Web sessions expire after a time without activity (`idle_seconds`, renewed by use) and at
-- an absolute limit; API tokens (idle_seconds NULL) at their fixed expiry.
ALTER TABLE api_tokens ADD COLUMN idle_seconds BIGINT;
ALTER TABLE api_tokens ADD COLUMN absolute_expires_at TIMESTAMPTZ;

-- Failed logins per account (`user:NAME`) and per source address (`addr:IP`).
CREATE TABLE login_throttle (
    key             TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_failure_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ
);

-- A password set by an administrator must be changed at the next login.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
