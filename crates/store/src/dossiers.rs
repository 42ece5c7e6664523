//! Dossiers: intake with unique daily codes, workflow actions under optimistic concurrency,
//! inter-agency child cases, work queues, legacy import, per-procedure processes.
//!
//! The `dossiers` row is the current state; the audit records written in the same transaction
//! are the history (the control slip reads them). Writes start with a write statement, so on
//! SQLite they take the write lock at once and on PostgreSQL they lock the dossier's row.

use crate::audit::{AuditRecord, append_audit, append_reference_change};
use crate::catalogue::page;
use crate::jobs::{NewJob, enqueue};
use crate::{ChangeBy, Db, Page, Result, Store, StoreError, WriteDb, on_db, on_writer, page_limit};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use motcua_domain::Msg;
use motcua_domain::calendar::WorkCalendar;
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{
    Action, Actor, Change, Dossier, Refusal, Status, dossier_code, parse_dossier_code,
};
use motcua_domain::process::Process;
use sqlx::QueryBuilder;

/// A dossier with its version (the ETag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDossier {
    pub dossier: Dossier,
    pub version: i64,
}

/// Filters of a work queue; results come sorted by appointment (soonest first), then code.
#[derive(Debug, Clone, Default)]
pub struct DossierQuery {
    pub statuses: Vec<Status>,
    /// Overdue (or not) as of `as_of`.
    pub overdue: Option<bool>,
    pub as_of: Option<DateTime<Utc>>,
    pub due_before: Option<DateTime<Utc>>,
    /// Agency holding the dossier at its current step.
    pub agency: Option<String>,
    pub receiving_agency: Option<String>,
    pub assignee: Option<String>,
    pub owner_id: Option<i64>,
    pub applicant_id: Option<String>,
    /// Words of the applicant's name, in any order, with or without diacritics.
    pub applicant_name: Option<String>,
    pub procedure_code: Option<String>,
    /// Dossiers that `agency` received or holds now.
    pub involving: Option<String>,
    /// Filed at or after this instant.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Received at or after this instant…
    pub received_from: Option<DateTime<Utc>>,
    /// …and before this one.
    pub received_to: Option<DateTime<Utc>>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// An `Idempotency-Key` of a creating request.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// Who sent it (keys are per client).
    pub actor: String,
    pub key: String,
    /// SHA-256 of the request body: a key reused with another body is refused.
    pub request_hash: String,
}

/// One event of a legacy dossier's history, already applied to the state being imported.
#[derive(Debug, Clone)]
pub struct ImportedEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub change: Change,
}

/// A dossier's whole history to store at once ([`Store::import_histories`]).
#[derive(Debug, Clone)]
pub struct ImportedHistory {
    pub dossier: Dossier,
    pub events: Vec<ImportedEvent>,
    /// Digitisation records: (kind, instant, component index, document code).
    pub digitisation: Vec<(String, DateTime<Utc>, Option<i32>, String)>,
}

/// Whose events an import of histories stores as audit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every dossier's: the whole history.
    Everything,
    /// Only the events of dossiers not finished (neither returned, stopped nor rejected); a
    /// finished dossier keeps its document, its digitisation records and its figures. Events
    /// are about half of a history's bytes (7.7 KB a dossier), so this makes a synthetic
    /// history that measures the figures and the daily work at a size whose whole history
    /// does not fit the disk. The database is marked ([`LEAN_HISTORY`]): `stats rebuild`,
    /// which recomputes the figures from the events, refuses to run on it.
    EventsOfUnfinished,
}

/// The `meta` key that marks a database holding a lean history ([`Keep::EventsOfUnfinished`]).
pub const LEAN_HISTORY: &str = "lean_history";

/// A batch of histories ready to be written ([`Store::prepare_histories`]).
pub struct PreparedHistories {
    /// Only the unfinished dossiers' events are kept ([`Keep::EventsOfUnfinished`]).
    lean: bool,
    batch: Vec<ImportedHistory>,
    /// Each dossier's document and folded applicant name, in the batch's order.
    docs: Vec<(String, String)>,
    audits: Vec<(crate::audit::AuditRecord, String)>,
    /// The facts of each counted dossier, by code.
    facts: Vec<(String, crate::stats::FactsRow)>,
    months: std::collections::HashMap<(crate::stats::StatKey, i32), motcua_domain::stats::Counts>,
    counters: std::collections::HashMap<(String, NaiveDate), i64>,
}

/// The statuses of a dossier still on somebody's desk: open, or resolved and waiting to be
/// returned. The officers' work lists are made of these.
pub const WORKLIST: [Status; 6] = [
    Status::Received,
    Status::Processing,
    Status::AwaitingSupplement,
    Status::AwaitingPayment,
    Status::WithdrawalRequested,
    Status::Resolved,
];

/// [`WORKLIST`] as the predicate of the partial indexes `dossiers_worklist` and
/// `dossiers_worklist_assignee` (migration 0027), word for word: SQLite uses a partial index
/// only for a query whose WHERE clause has the index's own term.
const WORKLIST_SQL: &str = "status IN ('received', 'processing', 'awaiting_supplement', \
                            'awaiting_payment', 'withdrawal_requested', 'resolved')";

/// The open statuses ([`Status::is_open`]) as the predicate of `dossiers_open_due` (0022).
const OPEN_SQL: &str = "status IN ('received', 'processing', 'awaiting_supplement', \
                        'awaiting_payment', 'withdrawal_requested')";

