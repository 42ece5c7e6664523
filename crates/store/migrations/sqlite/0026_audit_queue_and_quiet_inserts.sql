-- The records awaiting the sealer are listed in a small table of their own, filled by a
-- trigger in the writer's transaction and emptied by the sealer in its (as on PostgreSQL, where
-- the partial index of unsealed records it replaces kept every sealed record's entry until a
-- vacuum of the whole audit log).
CREATE TABLE audit_unsealed (id INTEGER PRIMARY KEY);
INSERT INTO audit_unsealed (id) SELECT id FROM audit_log WHERE seq IS NULL;
CREATE TRIGGER audit_log_unsealed AFTER INSERT ON audit_log WHEN NEW.seq IS NULL
BEGIN
    INSERT INTO audit_unsealed (id) VALUES (NEW.id);
END;
DROP INDEX audit_log_unsealed;
