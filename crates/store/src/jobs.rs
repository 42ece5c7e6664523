//! The durable job queue and outbox, in the same database as everything else.
//!
//! - **Outbox**: a job is enqueued in the same transaction as the change that causes it
//!   ([`enqueue!`] inside the store's own writes, e.g. a dossier action), so a change that rolls
//!   back leaves no job, and a committed change always has its job.
//! - **Claiming**: one statement (`UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING`) that
//!   on PostgreSQL skips rows other workers hold (`FOR UPDATE SKIP LOCKED`) and on SQLite runs
//!   under the single writer. Any number of instances share one queue.
//! - **Leases**: a claimed job is `running` until `locked_until`; a worker killed mid-job stops
//!   renewing it, and once the lease has expired any worker takes the job over (its attempt
//!   counts). Handlers must therefore be idempotent.
//! - **Retries**: a failed attempt is queued again after an exponential backoff with jitter
//!   (`base · 2^(attempt-1)`, capped, ±25 %), and the job is `dead` after `max_attempts`; an
//!   admin may retry or discard a dead job.
//! - **Ordering**: jobs sharing an `ordering_key` (all portal messages of one dossier) run one
//!   at a time, in the order they were enqueued: a job is claimable only when no earlier job
//!   of its key is still queued or running. A dead job no longer holds its successors back.
//! - **Uniqueness**: a job with a `unique_key` is enqueued at most once while it is queued or
//!   running (recurring work such as sealing the audit chain).

use crate::{Db, Result, Store, StoreError, on_db, on_writer};
use chrono::{DateTime, Duration, Utc};
use motcua_domain::Msg;
use serde::Serialize;

