//! `motcua`: the electronic one-stop system's single binary.

use anyhow::Context;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use motcua_domain::calendar::{TimeLimit, WorkCalendar};
use motcua_domain::catalogue::{CatalogueFormat, parse_catalogue};
use motcua_domain::clock::Clock;
use motcua_domain::dossier::Actor;
use motcua_domain::lunar;
use motcua_service::jobs::{Runner, RunnerConfig};
use motcua_service::{Acting, Service, ServiceError};
use motcua_store::{NewJob, Store};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

mod bench;
mod clock;
mod config;
mod demo;
mod digitize;
mod generate;
mod import;
mod sign;
mod soak;
mod stats;

use clock::SystemClock;
use config::{Config, Overrides};

#[derive(Parser)]
#[command(
    name = "motcua",
    version,
    about = "Hệ thống một cửa điện tử — electronic one-stop system"
)]
struct Cli {
    /// Configuration file (default: ./motcua.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Default)]
struct DbArgs {
    /// Database URL: sqlite:PATH or postgres://… (default: SQLite under the data folder).
    #[arg(long)]
    database: Option<String>,
    /// Data folder (default ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the web server.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        #[command(flatten)]
        db: DbArgs,
        /// Load the demo province (idempotent).
        #[arg(long)]
        demo: bool,
    },
    /// Runs background jobs (OCR, signing, portal sync, audit sealing, …) without serving
    /// HTTP; any number of workers share one PostgreSQL queue.
    Worker {
        #[command(flatten)]
        db: DbArgs,
        /// Jobs run at once (default: the configuration's `workers`, at least 1).
        #[arg(long)]
        workers: Option<usize>,
        /// This worker's name in the queue (default: host and process id).
        #[arg(long)]
        id: Option<String>,
    },
    /// The job queue: figures, and a probe job to check that workers run.
    #[command(subcommand)]
    Jobs(JobsCmd),
    /// Applies database migrations.
    Migrate(DbArgs),
    /// Loads the demo province into the database; `demo generate` adds a synthetic history.
    Demo(DemoCmd),
    /// Imports data files.
    #[command(subcommand)]
    Import(ImportCmd),
    /// Manages users.
    #[command(subcommand)]
    User(UserCmd),
    /// Lunar calendar, holidays and deadlines (JSON lines on standard output).
    #[command(subcommand)]
    Calendar(CalendarCmd),
    /// Prints measured figures.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Files dossiers and takes actions as a named user (scripts; a counter whose browser is down).
    #[command(subcommand)]
    Dossier(DossierCmd),
    /// The audit chain.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// The figures of a period (docs/domain.md §Statistics), or `stats rebuild`.
    Stats(stats::StatsCmd),
    /// Prints the OpenAPI document.
    Openapi,
    /// Reads the text of a file (PDF, JPEG, PNG, TIFF) as the server does: a PDF's text layer,
    /// else tesseract (`-l vie+eng`). Prints the text, or with `--json`
    /// `{"pages":[{"page","text","confidence","method"}]}`.
    Ocr {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        /// Also print each word's box and confidence (with `--json`).
        #[arg(long)]
        words: bool,
    },
    /// Digitisation of paper records.
    #[command(subcommand)]
    Digitize(DigitizeCmd),
    /// Slips as PDF.
    #[command(subcommand)]
    Slip(SlipCmd),
    /// Digital signatures on PDFs: sign, verify, and the remote-signing sandbox.
    #[command(subcommand)]
    Sign(sign::SignCmd),
    /// Certificates: a development CA for the demo and the tests.
    #[command(subcommand)]
    Pki(sign::PkiCmd),
    /// Reads a document's fields from a file: `--kind id_card|business_registration|land_use`.
    /// Prints `{"kind","fields":{"<name>":{"value","confidence","bounds","valid","note"}}}`.
    Extract {
        file: PathBuf,
        #[arg(long)]
        kind: String,
        /// JSON (the only output form; accepted for symmetry with `ocr`).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SlipCmd {
    /// Renders a dossier's slip as PDF: `receipt`, `supplement_request`, `refusal`, `apology`,
    /// `stopping` or `control`.
    Render {
        kind: String,
        #[arg(long)]
        dossier: String,
        #[arg(long)]
        out: PathBuf,
        /// The site's public address for the tracking link and QR code (default: the
        /// configuration's `public_base_url`, else http://localhost:8080).
        #[arg(long)]
        base_url: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum DigitizeCmd {
    /// Backward digitisation of an archive: attaches every file of DIR named in the map (CSV
    /// with the columns `file` (path inside DIR), `dossier_code`, `component` (name or number
    /// from 1)) to its dossier, reads the pages (OCR), and reports pages, failures and
    /// low-confidence pages. Running it again continues an interrupted batch: no page is lost
    /// or read twice.
    Batch {
        dir: PathBuf,
        #[arg(long)]
        map: PathBuf,
        /// The officer digitising (their agency must be the dossiers').
        #[arg(long)]
        user: String,
        /// Where to write the report as CSV (default: `digitize-report-<batch>.csv` here).
        #[arg(long)]
        report: Option<PathBuf>,
        /// No progress bar (logs and scripts).
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum DossierCmd {
    /// Files a dossier: the JSON body of `POST /api/v1/dossiers`, from FILE or standard input.
    File {
        /// The user filing it (a reception officer at the counter, a postal agent, a citizen).
        #[arg(long)]
        user: String,
        file: Option<PathBuf>,
        /// Makes a retried command safe: the same key returns the first dossier.
        #[arg(long)]
        idempotency_key: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Takes an action: the JSON body of `POST /api/v1/dossiers/{code}/actions`.
    Act {
        code: String,
        #[arg(long)]
        user: String,
        file: Option<PathBuf>,
        /// The version acted on (as in `If-Match`).
        #[arg(long)]
        if_version: Option<i64>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Attaches a file (PDF, JPEG, PNG, TIFF) to a dossier as user `U`: a component's
    /// (`--component N`, from 0) or the result (without it), with the same checks as an
    /// upload; prints the stored file as JSON. Its text is read by the job queue.
    Attach {
        code: String,
        file: PathBuf,
        #[arg(long)]
        user: String,
        #[arg(long)]
        component: Option<usize>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Prints a dossier.
    Show {
        code: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct DemoCmd {
    #[command(subcommand)]
    action: Option<DemoAction>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum DemoAction {
    /// A synthetic history of the demo province through the domain's own code (channel and
    /// level mix, on-time mix, supplements, extensions, withdrawals, refusals, digitisation,
    /// reuse, payments, ratings), with its events and figures. Prints its rate.
    Generate {
        #[arg(long)]
        dossiers: u64,
        /// Received over this many years up to now.
        #[arg(long, default_value_t = 1)]
        years: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Dossiers per transaction.
        #[arg(long, default_value_t = 2000)]
        batch: usize,
        /// Keep the events (audit records) only of the dossiers not finished (neither
        /// returned, stopped nor rejected); finished ones keep their document, digitisation
        /// records and figures. About half the bytes: for measuring the figures at sizes
        /// whose whole history does not fit the disk. `stats rebuild` refuses to run on such
        /// a database.
        #[arg(long)]
        lean: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum JobsCmd {
    /// Queued, running, failed and dead jobs per kind (JSON lines).
    Stats(DbArgs),
    /// Enqueues probe jobs: each sleeps, then records that it ran (`probe:{id}` in meta).
    Probe {
        #[arg(long, default_value_t = 0)]
        sleep_ms: u64,
        #[arg(long, default_value_t = 1)]
        count: u32,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Recomputes the SHA-256 chain and names the first missing, edited or reordered record.
    Verify(DbArgs),
    /// Seals records not yet in the chain (the server does this every second).
    Seal(DbArgs),
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Imports a procedure catalogue: the national CSV export or motcua JSON. All or nothing.
    Procedures {
        file: PathBuf,
        /// Check the file and report bad rows without importing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Imports the 2025 administrative units (34 provinces, 3,321 communes, old→new links).
    Units(DbArgs),
    /// Imports dossiers from a legacy system: JSON lines with original codes and full history.
    /// Every line is checked first; with any bad line nothing is imported.
    Dossiers {
        file: PathBuf,
        /// Name of the legacy system, kept in each dossier's history.
        #[arg(long, default_value = "legacy")]
        source: String,
        /// Check the file and report bad lines without importing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Adds a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// citizen, reception, specialist, leader, postal, admin or viewer.
        #[arg(long)]
        role: String,
        /// Electronic identifier code of the user's agency.
        #[arg(long)]
        agency: Option<String>,
        #[arg(long, default_value = "")]
        full_name: String,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum CalendarCmd {
    /// Solar → lunar: `lunar DATE` or `lunar --from DATE --to DATE`.
    Lunar {
        date: Option<NaiveDate>,
        #[arg(long)]
        from: Option<NaiveDate>,
        #[arg(long)]
        to: Option<NaiveDate>,
    },
    /// Days off and make-up workdays of a year.
    Holidays {
        year: i32,
        #[command(flatten)]
        db: DbArgs,
    },
    /// The appointment for a receipt instant (RFC 3339 with offset) and a time limit.
    Due {
        start: DateTime<FixedOffset>,
        #[arg(long, group = "limit")]
        working_days: Option<u32>,
        #[arg(long, group = "limit")]
        working_hours: Option<u32>,
        #[arg(long, group = "limit")]
        calendar_days: Option<u32>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// On a database holding a history (`motcua demo generate`): the time of a province-wide
    /// yearly report, a monthly report by agency, ten years by month and the IOC dashboard,
    /// and what keeping the figures adds to one intake.
    Stats {
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Time to compute due dates.
    Due {
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
    },
    /// Receipts (form 01) rendered as PDF per second, on one thread and on every core.
    Slips {
        #[arg(long, default_value_t = 200)]
        count: usize,
    },
    /// Signatures per second with a local key (development P-256 and RSA-2048 keys): one
    /// signature added to a rendered receipt, and verification of the signed file.
    Sign {
        #[arg(long, default_value_t = 200)]
        count: usize,
    },
    /// Dossiers created per second over HTTP, then tracking lookups under concurrent load.
    Intake {
        /// Dossiers to create.
        #[arg(long, default_value_t = 5_000)]
        count: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Tracking lookups per second to offer (open loop).
        #[arg(long, default_value_t = 2_000)]
        tracking_rate: u64,
        /// Seconds of tracking load.
        #[arg(long, default_value_t = 10)]
        tracking_seconds: u64,
        /// Database (default: a fresh temporary SQLite file).
        #[arg(long)]
        database: Option<String>,
        /// Job workers running beside the intake (as `motcua serve`'s default).
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
    /// A large province's intake through the HTTP API of a `motcua serve` process, up to
    /// `--dossiers`, printing for every tenth: the intake rate, public tracking p50/p99 under
    /// an offered load, the audit sealer's backlog, the database's size per dossier and the
    /// server's memory.
    Soak {
        /// Dossiers to file in all.
        #[arg(long, default_value_t = 100_000)]
        dossiers: usize,
        /// PostgreSQL server to run on (a new database is made beside the one named, and
        /// dropped afterwards); default: a fresh temporary SQLite file.
        #[arg(long)]
        database: Option<String>,
        /// Concurrent clients filing dossiers.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Tracking lookups per second offered after each tenth (open loop).
        #[arg(long, default_value_t = 1_000)]
        tracking_rate: u64,
        /// Seconds of tracking load after each tenth.
        #[arg(long, default_value_t = 10)]
        tracking_seconds: u64,
        /// Share of new dossiers the counter officer forwards to processing at once.
        #[arg(long, default_value_t = 0.25)]
        action_share: f64,
        /// The server's job workers (as `motcua serve`'s default).
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Keep the database and the server's log afterwards.
        #[arg(long)]
        keep: bool,
    },
    /// OCR pages per minute through motcua and for plain tesseract on the same pages with the
    /// same parallelism, the CPU motcua spends per page outside tesseract, and the accuracy on
    /// the fixtures (character error rate, exact fields).
    Ocr {
        /// Folder of the fixtures (page_vi.png/.txt, id_front.png/.json, id_back.png).
        #[arg(long, default_value = "fixtures/ocr")]
        fixtures: PathBuf,
        /// Pages to read in each run.
        #[arg(long, default_value_t = 24)]
        pages: usize,
        /// Pages read at once (default: the number of cores, as the server).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Jobs per second through the queue (empty handler).
    Jobs {
        #[arg(long, default_value_t = 5_000)]
        count: usize,
        /// Runners sharing the queue (as separate instances would).
        #[arg(long, default_value_t = 2)]
        runners: usize,
        /// Workers per runner.
        #[arg(long, default_value_t = 4)]
        workers: usize,
        /// Database (default: a fresh temporary SQLite file).
        #[arg(long)]
        database: Option<String>,
    },
    /// Time to parse, validate and import a synthetic catalogue.
    Import {
        #[arg(long, default_value_t = 5_000)]
        rows: usize,
        /// Database to import into (default: a fresh temporary SQLite file).
        #[arg(long)]
        database: Option<String>,
    },
}

fn load_config(
    cli_config: Option<&PathBuf>,
    db: &DbArgs,
    listen: Option<String>,
    demo: bool,
) -> anyhow::Result<Config> {
    Config::load(
        cli_config.map(PathBuf::as_path),
        &Overrides {
            listen,
            database: db.database.clone(),
            data_dir: db.data_dir.clone(),
            demo: demo.then_some(true),
        },
    )
}

/// The actor of a command-line operation: the operator, named explicitly in the audit chain.
fn cli_actor(what: &str) -> Actor {
    Actor::system(&format!("cli:{what}"))
}

fn svc_err(e: ServiceError) -> anyhow::Error {
    let e = motcua_web::ApiError::from(e);
    api_err(e)
}

/// The service over the configured database, on the wall clock.
async fn open_service(cfg: &Config) -> anyhow::Result<Arc<Service>> {
    let store = open_store(cfg).await?;
    let svc = Service::new(store, Arc::new(SystemClock), cfg.office.clone())
        .await
        .map_err(svc_err)?;
    if let Some(e) = &cfg.evaluation {
        svc.set_evaluation(e.clone()).map_err(svc_err)?;
    }
    // A database upgraded with dossiers in it gets its statistics built once.
    if let Some(r) = svc.ensure_stats().await.map_err(svc_err)?
        && r.dossiers > 0
    {
        tracing::info!(
            dossiers = r.dossiers,
            counted = r.counted,
            "statistics built from the dossiers' events"
        );
    }
    let blobs: Arc<dyn motcua_store::BlobStore> = if cfg.s3.enabled() {
        Arc::new(
            motcua_s3::S3Blobs::new(&cfg.s3)
                .map_err(|e| anyhow::anyhow!("cannot configure the S3 file store: {e}"))?,
        )
    } else {
        let objects = cfg.objects_dir();
        Arc::new(motcua_store::LocalBlobs::new(&objects).map_err(|e| {
            anyhow::anyhow!("cannot open the file store {}: {e}", objects.display())
        })?)
    };
    tracing::info!(files = %blobs.describe(), "file store");
    svc.set_blobs(blobs);
    // Chunks of resumable uploads wait here until the file is complete.
    svc.set_upload_dir(cfg.data_dir.join("uploads"));
    svc.set_slip_renderer(Arc::new(motcua_pdf::TypstSlips::new()));
    sign::install(&svc, cfg)?;
    svc.set_file_limits(cfg.files);
    svc.tracking_cache().set_capacity(cfg.tracking_cache_views);
    Ok(Arc::new(svc))
}

async fn open_store(cfg: &Config) -> anyhow::Result<Store> {
    if cfg.database.is_none() {
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("cannot create data folder {}", cfg.data_dir.display()))?;
    }
    let url = cfg.database_url();
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("cannot open database {}", redact(&url)))?
        .with_audit_key(motcua_domain::mac::derive_key(&cfg.secret_key()?, "audit"));
    store.migrate().await.context("database migration failed")?;
    Ok(store)
}

/// Hides a password in a database URL for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(a)) if a > s => {
            let creds = &url[s + 3..a];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[a..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn init_tracing(json: bool) {
    init_tracing_with(json, "info,sqlx=warn,tower_http=info");
}

/// Logs to standard error, filtered by `RUST_LOG` or else `default`.
fn init_tracing_with(json: bool, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

/// The calendar for CLI commands: the database's tables when a database is configured or
/// already exists, otherwise the shipped official tables.
async fn cli_calendar(cli: Option<&PathBuf>, db: &DbArgs) -> anyhow::Result<WorkCalendar> {
    let cfg = load_config(cli, db, None, false)?;
    if cfg.has_database() {
        let store = open_store(&cfg).await?;
        let tables = store.calendar_tables().await?;
        store.close().await;
        Ok(WorkCalendar::new(Default::default(), cfg.office, tables))
    } else {
        Ok(WorkCalendar::new(
            Default::default(),
            cfg.office,
            motcua_domain::calendar::official_tables()?,
        ))
    }
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(v)?);
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("lỗi / error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let cfg_path = cli.config.as_ref();
    match cli.command {
        Command::Serve { listen, db, demo } => {
            let cfg = load_config(cfg_path, &db, listen, demo)?;
            init_tracing(cfg.log_format == "json");
            serve(cfg).await
        }
        Command::Migrate(db) => {
            init_tracing(false);
            let cfg = load_config(cfg_path, &db, None, false)?;
            open_store(&cfg).await?.close().await;
            println!("migrated {}", redact(&cfg.database_url()));
            Ok(())
        }
        Command::Demo(DemoCmd {
            action:
                Some(DemoAction::Generate {
                    dossiers,
                    years,
                    seed,
                    batch,
                    lean,
                    db,
                }),
            ..
        }) => {
            init_tracing(false);
            let cfg = load_config(cfg_path, &db, None, false)?;
            let svc = open_service(&cfg).await?;
            let g = generate::generate(
                &svc,
                &svc.acting(cli_actor("demo-generate")),
                dossiers,
                years,
                seed,
                batch.max(1),
                if lean {
                    motcua_service::store::dossiers::Keep::EventsOfUnfinished
                } else {
                    motcua_service::store::dossiers::Keep::Everything
                },
            )
            .await?;
            svc.store().close().await;
            print_json(&g)
        }
        Command::Demo(DemoCmd { db, .. }) => {
            init_tracing(false);
            let cfg = load_config(cfg_path, &db, None, false)?;
            let svc = open_service(&cfg).await?;
            demo::load(&svc, &svc.acting(cli_actor("demo"))).await?;
            svc.store().close().await;
            Ok(())
        }
        Command::Import(ImportCmd::Procedures { file, dry_run, db }) => {
            init_tracing(false);
            let data =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let format = CatalogueFormat::detect(&file.to_string_lossy(), &data);
            let procedures = match parse_catalogue(format, &data) {
                Ok(p) => p,
                Err(rows) => {
                    for r in &rows {
                        eprintln!("{}: {r}", file.display());
                    }
                    anyhow::bail!("{} bad rows; nothing imported", rows.len());
                }
            };
            if dry_run {
                println!(
                    "{}: {} procedures, no errors (dry run, nothing imported)",
                    file.display(),
                    procedures.len()
                );
                return Ok(());
            }
            let cfg = load_config(cfg_path, &db, None, false)?;
            let svc = open_service(&cfg).await?;
            let by = svc.acting(cli_actor("import-procedures"));
            let report = match svc.import_procedures(&by, procedures).await {
                Err(ServiceError::Import(rows)) => {
                    for r in &rows {
                        eprintln!("{}: {r}", file.display());
                    }
                    anyhow::bail!("{} bad rows; nothing imported", rows.len());
                }
                r => r.map_err(svc_err)?,
            };
            svc.store().close().await;
            println!(
                "{}: inserted {}, updated {}",
                file.display(),
                report.inserted,
                report.updated
            );
            Ok(())
        }
        Command::Import(ImportCmd::Units(db)) => {
            init_tracing(false);
            let cfg = load_config(cfg_path, &db, None, false)?;
            let svc = open_service(&cfg).await?;
            demo::ensure_reference_units(&svc, &svc.acting(cli_actor("import-units"))).await?;
            svc.store().close().await;
            Ok(())
        }
        Command::User(UserCmd::Add {
            username,
            role,
            agency,
            full_name,
            password_stdin: _,
            db,
        }) => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            let cfg = load_config(cfg_path, &db, None, false)?;
            let svc = open_service(&cfg).await?;
            let user = svc
                .create_user(
                    &svc.acting(cli_actor("user-add")),
                    motcua_store::NewUser {
                        username,
                        full_name,
                        password,
                        role: role.parse()?,
                        agency_code: agency.as_deref().map(str::parse).transpose()?,
                    },
                )
                .await
                .map_err(svc_err)?;
            svc.store().close().await;
            print_json(&user)
        }
        Command::Calendar(CalendarCmd::Lunar { date, from, to }) => {
            let one = |d: NaiveDate| -> anyhow::Result<()> {
                print_json(&serde_json::json!({"solar": d, "lunar": lunar::to_lunar(d)?}))
            };
            match (date, from, to) {
                (Some(d), None, None) => one(d),
                (None, Some(f), Some(t)) if f <= t => {
                    for d in f.iter_days().take_while(|d| *d <= t) {
                        one(d)?;
                    }
                    Ok(())
                }
                _ => anyhow::bail!("give DATE, or --from DATE --to DATE with from <= to"),
            }
        }
        Command::Calendar(CalendarCmd::Holidays { year, db }) => {
            if !(1900..=2100).contains(&year) {
                anyhow::bail!("year must be within 1900–2100");
            }
            let cal = cli_calendar(cfg_path, &db).await?;
            for e in cal.entries(year) {
                print_json(&e)?;
            }
            Ok(())
        }
        Command::Calendar(CalendarCmd::Due {
            start,
            working_days,
            working_hours,
            calendar_days,
            db,
        }) => {
            let limit =
                TimeLimit::one_of(working_days, working_hours, calendar_days).ok_or_else(|| {
                    anyhow::anyhow!("give one of --working-days, --working-hours, --calendar-days")
                })?;
            let cal = cli_calendar(cfg_path, &db).await?;
            let due = cal.due(start.with_timezone(&Utc), limit);
            println!("{}", cal.to_local_fixed(due).to_rfc3339());
            Ok(())
        }
        Command::Stats(cmd) => stats::run(cfg_path, cmd).await,
        Command::Bench(BenchCmd::Stats { repeat, db }) => {
            let cfg = load_config(cfg_path, &db, None, false)?;
            let svc = open_service(&cfg).await?;
            bench::stats(&svc, repeat.max(1)).await?;
            svc.store().close().await;
            Ok(())
        }
        Command::Bench(BenchCmd::Due { count }) => bench::due(count),
        Command::Bench(BenchCmd::Slips { count }) => bench::slips(count),
        Command::Bench(BenchCmd::Sign { count }) => bench::sign(count).await,
        Command::Bench(BenchCmd::Ocr {
            fixtures,
            pages,
            jobs,
        }) => bench::ocr(&fixtures, pages, jobs).await,
        Command::Bench(BenchCmd::Import { rows, database }) => bench::import(rows, database).await,
        Command::Bench(BenchCmd::Intake {
            count,
            concurrency,
            tracking_rate,
            tracking_seconds,
            database,
            workers,
        }) => {
            bench::intake(bench::IntakeBench {
                count,
                concurrency,
                tracking_rate,
                tracking_seconds,
                database,
                workers,
            })
            .await
        }
        Command::Bench(BenchCmd::Soak {
            dossiers,
            database,
            concurrency,
            tracking_rate,
            tracking_seconds,
            action_share,
            workers,
            keep,
        }) => {
            soak::soak(soak::Soak {
                dossiers,
                database,
                concurrency,
                tracking_rate,
                tracking_seconds,
                action_share,
                workers,
                keep,
            })
            .await
        }
        Command::Bench(BenchCmd::Jobs {
            count,
            runners,
            workers,
            database,
        }) => bench::jobs(count, runners, workers, database).await,
        Command::Dossier(cmd) => {
            init_tracing(false);
            dossier_cmd(cfg_path, cmd).await
        }
        Command::Audit(AuditCmd::Verify(db)) => {
            let cfg = load_config(cfg_path, &db, None, false)?;
            let store = open_store(&cfg).await?;
            let report = store.verify_audit().await?;
            store.close().await;
            print_json(&report)?;
            if report.is_intact() {
                eprintln!(
                    "audit chain intact: {} records, head {} ({} not yet sealed); {} dossiers agree with their history",
                    report.checked, report.head_hash, report.unsealed, report.dossiers_checked
                );
                return Ok(());
            }
            let mut problems = Vec::new();
            if let Some(b) = &report.first_bad {
                problems.push(format!(
                    "audit chain broken at record {}{}: {}",
                    b.seq,
                    b.id.map(|i| format!(" (row id {i})")).unwrap_or_default(),
                    b.reason
                ));
            }
            for f in &report.forged {
                problems.push(format!(
                    "forged audit record (row id {}): {}",
                    f.id.unwrap_or_default(),
                    f.reason
                ));
            }
            for m in &report.dossier_mismatches {
                problems.push(format!(
                    "dossier {} differs from its history: {}",
                    m.code,
                    m.differences.join("; ")
                ));
            }
            anyhow::bail!("{}", problems.join("\n"))
        }
        Command::Audit(AuditCmd::Seal(db)) => {
            let cfg = load_config(cfg_path, &db, None, false)?;
            let store = open_store(&cfg).await?;
            let n = store.seal_audit().await?;
            store.close().await;
            println!("sealed {n} records");
            Ok(())
        }
        Command::Import(ImportCmd::Dossiers {
            file,
            source,
            dry_run,
            db,
        }) => {
            init_tracing(false);
            let cfg = load_config(cfg_path, &db, None, false)?;
            let svc = open_service(&cfg).await?;
            let by = svc.acting(cli_actor("import-dossiers"));
            let r = import::dossiers(&svc, &by, &file, &source, dry_run).await;
            svc.store().close().await;
            r
        }
        Command::Worker { db, workers, id } => {
            let cfg = load_config(cfg_path, &db, None, false)?;
            init_tracing(cfg.log_format == "json");
            worker(cfg, workers, id).await
        }
        Command::Jobs(JobsCmd::Stats(db)) => {
            let cfg = load_config(cfg_path, &db, None, false)?;
            let store = open_store(&cfg).await?;
            for k in store.job_stats(SystemClock.now()).await? {
                print_json(&k)?;
            }
            store.close().await;
            Ok(())
        }
        Command::Jobs(JobsCmd::Probe {
            sleep_ms,
            count,
            db,
        }) => {
            let cfg = load_config(cfg_path, &db, None, false)?;
            let svc = open_service(&cfg).await?;
            let by = svc.acting(cli_actor("jobs-probe"));
            for _ in 0..count {
                let job = NewJob::new("probe", &serde_json::json!({"sleep_ms": sleep_ms}), by.at);
                svc.enqueue(&by, &job).await.map_err(svc_err)?;
            }
            svc.store().close().await;
            println!("enqueued {count} probe jobs");
            Ok(())
        }
        Command::Openapi => {
            println!("{}", motcua_web::openapi_json());
            Ok(())
        }
        Command::Ocr { file, json, words } => {
            let db = DbArgs {
                database: None,
                data_dir: None,
            };
            let cfg = load_config(cfg_path, &db, None, false)?;
            ocr_file(&cfg, &file, json, words).await
        }
        Command::Digitize(DigitizeCmd::Batch {
            dir,
            map,
            user,
            report,
            quiet,
            db,
        }) => {
            let cfg = load_config(cfg_path, &db, None, false)?;
            init_tracing_with(cfg.log_format == "json", "warn");
            digitize::batch(
                &cfg,
                digitize::BatchArgs {
                    dir,
                    map,
                    user,
                    report,
                    quiet,
                },
            )
            .await
        }
        Command::Sign(cmd) => {
            let db = DbArgs {
                database: None,
                data_dir: None,
            };
            let cfg = load_config(cfg_path, &db, None, false)?;
            let code = sign::run(cmd, &cfg.signing).await?;
            if code != 0 {
                std::process::exit(code);
            }
            Ok(())
        }
        Command::Pki(cmd) => sign::pki(cmd),
        Command::Slip(SlipCmd::Render {
            kind,
            dossier,
            out,
            base_url,
            db,
        }) => {
            let cfg = load_config(cfg_path, &db, None, false)?;
            let kind = motcua_domain::slips::SlipKind::parse(&kind).ok_or_else(|| {
                anyhow::anyhow!(
                    "KIND is receipt, supplement_request, refusal, apology, stopping or control"
                )
            })?;
            let svc = open_service(&cfg).await?;
            let base = base_url
                .or_else(|| (!cfg.public_base_url.is_empty()).then(|| cfg.public_base_url.clone()))
                .unwrap_or_else(|| "http://localhost:8080".to_owned());
            let actor = cli_actor("slip");
            let data = motcua_web::slips::slip(&svc, &actor, kind, &dossier, &base)
                .await
                .map_err(svc_err)?;
            let pdf = svc.render_slip(kind, data).await.map_err(svc_err)?;
            svc.store().close().await;
            std::fs::write(&out, &pdf)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("{} ({} bytes)", out.display(), pdf.len());
            Ok(())
        }
        Command::Extract { file, kind, .. } => {
            let db = DbArgs {
                database: None,
                data_dir: None,
            };
            let cfg = load_config(cfg_path, &db, None, false)?;
            let kind = motcua_domain::extract::DocumentKind::parse(&kind).ok_or_else(|| {
                anyhow::anyhow!("--kind must be id_card, business_registration or land_use")
            })?;
            let pages = read_file(&cfg, &file).await?;
            let e = motcua_domain::extract::extract(
                kind,
                &motcua_service::ocr::extractor_input(&pages),
            );
            println!("{}", serde_json::to_string(&e)?);
            Ok(())
        }
    }
}

/// The pages of a file, checked and read as an upload is, without a database.
async fn read_file(cfg: &Config, path: &Path) -> anyhow::Result<Vec<motcua_service::ocr::OcrPage>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let shape = motcua_domain::files::inspect(&bytes, &cfg.files)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message().en))?;
    motcua_service::ocr::read_pages(shape.kind, &bytes)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// `motcua ocr FILE`: the same checks and reading as an upload, without a database.
async fn ocr_file(cfg: &Config, path: &Path, json: bool, words: bool) -> anyhow::Result<()> {
    let mut pages = read_file(cfg, path).await?;
    if json {
        if !words {
            for p in &mut pages {
                p.words.clear();
            }
        }
        let v = serde_json::json!({ "pages": pages.iter().map(|p| {
            let mut o = serde_json::json!({"page": p.page, "text": p.text, "confidence": p.confidence, "method": p.method});
            if words {
                o["words"] = serde_json::to_value(&p.words).unwrap_or_default();
            }
            o
        }).collect::<Vec<_>>() });
        println!("{v}");
    } else {
        for p in &pages {
            println!("{}", p.text);
            if pages.len() > 1 {
                println!("\u{c}");
            }
        }
    }
    Ok(())
}

/// A worker name unique to this process.
fn worker_name(id: Option<String>) -> String {
    id.unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "host".into());
        format!("{host}:{}", std::process::id())
    })
}

/// Starts what every instance runs beside its work: the reference-data watcher, the queue
/// metrics, and `workers` job workers (none when 0).
fn start_background(
    svc: &Arc<Service>,
    workers: usize,
    lease_seconds: i64,
    id: Option<String>,
    public_base: &str,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = vec![
        tokio::spawn(motcua_service::jobs::watch_reference(
            svc.clone(),
            stop.clone(),
        )),
        tokio::spawn(motcua_service::jobs::publish_queue_metrics(
            svc.clone(),
            stop.clone(),
        )),
        tokio::spawn(motcua_service::tracking::watch_dossier_changes(
            svc.clone(),
            stop.clone(),
        )),
    ];
    if workers > 0 {
        let mut cfg = RunnerConfig::new(worker_name(id), workers);
        cfg.lease = chrono::Duration::seconds(lease_seconds.max(1));
        let mut runner = Runner::new(svc.clone(), cfg);
        motcua_web::slips::register_jobs(&mut runner, public_base.to_owned());
        tasks.push(tokio::spawn(runner.run(stop.clone())));
    }
    tasks
}

async fn serve(cfg: Config) -> anyhow::Result<()> {
    let svc = open_service(&cfg).await?;
    if cfg.demo {
        demo::load(&svc, &svc.acting(cli_actor("demo"))).await?;
    }
    let mut state = motcua_web::AppState::new(
        svc.clone(),
        chrono::Duration::minutes(cfg.token_ttl_minutes.max(1)),
    )
    .with_secret(&cfg.secret_key()?);
    state.secure_cookies = cfg.cookie_secure;
    state.session_idle = chrono::Duration::minutes(cfg.session_idle_minutes.max(1));
    state.session_max = chrono::Duration::hours(cfg.session_max_hours.max(1));
    state.public_base_url = cfg.public_base_url.trim_end_matches('/').to_owned();
    state.request_timeout = Duration::from_secs(cfg.http.request_timeout_seconds.max(1));
    state.edge = motcua_web::security::EdgeLimits {
        anonymous_per_second: cfg.http.anonymous_requests_per_second,
        anonymous_burst: cfg.http.anonymous_burst.max(1.0),
        trust_forwarded_for: cfg.http.trust_forwarded_for,
    };
    let limits = motcua_web::serve::ServerLimits {
        header_read: Duration::from_secs(cfg.http.header_read_timeout_seconds.max(1)),
        idle: Duration::from_secs(cfg.http.idle_timeout_seconds.max(1)),
        max_connections: cfg.http.max_connections.max(1),
    };
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    tracing::info!(
        "motcua listening on http://{} (database {}, {} job workers)",
        listener.local_addr()?,
        redact(&cfg.database_url()),
        cfg.workers
    );
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let background = start_background(
        &svc,
        cfg.workers,
        cfg.job_lease_seconds,
        None,
        &cfg.slip_base_url(),
        &stop,
    );
    motcua_web::serve::serve(listener, motcua_web::app(state), limits, shutdown()).await?;
    let _ = stop_tx.send(true);
    for t in background {
        let _ = t.await;
    }
    if let Err(e) = svc.store().seal_audit().await {
        tracing::warn!(error = %e, "final audit sealing failed");
    }
    svc.store().close().await;
    Ok(())
}

async fn worker(cfg: Config, workers: Option<usize>, id: Option<String>) -> anyhow::Result<()> {
    let svc = open_service(&cfg).await?;
    let workers = workers.unwrap_or(cfg.workers).max(1);
    let id = worker_name(id);
    tracing::info!(worker = %id, workers, database = %redact(&cfg.database_url()), "motcua worker started");
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let background = start_background(
        &svc,
        workers,
        cfg.job_lease_seconds,
        Some(id),
        &cfg.slip_base_url(),
        &stop,
    );
    shutdown().await;
    let _ = stop_tx.send(true);
    for t in background {
        let _ = t.await;
    }
    svc.store().close().await;
    Ok(())
}

fn read_body<T: serde::de::DeserializeOwned>(file: Option<&PathBuf>) -> anyhow::Result<T> {
    let text = match file {
        Some(f) => {
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?
        }
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
    };
    serde_json::from_str(&text)
        .context("the JSON body does not match (see the API's OpenAPI schema)")
}

fn api_err(e: motcua_web::ApiError) -> anyhow::Error {
    let mut msg = format!(
        "{} ({}) / {}",
        e.message.vi,
        e.status.as_u16(),
        e.message.en
    );
    for f in &e.errors {
        msg.push_str(&format!(
            "\n  {}: {} / {}",
            f.field, f.message.vi, f.message.en
        ));
    }
    anyhow::anyhow!(msg)
}

async fn dossier_cmd(cfg_path: Option<&PathBuf>, cmd: DossierCmd) -> anyhow::Result<()> {
    let db = match &cmd {
        DossierCmd::File { db, .. }
        | DossierCmd::Act { db, .. }
        | DossierCmd::Attach { db, .. }
        | DossierCmd::Show { db, .. } => db,
    };
    let cfg = load_config(cfg_path, db, None, false)?;
    let svc = open_service(&cfg).await?;
    // The named user acts, with their role and agency, under the one policy.
    let who = |name: &str| {
        let svc = svc.clone();
        let name = name.to_owned();
        async move {
            match svc.store().user_by_name(&name).await? {
                Some(u) if !u.disabled => {
                    Ok::<Acting, anyhow::Error>(svc.acting(motcua_service::actor_of(&u)))
                }
                _ => Err(anyhow::anyhow!("no active user «{name}»")),
            }
        }
    };
    let (stored, actor) = match cmd {
        DossierCmd::File {
            user,
            file,
            idempotency_key,
            ..
        } => {
            let by = who(&user).await?;
            let body: motcua_service::NewDossier = read_body(file.as_ref())?;
            let idem = idempotency_key.map(|key| motcua_store::IdempotencyKey {
                actor: by.actor.name.clone(),
                key,
                request_hash: motcua_service::dossiers::request_hash(&body),
            });
            let (d, _) = svc.file(&by, body, idem).await.map_err(svc_err)?;
            (d, by.actor)
        }
        DossierCmd::Act {
            code,
            user,
            file,
            if_version,
            ..
        } => {
            let by = who(&user).await?;
            let action: motcua_domain::dossier::Action = read_body(file.as_ref())?;
            let d = svc
                .act(&by, &code, &action, if_version)
                .await
                .map_err(svc_err)?;
            (d, by.actor)
        }
        DossierCmd::Attach {
            code,
            file,
            user,
            component,
            ..
        } => {
            let by = who(&user).await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stored = svc
                .attach_file(&by, &code, component, &name, &bytes)
                .await
                .map_err(svc_err)?;
            svc.store().close().await;
            println!("{}", serde_json::to_string_pretty(&stored)?);
            return Ok(());
        }
        DossierCmd::Show { code, .. } => {
            let actor = cli_actor("show");
            (svc.dossier(&actor, &code).await.map_err(svc_err)?, actor)
        }
    };
    svc.store().seal_audit().await?;
    svc.store().close().await;
    // The dossier as stored, with what the command line adds: version, portal status,
    // overdue now, and the actions the user may take next.
    let mut out = serde_json::to_value(&stored.dossier)?;
    if let serde_json::Value::Object(m) = &mut out {
        m.insert("version".into(), stored.version.into());
        m.insert(
            "portal_status".into(),
            stored.dossier.status.portal_code().into(),
        );
        m.insert("overdue".into(), stored.dossier.overdue(svc.now()).into());
        m.insert(
            "available_actions".into(),
            serde_json::to_value(svc.available_actions(&actor, &stored.dossier))?,
        );
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
