//! Fresh, isolated databases for tests: a temporary SQLite file, or a new PostgreSQL schema
//! (`MOTCUA_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`). Tests run in
//! parallel and never see each other's rows. PostgreSQL must be reachable: a test that cannot
//! reach it fails, loudly, rather than skipping.

use crate::{Backend, Result, Store};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use std::str::FromStr;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn pg_url() -> String {
    std::env::var("MOTCUA_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned())
}

/// A migrated store on a database of its own; dropping it removes the database.
pub struct TestDb {
    pub store: Store,
    /// The file holding the audit key of this database (give it to another process with
    /// `MOTCUA_SECRET_KEY_FILE`).
    key_file: std::path::PathBuf,
    _key_dir: TempDir,
    _dir: Option<TempDir>,
    schema: Option<String>,
    url: String,
}

/// A temporary directory removed on drop (kept small to avoid a dependency).
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Seconds since 1970 on the wall clock: only to name test databases and to spot those left
/// behind by crashed runs, never for anything a test asserts.
#[allow(clippy::disallowed_methods)]
fn wall_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn unique_suffix() -> String {
    use rand::RngCore;
    let secs = wall_seconds();
    format!("{secs}_{:08x}", rand::rng().next_u32())
}

/// Runs each named test on a fresh fixture on SQLite and on PostgreSQL. The fixture type has
/// `start(Backend) -> Self` (panicking when the database cannot be reached: a test that cannot
/// reach PostgreSQL fails rather than skips) and `finish(self)`; each test is an
/// `async fn name(f: &Fixture)` in the calling module.
///
/// `motcua_store::on_both!(motcua_store::testing::TestDb::start => a_test, another);`
#[macro_export]
macro_rules! on_both {
    ($start:path => $($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let f = $start($crate::Backend::Sqlite).await;
                super::$name(&f).await;
                f.finish().await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let f = $start($crate::Backend::Postgres).await;
                super::$name(&f).await;
                f.finish().await;
            })*
        }
    };
}

impl std::ops::Deref for TestDb {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl TestDb {
    /// A fresh database, or a panic naming why there is none (see [`on_both!`]).
    pub async fn start(backend: Backend) -> Self {
        match Self::new(backend).await {
            Ok(db) => db,
            Err(e) => panic!(
                "test database on {backend:?} (is PostgreSQL running at MOTCUA_TEST_DATABASE_URL?): {e}"
            ),
        }
    }

    /// Removes the database (see [`TestDb::cleanup`]).
    pub async fn finish(self) {
        self.cleanup().await;
    }

    pub async fn new(backend: Backend) -> Result<Self> {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A fresh audit key in a file of its own.
    fn key() -> Result<(std::path::PathBuf, TempDir, [u8; 32])> {
        let dir = std::env::temp_dir().join(format!("motcua-key-{}", unique_suffix()));
        let path = dir.join("motcua.key");
        let key = crate::secret::load_or_create_key(&path)
            .map_err(|e| crate::StoreError::Hash(e.to_string()))?;
        // As the server does: the audit chain's key derived from the master key.
        Ok((
            path,
            TempDir(dir),
            motcua_domain::mac::derive_key(&key, "audit"),
        ))
    }

    /// The file holding this database's audit key.
    pub fn key_file(&self) -> &std::path::Path {
        &self.key_file
    }

    /// A folder of this database's own for file contents (removed with it).
    pub fn objects_dir(&self) -> std::path::PathBuf {
        self._key_dir.0.join("objects")
    }

    pub async fn sqlite() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("motcua-test-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).map_err(|e| crate::StoreError::Hash(e.to_string()))?;
        let url = format!("sqlite:{}", dir.join("motcua.db").display());
        let (key_file, key_dir, key) = Self::key()?;
        let store = Store::connect(&url).await?.with_audit_key(key);
        store.migrate().await?;
        Ok(TestDb {
            store,
            key_file,
            _key_dir: key_dir,
            _dir: Some(TempDir(dir)),
            schema: None,
            url,
        })
    }

    pub async fn postgres() -> Result<Self> {
        let url = pg_url();
        let opts = PgConnectOptions::from_str(&url)?;
        let schema = format!("t_{}", unique_suffix());
        let mut conn = PgConnection::connect_with(&opts).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await?;
        drop_stale_schemas(&mut conn).await;
        conn.close().await?;
        let (key_file, key_dir, key) = Self::key()?;
        let store = Store::connect_postgres(opts.options([("search_path", schema.as_str())]))
            .await?
            .with_audit_key(key);
        store.migrate().await?;
        let url = format!(
            "{url}{}options[search_path]={schema}",
            if url.contains('?') { '&' } else { '?' }
        );
        Ok(TestDb {
            store,
            key_file,
            _key_dir: key_dir,
            _dir: None,
            schema: Some(schema),
            url,
        })
    }

    /// A URL of this very database, for another process (`motcua worker --database URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The PostgreSQL schema of this database, if it is one.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Closes the pool and drops the schema (SQLite files go with the temp dir on drop).
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some(schema) = &self.schema
            && let Ok(opts) = PgConnectOptions::from_str(&pg_url())
            && let Ok(mut conn) = PgConnection::connect_with(&opts).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}

/// Drops test schemas left behind by crashed runs (older than two hours).
async fn drop_stale_schemas(conn: &mut PgConnection) {
    let now = wall_seconds();
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 't\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for (n,) in names {
        let stamp = n.split('_').nth(1).and_then(|s| s.parse::<u64>().ok());
        if stamp.is_some_and(|s| s + 7200 < now) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {n} CASCADE"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}

impl Store {
    /// Runs one raw SQL statement: for tests that tamper with rows, and for repairs.
    pub async fn execute_unchecked(&self, sql: &str) -> Result<u64> {
        Ok(crate::on_writer!(self, p => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(p)
                .await?
                .rows_affected()
        }))
    }
}
