-- Instances on one SQLite file learn of each other's dossier changes by reading the audit
-- records written since they last looked (ids are assigned in commit order: one writer).
CREATE INDEX audit_log_dossier_changes ON audit_log (id) WHERE entity = 'dossier';
