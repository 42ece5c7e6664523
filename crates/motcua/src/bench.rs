//! `motcua bench …`: measured figures, printed (never asserted in tests).

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use motcua_domain::calendar::{TimeLimit, TimeUnit, WorkCalendar};
use motcua_domain::catalogue::{CatalogueFormat, parse_catalogue};
use motcua_store::Store;
use std::hint::black_box;
use std::time::Instant;

/// A small deterministic generator, so every run measures the same inputs.
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Computes `count` due dates for receipts spread over 2024–2026 with limits of 1–30
/// working days (every tenth in working hours).
pub fn due(count: u64) -> anyhow::Result<()> {
    let cal = WorkCalendar::official()?;
    let base = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("bad base date"))?;
    let mut rng = Lcg(42);
    let inputs: Vec<(DateTime<Utc>, TimeLimit)> = (0..count)
        .map(|i| {
            let start = base + Duration::minutes((rng.next() % (3 * 365 * 24 * 60)) as i64);
            let n = (rng.next() % 30 + 1) as u32;
            let unit = if i % 10 == 0 {
                TimeUnit::WorkingHours
            } else {
                TimeUnit::WorkingDays
            };
            (start, TimeLimit { value: n, unit })
        })
        .collect();
    // Warm the per-year cache so the figure is the steady state.
    let _ = cal.due(base, TimeLimit::working_days(1));
    let t = Instant::now();
    let mut sum = 0i64;
    for (start, limit) in &inputs {
        sum = sum.wrapping_add(black_box(cal.due(*start, *limit)).timestamp());
    }
    let el = t.elapsed();
    println!(
        "bench due: {count} due dates in {:.1} ms ({:.0} per second, {:.0} ns each) [checksum {sum}]",
        el.as_secs_f64() * 1e3,
        count as f64 / el.as_secs_f64(),
        el.as_nanos() as f64 / count as f64
    );
    Ok(())
}

/// A synthetic catalogue in the national CSV format.
pub fn synthetic_catalogue(rows: usize) -> String {
    let mut s = String::from(
        "code,name,field,level,implementing_agency,decision_no,procedure_type,submission_modes,processing_time_parsed,fee_parsed\n",
    );
    let fields = [
        "Hộ tịch",
        "Đất đai",
        "Hoạt động xây dựng",
        "Đăng ký, quản lý cư trú",
        "Thành lập và hoạt động doanh nghiệp",
    ];
    for i in 0..rows {
        s.push_str(&format!(
            "9.{i:06},\"Thủ tục thử nghiệm số {i}: đăng ký, cấp đổi giấy chứng nhận\",\"{}\",\"Cấp tỉnh, Cấp xã\",Sở Tư pháp,{i}/QĐ-UBND,TTHC được giao luật quy định chi tiết,Dịch vụ bưu chính;Trực tiếp;Trực tuyến,{} Ngày làm việc,\"{},000 Việt Nam Đồng\"\n",
            fields[i % fields.len()],
            i % 30 + 1,
            (i % 50) * 10
        ));
    }
    s
}

