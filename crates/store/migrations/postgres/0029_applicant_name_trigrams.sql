-- The officers' search by applicant name (issue 11) matched `applicant_folded LIKE '%word%'`,
-- which no B-tree can serve: at a million dossiers it was a parallel scan of the whole table
-- (1.2 s). A trigram GIN index (pg_trgm, shipped with PostgreSQL and trusted since 13, so a
-- database owner may install it) serves those LIKE patterns for words of three or more
-- characters; the query is unchanged.
--
-- The extension is installed once per database, in `public`, so that dropping one schema of
-- a shared database never takes it from the others; the index names the operator class in
-- whatever schema holds it. A role that may not install extensions gets no index (a notice
-- says so): the search then works as before, by reading the table.
DO $$
DECLARE
    ops_schema text;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm not installed (%): the search by name reads the table', SQLERRM;
    END;
    SELECT n.nspname INTO ops_schema
    FROM pg_opclass c
    JOIN pg_namespace n ON n.oid = c.opcnamespace
    JOIN pg_am a ON a.oid = c.opcmethod
    WHERE c.opcname = 'gin_trgm_ops' AND a.amname = 'gin'
    LIMIT 1;
    IF ops_schema IS NOT NULL THEN
        EXECUTE format(
            'CREATE INDEX dossiers_applicant_trigrams ON dossiers USING gin (applicant_folded %I.gin_trgm_ops)',
            ops_schema
        );
    END IF;
END
$$;
