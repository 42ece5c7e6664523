//! The job runner: claims jobs from the store's queue ([`motcua_store::jobs`]) and runs their
//! handlers, with leases renewed while a handler runs, retries with backoff, dead-lettering,
//! per-kind concurrency limits and recurring jobs. It runs inside `motcua serve` (a
//! configurable number of workers, 0 to disable) and as `motcua worker`; any number of
//! processes share one queue.
//!
//! Handlers must be idempotent: a worker killed mid-job has its job taken over by another once
//! the lease expires, and the job runs again.
//!
//! Built-in kinds: `audit.seal` (every second, in a slot of its own outside the shared workers:
//! seals new audit records into the chain; `audit.vacuum` every minute beside it keeps the
//! sealer's list compact on PostgreSQL; `db.maintain` every minute does the vacuum and the
//! planner statistics a PostgreSQL server without autovacuum leaves undone, and SQLite's
//! `PRAGMA optimize`),
//! `jobs.purge` (hourly: forgets finished jobs after a week), `file.ocr` (reads a new file's
//! text; one per core at most) and `probe` (an operator's check that the queue runs:
//! optionally sleeps, then records its run).

use crate::{Result, Service};
use chrono::Duration;
use motcua_store::{Job, NewJob};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{Semaphore, watch};

/// How often every instance checks whether reference data changed elsewhere.
pub const REFERENCE_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// What a handler returns: `Err` with a message retries the job (or kills it after its last
/// attempt).
pub type JobResult = std::result::Result<(), String>;
type BoxFuture = Pin<Box<dyn Future<Output = JobResult> + Send>>;
type HandlerFn = Arc<dyn Fn(Arc<Service>, Job) -> BoxFuture + Send + Sync>;

struct Kind {
    handler: HandlerFn,
    slots: Arc<Semaphore>,
    /// Runs in its own slots, outside the process's shared worker count: housekeeping that must
    /// keep pace whatever else is queued (the audit sealer behind thousands of slips to sign).
    reserved: bool,
}

/// A recurring job: enqueued at start and again after each completion.
#[derive(Debug, Clone)]
struct Recurring {
    kind: &'static str,
    every: Duration,
}

/// Settings of a runner.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Name of this worker in the queue (`locked_by`), unique per process.
    pub worker_id: String,
    /// Jobs run at once in this process, over all kinds.
    pub workers: usize,
    /// How long a claim lasts without renewal.
    pub lease: Duration,
    /// Sleep between polls when the queue is empty.
    pub idle_poll: std::time::Duration,
    /// First retry delay; doubled at each failed attempt, up to `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

impl RunnerConfig {
    pub fn new(worker_id: impl Into<String>, workers: usize) -> Self {
        RunnerConfig {
            worker_id: worker_id.into(),
            workers: workers.max(1),
            lease: Duration::seconds(30),
            idle_poll: std::time::Duration::from_millis(200),
            backoff_base: Duration::seconds(2),
            backoff_cap: Duration::minutes(30),
        }
    }
}

/// A set of handlers, claiming and running jobs until told to stop.
pub struct Runner {
    svc: Arc<Service>,
    cfg: RunnerConfig,
    kinds: HashMap<String, Kind>,
    recurring: Vec<Recurring>,
    total: Arc<Semaphore>,
}