/// Parses and imports a `rows`-procedure file into `database` (a fresh SQLite file by default).
pub async fn import(rows: usize, database: Option<String>) -> anyhow::Result<()> {
    let csv = synthetic_catalogue(rows);
    let dir = std::env::temp_dir().join(format!("motcua-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = database.unwrap_or_else(|| format!("sqlite:{}", dir.join("bench.db").display()));
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    let t = Instant::now();
    let ps = parse_catalogue(CatalogueFormat::Csv, csv.as_bytes())
        .map_err(|e| anyhow::anyhow!("synthetic catalogue rejected: {}", e[0]))?;
    let parsed = t.elapsed();
    let report = store
        .import_procedures(
            ps,
            &motcua_store::ChangeBy::new("bench", chrono::DateTime::UNIX_EPOCH),
        )
        .await?;
    let total = t.elapsed();
    println!(
        "bench import: {rows} procedures ({} KiB CSV) on {:?}: parse+validate {:.1} ms, total {:.1} ms ({:.0} rows/s); inserted {}, updated {}",
        csv.len() / 1024,
        store.backend(),
        parsed.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
        rows as f64 / total.as_secs_f64(),
        report.inserted,
        report.updated
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

pub struct IntakeBench {
    pub count: usize,
    pub concurrency: usize,
    pub tracking_rate: u64,
    pub tracking_seconds: u64,
    pub database: Option<String>,
    /// Job workers running beside the intake, as in `motcua serve`.
    pub workers: usize,
}

/// Commits `count` copies of an intake's rows (the dossier row and its audit record, one
/// durable transaction each) with `concurrency` plain clients, and prints the rate and the
/// intake's share of it.
async fn raw_commits(
    store: &Store,
    sample: &str,
    count: usize,
    concurrency: usize,
    intake_rate: f64,
) -> anyhow::Result<()> {
    use std::sync::Arc;
    let d = store.dossier(sample).await?;
    let data = Arc::new(serde_json::to_string(&d.dossier)?);
    let trail = store.audit_trail("dossier", sample).await?;
    let first = trail
        .first()
        .ok_or_else(|| anyhow::anyhow!("no audit record of {sample}"))?
        .clone();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (store, data, first, next) = (store.clone(), data.clone(), first.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = 0usize;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return Ok::<usize, anyhow::Error>(done);
                }
                let code = format!("RAW-{i:08}");
                let audit = motcua_store::audit::AuditRecord {
                    at: first.at,
                    actor: first.actor.clone(),
                    entity: "dossier",
                    entity_key: code.clone(),
                    action: first.action.clone(),
                    before: first.before.clone(),
                    after: first.after.clone(),
                    data: first.data.clone(),
                };
                store.raw_commit(&code, &data, &audit, first.at).await?;
                done += 1;
            }
        }));
    }
    let mut done = 0;
    for t in tasks {
        done += t.await??;
    }
    let el = t.elapsed().as_secs_f64();
    let raw = done as f64 / el;
    println!(
        "bench raw [{:?}]: {done} dossier rows + audit records committed by {concurrency} plain clients \
         in {el:.2} s = {raw:.0} commits/s; intake / raw = {:.2}",
        store.backend(),
        intake_rate / raw
    );
    Ok(())
}

/// Jobs per second through the queue with an empty handler: `count` jobs enqueued (one
/// statement each), then run by `workers` workers in `runners` runners sharing the queue.
pub async fn jobs(
    count: usize,
    runners: usize,
    workers: usize,
    database: Option<String>,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, schema, svc) = bench_service(database.clone(), dir.path()).await?;
    let t = Instant::now();
    let now = svc.now();
    for i in 0..count {
        let job = motcua_store::NewJob::new("bench.noop", &serde_json::json!({ "i": i }), now);
        store.enqueue(&job, now).await?;
    }
    let enq = t.elapsed().as_secs_f64();
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for r in 0..runners.max(1) {
        let mut cfg = motcua_service::jobs::RunnerConfig::new(format!("bench-{r}"), workers.max(1));
        cfg.idle_poll = std::time::Duration::from_millis(20);
        let mut runner = motcua_service::jobs::Runner::new(svc.clone(), cfg);
        runner.without_recurring();
        runner.register("bench.noop", workers.max(1), |_svc, _job| async { Ok(()) });
        tasks.push(tokio::spawn(runner.run(stop.clone())));
    }
    while (store.count_jobs("bench.noop", "done").await? as usize) < count {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let el = t.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    println!(
        "bench jobs [{:?}]: {count} jobs enqueued in {enq:.2} s ({:.0}/s); run by {runners} runners × {workers} workers \
         in {el:.2} s = {:.0} jobs/s (empty handler: claim, run, mark done)",
        store.backend(),
        count as f64 / enq,
        count as f64 / el
    );
    store.close().await;
    drop_schema(schema, database).await
}