/// States of a job.
pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const DEAD: &str = "dead";

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: String,
    /// JSON text the handler reads.
    pub payload: String,
    pub run_at: DateTime<Utc>,
    pub ordering_key: Option<String>,
    pub unique_key: Option<String>,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn new(kind: impl Into<String>, payload: &impl Serialize, run_at: DateTime<Utc>) -> Self {
        NewJob {
            kind: kind.into(),
            payload: serde_json::to_string(payload).unwrap_or_else(|_| "null".into()),
            run_at,
            ordering_key: None,
            unique_key: None,
            max_attempts: 8,
        }
    }

    /// Runs after every earlier job with the same key, one at a time.
    pub fn ordered_by(mut self, key: impl Into<String>) -> Self {
        self.ordering_key = Some(key.into());
        self
    }

    /// At most one such job queued or running at once.
    pub fn unique(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    pub fn max_attempts(mut self, n: i32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
}

/// A claimed or listed job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub ordering_key: Option<String>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Queue figures of one kind (the admin view and the metrics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct KindStats {
    pub kind: String,
    pub queued: i64,
    pub running: i64,
    /// Queued again after at least one failed attempt.
    pub failed: i64,
    pub dead: i64,
    /// Finished in the last 24 hours (older ones are not counted: their number grows with
    /// the history, kept a week).
    pub done: i64,
    /// Age in seconds of the oldest job due and not yet started.
    pub oldest_due_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// The predicate of the index of unfinished jobs (`jobs_pending`, migration 0025), as a query
/// on `jobs j` must say it for SQLite to read that index.
const PENDING_SQL: &str = "j.state <> 'done'";

const JOB_COLUMNS: &str = "id, kind, payload, state, attempts, max_attempts, run_at, ordering_key, \
     locked_by, locked_until, last_error, created_at, finished_at";

/// Enqueues `$job` inside the caller's transaction at `$now` (see the module docs).
macro_rules! enqueue {
    ($tx:expr, $job:expr, $now:expr) => {{
        let job: &$crate::jobs::NewJob = $job;
        sqlx::query(
            "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, ordering_key, \
             unique_key, created_at, updated_at) VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&job.kind)
        .bind(&job.payload)
        .bind(job.max_attempts)
        .bind(job.run_at)
        .bind(&job.ordering_key)
        .bind(&job.unique_key)
        .bind($now)
        .execute(&mut *$tx)
        .await
    }};
}
pub(crate) use enqueue;

/// The delay before attempt `attempt + 1` after `attempt` failed: exponential from `base`,
/// capped at `cap`, with ±25 % jitter from `jitter` (a number in [0, 1)).
pub fn backoff(attempt: i32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exp = 2f64.powi((attempt - 1).clamp(0, 30));
    let raw = (base.num_milliseconds() as f64 * exp).min(cap.num_milliseconds() as f64);
    let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
    Duration::milliseconds((raw * factor) as i64)
}

/// `kind`'s figures in `out`, added (all zero) if not there yet.
fn kind_entry(out: &mut Vec<KindStats>, kind: String) -> &mut KindStats {
    let i = match out.iter().position(|k| k.kind == kind) {
        Some(i) => i,
        None => {
            out.push(KindStats {
                kind,
                queued: 0,
                running: 0,
                failed: 0,
                dead: 0,
                done: 0,
                oldest_due_seconds: None,
                last_error: None,
            });
            out.len() - 1
        }
    };
    &mut out[i]
}

fn no_job(id: i64) -> StoreError {
    StoreError::NotFound(Msg::new(
        format!("Không có tác vụ {id}"),
        format!("no job {id}"),
    ))
}

impl Store {
    /// Enqueues a job on its own (when no other change goes with it).
    pub async fn enqueue(&self, job: &NewJob, now: DateTime<Utc>) -> Result<()> {
        on_writer!(self, p => {
            enqueue!(p, job, now)?;
        });
        Ok(())
    }

    /// Claims up to `limit` jobs of the given kinds that are due at `now` (or whose lease has
    /// expired), for `worker`, until `now + lease`.
    pub async fn claim_jobs(
        &self,
        kinds: &[String],
        limit: u32,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Vec<Job>> {
        if kinds.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 5)).collect();
        let lock = match self.db {
            Db::Postgres(_) => " FOR UPDATE OF j SKIP LOCKED",
            Db::Sqlite(_) => "",
        };
        // Not behind an earlier job of the same ordering key.
        let free = "(j.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs k \
                    WHERE k.ordering_key = j.ordering_key AND k.id < j.id \
                    AND k.state IN ('queued', 'running')))";
        // Each kind's due jobs in order from its own index (`jobs_queued`), at most `limit`
        // each, and the running jobs whose lease expired (few): a claim's cost is what it
        // takes, not the queue's length (one sort of every due job of every kind read past
        // hundreds of thousands of queued slips to find the sealer's job).
        let mut branches: Vec<String> = placeholders
            .iter()
            .enumerate()
            .map(|(i, kind)| {
                format!(
                    "SELECT id, run_at FROM (SELECT j.id, j.run_at FROM jobs j \
                     WHERE j.state = 'queued' AND j.kind = {kind} AND j.run_at <= $3 AND {free} \
                     ORDER BY j.run_at, j.id LIMIT $4{lock}) AS due{i}"
                )
            })
            .collect();
        // The expired leases are found through `jobs_pending`, whose predicate the branch
        // repeats word for word: SQLite uses a partial index only when the query contains its
        // term, and does not infer `state <> 'done'` from `state = 'running'`. Without it, it
        // read every job, the queued slips included: 40 ms a claim at 80,000 of them, each
        // claim holding the one writer.
        branches.push(format!(
            "SELECT id, run_at FROM (SELECT j.id, j.run_at FROM jobs j \
             WHERE j.state = 'running' AND {PENDING_SQL} AND j.locked_until < $3 \
             AND j.kind IN ({}) AND {free} \
             ORDER BY j.run_at, j.id LIMIT $4{lock}) AS expired",
            placeholders.join(", ")
        ));
        // A CTE is evaluated once (PostgreSQL locks exactly the rows it picked).
        let sql = format!(
            "WITH picked AS (SELECT id FROM ({}) AS candidates ORDER BY run_at, id LIMIT $4) \
             UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, \
             locked_until = $2, updated_at = $3 WHERE id IN (SELECT id FROM picked) \
             RETURNING {JOB_COLUMNS}",
            branches.join(" UNION ALL ")
        );
        let jobs: Vec<Job> = on_writer!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(worker)
                .bind(now + lease)
                .bind(now)
                .bind(i64::from(limit));
            for k in kinds {
                q = q.bind(k);
            }
            q.fetch_all(p).await?
        });
        Ok(jobs)
    }

    /// Extends the lease of a running job held by `worker`; `false` if it is no longer its.
    pub async fn renew_job(&self, id: i64, worker: &str, until: DateTime<Utc>) -> Result<bool> {
        self.on_held_job(
            "UPDATE jobs SET locked_until = $1 WHERE id = $2 AND locked_by = $3 AND state = 'running'",
            until,
            id,
            worker,
        )
        .await
    }

    /// Marks a job done (only if `worker` still holds it).
    pub async fn finish_job(&self, id: i64, worker: &str, now: DateTime<Utc>) -> Result<bool> {
        self.on_held_job(
            "UPDATE jobs SET state = 'done', finished_at = $1, updated_at = $1, locked_by = NULL, \
             locked_until = NULL, unique_key = NULL WHERE id = $2 AND locked_by = $3 AND state = 'running'",
            now,
            id,
            worker,
        )
        .await
    }

    /// Runs `sql` (`$1` a time, `$2` the id, `$3` the worker) on job `id` if `worker` still
    /// holds it; `false` if it no longer does (its lease expired and another took it over).
    async fn on_held_job(
        &self,
        sql: &'static str,
        at: DateTime<Utc>,
        id: i64,
        worker: &str,
    ) -> Result<bool> {
        let n = on_writer!(self, p => {
            sqlx::query(sql)
                .bind(at)
                .bind(id)
                .bind(worker)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Records a failed attempt: queued again at `retry_at`, or dead after its last attempt.
    pub async fn fail_job(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        now: DateTime<Utc>,
        retry_at: DateTime<Utc>,
    ) -> Result<bool> {
        let error: String = error.chars().take(2000).collect();
        let n = on_writer!(self, p => {
            sqlx::query(
                "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
                 finished_at = CASE WHEN attempts >= max_attempts THEN $1 ELSE NULL END, \
                 unique_key = CASE WHEN attempts >= max_attempts THEN NULL ELSE unique_key END, \
                 run_at = $2, last_error = $3, updated_at = $1, locked_by = NULL, locked_until = NULL \
                 WHERE id = $4 AND locked_by = $5 AND state = 'running'",
            )
            .bind(now)
            .bind(retry_at)
            .bind(&error)
            .bind(id)
            .bind(worker)
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    pub async fn job(&self, id: i64) -> Result<Job> {
        let row: Option<Job> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1")))
                .bind(id)
                .fetch_optional(p)
                .await?
        });
        row.ok_or_else(|| no_job(id))
    }

    /// Jobs in `state` (all states when `None`), newest first.
    pub async fn jobs(
        &self,
        state: Option<&str>,
        kind: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Job>> {
        let rows: Vec<Job> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR kind = $2) \
                 ORDER BY id DESC LIMIT $3"
            )))
            .bind(state)
            .bind(kind)
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(p)
            .await?
        });
        Ok(rows)
    }

    /// How many jobs of `kind` are in `state`.
    pub async fn count_jobs(&self, kind: &str, state: &str) -> Result<i64> {
        Ok(on_db!(self, p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = $1 AND state = $2")
                .bind(kind)
                .bind(state)
                .fetch_one(p)
                .await?
        }))
    }

    /// Counts per kind and state, the age of the oldest due job and the last error.
    ///
    /// Each figure comes from an index that holds it, so that the cost follows the number of
    /// unfinished jobs' index entries, not their rows: the counts from `jobs_pending`'s entries
    /// alone (kind and state), the retried ones from `jobs_retried` (migration 0030, only the
    /// jobs queued again after a failure), the day's finished ones from `jobs_finished`, and
    /// each kind's oldest due job is the first entry of `jobs_queued`. One count that read
    /// every unfinished row for its attempts and due time took 1.5 s on SQLite at 550,000
    /// queued slips, on a read connection beside the public tracking.
    pub async fn job_stats(&self, now: DateTime<Utc>) -> Result<Vec<KindStats>> {
        let pending: Vec<(String, String, i64)> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT kind, state, COUNT(*) FROM jobs j WHERE {PENDING_SQL} GROUP BY kind, state"
            )))
            .fetch_all(p)
            .await?
        });
        let retried: Vec<(String, i64)> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT kind, COUNT(*) FROM jobs WHERE state = 'queued' AND attempts > 0 GROUP BY kind",
            )
            .fetch_all(p)
            .await?
        });
        let done: Vec<(String, i64)> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT kind, COUNT(*) FROM jobs WHERE state = 'done' AND finished_at >= $1 GROUP BY kind",
            )
            .bind(now - Duration::days(1))
            .fetch_all(p)
            .await?
        });
        let mut out: Vec<KindStats> = Vec::new();
        for (kind, state, n) in pending {
            let k = kind_entry(&mut out, kind);
            match state.as_str() {
                QUEUED => k.queued += n,
                RUNNING => k.running += n,
                DEAD => k.dead += n,
                _ => {}
            }
        }
        for (kind, n) in retried {
            kind_entry(&mut out, kind).failed += n;
        }
        for (kind, n) in done {
            kind_entry(&mut out, kind).done += n;
        }
        out.sort_by(|a, b| a.kind.cmp(&b.kind));
        for k in &mut out {
            if k.queued > 0 {
                let oldest: Option<DateTime<Utc>> = on_db!(self, p => {
                    sqlx::query_scalar(
                        "SELECT MIN(run_at) FROM jobs WHERE state = 'queued' AND kind = $1 AND run_at <= $2",
                    )
                    .bind(&k.kind)
                    .bind(now)
                    .fetch_one(p)
                    .await?
                });
                k.oldest_due_seconds = oldest.map(|o| (now - o).num_seconds().max(0));
            }
            let e: Option<(Option<String>,)> = on_db!(self, p => {
                sqlx::query_as(
                    "SELECT last_error FROM jobs WHERE last_error IS NOT NULL AND kind = $1 \
                     ORDER BY updated_at DESC LIMIT 1",
                )
                .bind(&k.kind)
                .fetch_optional(p)
                .await?
            });
            k.last_error = e.and_then(|e| e.0);
        }
        Ok(out)
    }

    /// Queues a dead job again for a new round of attempts.
    pub async fn retry_job(&self, id: i64, now: DateTime<Utc>) -> Result<Job> {
        self.on_dead_job(
            id,
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, updated_at = $2, \
             finished_at = NULL WHERE id = $1 AND state = 'dead'",
            Some(now),
        )
        .await?;
        self.job(id).await
    }

    /// Removes a dead job for good.
    pub async fn discard_job(&self, id: i64) -> Result<()> {
        self.on_dead_job(
            id,
            "DELETE FROM jobs WHERE id = $1 AND state = 'dead'",
            None,
        )
        .await
    }

    /// Runs `sql` (`$1` the id, `$2` the time if any) on job `id` if it is dead.
    async fn on_dead_job(
        &self,
        id: i64,
        sql: &'static str,
        now: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let n = {
            on_writer!(self, p => {
                let mut q = sqlx::query(sql).bind(id);
                if let Some(t) = now {
                    q = q.bind(t);
                }
                q.execute(p).await?.rows_affected()
            })
        };
        if n == 0 {
            return Err(self.not_dead(id).await);
        }
        Ok(())
    }

    async fn not_dead(&self, id: i64) -> StoreError {
        match self.job(id).await {
            Ok(j) => StoreError::Conflict(Msg::new(
                format!(
                    "Tác vụ {id} đang ở trạng thái «{}», không phải «dead»",
                    j.state
                ),
                format!("job {id} is {}, not dead", j.state),
            )),
            Err(e) => e,
        }
    }

    /// Deletes finished jobs older than `before`; returns how many.
    pub async fn purge_done_jobs(&self, before: DateTime<Utc>) -> Result<u64> {
        Ok(on_writer!(self, p => {
            sqlx::query("DELETE FROM jobs WHERE state = 'done' AND finished_at < $1")
                .bind(before)
                .execute(p)
                .await?
                .rows_affected()
        }))
    }

    /// The reference-data version: bumped in the same transaction as every edit of the
    /// catalogue, processes, units, agencies or calendar, so each instance can tell that its
    /// caches are stale.
    pub async fn reference_version(&self) -> Result<i64> {
        Ok(on_db!(self, p => {
            sqlx::query_scalar("SELECT version FROM reference_version WHERE id = 1")
                .fetch_one(p)
                .await?
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::PENDING_SQL;

    #[test]
    fn the_pending_term_is_the_indexs_predicate() {
        let term = PENDING_SQL.trim_start_matches("j.");
        for db in ["postgres", "sqlite"] {
            let path = format!(
                "{}/migrations/{db}/0025_job_queue_at_size.sql",
                env!("CARGO_MANIFEST_DIR")
            );
            let sql = std::fs::read_to_string(path).unwrap();
            let index = sql
                .lines()
                .find(|l| l.contains("INDEX jobs_pending"))
                .unwrap();
            assert!(
                index
                    .trim_end_matches(';')
                    .ends_with(&format!("WHERE {term}")),
                "{db}: {index}"
            );
        }
    }
}
