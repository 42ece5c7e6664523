//! `motcua bench soak`: a large province's intake through the HTTP API of a real server process,
//! measured for every tenth of the run, so that the cost can be seen growing (or not) with the
//! data: the intake rate, public tracking under an offered load, the audit sealer's backlog,
//! the database's size per dossier and the server's memory.
//!
//! The server is `motcua serve --demo` started as a child process on a fresh database (a
//! temporary SQLite file, or a new PostgreSQL database beside the one given), with its job
//! workers (the sealer among them) and the statistics kept in the write path, as in production.

use crate::bench::{
    Lcg, TrackingLoad, file_dossier, login, offer_tracking, percentile, pg_execute,
};
use anyhow::Context;
use motcua_store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What `bench soak` runs.
pub struct Soak {
    pub dossiers: usize,
    pub database: Option<String>,
    pub concurrency: usize,
    pub tracking_rate: u64,
    pub tracking_seconds: u64,
    /// Share of new dossiers the counter officer forwards to processing right away.
    pub action_share: f64,
    pub workers: usize,
    /// Keep the database afterwards (and print where it is).
    pub keep: bool,
}

/// A fresh database for the server: its URL, and the PostgreSQL database to drop afterwards.
async fn fresh_database(
    database: Option<&str>,
    dir: &std::path::Path,
) -> anyhow::Result<(String, Option<(String, String)>)> {
    match database {
        Some(url) if url.starts_with("postgres") => {
            let mut u = reqwest::Url::parse(url).context("database URL")?;
            let name = format!("motcua_soak_{}", std::process::id());
            pg_execute(
                url,
                &[
                    format!("DROP DATABASE IF EXISTS {name}"),
                    format!("CREATE DATABASE {name}"),
                ],
            )
            .await?;
            u.set_path(&format!("/{name}"));
            Ok((u.to_string(), Some((url.to_owned(), name))))
        }
        Some(url) => anyhow::bail!(
            "bench soak makes its own SQLite file; give --database only for PostgreSQL (got «{url}»)"
        ),
        None => Ok((format!("sqlite:{}", dir.join("motcua.db").display()), None)),
    }
}

