-- 1. The records awaiting the sealer are listed in a small table of their own, filled by a
-- trigger in the writer's transaction and emptied by the sealer in its. The partial index of
-- unsealed records it replaces kept every sealed record's entry until a vacuum of the whole
-- audit log (on PostgreSQL an update leaves the old entry behind): at 500,000 dossiers, with
-- the log not yet vacuumed, counting a backlog of 1,800 read 660,000 entries (365 ms) and each
-- batch read past thousands. A small table is vacuumed often and cheaply.
CREATE TABLE audit_unsealed (id BIGINT PRIMARY KEY);
INSERT INTO audit_unsealed (id) SELECT id FROM audit_log WHERE seq IS NULL;
CREATE FUNCTION motcua_audit_unsealed() RETURNS trigger AS $$
BEGIN
    INSERT INTO audit_unsealed (id) SELECT id FROM new_records WHERE seq IS NULL;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_unsealed AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION motcua_audit_unsealed();
DROP INDEX audit_log_unsealed;

-- 2. A new dossier is announced to no one: no instance holds a view of a dossier that did not
-- exist (a lookup that finds nothing is not remembered). Nor is a row locked without a change
-- (the version stays). PostgreSQL commits the transactions that notify one at a time (the
-- notification queue's lock is held through the commit's flush), so every intake's notice
-- made intakes commit in single file.
DROP TRIGGER dossiers_notify ON dossiers;
CREATE TRIGGER dossiers_notify AFTER UPDATE ON dossiers
    FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version)
    EXECUTE FUNCTION motcua_notify_dossier();
