-- The start-up fill of folded names (0007) looks only for rows still missing them: a partial
-- index holding just those rows makes the look-up free once every row is filled, however many
-- dossiers there are.
CREATE INDEX dossiers_unfolded ON dossiers (code) WHERE applicant_folded IS NULL;
CREATE INDEX users_unsearchable ON users (id) WHERE search_text IS NULL;
