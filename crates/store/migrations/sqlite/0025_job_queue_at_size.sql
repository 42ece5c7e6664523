-- The job queue's reads keep their cost when the queue and its history grow (a busy day leaves
-- hundreds of thousands of slips queued for signing, and a week of finished jobs is kept):
-- a claim reads each kind's due jobs in order from its own index and stops at the few it
-- takes, instead of sorting every due job of every kind (the sealer's claim read past every
-- queued slip); the queue's figures count the jobs not finished and the jobs finished in the
-- last day from partial indexes, not the whole table; a kind's last error is found among the
-- jobs that have one.
CREATE INDEX jobs_queued ON jobs (kind, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_pending ON jobs (kind, state) WHERE state <> 'done';
CREATE INDEX jobs_errors ON jobs (kind, updated_at) WHERE last_error IS NOT NULL;
DROP INDEX jobs_finished;
CREATE INDEX jobs_finished ON jobs (finished_at, kind) WHERE state = 'done';