async fn drop_schema(schema: Option<String>, database: Option<String>) -> anyhow::Result<()> {
    if let (Some(schema), Some(url)) = (schema, database) {
        pg_execute(&url, &[format!("DROP SCHEMA IF EXISTS {schema} CASCADE")]).await?;
    }
    Ok(())
}

/// Runs `sqls` one after the other on a connection of its own to the PostgreSQL server at
/// `url` (schemas and databases made and dropped for a benchmark).
pub(crate) async fn pg_execute(url: &str, sqls: &[String]) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut c = sqlx::postgres::PgConnection::connect(url).await?;
    for sql in sqls {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .execute(&mut c)
            .await?;
    }
    c.close().await?;
    Ok(())
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A fresh, migrated database for the benchmark and the service over it, on the wall clock.
async fn bench_service(
    database: Option<String>,
    dir: &std::path::Path,
) -> anyhow::Result<(
    Store,
    Option<String>,
    std::sync::Arc<motcua_service::Service>,
)> {
    let (store, schema) = bench_store(database, dir).await?;
    store.migrate().await?;
    let svc = std::sync::Arc::new(
        motcua_service::Service::new(
            store.clone(),
            std::sync::Arc::new(crate::clock::SystemClock),
            Default::default(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    Ok((store, schema, svc))
}

/// A fresh database for the benchmark: a temporary SQLite file, or a new schema in the given
/// PostgreSQL database (dropped afterwards).
async fn bench_store(
    database: Option<String>,
    dir: &std::path::Path,
) -> anyhow::Result<(Store, Option<String>)> {
    match database {
        Some(url) if url.starts_with("postgres") => {
            use std::str::FromStr;
            let opts = sqlx::postgres::PgConnectOptions::from_str(&url)?;
            let schema = format!("bench_{}", std::process::id());
            pg_execute(
                &url,
                &[
                    format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
                    format!("CREATE SCHEMA {schema}"),
                ],
            )
            .await?;
            let store =
                Store::connect_postgres(opts.options([("search_path", schema.as_str())])).await?;
            Ok((store, Some(schema)))
        }
        Some(url) => Ok((Store::connect(&url).await?, None)),
        None => Ok((
            Store::connect(&format!("sqlite:{}", dir.join("bench.db").display())).await?,
            None,
        )),
    }
}

/// An officer's bearer token from the demo password.
pub(crate) async fn login(
    http: &reqwest::Client,
    base: &str,
    username: &str,
) -> anyhow::Result<String> {
    let token: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": username, "password": "motcua-demo"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Files `body` through the API as the bearer of `token`; the new dossier's code, or `None`
/// when it was not created. The code is in `Location`: the client reads the whole body but
/// need not parse it (the raw clients parse nothing either).
pub(crate) async fn file_dossier(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    body: &serde_json::Value,
) -> Option<String> {
    let r = http
        .post(format!("{base}/api/v1/dossiers"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .ok()?;
    if r.status() != reqwest::StatusCode::CREATED {
        return None;
    }
    let code = r
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| l.rsplit('/').next())
        .unwrap_or_default()
        .to_owned();
    (r.bytes().await.is_ok() && !code.is_empty()).then_some(code)
}

/// What public tracking did under an offered load.
pub(crate) struct TrackingLoad {
    pub offered: u64,
    pub served_per_second: f64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub failed: usize,
}

/// Offers `rate` public tracking lookups a second for `seconds`, of codes drawn from `codes`
/// (open loop: a slow answer does not slow the offered load), and measures the answers.
pub(crate) async fn offer_tracking(
    http: &reqwest::Client,
    base: &str,
    codes: &[String],
    rate: u64,
    seconds: u64,
    rng: &mut Lcg,
) -> TrackingLoad {
    let total = rate * seconds;
    let period = std::time::Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Option<f64>>();
    let t = Instant::now();
    for _ in 0..total {
        tick.tick().await;
        let Some(code) = codes.get((rng.next() as usize) % codes.len().max(1)) else {
            break;
        };
        let (http, url, tx) = (
            http.clone(),
            format!("{base}/api/v1/tracking/{code}"),
            tx.clone(),
        );
        tokio::spawn(async move {
            let s = Instant::now();
            let ok = match http.get(url).send().await {
                Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                _ => false,
            };
            let _ = tx.send(ok.then(|| s.elapsed().as_secs_f64() * 1e3));
        });
    }
    drop(tx);
    let mut tl = Vec::new();
    let mut failed = 0;
    while let Some(r) = rx.recv().await {
        match r {
            Some(ms) => tl.push(ms),
            None => failed += 1,
        }
    }
    let el = t.elapsed().as_secs_f64();
    tl.sort_by(f64::total_cmp);
    TrackingLoad {
        offered: total,
        served_per_second: tl.len() as f64 / el,
        p50: percentile(&tl, 0.5),
        p99: percentile(&tl, 0.99),
        max: tl.last().copied().unwrap_or(f64::NAN),
        failed,
    }
}

/// Creates `count` dossiers over HTTP at a counter with `concurrency` clients, then offers
/// `tracking_rate` public tracking lookups per second for `tracking_seconds` (open loop: a
/// slow answer does not slow the offered load) and prints the figures.
pub async fn intake(b: IntakeBench) -> anyhow::Result<()> {
    use std::sync::Arc;
    let dir = tempfile::tempdir()?;
    let (store, schema, svc) = bench_service(b.database.clone(), dir.path()).await?;
    crate::demo::load(
        &svc,
        &svc.acting(motcua_domain::dossier::Actor::system("bench")),
    )
    .await?;
    let backend = store.backend();
    let mut state = motcua_web::AppState::new(svc.clone(), chrono::Duration::hours(2));
    // The benchmark offers thousands of anonymous lookups a second from one address.
    state.edge.anonymous_per_second = 0.0;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, motcua_web::app(state)).await;
    });
    // The job queue runs beside the intake, as in `motcua serve` (it seals the audit chain).
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let background = crate::start_background(
        &svc,
        b.workers,
        30,
        Some("bench".into()),
        "http://localhost:8080",
        &stop,
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(b.concurrency.max(64))
        .build()?;
    let token = login(&http, &base, "tiepnhan.minhxuan").await?;
    let body = serde_json::json!({
        "procedure_code": "1.004884",
        "channel": "counter",
        "applicant": {"kind": "person", "id_number": "008190001234", "name": "Nguyễn Văn An",
                      "phone": "0912345678", "unit_code": "02215"},
        "components": [{"index": 0, "originals": 1}, {"index": 1, "copies": 1}],
    });
    // Intake.
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..b.concurrency.max(1) {
        let (http, next, base, token, body) = (
            http.clone(),
            next.clone(),
            base.clone(),
            token.clone(),
            body.clone(),
        );
        let count = b.count;
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut codes = Vec::new();
            let mut failed = 0usize;
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < count {
                let s = Instant::now();
                match file_dossier(&http, &base, &token, &body).await {
                    Some(code) => {
                        codes.push(code);
                        lat.push(s.elapsed().as_secs_f64() * 1e3);
                    }
                    None => failed += 1,
                }
            }
            (lat, codes, failed)
        }));
    }
    let mut lat = Vec::new();
    let mut codes = Vec::new();
    let mut failed = 0;
    for w in workers {
        let (l, c, f) = w.await?;
        lat.extend(l);
        codes.extend(c);
        failed += f;
    }
    let el = t.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    println!(
        "bench intake [{backend:?}]: {} dossiers created over HTTP in {el:.2} s = {:.0} dossiers/s \
         ({} clients; latency p50 {:.1} ms, p99 {:.1} ms; {failed} failed)",
        codes.len(),
        codes.len() as f64 / el,
        b.concurrency,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
    );
    anyhow::ensure!(!codes.is_empty(), "no dossier was created");
    let intake_rate = codes.len() as f64 / el;
    raw_commits(&store, &codes[0], b.count, b.concurrency, intake_rate).await?;
    // Tracking under an offered load.
    let t = offer_tracking(
        &http,
        &base,
        &codes,
        b.tracking_rate,
        b.tracking_seconds,
        &mut Lcg(7),
    )
    .await;
    println!(
        "bench tracking [{backend:?}]: {} lookups offered at {}/s for {} s, achieved {:.0}/s; \
         latency p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms; {} failed",
        t.offered,
        b.tracking_rate,
        b.tracking_seconds,
        t.served_per_second,
        t.p50,
        t.p99,
        t.max,
        t.failed,
    );
    let _ = stop_tx.send(true);
    for t in background {
        let _ = t.await;
    }
    server.abort();
    let sealed = store.seal_audit().await?;
    let report = store.verify_audit().await?;
    println!(
        "bench audit [{backend:?}]: {} records in the chain ({sealed} sealed at the end), intact: {}",
        report.checked,
        report.first_bad.is_none()
    );
    store.close().await;
    drop_schema(schema, b.database).await
}