/// Whether every dossier `q` can match is on the work list: it asks for work-list statuses
/// only, or for overdue dossiers (open ones).
fn on_worklist(q: &DossierQuery) -> bool {
    q.overdue == Some(true)
        || (!q.statuses.is_empty() && q.statuses.iter().all(|s| WORKLIST.contains(s)))
}

/// The FTS5 query of SQLite's trigram index of applicant names (migration 0029) for the
/// folded search `terms`: every term of three or more characters as a phrase (a run of
/// trigrams, so a substring), all of them required. `None` when no term is that long: shorter
/// ones have no trigram, and only the LIKE on the row can find them.
fn sqlite_trigram_match(terms: &[String]) -> Option<String> {
    let phrases: Vec<String> = terms
        .iter()
        .filter(|t| t.chars().count() >= 3)
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect();
    (!phrases.is_empty()).then(|| phrases.join(" "))
}

fn far_future() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))
}

fn audit_of(code: &str, actor: &str, at: DateTime<Utc>, c: &Change) -> Result<AuditRecord> {
    Ok(AuditRecord {
        at,
        actor: actor.to_owned(),
        entity: "dossier",
        entity_key: code.to_owned(),
        action: c.event.name().to_owned(),
        before: c.before.as_ref().map(json_text).transpose()?,
        after: Some(json_text(&c.after)?),
        data: c.record().to_stored(),
    })
}

/// The jobs a committed dossier change causes, enqueued in its own transaction (the outbox).
pub type Outbox<'a> = &'a (dyn Fn(&Dossier, &Change, DateTime<Utc>) -> Vec<NewJob> + Send + Sync);

/// No job follows the change.
pub fn no_jobs(_: &Dossier, _: &Change, _: DateTime<Utc>) -> Vec<NewJob> {
    Vec::new()
}

/// A check of the locked, current state before an action (the caller's authorisation).
pub type Guard<'a> = &'a (dyn Fn(&Dossier) -> std::result::Result<(), Refusal> + Send + Sync);

fn parse_row(data: &str, version: i64) -> Result<StoredDossier> {
    let dossier: Dossier =
        serde_json::from_str(data).map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))?;
    Ok(StoredDossier { dossier, version })
}

impl From<Refusal> for StoreError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Invalid(e) => StoreError::Invalid(e),
            other => StoreError::Refused(other),
        }
    }
}

/// A dossier's row as written: the dossier with its version, its last change's instant, whether
/// it was imported, and its document and folded applicant name (computed before the write).
struct DossierRow<'a> {
    d: &'a Dossier,
    version: i64,
    at: DateTime<Utc>,
    imported: bool,
    data: String,
    folded: String,
}

impl<'a> DossierRow<'a> {
    fn new(d: &'a Dossier, version: i64, at: DateTime<Utc>, imported: bool) -> Result<Self> {
        Ok(DossierRow {
            d,
            version,
            at,
            imported,
            data: json_text(d)?,
            folded: motcua_domain::text::fold(&d.applicant.name),
        })
    }
}

/// The rows of a multi-row write of dossiers (22 values each), of audit records (9) and of
/// digitisation records (7): under SQLite's 32,766 bound values a statement.
const DOSSIER_CHUNK: usize = 1000;
const AUDIT_CHUNK: usize = 3000;
const DIGITISATION_CHUNK: usize = 4000;

/// Inserts or replaces the rows `$rows` (a slice of [`DossierRow`]).
macro_rules! upsert_dossiers {
    ($tx:expr, $rows:expr) => {{
        let rows: &[DossierRow<'_>] = $rows;
        crate::insert_rows!(
            $tx,
            "INSERT INTO dossiers (code, procedure_code, channel, status, receiving_agency, current_agency, \
             assignee, owner_id, applicant_id, parent_code, submitted_at, received_at, due_at, queue_due, \
             paused_at, ended_at, timeliness, imported, version, updated_at, data, applicant_folded) ",
            rows,
            DOSSIER_CHUNK,
            " ON CONFLICT (code) DO UPDATE SET status = excluded.status, current_agency = excluded.current_agency, \
             assignee = excluded.assignee, received_at = excluded.received_at, due_at = excluded.due_at, \
             queue_due = excluded.queue_due, paused_at = excluded.paused_at, ended_at = excluded.ended_at, \
             timeliness = excluded.timeliness, version = excluded.version, updated_at = excluded.updated_at, \
             data = excluded.data, applicant_folded = excluded.applicant_folded",
            |v, r| {
                let d = r.d;
                v.push_bind(&d.code)
                    .push_bind(d.procedure_code.as_str())
                    .push_bind(crate::catalogue::enum_text(&d.channel))
                    .push_bind(d.status.as_str())
                    .push_bind(d.receiving_agency.as_str())
                    .push_bind(d.current_agency.as_str())
                    .push_bind(&d.assignee)
                    .push_bind(d.owner_id)
                    .push_bind(&d.applicant.id_number)
                    .push_bind(&d.parent_code)
                    .push_bind(d.submitted_at)
                    .push_bind(d.received_at)
                    .push_bind(d.due_at)
                    .push_bind(d.due_at.unwrap_or_else(far_future))
                    .push_bind(d.paused_at)
                    .push_bind(d.ended_at)
                    .push_bind(d.timeliness.map(|t| t.as_str()))
                    .push_bind(r.imported)
                    .push_bind(r.version)
                    .push_bind(r.at)
                    .push_bind(&r.data)
                    .push_bind(&r.folded);
            }
        )
    }};
}

/// The items whose code does not come again later, in their order: where a code comes twice
/// in one batch the later one wins, as it would written one by one (and one statement may not
/// upsert a row twice).
fn last_of_each<'a, T>(items: impl DoubleEndedIterator<Item = (&'a str, T)>) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<T> = items
        .rev()
        .filter(|(code, _)| seen.insert(*code))
        .map(|(_, t)| t)
        .collect();
    out.reverse();
    out
}

