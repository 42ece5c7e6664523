-- Dossiers by receiving agency and time of receipt: the dossier register (form 06/07) and the
-- list's receipt period.
CREATE INDEX dossiers_received ON dossiers (receiving_agency, received_at);
