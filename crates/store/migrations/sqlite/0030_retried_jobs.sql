-- The queue's figures (the admin jobs view, `/metrics`) count the jobs queued again after a
-- failed attempt from this index of those alone, not by reading the attempts of every
-- unfinished job (1.5 s at 550,000 queued slips on SQLite). Most jobs never fail: it stays
-- small, and a claim or a failure moves one entry in or out.
CREATE INDEX jobs_retried ON jobs (kind) WHERE state = 'queued' AND attempts > 0;