impl Runner {
    /// A runner with the built-in handlers.
    pub fn new(svc: Arc<Service>, cfg: RunnerConfig) -> Self {
        let total = Arc::new(Semaphore::new(cfg.workers));
        let mut r = Runner {
            svc,
            cfg,
            kinds: HashMap::new(),
            recurring: Vec::new(),
            total,
        };
        r.register("audit.seal", 1, |svc, _job| async move {
            match svc.store().seal_audit().await {
                Ok(n) => {
                    if n > 0 {
                        metrics::counter!("motcua_audit_sealed_total").increment(n);
                    }
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            }
        });
        r.every("audit.seal", Duration::seconds(1));
        r.reserve("audit.seal");
        r.register("audit.vacuum", 1, |svc, _job| async move {
            svc.store()
                .vacuum_seal_list()
                .await
                .map_err(|e| e.to_string())
        });
        r.every("audit.vacuum", Duration::minutes(1));
        r.reserve("audit.vacuum");
        r.register("db.maintain", 1, |svc, _job| async move {
            let done = svc.store().maintain().await.map_err(|e| e.to_string())?;
            for (table, upkeep) in done {
                metrics::counter!("motcua_db_upkeep_total", "upkeep" => upkeep.as_str())
                    .increment(1);
                tracing::debug!(table, upkeep = upkeep.as_str(), "table upkeep");
            }
            Ok(())
        });
        r.every("db.maintain", Duration::minutes(1));
        r.reserve("db.maintain");
        r.register("jobs.purge", 1, |svc, _job| async move {
            let before = svc.now() - Duration::days(7);
            svc.store()
                .purge_done_jobs(before)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        r.every("jobs.purge", Duration::hours(1));
        r.register("uploads.purge", 1, |svc, _job| async move {
            svc.purge_uploads()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        r.every("uploads.purge", Duration::hours(1));
        r.register(motcua_store::COPY_SIGN_JOB, 2, |svc, job| async move {
            let code = serde_json::from_str::<serde_json::Value>(&job.payload)
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_owned))
                .ok_or_else(|| format!("job {}: no code in its payload", job.id))?;
            svc.sign_copy(&code).await
        });
        r.register(motcua_store::DOCUMENT_SIGN_JOB, 2, |svc, job| async move {
            let id = serde_json::from_str::<serde_json::Value>(&job.payload)
                .ok()
                .and_then(|v| v["id"].as_i64())
                .ok_or_else(|| format!("job {}: no id in its payload", job.id))?;
            svc.sign_document(id).await
        });
        r.register(motcua_store::RESULT_SIGN_JOB, 2, |svc, job| async move {
            let id = serde_json::from_str::<serde_json::Value>(&job.payload)
                .ok()
                .and_then(|v| v["file_id"].as_i64())
                .ok_or_else(|| format!("job {}: no file_id in its payload", job.id))?;
            svc.sign_result(id).await
        });
        r.register(
            "probe",
            4,
            |svc, job| async move { probe(&svc, &job).await },
        );
        r.register(
            crate::ocr::OCR_JOB,
            crate::ocr::ocr_slots(),
            |svc, job| async move {
                let id = serde_json::from_str::<serde_json::Value>(&job.payload)
                    .ok()
                    .and_then(|v| v["file_id"].as_i64())
                    .ok_or_else(|| format!("job {}: no file_id in its payload", job.id))?;
                svc.read_file_text(id).await
            },
        );
        r
    }

    /// Registers (or replaces) the handler of `kind`, with at most `concurrency` of its jobs
    /// running at once in this process.
    pub fn register<F, Fut>(&mut self, kind: &str, concurrency: usize, f: F) -> &mut Self
    where
        F: Fn(Arc<Service>, Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = JobResult> + Send + 'static,
    {
        let handler: HandlerFn = Arc::new(move |svc, job| Box::pin(f(svc, job)));
        self.kinds.insert(
            kind.to_owned(),
            Kind {
                handler,
                slots: Arc::new(Semaphore::new(concurrency.max(1))),
                reserved: false,
            },
        );
        self
    }

    /// Runs `kind` (registered) in its own slots, beside the shared workers: its jobs never
    /// wait for a worker busy with another kind.
    pub fn reserve(&mut self, kind: &str) -> &mut Self {
        if let Some(k) = self.kinds.get_mut(kind) {
            k.reserved = true;
        }
        self
    }

    /// Whether a reserved kind has a free slot.
    fn reserved_room(&self) -> bool {
        self.kinds
            .values()
            .any(|k| k.reserved && k.slots.available_permits() > 0)
    }

    /// Makes `kind` recurring every `every`.
    pub fn every(&mut self, kind: &'static str, every: Duration) -> &mut Self {
        self.recurring.retain(|r| r.kind != kind);
        self.recurring.push(Recurring { kind, every });
        self
    }

    /// Stops `kind` recurring (tests that drive the queue by hand).
    pub fn without_recurring(&mut self) -> &mut Self {
        self.recurring.clear();
        self
    }

    async fn schedule(&self, kind: &str, every: Duration) -> Result<()> {
        let now = self.svc.now();
        let job = NewJob::new(kind, &serde_json::json!({}), now + every)
            .unique(kind)
            .max_attempts(1000);
        self.svc.store().enqueue(&job, now).await?;
        Ok(())
    }

    /// Claims what this process has room for, of the kinds with a free slot: the reserved
    /// kinds in their own slots, then the others up to the free shared workers.
    async fn claim(&self) -> Result<Vec<Job>> {
        let mut jobs = Vec::new();
        for reserved in [true, false] {
            let mut room = 0;
            let kinds: Vec<String> = self
                .kinds
                .iter()
                .filter(|(_, k)| k.reserved == reserved && k.slots.available_permits() > 0)
                .map(|(n, k)| {
                    room += k.slots.available_permits();
                    n.clone()
                })
                .collect();
            if !reserved {
                room = self.total.available_permits();
            }
            if room == 0 || kinds.is_empty() {
                continue;
            }
            jobs.extend(
                self.svc
                    .store()
                    .claim_jobs(
                        &kinds,
                        u32::try_from(room).unwrap_or(u32::MAX),
                        &self.cfg.worker_id,
                        self.svc.now(),
                        self.cfg.lease,
                    )
                    .await?,
            );
        }
        Ok(jobs)
    }

    /// Runs every job due now, one after another, until none is left; returns how many ran
    /// (tests, and one-off maintenance).
    pub async fn run_pending(&self) -> Result<usize> {
        let mut n = 0;
        loop {
            let jobs = self.claim().await?;
            if jobs.is_empty() {
                return Ok(n);
            }
            for job in jobs {
                n += 1;
                self.execute(job).await;
            }
        }
    }

    /// Runs claimed jobs until `stop` turns true; then waits for running jobs to finish.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        for r in &self.recurring {
            if let Err(e) = self.schedule(r.kind, Duration::zero()).await {
                tracing::warn!(kind = r.kind, error = %e, "cannot schedule a recurring job");
            }
        }
        let this = Arc::new(self);
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            if *stop.borrow() {
                break;
            }
            // Every slot busy: wait for a job to end, not for the poll interval.
            if this.total.available_permits() == 0 && !this.reserved_room() {
                tokio::select! {
                    _ = tasks.join_next() => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let claimed = match this.claim().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming jobs failed; will retry");
                    Vec::new()
                }
            };
            let idle = claimed.is_empty();
            for job in claimed {
                let Some(kind) = this.kinds.get(&job.kind) else {
                    continue;
                };
                // Room was counted before claiming; these never wait long.
                let total = if kind.reserved {
                    None
                } else {
                    match this.total.clone().acquire_owned().await {
                        Ok(p) => Some(p),
                        Err(_) => continue,
                    }
                };
                let Ok(slot) = kind.slots.clone().acquire_owned().await else {
                    continue;
                };
                let runner = this.clone();
                tasks.spawn(async move {
                    runner.execute(job).await;
                    drop((total, slot));
                });
            }
            while tasks.try_join_next().is_some() {}
            if idle {
                // Nothing due (or no slot of a kind that has work): poll again later, or
                // sooner when a running job ends.
                tokio::select! {
                    _ = tokio::time::sleep(this.cfg.idle_poll) => {}
                    Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                    _ = stop.changed() => {}
                }
            } else {
                tokio::task::yield_now().await;
            }
        }
        while tasks.join_next().await.is_some() {}
    }

    /// Runs one claimed job: renews its lease while the handler runs, then records the result.
    async fn execute(&self, job: Job) {
        let Some(kind) = self.kinds.get(&job.kind) else {
            return;
        };
        let started = std::time::Instant::now();
        let id = job.id;
        let kind_name = job.kind.clone();
        let renew = {
            let svc = self.svc.clone();
            let worker = self.cfg.worker_id.clone();
            let lease = self.cfg.lease;
            let every = (lease / 3)
                .to_std()
                .unwrap_or(std::time::Duration::from_secs(10));
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    match svc.store().renew_job(id, &worker, svc.now() + lease).await {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => tracing::warn!(job = id, error = %e, "lease renewal failed"),
                    }
                }
            })
        };
        let span = tracing::info_span!("job", id, kind = %kind_name, attempt = job.attempts);
        // Handlers run as background work: their CPU steps go below the requests.
        let result = crate::background::as_background(tracing::Instrument::instrument(
            (kind.handler)(self.svc.clone(), job.clone()),
            span,
        ))
        .await;
        renew.abort();
        metrics::histogram!("motcua_job_duration_seconds", "kind" => kind_name.clone())
            .record(started.elapsed().as_secs_f64());
        let now = self.svc.now();
        let store = self.svc.store();
        match result {
            Ok(()) => {
                metrics::counter!("motcua_jobs_done_total", "kind" => kind_name.clone())
                    .increment(1);
                if let Err(e) = store.finish_job(id, &self.cfg.worker_id, now).await {
                    tracing::warn!(job = id, error = %e, "cannot mark the job done; it will run again");
                }
                if let Some(r) = self.recurring.iter().find(|r| r.kind == kind_name)
                    && let Err(e) = self.schedule(r.kind, r.every).await
                {
                    tracing::warn!(kind = r.kind, error = %e, "cannot schedule the next run");
                }
            }
            Err(msg) => {
                metrics::counter!("motcua_job_failures_total", "kind" => kind_name.clone())
                    .increment(1);
                let delay = motcua_store::jobs::backoff(
                    job.attempts,
                    self.cfg.backoff_base,
                    self.cfg.backoff_cap,
                    rand::random::<f64>(),
                );
                let last = job.attempts >= job.max_attempts;
                if last {
                    tracing::error!(job = id, kind = %kind_name, error = %msg, "job failed for the last time: dead");
                } else {
                    tracing::warn!(job = id, kind = %kind_name, error = %msg, retry_in_ms = delay.num_milliseconds(), "job failed; will retry");
                }
                if let Err(e) = store
                    .fail_job(id, &self.cfg.worker_id, &msg, now, now + delay)
                    .await
                {
                    tracing::warn!(job = id, error = %e, "cannot record the failure");
                }
            }
        }
    }
}