/// This process's CPU time so far (user + system), from `/proc/self/stat`.
fn own_cpu() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 (12 and 13 after the state field here).
    std::time::Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// `motcua bench ocr`: see [`crate::BenchCmd::Ocr`].
pub async fn ocr(dir: &std::path::Path, pages: usize, jobs: Option<usize>) -> anyhow::Result<()> {
    use motcua_domain::files::FileKind;
    use std::sync::Arc;
    let jobs = jobs.unwrap_or_else(motcua_service::ocr::ocr_slots).max(1);
    let images: Vec<std::path::PathBuf> = ["page_vi.png", "id_front.png", "id_back.png"]
        .iter()
        .map(|n| dir.join(n))
        .collect();
    let bytes: Vec<Arc<Vec<u8>>> = images
        .iter()
        .map(|p| std::fs::read(p).map(Arc::new))
        .collect::<Result<_, _>>()
        .map_err(|e| {
            anyhow::anyhow!(
                "fixtures in {}: {e} (run from the repository root)",
                dir.display()
            )
        })?;
    println!(
        "OCR benchmark: {pages} pages ({} fixtures in turn), {jobs} at once",
        images.len()
    );

    // Through motcua: the same function the `file.ocr` job runs.
    let sem = Arc::new(tokio::sync::Semaphore::new(jobs));
    let cpu0 = own_cpu();
    let t0 = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..pages {
        let b = bytes[i % bytes.len()].clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _slot = sem.acquire().await;
            motcua_service::ocr::read_pages(FileKind::Png, &b).await
        }));
    }
    for t in tasks {
        t.await??;
    }
    let ours = t0.elapsed();
    let cpu = own_cpu().saturating_sub(cpu0);

    // Plain tesseract, the same pages and parallelism.
    let t1 = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..pages {
        let path = images[i % images.len()].clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _slot = sem.acquire().await;
            tokio::process::Command::new("tesseract")
                .arg(&path)
                .arg("stdout")
                .args(["-l", "vie+eng", "--psm", "3", "tsv"])
                .env("OMP_THREAD_LIMIT", "1")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .await
        }));
    }
    for t in tasks {
        let status = t.await??;
        anyhow::ensure!(status.success(), "tesseract failed");
    }
    let plain = t1.elapsed();
    let per_min = |d: std::time::Duration| pages as f64 * 60.0 / d.as_secs_f64();
    println!(
        "motcua:          {:8.1} pages/min ({:.2} s)",
        per_min(ours),
        ours.as_secs_f64()
    );
    println!(
        "plain tesseract: {:8.1} pages/min ({:.2} s)",
        per_min(plain),
        plain.as_secs_f64()
    );
    println!(
        "ratio motcua / tesseract: {:.3} (goal ≥ 0.95)",
        per_min(ours) / per_min(plain)
    );
    println!(
        "motcua CPU outside tesseract: {:.1} ms per page",
        cpu.as_secs_f64() * 1000.0 / pages as f64
    );

    // Accuracy on the fixtures.
    let page = motcua_service::ocr::read_pages(FileKind::Png, &bytes[0]).await?;
    let truth = std::fs::read_to_string(dir.join("page_vi.txt"))?;
    let cer = motcua_domain::text::char_error_rate(&truth, &page[0].text);
    println!("character error rate, page_vi.png: {:.2} %", cer * 100.0);
    let want: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("id_front.json"))?)?;
    let mut exact = 0;
    let mut total = 0;
    for (i, img) in [1usize, 2].iter().enumerate() {
        let pages = motcua_service::ocr::read_pages(FileKind::Png, &bytes[*img]).await?;
        let e = motcua_domain::extract::extract(
            motcua_domain::extract::DocumentKind::IdCard,
            &motcua_service::ocr::extractor_input(&pages),
        );
        // The front carries every field; the back (MRZ) the number and the dates.
        let names: Vec<&str> = if i == 0 {
            want.keys().map(String::as_str).collect()
        } else {
            vec!["id_number", "date_of_birth", "expiry"]
        };
        for n in names {
            total += 1;
            if e.fields
                .get(n)
                .map(|f| serde_json::Value::String(f.value.clone()))
                .as_ref()
                == want.get(n)
            {
                exact += 1;
            }
        }
    }
    println!(
        "fields exact on the ID card fixtures: {exact}/{total} ({:.1} %)",
        100.0 * exact as f64 / total as f64
    );
    Ok(())
}

