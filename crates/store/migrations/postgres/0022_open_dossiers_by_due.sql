-- Open dossiers in order of their appointment: the overdue list (the operations centre's, and
-- the list filtered `overdue`) reads these and never the ended ones. Ended dossiers keep their
-- old appointments, so in an index over every dossier in appointment order they come first: at
-- 1,000,000 dossiers PostgreSQL scanned 962,129 of them (2.3 s) before the first overdue one;
-- with this index 0.08 ms. The status list is the overdue filter's own.
CREATE INDEX dossiers_open_due ON dossiers (queue_due, code)
    WHERE status IN ('received', 'processing', 'awaiting_supplement', 'awaiting_payment', 'withdrawal_requested');