/// `probe`: `{"sleep_ms": N}` sleeps, then records that job `id` ran (idempotent: a repeat
/// run records the same fact).
async fn probe(svc: &Service, job: &Job) -> JobResult {
    let p: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
    if let Some(ms) = p.get("sleep_ms").and_then(serde_json::Value::as_u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms.min(600_000))).await;
    }
    if p.get("fail").and_then(serde_json::Value::as_bool) == Some(true) {
        return Err("probe asked to fail".into());
    }
    svc.store()
        .set_meta(&format!("probe:{}", job.id), "done")
        .await
        .map_err(|e| e.to_string())
}

/// Keeps this instance's reference data fresh: every [`REFERENCE_POLL`] it compares the
/// reference version with the one its caches were built from (runs on every instance, also
/// with no job workers).
pub async fn watch_reference(svc: Arc<Service>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(REFERENCE_POLL) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        if let Err(e) = svc.refresh_if_changed().await {
            tracing::warn!(error = %e, "cannot check the reference-data version");
        }
    }
}

/// How often the queue's and the sealer's gauges are published.
const PUBLISH_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Publishes queue depth and oldest job age per kind, and the audit records awaiting the
/// sealer (`motcua_audit_unsealed`, `motcua_audit_unsealed_oldest_seconds`), to Prometheus
/// every few seconds.
pub async fn publish_queue_metrics(svc: Arc<Service>, mut stop: watch::Receiver<bool>) {
    let mut next_count = std::time::Instant::now();
    loop {
        // The queue's figures count the unfinished jobs: a busy day leaves hundreds of
        // thousands of slips queued, and counting them takes a while (465 ms at 983,000).
        // They are counted again after 50 times as long as the last count took (5 s at
        // least), so that counting never takes more than a fiftieth of the database's time.
        let started = std::time::Instant::now();
        if started >= next_count
            && let Ok(stats) = svc.store().job_stats(svc.now()).await
        {
            next_count = started + (started.elapsed() * 50).max(PUBLISH_EVERY);
            for k in stats {
                metrics::gauge!("motcua_jobs_queued", "kind" => k.kind.clone())
                    .set(k.queued as f64);
                metrics::gauge!("motcua_jobs_running", "kind" => k.kind.clone())
                    .set(k.running as f64);
                metrics::gauge!("motcua_jobs_dead", "kind" => k.kind.clone()).set(k.dead as f64);
                metrics::gauge!("motcua_jobs_oldest_due_seconds", "kind" => k.kind.clone())
                    .set(k.oldest_due_seconds.unwrap_or(0) as f64);
            }
        }
        svc.publish_seal_backlog().await;
        tokio::select! {
            _ = tokio::time::sleep(PUBLISH_EVERY) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
}

impl Service {
    /// Queue figures per kind (the admin view).
    pub async fn job_stats(
        &self,
        actor: &motcua_domain::dossier::Actor,
    ) -> Result<Vec<motcua_store::KindStats>> {
        self.authorize(actor, motcua_domain::policy::Permission::ManageJobs)?;
        Ok(self.store().job_stats(self.now()).await?)
    }

    /// Sets the gauges of the audit sealer's backlog (`motcua_audit_unsealed`,
    /// `motcua_audit_unsealed_oldest_seconds`), every few seconds in every instance.
    pub async fn publish_seal_backlog(&self) {
        match self.store().seal_backlog().await {
            Ok(b) => {
                metrics::gauge!("motcua_audit_unsealed").set(b.unsealed as f64);
                metrics::gauge!("motcua_audit_unsealed_oldest_seconds").set(
                    b.oldest_at.map_or(0.0, |at| {
                        (self.now() - at).num_milliseconds().max(0) as f64 / 1e3
                    }),
                );
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the audit sealer's backlog"),
        }
    }

    /// How far the audit sealer is behind (the admin view).
    pub async fn seal_backlog(
        &self,
        actor: &motcua_domain::dossier::Actor,
    ) -> Result<motcua_store::audit::SealBacklog> {
        self.authorize(actor, motcua_domain::policy::Permission::ManageJobs)?;
        Ok(self.store().seal_backlog().await?)
    }

    /// Jobs by state (newest first), for the admin view.
    pub async fn jobs(
        &self,
        actor: &motcua_domain::dossier::Actor,
        state: Option<&str>,
        kind: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Job>> {
        self.authorize(actor, motcua_domain::policy::Permission::ManageJobs)?;
        Ok(self.store().jobs(state, kind, limit).await?)
    }

    /// Queues a dead job again.
    pub async fn retry_job(&self, by: &crate::Acting, id: i64) -> Result<Job> {
        self.authorize(&by.actor, motcua_domain::policy::Permission::ManageJobs)?;
        tracing::info!(job = id, by = %by.actor.name, "dead job queued again");
        Ok(self.store().retry_job(id, by.at).await?)
    }

    /// Discards a dead job.
    pub async fn discard_job(&self, by: &crate::Acting, id: i64) -> Result<()> {
        self.authorize(&by.actor, motcua_domain::policy::Permission::ManageJobs)?;
        tracing::info!(job = id, by = %by.actor.name, "dead job discarded");
        Ok(self.store().discard_job(id).await?)
    }

    /// Enqueues a job (an operator's probe, a test).
    pub async fn enqueue(&self, by: &crate::Acting, job: &NewJob) -> Result<()> {
        self.authorize(&by.actor, motcua_domain::policy::Permission::ManageJobs)?;
        Ok(self.store().enqueue(job, by.at).await?)
    }
}
