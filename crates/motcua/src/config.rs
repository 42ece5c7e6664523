//! Configuration: defaults → `motcua.toml` (or `--config FILE`) → `MOTCUA_*` environment →
//! command-line flags. Nested keys use `__` in the environment (`MOTCUA_OFFICE__CUTOFF=16:00:00`).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use motcua_domain::calendar::OfficeHours;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the server listens on.
    pub listen: String,
    /// `sqlite:PATH` or `postgres://…`; default: `sqlite:<data_dir>/motcua.db`.
    pub database: Option<String>,
    /// Folder for the SQLite file and stored documents.
    pub data_dir: PathBuf,
    /// Load the demo province on start.
    pub demo: bool,
    /// `text` or `json` logs.
    pub log_format: String,
    /// Lifetime of API bearer tokens and web sessions, in minutes.
    pub token_ttl_minutes: i64,
    /// Mark cookies `Secure` (browsers accept them on localhost; turn off only to serve plain
    /// HTTP to other machines of a closed network).
    pub cookie_secure: bool,
    /// Office hours and the intake cut-off.
    pub office: OfficeHours,
    /// Background jobs run at once by `motcua serve` (0: none; then run `motcua worker`).
    pub workers: usize,
    /// Seconds a claimed job stays a worker's without renewal; after that, a worker that died
    /// mid-job has its job taken over by another.
    pub job_lease_seconds: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database: None,
            data_dir: PathBuf::from("./data"),
            demo: false,
            log_format: "text".into(),
            token_ttl_minutes: 8 * 60,
            cookie_secure: true,
            office: OfficeHours::default(),
            workers: 2,
            job_lease_seconds: 30,
        }
    }
}

/// Values given on the command line (only those present override the others).
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo: Option<bool>,
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let file = file.map_or_else(|| PathBuf::from("motcua.toml"), Path::to_path_buf);
        let cfg: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            // `MOTCUA_TEST_*` belongs to the test suite (e.g. MOTCUA_TEST_DATABASE_URL), not
            // to the configuration; any other unknown `MOTCUA_*` is refused.
            .merge(
                Env::prefixed("MOTCUA_")
                    .filter(|k| !k.as_str().to_ascii_lowercase().starts_with("test_"))
                    .split("__"),
            )
            .merge(Serialized::defaults(overrides))
            .extract()?;
        Ok(Config {
            office: cfg
                .office
                .clone()
                .validate()
                .map_err(|e| anyhow::anyhow!("office hours: {e}"))?,
            ..cfg
        })
    }

    /// The database URL, with the embedded default under the data folder.
    pub fn database_url(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| format!("sqlite:{}", self.data_dir.join("motcua.db").display()))
    }

    /// True when a database was configured or the default SQLite file already exists.
    pub fn has_database(&self) -> bool {
        self.database.is_some() || self.data_dir.join("motcua.db").exists()
    }
}
