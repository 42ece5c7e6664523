-- Every committed change of a dossier is announced on the channel `motcua_dossier` (payload:
-- the dossier code and its new version), so that every instance can drop its cached public
-- tracking view at once when it is older.
CREATE FUNCTION motcua_notify_dossier() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('motcua_dossier', NEW.code || ' ' || NEW.version);
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER dossiers_notify AFTER INSERT OR UPDATE ON dossiers
    FOR EACH ROW EXECUTE FUNCTION motcua_notify_dossier();