/// Inserts or replaces the row of `$d` at `$version`.
macro_rules! put_dossier {
    ($tx:expr, $d:expr, $version:expr, $at:expr, $imported:expr) => {{
        let row = DossierRow::new($d, $version, $at, $imported)?;
        upsert_dossiers!($tx, std::slice::from_ref(&row));
    }};
}

/// Takes the next number of `$agency` on `$day` inside a transaction; at least `$min`.
macro_rules! bump_counter {
    ($tx:expr, $agency:expr, $day:expr, $min:expr) => {{
        let n: i64 = sqlx::query_scalar(
            "INSERT INTO dossier_counters (agency_code, day, last) VALUES ($1, $2, $3) \
             ON CONFLICT (agency_code, day) DO UPDATE SET last = CASE \
             WHEN dossier_counters.last + 1 > excluded.last THEN dossier_counters.last + 1 \
             ELSE excluded.last END RETURNING last",
        )
        .bind($agency)
        .bind($day)
        .bind($min)
        .fetch_one(&mut *$tx)
        .await?;
        n
    }};
}

/// Locks a dossier's row for this transaction and reads it (`SELECT … FOR UPDATE`: a lock
/// without a new row version, which an `UPDATE` leaves for the vacuum in every index).
macro_rules! lock_dossier {
    ($tx:expr, $code:expr) => {{
        let row: Option<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT data, version FROM dossiers WHERE code = $1{}",
            crate::for_update(&$tx)
        )))
        .bind($code)
        .fetch_optional(&mut *$tx)
        .await?;
        match row {
            Some((data, version)) => parse_row(&data, version)?,
            None => return Err(not_found($code)),
        }
    }};
}