/// A realistic receipt's data: a long procedure name, several components, a QR code.
fn sample_receipt(i: usize) -> motcua_service::slips::SlipData {
    use motcua_service::slips::{SlipApplicant, SlipComponent, SlipData, SlipProcedure};
    let code = format!("000.01.31.H58-251001-{:04}", i % 10_000);
    let (tracking_url, qr_svg) =
        motcua_web::slips::tracking("https://dichvucong.tuyenquang.gov.vn", &code);
    SlipData {
        paper: "a4".into(),
        form_number: "01".into(),
        form_basis: "Thông tư 03/2025/TT-VPCP".into(),
        title: "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ".into(),
        subtitle: format!("Mã hồ sơ: {code}"),
        agency_parent: "Ủy ban nhân dân tỉnh Tuyên Quang".into(),
        agency: "Ủy ban nhân dân phường Minh Xuân".into(),
        place: "Minh Xuân".into(),
        issued_on: "ngày 01 tháng 10 năm 2025".into(),
        office: "Ủy ban nhân dân phường Minh Xuân".into(),
        dossier_code: code,
        applicant: SlipApplicant {
            name: "Nguyễn Thị Phương Thảo".into(),
            id: "008190001234".into(),
            address: "Tổ 7, Phường Minh Xuân, Tỉnh Tuyên Quang".into(),
            contact: "0912 345 678, thao.nguyen@example.vn".into(),
        },
        procedure: SlipProcedure {
            code: "1.004884".into(),
            name: "Thủ tục đăng ký lại khai sinh có yếu tố nước ngoài".into(),
        },
        components: (1..=5)
            .map(|n| SlipComponent {
                name: format!(
                    "Giấy tờ số {n}: bản sao giấy tờ tùy thân, giấy tờ chứng minh nơi cư trú"
                ),
                originals: 1,
                copies: (n % 2) as u16,
                note: String::new(),
            })
            .collect(),
        time_limit: "5 ngày làm việc".into(),
        received_at: "08 giờ 30 phút, ngày 01 tháng 10 năm 2025".into(),
        appointment: "17 giờ 00 phút, ngày 08 tháng 10 năm 2025".into(),
        delivery: "Bộ phận Một cửa nơi tiếp nhận hồ sơ".into(),
        register: "ngày 01 tháng 10 năm 2025, số thứ tự 0001".into(),
        tracking_url,
        qr_svg,
        officer: "Lê Văn Tiếp".into(),
        ..Default::default()
    }
}

