//! Storage of motcua on SQLite (the embedded default) and PostgreSQL (scale-out).
//!
//! One [`Store`] type serves both. Queries are written once in SQL that both databases accept
//! (`$1` parameters, `ON CONFLICT … DO UPDATE`, `RETURNING`), and [`on_db!`] runs the same code
//! against whichever pool is open, so each query is type-checked for both backends. Each backend
//! owns its migrations (`migrations/sqlite`, `migrations/postgres`).

use motcua_domain::{Error as DomainError, Msg};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

pub mod audit;
pub mod batches;
pub mod bench;
pub mod blobs;
pub mod calendar;
pub mod catalogue;
pub mod changes;
pub mod documents;
pub mod dossiers;
pub mod files;
pub mod jobs;
pub mod login;
pub mod maintenance;
pub mod results;
pub mod secret;
pub mod signing;
pub mod stats;
pub mod testing;
pub mod units;
pub mod uploads;
pub mod users;
pub mod warehouse;

pub use audit::{AuditEntry, DossierMismatch, VerifyReport};
pub use batches::{BatchItem, BatchProgress, BatchReportRow};
pub use blobs::{BlobStore, LocalBlobs};
pub use catalogue::{ImportReport, ProcedureQuery};
pub use documents::{DOCUMENT_SIGN_JOB, DocumentCounts, NewOfficialDocument, OfficialDocument};
pub use dossiers::{
    DossierQuery, Guard, IdempotencyKey, ImportedEvent, Outbox, StoredDossier, no_jobs,
};
pub use files::{FilePurpose, NewFile, PageHit, PageText, StoredFile};
pub use jobs::{Job, KindStats, NewJob};
pub use signing::{KeptSlip, RESULT_SIGN_JOB, ResultSignature, SLIP_SIGN_JOB};
pub use units::{Unit, UnitQuery, UnitRef};
pub use uploads::UploadRow;
pub use users::{NewUser, User, UserChange, UserQuery};
pub use warehouse::{COPY_SIGN_JOB, DigitisationEvent, DigitisedDocument, NewDocument};

/// Runs `$body` with `$pool` bound to the open pool, whichever backend it is.
macro_rules! on_db {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

/// Runs `$body` with `$conn` bound to the connection writes go through ([`Store::write_db`]),
/// as `&mut` the database's connection type: on SQLite the one writer connection, held for the
/// whole of `$body` (the process's writers take their turn here); on PostgreSQL a connection
/// of the pool.
macro_rules! on_writer {
    ($store:expr, $conn:ident => $body:expr) => {
        match &$store.write_db {
            $crate::WriteDb::Sqlite(writer) => {
                #[allow(unused_imports)]
                use sqlx::Connection as _;
                let mut turn = writer.lock().await;
                let $conn: &mut sqlx::SqliteConnection = &mut *turn;
                $body
            }
            $crate::WriteDb::Postgres(pool) => {
                #[allow(unused_imports)]
                use sqlx::Connection as _;
                let mut pooled = pool.acquire().await?;
                let $conn: &mut sqlx::PgConnection = &mut *pooled;
                $body
            }
        }
    };
}
pub(crate) use on_writer;

/// What differs between the two databases inside a transaction or on a connection, known from
/// its type (for the macros that run on either).
pub(crate) trait Dialect {
    /// Shards of each key of the tables of sums ([`stats::shard_of`]): on PostgreSQL
    /// concurrent changes of one key (a busy counter's intakes of one procedure in one month)
    /// add to different rows instead of queueing on one row's lock until each commit. SQLite
    /// has one writer at a time: one row per key.
    const SUM_SHARDS: u32;
    /// The clause that locks the rows a `SELECT` reads until the commit (SQLite's writer
    /// holds the whole database already).
    const FOR_UPDATE: &'static str;
    /// Whether a `WITH` may hold `INSERT`s (PostgreSQL): several writes in one round trip.
    const WRITABLE_WITH: bool;
}

/// Each database's [`Dialect`], stated once for its transactions and its connections.
macro_rules! dialect {
    ($db:ty, $conn:ty, $shards:expr, $for_update:expr, $writable_with:expr) => {
        impl Dialect for sqlx::Transaction<'_, $db> {
            const SUM_SHARDS: u32 = $shards;
            const FOR_UPDATE: &'static str = $for_update;
            const WRITABLE_WITH: bool = $writable_with;
        }
        impl Dialect for &mut $conn {
            const SUM_SHARDS: u32 = $shards;
            const FOR_UPDATE: &'static str = $for_update;
            const WRITABLE_WITH: bool = $writable_with;
        }
    };
}

dialect!(sqlx::Postgres, sqlx::PgConnection, 8, " FOR UPDATE", true);
dialect!(sqlx::Sqlite, sqlx::SqliteConnection, 1, "", false);

/// `C::FOR_UPDATE` for the connection `_c`.
pub(crate) fn for_update<C: Dialect>(_c: &C) -> &'static str {
    C::FOR_UPDATE
}