/// The server's tracking lookups answered from memory and read from the database so far, from
/// its `/metrics` (`motcua_tracking_cache_total`); zeros if it cannot be read.
async fn tracking_cache_counts(http: &reqwest::Client, base: &str) -> (f64, f64) {
    let Ok(r) = http.get(format!("{base}/metrics")).send().await else {
        return (0.0, 0.0);
    };
    let text = r.text().await.unwrap_or_default();
    let count = |result: &str| {
        text.lines()
            .filter(|l| {
                l.starts_with("motcua_tracking_cache_total{")
                    && l.contains(&format!("result=\"{result}\""))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    (count("hit"), count("miss"))
}

/// The server's resident memory in MiB, from `/proc/PID/status`.
fn rss_mib(pid: Option<u32>) -> f64 {
    let Some(pid) = pid else { return f64::NAN };
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// What one intake phase measured.
struct Intake {
    codes: Vec<String>,
    latencies: Vec<f64>,
    actions: usize,
    failed: usize,
    seconds: f64,
}

/// Files `count` dossiers at the counter with `concurrency` clients; the officer forwards a
/// share of them to processing at once (an action on a fresh row, with its figures).
async fn intake_phase(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    first: usize,
    count: usize,
    concurrency: usize,
    action_share: f64,
) -> Intake {
    let next = Arc::new(AtomicUsize::new(first));
    let end = first + count;
    let every = if action_share > 0.0 {
        (1.0 / action_share).round().max(1.0) as usize
    } else {
        usize::MAX
    };
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (http, next, base, token) = (
            http.clone(),
            next.clone(),
            base.to_owned(),
            token.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let (mut codes, mut lat, mut actions, mut failed) = (Vec::new(), Vec::new(), 0, 0);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let body = serde_json::json!({
                    "procedure_code": "1.004884",
                    "channel": "counter",
                    "applicant": {"kind": "person", "id_number": format!("0010{:08}", i % 100_000_000),
                                  "name": "Nguyễn Văn An", "phone": "0912345678", "unit_code": "02215"},
                    "components": [{"index": 0, "originals": 1}, {"index": 1, "copies": 1}],
                });
                let s = Instant::now();
                let Some(code) = file_dossier(&http, &base, &token, &body).await else {
                    failed += 1;
                    continue;
                };
                lat.push(s.elapsed().as_secs_f64() * 1e3);
                if i % every == 0 {
                    let r = http
                        .post(format!("{base}/api/v1/dossiers/{code}/actions"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({"action": "forward"}))
                        .send()
                        .await;
                    let done = match r {
                        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                        _ => false,
                    };
                    if done {
                        actions += 1;
                    } else {
                        failed += 1;
                    }
                }
                codes.push(code);
            }
            (codes, lat, actions, failed)
        }));
    }
    let mut out = Intake {
        codes: Vec::new(),
        latencies: Vec::new(),
        actions: 0,
        failed: 0,
        seconds: 0.0,
    };
    for task in tasks {
        if let Ok((c, l, a, f)) = task.await {
            out.codes.extend(c);
            out.latencies.extend(l);
            out.actions += a;
            out.failed += f;
        }
    }
    out.seconds = t.elapsed().as_secs_f64();
    out.latencies.sort_by(f64::total_cmp);
    out
}

/// Samples the sealer's backlog every second until told to stop; returns the largest seen.
fn sample_backlog(
    store: Store,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<i64> {
    tokio::spawn(async move {
        let mut max = 0;
        loop {
            if let Ok(b) = store.seal_backlog().await {
                max = max.max(b.unsealed);
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return max,
            }
        }
    })
}

/// One row of the curve.
struct Tenth {
    dossiers: usize,
    intake_rate: f64,
    tracking: TrackingLoad,
}

pub async fn soak(s: Soak) -> anyhow::Result<()> {
    anyhow::ensure!(s.dossiers >= 10, "--dossiers must be at least 10");
    let dir = tempfile::tempdir()?;
    let (url, created) = fresh_database(s.database.as_deref(), dir.path()).await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let listen = format!("127.0.0.1:{port}");
    let base = format!("http://{listen}");
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path)?;
    let mut server = tokio::process::Command::new(std::env::current_exe()?)
        .args(["serve", "--demo", "--listen", &listen, "--database", &url])
        .arg("--data-dir")
        .arg(dir.path())
        // The benchmark's thousands of anonymous lookups a second come from one address.
        .env("MOTCUA_HTTP__ANONYMOUS_REQUESTS_PER_SECOND", "0")
        .env("MOTCUA_WORKERS", s.workers.to_string())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("cannot start motcua serve")?;
    let pid = server.id();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(s.concurrency.max(64))
        .timeout(Duration::from_secs(60))
        .build()?;
    let started = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            break;
        }
        if let Some(status) = server.try_wait()? {
            anyhow::bail!(
                "motcua serve stopped ({status}) before it was ready; its log: {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(300),
            "motcua serve was not ready after 5 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let token = login(&http, &base, "tiepnhan.minhxuan").await?;
    let store = Store::connect(&url).await?;
    let backend = store.backend();
    println!(
        "bench soak [{backend:?}]: {} dossiers through the HTTP API of motcua serve (pid {}), \
         {} clients, 1 in {} forwarded at once; tracking offered at {}/s for {} s after each tenth",
        s.dossiers,
        pid.unwrap_or_default(),
        s.concurrency,
        if s.action_share > 0.0 {
            (1.0 / s.action_share).round().to_string()
        } else {
            "∞".into()
        },
        s.tracking_rate,
        s.tracking_seconds
    );
    println!(
        "{:>9} | {:>8} {:>8} {:>8} {:>7} | {:>8} {:>8} {:>8} {:>6} {:>6} | {:>8} {:>8} | {:>8} | {:>7}",
        "dossiers",
        "intake/s",
        "p50 ms",
        "p99 ms",
        "acts/s",
        "track/s",
        "p50 ms",
        "p99 ms",
        "hit %",
        "failed",
        "unsealed",
        "(max)",
        "KB/doss.",
        "RSS MiB"
    );
    let mut codes: Vec<String> = Vec::with_capacity(s.dossiers);
    let mut rows: Vec<Tenth> = Vec::new();
    let mut intake_seconds = Vec::new();
    let mut rng = Lcg(11);
    let mut failed_total = 0;
    for k in 1..=10 {
        let target = s.dossiers * k / 10;
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let sampler = sample_backlog(store.clone(), stop);
        let phase = intake_phase(
            &http,
            &base,
            &token,
            codes.len(),
            target - codes.len(),
            s.concurrency,
            s.action_share,
        )
        .await;
        let _ = stop_tx.send(true);
        let backlog_max = sampler.await.unwrap_or_default();
        failed_total += phase.failed;
        intake_seconds.push(phase.seconds);
        let intake_rate = phase.codes.len() as f64 / phase.seconds;
        codes.extend(phase.codes);
        anyhow::ensure!(
            !codes.is_empty(),
            "no dossier was created; see {}",
            log_path.display()
        );
        let (hits0, misses0) = tracking_cache_counts(&http, &base).await;
        let tracking = offer_tracking(
            &http,
            &base,
            &codes,
            s.tracking_rate,
            s.tracking_seconds,
            &mut rng,
        )
        .await;
        let (hits1, misses1) = tracking_cache_counts(&http, &base).await;
        let (hits, misses) = (hits1 - hits0, misses1 - misses0);
        let hit_share = if hits + misses > 0.0 {
            hits / (hits + misses) * 100.0
        } else {
            f64::NAN
        };
        let backlog = store.seal_backlog().await?.unsealed;
        let bytes = store.database_bytes().await?;
        println!(
            "{:>9} | {:>8.0} {:>8.1} {:>8.1} {:>7.0} | {:>8.0} {:>8.2} {:>8.2} {:>6.0} {:>6} | {:>8} {:>8} | {:>8.2} | {:>7.0}",
            codes.len(),
            intake_rate,
            percentile(&phase.latencies, 0.5),
            percentile(&phase.latencies, 0.99),
            phase.actions as f64 / phase.seconds,
            tracking.served_per_second,
            tracking.p50,
            tracking.p99,
            hit_share,
            tracking.failed + phase.failed,
            backlog,
            backlog_max,
            bytes as f64 / codes.len() as f64 / 1024.0,
            rss_mib(pid),
        );
        rows.push(Tenth {
            dossiers: codes.len(),
            intake_rate,
            tracking,
        });
    }
    let total: f64 = intake_seconds.iter().sum();
    let nine: f64 = intake_seconds.iter().take(9).sum();
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        println!(
            "bench soak [{backend:?}]: intake rate at {} dossiers {:.0}/s, at {} {:.0}/s ({:+.1} %); \
             tracking p99 {:.2} ms then {:.2} ms ({:+.1} %); {} dossiers in {:.1} min of intake \
             ({} in {:.1} min); {failed_total} requests failed",
            first.dossiers,
            first.intake_rate,
            last.dossiers,
            last.intake_rate,
            (last.intake_rate / first.intake_rate - 1.0) * 100.0,
            first.tracking.p99,
            last.tracking.p99,
            (last.tracking.p99 / first.tracking.p99 - 1.0) * 100.0,
            last.dossiers,
            total / 60.0,
            rows.get(8).map_or(0, |r| r.dossiers),
            nine / 60.0,
        );
    }
    store.close().await;
    // A graceful stop: the server seals what is left and closes its connections.
    if let Some(pid) = pid {
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(60), server.wait()).await;
    if s.keep {
        let kept = dir.keep();
        println!(
            "kept: {url} (server log and data folder: {})",
            kept.display()
        );
    } else if let Some((admin, name)) = created {
        pg_execute(
            &admin,
            &[format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")],
        )
        .await?;
    }
    Ok(())
}