/// `motcua bench slips`: receipts rendered as PDF per second by the typst renderer, one thread
/// and then every core.
pub fn slips(count: usize) -> anyhow::Result<()> {
    use motcua_domain::slips::SlipKind;
    use motcua_service::slips::SlipRenderer;
    let r = std::sync::Arc::new(motcua_pdf::TypstSlips::new());
    // The first render loads fonts and fills typst's caches: not part of the steady state.
    let first = std::time::Instant::now();
    let pdf = r
        .render(SlipKind::Receipt, &sample_receipt(0))
        .map_err(|e| anyhow::anyhow!(e))?;
    println!(
        "first receipt: {:.0} ms, {} bytes",
        first.elapsed().as_secs_f64() * 1000.0,
        pdf.len()
    );
    let t = std::time::Instant::now();
    for i in 0..count {
        r.render(SlipKind::Receipt, &sample_receipt(i + 1))
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    let one = count as f64 / t.elapsed().as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let t = std::time::Instant::now();
    std::thread::scope(|scope| {
        for c in 0..cores {
            let r = r.clone();
            scope.spawn(move || {
                for i in (c..count).step_by(cores) {
                    let _ = r.render(SlipKind::Receipt, &sample_receipt(i + 1));
                }
            });
        }
    });
    let all = count as f64 / t.elapsed().as_secs_f64();
    println!(
        "receipts rendered (A4, form 01, distinct data): {one:.1}/s on one thread, {all:.1}/s on {cores} threads"
    );
    Ok(())
}

/// `motcua bench sign`: signatures added per second with a local key, and verifications.
pub async fn sign(count: usize) -> anyhow::Result<()> {
    use crate::clock::SystemClock;
    use chrono::Offset;
    use motcua_domain::clock::Clock;
    use motcua_service::slips::SlipRenderer;
    let count = count.max(1);
    let now = SystemClock.now();
    let dir = tempfile::tempdir()?;
    motcua_sign::pki::write_dev_ca(dir.path(), "UBND phường Minh Xuân", now)?;
    let mut trust = motcua_sign::TrustStore::new();
    trust.add_file(&dir.path().join("ca.pem"))?;
    let pdf = motcua_pdf::TypstSlips::new()
        .render(motcua_domain::slips::SlipKind::Receipt, &sample_receipt(0))
        .map_err(|e| anyhow::anyhow!(e))?;
    let at =
        now.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap_or(chrono::Utc.fix()));
    println!("document: a receipt of {} bytes", pdf.len());
    for alias in ["leader", "officer-rsa"] {
        let key = motcua_sign::LocalKey::from_file(
            &dir.path().join(format!("{alias}.p12")),
            motcua_sign::pki::DEV_PASSWORD,
        )?;
        let mut opts = motcua_sign::SignOptions::new(at);
        opts.reason = "Đo tốc độ ký".into();
        let t = std::time::Instant::now();
        let mut signed = Vec::new();
        for _ in 0..count {
            signed = motcua_sign::sign_pdf(&pdf, &key, &opts).await?;
        }
        let signing = count as f64 / t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        for _ in 0..count {
            let r = motcua_sign::verify_pdf(&signed, &trust, now)?;
            anyhow::ensure!(
                r.iter().all(|r| r.valid),
                "the benchmark's signature is not valid"
            );
        }
        let verifying = count as f64 / t.elapsed().as_secs_f64();
        let algorithm = motcua_sign::Signer::algorithm(&key);
        println!(
            "{alias} ({algorithm:?}): {signing:.1} signed/s, {verifying:.1} verified/s on one thread ({count} each)"
        );
    }
    Ok(())
}