/// Writes `$rows` in multi-row statements of at most `$per` rows each (under both databases'
/// limits on bound values): `$head` (`INSERT INTO t (cols) `, or `UPDATE t SET … FROM (`), the
/// rows' values bound by `$bind` (`VALUES (…), (…)`), then `$tail` (a conflict clause, `) AS v
/// WHERE …`, or ""). One statement per chunk instead of one per row: a bulk write hands the
/// database a few statements a batch, not thousands. Evaluates to the rows affected.
macro_rules! insert_rows {
    ($tx:expr, $head:expr, $rows:expr, $per:expr, $tail:expr, |$v:ident, $r:ident| $bind:block) => {{
        let rows = $rows;
        let mut affected = 0u64;
        for chunk in rows.chunks($per) {
            let mut b = sqlx::QueryBuilder::new($head);
            b.push_values(chunk, |mut $v, $r| $bind);
            b.push($tail);
            // A single row's or a full chunk's statement recurs (kept prepared); the last,
            // shorter chunk of a bulk write seldom does.
            affected += b
                .build()
                .persistent(rows.len() == 1 || chunk.len() == $per)
                .execute(&mut *$tx)
                .await?
                .rows_affected();
        }
        affected
    }};
}
pub(crate) use insert_rows;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(Msg),
    #[error("conflict: {0}")]
    Conflict(Msg),
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// A file to import has bad rows; nothing was imported.
    #[error("{} bad rows", .0.len())]
    Import(Vec<motcua_domain::catalogue::RowError>),
    #[error("unsupported database URL «{0}» (use sqlite:… or postgres://…)")]
    BadUrl(String),
    #[error("database: {0}")]
    Db(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A workflow action the actor may not take, or the dossier's state does not allow.
    #[error(transparent)]
    Refused(motcua_domain::dossier::Refusal),
    /// The dossier changed since the version the client read (`If-Match`).
    #[error("stale version; the dossier is now at version {current}")]
    Stale { current: i64 },
    #[error("password hashing: {0}")]
    Hash(String),
    /// The object store (file contents) failed.
    #[error("object store: {0}")]
    Io(Msg),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(d) = &e {
            if d.is_unique_violation() {
                return StoreError::Conflict(Msg::new(
                    "Bản ghi đã tồn tại",
                    "a record with this key already exists",
                ));
            }
            // PostgreSQL refuses a NUL character in text (the edge refuses it first).
            if matches!(d.code().as_deref(), Some("22021" | "22P05")) {
                return StoreError::Invalid(DomainError::field(
                    "text",
                    "Văn bản chứa ký tự không hợp lệ (NUL)",
                    "the text holds a character that is not allowed (NUL)",
                ));
            }
            if d.is_foreign_key_violation() {
                return StoreError::Invalid(DomainError::field(
                    "reference",
                    "Tham chiếu tới bản ghi không tồn tại",
                    "refers to a record that does not exist",
                ));
            }
        }
        StoreError::Db(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where a store's writes go (see [`Store::write_db`]).
#[derive(Clone, Debug)]
pub(crate) enum WriteDb {
    Sqlite(std::sync::Arc<tokio::sync::Mutex<sqlx::SqliteConnection>>),
    Postgres(PgPool),
}

#[derive(Clone, Debug)]
pub struct Store {
    /// Where reads go.
    pub(crate) db: Db,
    /// Where writes go ([`on_writer!`]).
    ///
    /// On SQLite, one connection of its own, outside any pool, behind a lock that is the
    /// process's queue of writers (SQLite has one writer at a time: they wait here, in the
    /// process, instead of sleeping in SQLite's busy handler). Its own, because SQLite empties
    /// a connection's page cache whenever another connection has committed since that
    /// connection's last transaction: with writes spread over a pool, every write re-read the
    /// B-tree pages it touched from the OS (`pread`), more of them as the tables grew, and
    /// intake fell by half from 100,000 to 200,000 dossiers. The one writer's own commits
    /// leave its cache (large: [`SQLITE_WRITER_CACHE`]) warm. Outside a pool, because a pool
    /// tests a connection with a round trip to its thread each time it takes it back, and
    /// the one writer would wait for that after every write.
    ///
    /// On PostgreSQL, the same pool as `db`.
    pub(crate) write_db: WriteDb,
    /// PostgreSQL: a few connections with `synchronous_commit = off` for dossier-number
    /// counters (see [`Store::next_dossier_number`]).
    pub(crate) counters: Option<PgPool>,
    /// The secret that authenticates the audit chain (see [`audit`]); kept outside the
    /// database, set with [`Store::with_audit_key`].
    pub(crate) audit_key: std::sync::Arc<[u8; 32]>,
}

/// Who makes a change of reference data, and when: every write takes one, so nothing is
/// silently attributed to `system` or stamped with the wall clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeBy {
    pub actor: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl ChangeBy {
    pub fn new(actor: impl Into<String>, at: chrono::DateTime<chrono::Utc>) -> Self {
        ChangeBy {
            actor: actor.into(),
            at,
        }
    }

    /// The audit record of a change of reference data by this author.
    pub(crate) fn record(
        &self,
        entity: &'static str,
        key: &str,
        action: &str,
        before: Option<String>,
        after: Option<String>,
        data: serde_json::Value,
    ) -> audit::AuditRecord {
        audit::AuditRecord {
            at: self.at,
            actor: self.actor.clone(),
            entity,
            entity_key: key.to_owned(),
            action: action.to_owned(),
            before,
            after,
            data: data.to_string(),
        }
    }
}

/// The SQLite writer's page cache, in KiB when negative (`PRAGMA cache_size`): 64 MiB, enough
/// for the upper levels of every index an intake writes at a few million dossiers.
const SQLITE_WRITER_CACHE: &str = "-65536";

/// A statement that holds the SQLite writer this long holds up every other write: logged
/// (`WARN sqlx::query: slow statement`, with its text), so that the one that grows with the
/// data can be named.
const SQLITE_WRITER_SLOW: Duration = Duration::from_millis(100);

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens the database at `url` (`sqlite:PATH` or `postgres://…`); the SQLite file is created
    /// if missing. Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts.clone())
                .await?;
            let writer = opts
                .pragma("cache_size", SQLITE_WRITER_CACHE)
                .log_slow_statements(log::LevelFilter::Warn, SQLITE_WRITER_SLOW)
                .connect()
                .await?;
            Ok(Store {
                db: Db::Sqlite(pool),
                write_db: WriteDb::Sqlite(std::sync::Arc::new(tokio::sync::Mutex::new(writer))),
                counters: None,
                audit_key: Default::default(),
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::connect_postgres(PgConnectOptions::from_str(url)?).await
        } else {
            Err(StoreError::BadUrl(url.to_owned()))
        }
    }

    /// Opens PostgreSQL with explicit options (e.g. a `search_path` for an isolated schema).
    pub async fn connect_postgres(opts: PgConnectOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await?;
        let counters = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(opts.options([("synchronous_commit", "off")]));
        Ok(Store {
            db: Db::Postgres(pool.clone()),
            write_db: WriteDb::Postgres(pool),
            counters: Some(counters),
            audit_key: Default::default(),
        })
    }

    /// The same store, authenticating its audit records with `key` (a secret the server keeps
    /// outside the database: whoever can write the database but not read this key cannot add or
    /// change a record that verifies).
    pub fn with_audit_key(mut self, key: [u8; 32]) -> Self {
        self.audit_key = std::sync::Arc::new(key);
        self
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations, then seeds the shipped official calendar tables for the
    /// years the database has none of.
    pub async fn migrate(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(p) => SQLITE_MIGRATOR.run(p).await?,
            Db::Postgres(p) => POSTGRES_MIGRATOR.run(p).await?,
        }
        self.seed_official_calendar().await?;
        self.fill_folded_names().await?;
        self.fill_user_search().await?;
        self.fill_document_search().await?;
        Ok(())
    }

    /// True when the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_db!(self, p => {
            sqlx::query("SELECT 1").execute(p).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        on_db!(self, p => p.close().await);
        if let Some(c) = &self.counters {
            c.close().await;
        }
    }

    /// How a writing transaction begins: on SQLite `BEGIN IMMEDIATE`, which takes the write
    /// lock at once (waiting under the busy timeout for another process's writer), so that a
    /// transaction that reads before it writes can never fail to upgrade its lock midway.
    pub(crate) fn begin_write(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "BEGIN IMMEDIATE",
            Db::Postgres(_) => "BEGIN",
        }
    }

    /// The database's size in bytes (PostgreSQL: the whole database; SQLite: the main file).
    pub async fn database_bytes(&self) -> Result<i64> {
        Ok(match &self.db {
            Db::Postgres(p) => {
                sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(p)
                    .await?
            }
            Db::Sqlite(p) => {
                sqlx::query_scalar(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )
                .fetch_one(p)
                .await?
            }
        })
    }

    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        let v: Option<(String,)> = on_db!(self, p => {
            sqlx::query_as("SELECT value FROM meta WHERE key = $1")
                .bind(key)
                .fetch_optional(p)
                .await?
        });
        Ok(v.map(|v| v.0))
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        on_writer!(self, p => {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(p)
            .await?;
        });
        Ok(())
    }
}

/// A JSON column read as text on either backend (`jsonb` on PostgreSQL, text on SQLite).
pub(crate) fn json_text_column(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Postgres => format!("{column}::text"),
        Backend::Sqlite => column.to_owned(),
    }
}

/// A page of results with the cursor of the next page.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Clamps a requested page size.
pub fn page_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(50).clamp(1, 500)
}
