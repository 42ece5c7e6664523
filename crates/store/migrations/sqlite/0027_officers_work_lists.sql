-- The officers' work lists read the dossiers still on somebody's desk (open, or resolved and
-- waiting to be returned), never the ended history: an agency's queue, overdue and "due soon"
-- lists walk its work list in appointment order and stop at the page's end or, for the
-- deadline lists, at the instant they are computed for; "mine" walks the assignee's own.
-- A dossier ended long ago keeps its old appointment, so in (current_agency, queue_due, code)
-- it comes before every open one: at 1,000,000 dossiers the overdue and "mine" lists read
-- every row of the agency (1.4 s). The list of statuses is the store's WORKLIST: a query
-- restricted to those statuses repeats it verbatim, which is how SQLite (and PostgreSQL with a
-- generic plan) knows the partial index holds every row it needs.
CREATE INDEX dossiers_worklist ON dossiers (current_agency, queue_due, code)
    WHERE status IN ('received', 'processing', 'awaiting_supplement', 'awaiting_payment', 'withdrawal_requested', 'resolved');
CREATE INDEX dossiers_worklist_assignee ON dossiers (assignee, queue_due, code)
    WHERE status IN ('received', 'processing', 'awaiting_supplement', 'awaiting_payment', 'withdrawal_requested', 'resolved');