/// `motcua bench stats`: on a database holding a history (`motcua demo generate`), the time of
/// a province-wide yearly report (this year to date; and the last 365 days, whose first month
/// is partly read from the facts), of a monthly report grouped by agency and of the operations
/// centre's dashboard (median and worst of `repeat` runs, after one warm-up), and what keeping
/// the figures adds to one change. One JSON line per figure.
pub async fn stats(svc: &motcua_service::Service, repeat: usize) -> anyhow::Result<()> {
    use motcua_service::stats::{GroupBy, StatsQuery};
    let now = svc.now();
    let today = motcua_domain::stats::local_day(now);
    let year_ago = today - chrono::Duration::days(365);
    let month_start =
        chrono::NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let last_month = month_start
        .checked_sub_months(chrono::Months::new(1))
        .unwrap_or(month_start);
    let counted: i64 = svc
        .report(&StatsQuery {
            from: Some(today - chrono::Duration::days(365 * 50)),
            to: Some(today.succ_opt().unwrap_or(today)),
            ..StatsQuery::default()
        })
        .await
        .map(|r| r.total.received)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    print_line(&serde_json::json!({"what": "dossiers_counted", "n": counted}));
    let viewer = motcua_domain::dossier::Actor {
        name: "bench".into(),
        user_id: None,
        role: Some(motcua_domain::auth::Role::Viewer),
        agency: None,
    };
    let cases: Vec<(&str, StatsQuery)> = vec![
        (
            "yearly_report_province",
            StatsQuery {
                from: chrono::NaiveDate::from_ymd_opt(today.year(), 1, 1),
                to: Some(today.succ_opt().unwrap_or(today)),
                ..StatsQuery::default()
            },
        ),
        (
            "last_365_days_province",
            StatsQuery {
                from: Some(year_ago),
                to: Some(today.succ_opt().unwrap_or(today)),
                ..StatsQuery::default()
            },
        ),
        (
            "monthly_report_by_agency",
            StatsQuery {
                from: Some(last_month),
                to: Some(month_start),
                group_by: vec![GroupBy::Agency],
                ..StatsQuery::default()
            },
        ),
        (
            "ten_years_by_month",
            StatsQuery {
                from: Some(today - chrono::Duration::days(3652)),
                to: Some(today.succ_opt().unwrap_or(today)),
                group_by: vec![GroupBy::Month],
                ..StatsQuery::default()
            },
        ),
    ];
    for (what, q) in cases {
        let mut times = Vec::new();
        for i in 0..=repeat {
            let t = std::time::Instant::now();
            let r = svc.report(&q).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if i > 0 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            std::hint::black_box(r);
        }
        times.sort_by(f64::total_cmp);
        print_line(&serde_json::json!({
            "what": what, "median_ms": percentile(&times, 0.5), "max_ms": times.last().copied().unwrap_or(0.0)
        }));
    }
    let mut times = Vec::new();
    for i in 0..=repeat {
        let t = std::time::Instant::now();
        let d = svc
            .ioc(&viewer, None, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if i > 0 {
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        std::hint::black_box(d);
    }
    times.sort_by(f64::total_cmp);
    print_line(&serde_json::json!({
        "what": "ioc_dashboard", "median_ms": percentile(&times, 0.5), "max_ms": times.last().copied().unwrap_or(0.0)
    }));
    let mut probe = svc.store().stat_refresh_probe(200).await?;
    probe.sort_by(f64::total_cmp);
    print_line(&serde_json::json!({
        "what": "figures_cost_per_intake", "median_ms": percentile(&probe, 0.5),
        "p99_ms": percentile(&probe, 0.99), "samples": probe.len()
    }));
    Ok(())
}

fn print_line(v: &serde_json::Value) {
    println!("{v}");
}
