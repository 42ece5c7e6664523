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
    /// The server's secret key (audit chain, anti-forgery tokens); default
    /// `<data_dir>/motcua.key`, created on first start. Every instance of one installation
    /// uses the same file; keep it out of the database's reach and back it up.
    pub secret_key_file: Option<PathBuf>,
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
    /// Public tracking views kept in memory (the most-visited public page answers these
    /// without the database), about 0.75 KB each; 0 reads every lookup from the database.
    pub tracking_cache_views: usize,
    /// Seconds a claimed job stays a worker's without renewal; after that, a worker that died
    /// mid-job has its job taken over by another.
    pub job_lease_seconds: i64,
    /// Web sessions end after this many minutes without activity (renewed by each request)…
    pub session_idle_minutes: i64,
    /// …and at the latest this many hours after login.
    pub session_max_hours: i64,
    /// Where citizens reach this site (e.g. `https://dichvucong.tuyenquang.gov.vn`): the
    /// tracking links and QR codes on receipts and slips point there. Empty: the address the
    /// request came to.
    pub public_base_url: String,
    /// Connections, timeouts and rate limits of the HTTP edge.
    pub http: HttpConfig,
    /// The evaluation index's groups, indicators, maximum scores, thresholds and ranking bands
    /// (Decision 766/QĐ-TTg; default: docs/domain.md's reading). Set it whole to change it.
    pub evaluation: Option<motcua_domain::evaluation::IndexConfig>,
    /// Folder of file contents (content-addressed); default `<data_dir>/objects`. Several
    /// instances of one installation share it (or an S3-compatible store).
    pub objects_dir: Option<PathBuf>,
    /// An S3-compatible object store for file contents instead of the folder (`[s3]`:
    /// `bucket`, `endpoint`, `region`, `access_key_id`, `secret_access_key`, `prefix`,
    /// `allow_http`); empty `bucket`: the folder.
    pub s3: motcua_s3::S3Config,
    /// What a file may be at most: `max_bytes`, `max_pages`, `max_pixels` (a page),
    /// `max_side` (pixels).
    pub files: motcua_domain::files::FileLimits,
    /// Digital signatures (`[signing]`): trusted roots, keys, the remote-signing service and
    /// the timestamp authority.
    pub signing: SigningConfig,
}

/// `[signing]`: where keys and trust come from. Production lists the province's trusted roots
/// and its agency seal; the demo makes a development PKI under the data folder.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningConfig {
    /// Trusted root certificates (PEM or DER files): a signature must chain to one of them.
    pub trust: Vec<PathBuf>,
    /// An RFC 3161 timestamp authority; empty: signatures carry the signer's claimed time
    /// (PAdES B-B) rather than a timestamp (B-T).
    pub tsa_url: String,
    /// The remote signing service on which officers and leaders approve signatures; empty:
    /// people's keys are read from `keys_dir/users/`.
    pub remote_url: String,
    /// Key files: `users/USERNAME.p12` and `agencies/AGENCY-CODE.p12` (agency seals). With
    /// the demo and no `trust`, a development PKI is made in `<data_dir>/pki` and used.
    pub keys_dir: Option<PathBuf>,
    /// The key files' password (prefer the environment: `MOTCUA_SIGNING__KEY_PASSWORD`).
    pub key_password: String,
}

/// The HTTP edge (see README §Security).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// A client must send a request's headers within this many seconds (slowloris); also the
    /// longest wait for the next request on a kept-alive connection.
    pub header_read_timeout_seconds: u64,
    /// Every request is answered within this many seconds (408 otherwise).
    pub request_timeout_seconds: u64,
    /// A connection with no bytes either way for this many seconds is closed.
    pub idle_timeout_seconds: u64,
    /// Connections open at once; the next wait in the kernel's queue.
    pub max_connections: usize,
    /// Requests per second one address may make without signing in (0: no limit).
    pub anonymous_requests_per_second: f64,
    /// Requests one address may make at once without signing in, before the rate applies.
    pub anonymous_burst: f64,
    /// Behind a reverse proxy: the client's address is the last `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            header_read_timeout_seconds: 10,
            request_timeout_seconds: 60,
            idle_timeout_seconds: 120,
            max_connections: 1024,
            anonymous_requests_per_second: 20.0,
            anonymous_burst: 100.0,
            trust_forwarded_for: false,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database: None,
            data_dir: PathBuf::from("./data"),
            secret_key_file: None,
            demo: false,
            log_format: "text".into(),
            token_ttl_minutes: 8 * 60,
            cookie_secure: true,
            office: OfficeHours::default(),
            workers: 2,
            tracking_cache_views: motcua_service::tracking::DEFAULT_VIEWS,
            job_lease_seconds: 30,
            session_idle_minutes: 30,
            session_max_hours: 12,
            public_base_url: String::new(),
            http: HttpConfig::default(),
            evaluation: None,
            objects_dir: None,
            s3: motcua_s3::S3Config::default(),
            signing: SigningConfig::default(),
            files: motcua_domain::files::FileLimits::default(),
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
    /// The public address the tracking links of slips made by background jobs point to: the
    /// configured `public_base_url`, else this server's listening address.
    pub fn slip_base_url(&self) -> String {
        if self.public_base_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.public_base_url.clone()
        }
    }

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

    /// The folder of file contents.
    pub fn objects_dir(&self) -> PathBuf {
        self.objects_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("objects"))
    }

    /// The secret key file.
    pub fn secret_key_path(&self) -> PathBuf {
        self.secret_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("motcua.key"))
    }

    /// The server's secret key, created on first use.
    pub fn secret_key(&self) -> anyhow::Result<[u8; 32]> {
        let path = self.secret_key_path();
        motcua_store::secret::load_or_create_key(&path)
            .map_err(|e| anyhow::anyhow!("secret key file {}: {e}", path.display()))
    }

    /// True when a database was configured or the default SQLite file already exists.
    pub fn has_database(&self) -> bool {
        self.database.is_some() || self.data_dir.join("motcua.db").exists()
    }
}