/// Inserts a new dossier, its first audit record and its idempotency key in `$tx`.
macro_rules! insert_new {
    ($store:expr, $tx:expr, $d:expr, $change:expr, $actor:expr, $at:expr, $idem:expr, $outbox:expr) => {{
        let d: &Dossier = $d;
        let audit = audit_of(&d.code, $actor, $at, $change)?;
        put_dossier!($tx, d, 1i64, $at, false);
        append_audit!($store, $tx, audit)?;
        // Warehouse documents taken instead of paper: reuses, counted with the dossier.
        for c in &d.components {
            if let Some(code) = &c.warehouse_code {
                $crate::warehouse::digitisation_event!(
                    $tx,
                    "reused",
                    $at,
                    d.receiving_agency.as_str(),
                    &d.code,
                    i32::try_from(c.index).ok(),
                    code,
                    $actor
                )?;
            }
        }
        for job in ($outbox)(d, $change, $at) {
            enqueue!($tx, &job, $at)?;
        }
        if let Some(k) = $idem {
            sqlx::query(
                "INSERT INTO idempotency_keys (actor, key, request_hash, dossier_code, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&k.actor)
            .bind(&k.key)
            .bind(&k.request_hash)
            .bind(&d.code)
            .bind($at)
            .execute(&mut *$tx)
            .await?;
        }
        // Last: the sums' rows are shared by every dossier of a month, agency and procedure,
        // and their locks are held until the commit.
        $crate::stats::count_new_dossier!($tx, d, &$change.event, $at);
    }};
}

fn not_found(code: &str) -> StoreError {
    StoreError::NotFound(Msg::new(
        format!("Không tìm thấy hồ sơ «{code}»"),
        format!("dossier «{code}» not found"),
    ))
}

impl Store {
    /// The next number of a receiving agency's daily sequence. On PostgreSQL it is taken in its
    /// own statement on a connection with `synchronous_commit = off`: the dossier's own commit
    /// flushes it (WAL is sequential), and simultaneous intakes do not queue behind each other's
    /// commits on the counter row. A number is skipped, never repeated, if the intake then fails.
    /// On SQLite (one writer anyway) an intake takes it inside its own transaction.
    pub async fn next_dossier_number(&self, agency: &AgencyCode, day: NaiveDate) -> Result<i64> {
        // PostgreSQL stores always have the counter connections (see `connect_postgres`).
        if let Some(c) = &self.counters {
            let mut conn = c.acquire().await?;
            return Ok(bump_counter!(conn, agency.as_str(), day, 1i64));
        }
        on_writer!(self, p => {
            Ok(bump_counter!(p, agency.as_str(), day, 1i64))
        })
    }

    async fn idempotent_hit(&self, k: &IdempotencyKey) -> Result<Option<StoredDossier>> {
        let row: Option<(String, String)> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT request_hash, dossier_code FROM idempotency_keys WHERE actor = $1 AND key = $2",
            )
            .bind(&k.actor)
            .bind(&k.key)
            .fetch_optional(p)
            .await?
        });
        match row {
            None => Ok(None),
            Some((hash, _)) if hash != k.request_hash => Err(StoreError::Conflict(Msg::new(
                "Idempotency-Key này đã dùng cho một yêu cầu khác",
                "this Idempotency-Key was used for a different request",
            ))),
            Some((_, code)) => Ok(Some(self.dossier(&code).await?)),
        }
    }

    /// Stores a new dossier built by [`Dossier::new`] (its code is assigned here), its first
    /// audit record and the jobs `outbox` names, in one durable transaction, before returning.
    /// With an idempotency key, a repeated request returns the first dossier and `false`.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_dossier(
        &self,
        mut d: Dossier,
        change: Change,
        actor: &str,
        at: DateTime<Utc>,
        cal: &WorkCalendar,
        idem: Option<&IdempotencyKey>,
        outbox: Outbox<'_>,
    ) -> Result<(StoredDossier, bool)> {
        if let Some(k) = idem
            && let Some(hit) = self.idempotent_hit(k).await?
        {
            return Ok((hit, false));
        }
        let day = cal.local(at).date();
        let res: Result<()> = async {
            match &self.write_db {
                WriteDb::Postgres(p) => {
                    let n = self.next_dossier_number(&d.receiving_agency, day).await?;
                    d.code = dossier_code(&d.receiving_agency, day, n);
                    let mut tx = p.begin_with(self.begin_write()).await?;
                    insert_new!(self, tx, &d, &change, actor, at, idem, outbox);
                    tx.commit().await?;
                }
                WriteDb::Sqlite(writer) => {
                    let mut turn = writer.lock().await;
                    let mut tx =
                        sqlx::Connection::begin_with(&mut *turn, self.begin_write()).await?;
                    let n = bump_counter!(tx, d.receiving_agency.as_str(), day, 1i64);
                    d.code = dossier_code(&d.receiving_agency, day, n);
                    insert_new!(self, tx, &d, &change, actor, at, idem, outbox);
                    tx.commit().await?;
                }
            }
            Ok(())
        }
        .await;
        match res {
            Ok(()) => Ok((
                StoredDossier {
                    dossier: d,
                    version: 1,
                },
                true,
            )),
            // The same key raced in from a retry: the first one won.
            Err(StoreError::Conflict(m)) => match idem {
                Some(k) => self
                    .idempotent_hit(k)
                    .await?
                    .map(|h| (h, false))
                    .ok_or(StoreError::Conflict(m)),
                None => Err(StoreError::Conflict(m)),
            },
            Err(e) => Err(e),
        }
    }

    pub async fn dossier(&self, code: &str) -> Result<StoredDossier> {
        let row: Option<(String, i64)> = on_db!(self, p => {
            sqlx::query_as("SELECT data, version FROM dossiers WHERE code = $1")
                .bind(code)
                .fetch_optional(p)
                .await?
        });
        match row {
            Some((data, version)) => parse_row(&data, version),
            None => Err(not_found(code)),
        }
    }

    /// A dossier and its audit trail, oldest record first, in one statement: what the public
    /// tracking view is made of when it is not in memory (most lookups of a large province's
    /// codes), one round trip instead of two.
    pub async fn dossier_with_trail(
        &self,
        code: &str,
    ) -> Result<(StoredDossier, Vec<crate::audit::AuditEntry>)> {
        use sqlx::{FromRow, Row};
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let cols: Vec<String> = crate::audit::AUDIT_COLUMNS
                .split(", ")
                .map(|c| format!("a.{c}"))
                .collect();
            format!(
                "SELECT d.data AS dossier_data, d.version AS dossier_version, {} \
                 FROM dossiers d LEFT JOIN audit_log a ON a.entity = 'dossier' AND a.entity_key = d.code \
                 WHERE d.code = $1 ORDER BY a.id",
                cols.join(", ")
            )
        });
        let (row, trail) = on_db!(self, p => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(SQL.as_str()))
                .bind(code)
                .fetch_all(p)
                .await?;
            let mut row = None;
            let mut trail = Vec::with_capacity(rows.len());
            for r in &rows {
                if row.is_none() {
                    row = Some((
                        r.try_get::<String, _>("dossier_data")?,
                        r.try_get::<i64, _>("dossier_version")?,
                    ));
                }
                if r.try_get::<Option<i64>, _>("id")?.is_some() {
                    trail.push(crate::audit::AuditEntry::from_row(r)?);
                }
            }
            (row, trail)
        });
        match row {
            Some((data, version)) => Ok((parse_row(&data, version)?, trail)),
            None => Err(not_found(code)),
        }
    }

    /// Carries out a workflow action on the locked row: checks the expected version
    /// (`If-Match`), the caller's `guard` (who may act, decided by the authorisation policy in
    /// the service) and the state machine, then writes the new state, its audit records and
    /// the jobs `outbox` names in one transaction. A `transfer` opens an inter-agency child
    /// case; a child case that ends tells its parent.
    #[allow(clippy::too_many_arguments)]
    pub async fn act(
        &self,
        code: &str,
        action: &Action,
        actor: &Actor,
        if_version: Option<i64>,
        at: DateTime<Utc>,
        cal: &WorkCalendar,
        guard: Guard<'_>,
        outbox: Outbox<'_>,
    ) -> Result<(StoredDossier, Change)> {
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let StoredDossier { dossier: mut d, version } = lock_dossier!(tx, code);
            if let Some(v) = if_version
                && v != version
            {
                return Err(StoreError::Stale { current: version });
            }
            guard(&d)?;
            let change = d.apply(action, at, cal)?;
            let mut records = vec![audit_of(&d.code, &actor.name, at, &change)?];
            if let Some(target) = &change.spawn {
                let day = cal.local(at).date();
                let n = bump_counter!(tx, target.as_str(), day, 1i64);
                let child_code = dossier_code(target, day, n);
                let (child, created) = Dossier::child(&d, child_code.clone(), target.clone(), at);
                put_dossier!(tx, &child, 1i64, at, false);
                records.push(audit_of(&child.code, &actor.name, at, &created)?);
                let opened = d.child_opened(&child_code);
                records.push(audit_of(&d.code, &actor.name, at, &opened)?);
            }
            put_dossier!(tx, &d, version + 1, at, false);
            if let Some(parent_code) = d.parent_code.clone()
                && d.ended()
            {
                let StoredDossier { dossier: mut parent, version: pv } = lock_dossier!(tx, &parent_code);
                let closed = parent.child_closed(&d.code, d.status);
                records.push(audit_of(&parent.code, &actor.name, at, &closed)?);
                put_dossier!(tx, &parent, pv + 1, at, false);
            }
            for r in &records {
                append_audit!(self, tx, r)?;
            }
            for job in outbox(&d, &change, at) {
                enqueue!(tx, &job, at)?;
            }
            // Last: the shared rows of sums stay locked until the commit.
            crate::stats::refresh_stats!(tx, &d, [(&change.event, at)]);
            tx.commit().await?;
            Ok((StoredDossier { dossier: d, version: version + 1 }, change))
        })
    }

    /// Records the applicant's rating of the service (once, when the result is ready) as an
    /// event of the dossier, with its figures, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn rate_dossier(
        &self,
        code: &str,
        level: motcua_domain::dossier::Satisfaction,
        channel: motcua_domain::dossier::RatingChannel,
        comment: Option<&str>,
        actor: &Actor,
        at: DateTime<Utc>,
        guard: Guard<'_>,
    ) -> Result<StoredDossier> {
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let StoredDossier { dossier: mut d, version } = lock_dossier!(tx, code);
            guard(&d)?;
            let change = d.rate(level, channel, comment, at)?;
            put_dossier!(tx, &d, version + 1, at, false);
            crate::stats::refresh_stats!(tx, &d, [(&change.event, at)]);
            let record = audit_of(&d.code, &actor.name, at, &change)?;
            append_audit!(self, tx, record)?;
            tx.commit().await?;
            Ok(StoredDossier { dossier: d, version: version + 1 })
        })
    }

    /// A page of dossiers matching `q`, soonest appointment first.
    pub async fn dossiers(&self, q: &DossierQuery) -> Result<Page<StoredDossier>> {
        let limit = page_limit(q.limit);
        let cursor = match &q.cursor {
            None => None,
            Some(c) => {
                let parsed = c.split_once('|').and_then(|(t, code)| {
                    DateTime::parse_from_rfc3339(t)
                        .ok()
                        .map(|t| (t.with_timezone(&Utc), code.to_owned()))
                });
                Some(parsed.ok_or_else(|| {
                    StoreError::Invalid(motcua_domain::Error::field(
                        "cursor",
                        "Con trỏ trang không hợp lệ",
                        "invalid page cursor",
                    ))
                })?)
            }
        };
        let as_of = match (q.as_of, q.overdue) {
            (Some(t), _) => t,
            (None, None) => DateTime::<Utc>::UNIX_EPOCH,
            (None, Some(_)) => {
                return Err(StoreError::Invalid(motcua_domain::Error::field(
                    "as_of",
                    "Lọc quá hạn cần thời điểm tính (as_of)",
                    "the overdue filter needs the instant it is computed at (as_of)",
                )));
            }
        };
        let rows: Vec<(String, i64, DateTime<Utc>, String)> = on_db!(self, p => {
            let mut b = QueryBuilder::new(
                "SELECT data, version, queue_due, code FROM dossiers WHERE 1 = 1",
            );
            if !q.statuses.is_empty() {
                b.push(" AND status IN (");
                let mut s = b.separated(", ");
                for st in &q.statuses {
                    s.push_bind(st.as_str());
                }
                b.push(")");
            }
            // A list of dossiers on somebody's desk says so in the words of the work-list
            // indexes' predicate, so that the planner may read them (and not the history).
            if on_worklist(q) {
                b.push(" AND ").push(WORKLIST_SQL);
            }
            if let Some(overdue) = q.overdue {
                // Overdue at `as_of`: open, its appointment before `as_of`, and not paused
                // before the appointment (a pause stops the clock). The appointment's bound
                // is on `queue_due` (the appointment, or the far future when there is none),
                // the key of the indexes in appointment order, so that the list stops at
                // `as_of` instead of reading every open dossier due later. The open statuses
                // are the partial index `dossiers_open_due`'s (migration 0022), verbatim.
                b.push(if overdue { " AND " } else { " AND NOT " });
                b.push("(").push(OPEN_SQL);
                b.push(" AND due_at IS NOT NULL AND queue_due < ").push_bind(as_of);
                b.push(" AND (paused_at IS NULL OR paused_at > due_at))");
            }
            if let Some(t) = q.due_before {
                b.push(" AND due_at IS NOT NULL AND queue_due < ").push_bind(t);
            }
            if let Some(a) = &q.agency {
                b.push(" AND current_agency = ").push_bind(a.clone());
            }
            if let Some(a) = &q.receiving_agency {
                b.push(" AND receiving_agency = ").push_bind(a.clone());
            }
            if let Some(a) = &q.assignee {
                b.push(" AND assignee = ").push_bind(a.clone());
            }
            if let Some(o) = q.owner_id {
                b.push(" AND owner_id = ").push_bind(o);
            }
            if let Some(a) = &q.applicant_id {
                b.push(" AND applicant_id = ").push_bind(a.clone());
            }
            if let Some(c) = &q.procedure_code {
                b.push(" AND procedure_code = ").push_bind(c.clone());
            }
            if let Some(name) = &q.applicant_name {
                let terms = motcua_domain::text::terms(name);
                // SQLite: the rows whose name holds every word of three or more characters,
                // from the trigram index (migration 0029); PostgreSQL's GIN index serves the
                // LIKE patterns themselves.
                if matches!(self.db, Db::Sqlite(_))
                    && let Some(m) = sqlite_trigram_match(&terms)
                {
                    b.push(" AND rowid IN (SELECT rowid FROM dossier_names WHERE dossier_names MATCH ")
                        .push_bind(m)
                        .push(")");
                }
                for w in terms {
                    b.push(" AND applicant_folded LIKE ").push_bind(format!("%{w}%"));
                }
            }
            if let Some(a) = &q.involving {
                b.push(" AND (receiving_agency = ").push_bind(a.clone());
                b.push(" OR current_agency = ").push_bind(a.clone());
                b.push(")");
            }
            if let Some(t) = q.submitted_from {
                b.push(" AND submitted_at >= ").push_bind(t);
            }
            if let Some(t) = q.received_from {
                b.push(" AND received_at >= ").push_bind(t);
            }
            if let Some(t) = q.received_to {
                b.push(" AND received_at < ").push_bind(t);
            }
            if let Some((t, code)) = &cursor {
                b.push(" AND (queue_due > ").push_bind(*t);
                b.push(" OR (queue_due = ").push_bind(*t);
                b.push(" AND code > ").push_bind(code.clone());
                b.push("))");
            }
            b.push(" ORDER BY queue_due, code LIMIT ").push_bind(i64::from(limit) + 1);
            b.build_query_as().fetch_all(p).await?
        });
        let rows = rows
            .into_iter()
            .map(|(data, version, due, code)| Ok((parse_row(&data, version)?, due, code)))
            .collect::<Result<Vec<_>>>()?;
        Ok(page(
            rows,
            limit,
            |(_, due, code)| format!("{}|{code}", due.to_rfc3339()),
            |(d, _, _)| d,
        ))
    }

    /// Fills the folded applicant name of rows written before it existed (migration 0007), a
    /// batch at a time in code order, so that it ends even on names that fold to nothing.
    pub async fn fill_folded_names(&self) -> Result<u64> {
        let mut after = String::new();
        let mut filled = 0u64;
        loop {
            let rows: Vec<(String, String)> = on_db!(self, p => {
                sqlx::query_as(
                    "SELECT code, data FROM dossiers WHERE applicant_folded IS NULL AND code > $1 \
                     ORDER BY code LIMIT 500",
                )
                .bind(&after)
                .fetch_all(p)
                .await?
            });
            let Some((last, _)) = rows.last() else {
                return Ok(filled);
            };
            after = last.clone();
            on_writer!(self, p => {
                let mut tx = p.begin_with(self.begin_write()).await?;
                for (code, data) in &rows {
                    let name = serde_json::from_str::<serde_json::Value>(data)
                        .ok()
                        .and_then(|v| v["applicant"]["name"].as_str().map(motcua_domain::text::fold))
                        .unwrap_or_default();
                    sqlx::query("UPDATE dossiers SET applicant_folded = $1 WHERE code = $2")
                        .bind(name)
                        .bind(code)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            });
            filled += rows.len() as u64;
        }
    }

    /// Codes among `codes` that already exist.
    pub async fn existing_dossier_codes(&self, codes: &[String]) -> Result<Vec<String>> {
        let mut found = Vec::new();
        for chunk in codes.chunks(500) {
            let rows: Vec<(String,)> = on_db!(self, p => {
                let mut b = QueryBuilder::new("SELECT code FROM dossiers WHERE code IN (");
                let mut s = b.separated(", ");
                for c in chunk {
                    s.push_bind(c.clone());
                }
                b.push(")");
                b.build_query_as().fetch_all(p).await?
            });
            found.extend(rows.into_iter().map(|r| r.0));
        }
        Ok(found)
    }

    /// Stores a legacy dossier with its original code and whole history, in one transaction,
    /// and moves its agency's daily counter past the code so new codes never collide.
    pub async fn import_dossier(&self, d: &Dossier, events: &[ImportedEvent]) -> Result<()> {
        let (agency, day, n) = parse_dossier_code(&d.code)?;
        let at = events.last().map_or(d.submitted_at, |e| e.at);
        let records = events
            .iter()
            .map(|e| audit_of(&d.code, &e.actor, e.at, &e.change))
            .collect::<Result<Vec<_>>>()?;
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            bump_counter!(tx, agency.as_str(), day, n);
            let exists: Option<(i64,)> = sqlx::query_as("SELECT version FROM dossiers WHERE code = $1")
                .bind(&d.code)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_some() {
                return Err(StoreError::Conflict(Msg::new(
                    format!("Hồ sơ «{}» đã có trong hệ thống", d.code),
                    format!("dossier «{}» already exists", d.code),
                )));
            }
            put_dossier!(tx, d, i64::try_from(events.len()).unwrap_or(1).max(1), at, true);
            for r in &records {
                append_audit!(self, tx, r)?;
            }
            crate::stats::refresh_stats!(tx, d, events.iter().map(|e| (&e.change.event, e.at)));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Stores many finished or running histories at once (the synthetic history of `motcua
    /// demo generate`, or a legacy system's export): each dossier with its events as audit
    /// records, its digitisation records and its figures, in one transaction per batch; the
    /// daily sequence of each agency is moved past the codes used. Nothing of a batch is kept if
    /// one dossier of it fails.
    pub async fn import_histories(&self, batch: Vec<ImportedHistory>) -> Result<()> {
        let prepared = self.prepare_histories(batch, Keep::Everything)?;
        self.import_prepared(prepared).await
    }

    /// Everything of an import that does not need the database (audit records with their
    /// MACs, the facts with their attributes from the history's own records, the month
    /// sums): plain computation, which a caller may run on another thread while an earlier
    /// batch is written. `keep` says whose events are stored (see [`Keep`]).
    pub fn prepare_histories(
        &self,
        batch: Vec<ImportedHistory>,
        keep: Keep,
    ) -> Result<PreparedHistories> {
        use crate::stats::{FactsRow, changes};
        let mut audits: Vec<(crate::audit::AuditRecord, String)> = Vec::new();
        let mut docs = Vec::with_capacity(batch.len());
        let mut facts: Vec<(String, FactsRow)> = Vec::new();
        let mut months: std::collections::HashMap<
            (crate::stats::StatKey, i32),
            motcua_domain::stats::Counts,
        > = std::collections::HashMap::new();
        let mut counters: std::collections::HashMap<(String, NaiveDate), i64> =
            std::collections::HashMap::new();
        for h in &batch {
            let d = &h.dossier;
            let (agency, day, n) = parse_dossier_code(&d.code)?;
            let top = counters
                .entry((agency.as_str().to_owned(), day))
                .or_insert(0);
            *top = (*top).max(n);
            docs.push((json_text(d)?, motcua_domain::text::fold(&d.applicant.name)));
            let events = match keep {
                Keep::Everything => &h.events[..],
                Keep::EventsOfUnfinished
                    if matches!(
                        d.status,
                        Status::Returned | Status::Stopped | Status::Rejected
                    ) =>
                {
                    &[]
                }
                Keep::EventsOfUnfinished => &h.events[..],
            };
            for e in events {
                let r = audit_of(&d.code, &e.actor, e.at, &e.change)?;
                let mac = r.mac(&self.audit_key[..]);
                audits.push((r, mac));
            }
            let mut row = FactsRow::of(d);
            for e in &h.events {
                row.facts.apply(&e.change.event, e.at);
            }
            fn kinds<'a>(
                h: &'a ImportedHistory,
                k: &'a str,
            ) -> impl Iterator<Item = &'a (String, DateTime<Utc>, Option<i32>, String)> + 'a
            {
                h.digitisation.iter().filter(move |r| r.0 == k)
            }
            let mut digitised: Vec<Option<i32>> = kinds(h, "component_digitised")
                .chain(kinds(h, "reused"))
                .map(|r| r.2)
                .filter(Option::is_some)
                .collect();
            digitised.sort_unstable();
            digitised.dedup();
            let count = |k| i64::try_from(kinds(h, k).count()).unwrap_or(i64::MAX);
            row.attrs = motcua_domain::stats::Attributes::from_counts(
                row.key.channel == "online",
                row.components,
                i64::try_from(digitised.len()).unwrap_or(i64::MAX),
                count("reused"),
                count("result_digitised"),
                // A generated history has no signed result.
                0,
            );
            if d.parent_code.is_none() {
                for (key, month, c) in changes(None, Some(&row)) {
                    months.entry((key, month)).or_default().add_all(&c, 1);
                }
                facts.push((d.code.clone(), row));
            }
        }
        Ok(PreparedHistories {
            lean: keep == Keep::EventsOfUnfinished,
            batch,
            docs,
            audits,
            facts,
            months,
            counters,
        })
    }

    /// Writes a prepared batch of histories in one transaction, each table's rows in a few
    /// multi-row statements.
    pub async fn import_prepared(&self, prepared: PreparedHistories) -> Result<()> {
        let PreparedHistories {
            lean,
            batch,
            docs,
            audits,
            facts,
            months,
            counters,
        } = prepared;
        let rows: Vec<DossierRow<'_>> =
            last_of_each(batch.iter().zip(docs).map(|(h, (data, folded))| {
                let row = DossierRow {
                    d: &h.dossier,
                    version: i64::try_from(h.events.len()).unwrap_or(1).max(1),
                    at: h.events.last().map_or(h.dossier.submitted_at, |e| e.at),
                    imported: true,
                    data,
                    folded,
                };
                (h.dossier.code.as_str(), row)
            }));
        let digitisation: Vec<_> = batch
            .iter()
            .flat_map(|h| h.digitisation.iter().map(move |r| (&h.dossier, r)))
            .collect();
        let facts_rows: Vec<(&str, &crate::stats::FactsRow)> = last_of_each(
            facts
                .iter()
                .map(|(code, row)| (code.as_str(), (code.as_str(), row))),
        );
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            upsert_dossiers!(tx, &rows);
            crate::insert_rows!(
                tx,
                "INSERT INTO audit_log (at, actor, entity, entity_key, action, before, after, data, mac) ",
                &audits,
                AUDIT_CHUNK,
                "",
                |v, row| {
                    let (r, mac) = row;
                    v.push_bind(r.stored_at())
                        .push_bind(&r.actor)
                        .push_bind(r.entity)
                        .push_bind(&r.entity_key)
                        .push_bind(&r.action)
                        .push_bind(&r.before)
                        .push_bind(&r.after)
                        .push_bind(&r.data)
                        .push_bind(mac);
                }
            );
            crate::insert_rows!(
                tx,
                "INSERT INTO digitisation_events (kind, at, agency_code, dossier_code, component_index, \
                 document_code, actor) ",
                &digitisation,
                DIGITISATION_CHUNK,
                "",
                |v, row| {
                    let (d, (kind, at, component, document)) = *row;
                    v.push_bind(kind)
                        .push_bind(at)
                        .push_bind(d.receiving_agency.as_str())
                        .push_bind(&d.code)
                        .push_bind(component)
                        .push_bind(document)
                        .push_bind("generator");
                }
            );
            crate::stats::upsert_facts!(tx, &facts_rows);
            let mut sorted: Vec<_> = months.into_iter().collect();
            sorted.sort_by(|a, b| (a.0.1, &a.0.0).cmp(&(b.0.1, &b.0.0)));
            crate::stats::add_to_months!(tx, sorted.into_iter().map(|((k, m), c)| (k, m, c)), 0);
            for ((agency, day), n) in counters {
                bump_counter!(tx, agency.as_str(), day, n);
            }
            if lean {
                sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                    .bind(LEAN_HISTORY)
                    .bind("the events of dossiers finished before the import are not kept")
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The process of a procedure (the default one unless an admin set another).
    pub async fn process_for(&self, procedure_code: &str) -> Result<Process> {
        let row: Option<(String,)> = on_db!(self, p => {
            sqlx::query_as("SELECT data FROM procedure_processes WHERE procedure_code = $1")
                .bind(procedure_code)
                .fetch_optional(p)
                .await?
        });
        match row {
            None => Ok(Process::default()),
            Some((data,)) => serde_json::from_str(&data)
                .map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e)))),
        }
    }

    /// Sets a procedure's process (validated), with an audit record. Dossiers already filed keep
    /// the process they were filed under.
    pub async fn put_process(
        &self,
        procedure_code: &str,
        process: Process,
        by: &ChangeBy,
    ) -> Result<Process> {
        let process = process.validate()?;
        let before = self.process_for(procedure_code).await?;
        let data = json_text(&process)?;
        let at = by.at;
        let record = AuditRecord {
            at,
            actor: by.actor.clone(),
            entity: "process",
            entity_key: procedure_code.to_owned(),
            action: "put_process".into(),
            before: Some(json_text(&before)?),
            after: Some(data.clone()),
            data: "{}".into(),
        };
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            sqlx::query(
                "INSERT INTO procedure_processes (procedure_code, data, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (procedure_code) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            )
            .bind(procedure_code)
            .bind(&data)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            append_reference_change!(self, tx, record)?;
            tx.commit().await?;
        });
        Ok(process)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_list(statuses: impl Iterator<Item = Status>) -> String {
        let quoted: Vec<String> = statuses.map(|s| format!("'{}'", s.as_str())).collect();
        format!("status IN ({})", quoted.join(", "))
    }

    #[test]
    fn the_work_list_terms_are_the_indexes_predicates() {
        assert_eq!(WORKLIST_SQL, in_list(WORKLIST.into_iter()));
        let open = Status::ALL.into_iter().filter(|s| s.is_open());
        assert_eq!(OPEN_SQL, in_list(open));
        for db in ["postgres", "sqlite"] {
            let path = format!(
                "{}/migrations/{db}/0027_officers_work_lists.sql",
                env!("CARGO_MANIFEST_DIR")
            );
            let sql = std::fs::read_to_string(path).unwrap();
            assert_eq!(sql.matches(WORKLIST_SQL).count(), 2, "{db}");
            let path = format!(
                "{}/migrations/{db}/0022_open_dossiers_by_due.sql",
                env!("CARGO_MANIFEST_DIR")
            );
            let sql = std::fs::read_to_string(path).unwrap();
            assert!(sql.contains(OPEN_SQL), "{db}");
        }
    }

    #[test]
    fn only_work_list_statuses_read_the_work_list() {
        let q = |statuses: Vec<Status>, overdue| DossierQuery {
            statuses,
            overdue,
            ..DossierQuery::default()
        };
        assert!(on_worklist(&q(vec![Status::Resolved], None)));
        assert!(on_worklist(&q(Vec::new(), Some(true))));
        assert!(!on_worklist(&q(Vec::new(), None)));
        assert!(!on_worklist(&q(Vec::new(), Some(false))));
        assert!(!on_worklist(&q(
            vec![Status::Processing, Status::Returned],
            None
        )));
        assert!(!on_worklist(&q(vec![Status::Submitted], None)));
    }

    #[test]
    fn the_trigram_query_takes_the_words_that_have_trigrams() {
        let t = |q: &str| super::sqlite_trigram_match(&motcua_domain::text::terms(q));
        assert_eq!(t("Nguyễn Văn An").as_deref(), Some("\"nguyen\" \"van\""));
        assert_eq!(t("an bé"), None);
        assert_eq!(t("Đỗ Thị Ánh").as_deref(), Some("\"thi\" \"anh\""));
        assert_eq!(t(""), None);
    }
}
