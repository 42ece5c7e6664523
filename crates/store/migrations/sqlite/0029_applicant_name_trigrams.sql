-- The officers' search by applicant name (issue 11) matched `applicant_folded LIKE '%word%'`,
-- which no B-tree can serve: at a million dossiers every search read the whole table while
-- the counter waited. The folded names now also go into a trigram index (FTS5's `trigram`
-- tokenizer), which finds the rows containing a word of three or more characters without
-- reading the others; the LIKE stays on the row, so what a search finds is unchanged.
--
-- The index is an external-content FTS5 table over `dossiers` keyed by its rowid, kept by the
-- triggers below in the same transaction as every write of the row. `motcua` never runs
-- VACUUM on SQLite (it may renumber the rowids of a table without an INTEGER PRIMARY KEY);
-- after a manual one, `INSERT INTO dossier_names (dossier_names) VALUES ('rebuild')` rebuilds
-- the index from the table. A stale index could only hide rows, never show a wrong one.
CREATE VIRTUAL TABLE dossier_names USING fts5 (
    applicant_folded,
    content = 'dossiers',
    content_rowid = 'rowid',
    tokenize = 'trigram'
);
INSERT INTO dossier_names (rowid, applicant_folded)
    SELECT rowid, applicant_folded FROM dossiers WHERE applicant_folded IS NOT NULL;

CREATE TRIGGER dossier_names_insert AFTER INSERT ON dossiers
WHEN new.applicant_folded IS NOT NULL BEGIN
    INSERT INTO dossier_names (rowid, applicant_folded) VALUES (new.rowid, new.applicant_folded);
END;

-- One trigger, in this order: SQLite fires several triggers of one event newest first, and a
-- delete after the insert would remove the new entry.
CREATE TRIGGER dossier_names_update AFTER UPDATE OF applicant_folded ON dossiers
WHEN old.applicant_folded IS NOT new.applicant_folded BEGIN
    INSERT INTO dossier_names (dossier_names, rowid, applicant_folded)
        SELECT 'delete', old.rowid, old.applicant_folded WHERE old.applicant_folded IS NOT NULL;
    INSERT INTO dossier_names (rowid, applicant_folded)
        SELECT new.rowid, new.applicant_folded WHERE new.applicant_folded IS NOT NULL;
END;

CREATE TRIGGER dossier_names_delete AFTER DELETE ON dossiers
WHEN old.applicant_folded IS NOT NULL BEGIN
    INSERT INTO dossier_names (dossier_names, rowid, applicant_folded)
        VALUES ('delete', old.rowid, old.applicant_folded);
END;
