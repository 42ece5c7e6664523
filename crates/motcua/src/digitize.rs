//! `motcua digitize batch DIR --map FILE.csv --user NAME`: backward digitisation of a paper
//! archive. The lines of the map are attached to their dossiers (once each), then this process
//! works the job queue — other workers and servers on the same database help — until every page
//! is read, showing pages per minute and the time left; at the end a summary (standard output,
//! one JSON object) and a report per line (CSV).
//!
//! Interrupted at any point (even by `kill -9`), the same command continues: lines already
//! settled are skipped, a file attached but not yet recorded is found again by its content,
//! and each file's reading goes on from its first page not yet stored.

use crate::config::Config;
use anyhow::Context;
use motcua_service::batch::{LOW_CONFIDENCE, batch_id, parse_map};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct BatchArgs {
    pub dir: PathBuf,
    pub map: PathBuf,
    pub user: String,
    pub report: Option<PathBuf>,
    pub quiet: bool,
}

fn bar(quiet: bool, len: u64, template: &str) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("█▉▊▋▌▍▎▏ "),
    );
    pb
}

pub async fn batch(cfg: &Config, a: BatchArgs) -> anyhow::Result<()> {
    let dir = std::fs::canonicalize(&a.dir)
        .with_context(|| format!("cannot open the folder {}", a.dir.display()))?;
    let map = std::fs::read(&a.map)
        .with_context(|| format!("cannot read the map {}", a.map.display()))?;
    let items = parse_map(&map).map_err(|e| anyhow::anyhow!("{}: {e}", a.map.display()))?;
    let id = batch_id(&dir, &map);
    let svc = crate::open_service(cfg).await?;
    let by = match svc.store().user_by_name(&a.user).await? {
        Some(u) if !u.disabled => svc.acting(motcua_service::actor_of(&u)),
        _ => anyhow::bail!("no active user «{}»", a.user),
    };
    let map_name = a.map.file_name().map_or_else(
        || a.map.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    eprintln!(
        "lô / batch {id}: {} dòng / lines, {}",
        items.len(),
        dir.display()
    );

    // 1. Attach each line (once).
    let pb = bar(
        a.quiet,
        items.len() as u64,
        "Nạp tệp / attaching {bar:30} {pos}/{len} {msg}",
    );
    svc.run_batch_attach(&by, &id, &dir, &map_name, &items, |item| {
        pb.inc(1);
        if let Some(e) = &item.error {
            pb.println(format!("dòng / line {}: {e}", item.line));
        }
    })
    .await
    .map_err(crate::svc_err)?;
    pb.finish_and_clear();

    // 2. Read the pages: this process works the queue until every file of the batch is read.
    let start = svc.store().batch_progress(&id).await?;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let slots = motcua_service::ocr::ocr_slots();
    let worker = crate::worker_name(Some(format!(
        "digitize:{}:{}",
        &id[..8],
        std::process::id()
    )));
    let background = crate::start_background(
        &svc,
        slots + 1,
        cfg.job_lease_seconds,
        Some(worker),
        &cfg.slip_base_url(),
        &stop,
    );
    let pb = bar(
        a.quiet,
        start.pages as u64,
        "Đọc trang / reading {bar:30} {pos}/{len} trang/pages · {msg} · còn / left {eta}",
    );
    pb.set_position(start.pages_read as u64);
    let began = Instant::now();
    let mut idle_polls = 0;
    let end = loop {
        let p = svc.store().batch_progress(&id).await?;
        pb.set_length(p.pages as u64);
        pb.set_position(p.pages_read as u64);
        let minutes = began.elapsed().as_secs_f64() / 60.0;
        let rate = (p.pages_read - start.pages_read) as f64 / minutes.max(1e-9);
        pb.set_message(format!("{rate:.1} trang/phút · pages/min"));
        if p.files_reading == 0 {
            break p;
        }
        // Nothing left that any worker could run (jobs dead after their retries): stop and
        // say so rather than wait for ever.
        let ocr = svc
            .store()
            .job_stats(svc.now())
            .await?
            .into_iter()
            .find(|k| k.kind == motcua_service::ocr::OCR_JOB);
        let live = ocr.is_some_and(|k| k.queued + k.running + k.failed > 0);
        idle_polls = if live { 0 } else { idle_polls + 1 };
        if idle_polls >= 10 {
            break p;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    pb.finish_and_clear();
    let _ = stop_tx.send(true);
    for t in background {
        let _ = t.await;
    }
    let elapsed = began.elapsed();
    if end.files_reading == 0 {
        svc.store().finish_batch(&id, svc.now()).await?;
    }

    // 3. The report.
    let rows = svc.store().batch_report(&id, LOW_CONFIDENCE).await?;
    let path = a
        .report
        .unwrap_or_else(|| PathBuf::from(format!("digitize-report-{id}.csv")));
    write_report(&path, &rows)?;
    let low: usize = rows.iter().map(|r| r.low_confidence_pages.len()).sum();
    let read_now = end.pages_read - start.pages_read;
    let per_minute = read_now as f64 / (elapsed.as_secs_f64() / 60.0).max(1e-9);
    eprintln!(
        "{} dòng: {} đã gắn, {} bị từ chối; {} / {} trang đã đọc ({} trong lần chạy này, {:.1} trang/phút); \
         {} tệp không đọc được; {} trang độ tin cậy thấp (< {:.0} %); báo cáo: {}",
        end.lines,
        end.attached,
        end.refused,
        end.pages_read,
        end.pages,
        read_now,
        per_minute,
        end.files_unreadable,
        low,
        LOW_CONFIDENCE * 100.0,
        path.display()
    );
    println!(
        "{}",
        serde_json::json!({
            "batch": id,
            "lines": end.lines,
            "attached": end.attached,
            "refused": end.refused,
            "pages": end.pages,
            "pages_read": end.pages_read,
            "pages_read_this_run": read_now,
            "pages_per_minute": (per_minute * 10.0).round() / 10.0,
            "files_unreadable": end.files_unreadable,
            "files_not_finished": end.files_reading,
            "low_confidence_pages": low,
            "report": path.display().to_string(),
        })
    );
    svc.store().close().await;
    if end.files_reading > 0 {
        anyhow::bail!(
            "{} tệp chưa đọc xong (xem hàng đợi: motcua jobs stats) / {} files not read (see motcua jobs stats); run the batch again to continue",
            end.files_reading,
            end.files_reading
        );
    }
    Ok(())
}

fn write_report(
    path: &std::path::Path,
    rows: &[motcua_store::BatchReportRow],
) -> anyhow::Result<()> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record([
            "line",
            "file",
            "dossier_code",
            "component",
            "status",
            "file_id",
            "pages",
            "pages_read",
            "mean_confidence",
            "low_confidence_pages",
            "error",
        ])?;
        for r in rows {
            let status = match (&r.item.error, r.ocr_status.as_deref()) {
                (Some(_), _) => "refused",
                (None, Some("done")) => "done",
                (None, Some("failed")) => "unreadable",
                (None, Some(_)) => "reading",
                (None, None) => "not_attached",
            };
            w.write_record([
                r.item.line.to_string(),
                r.item.path.clone(),
                r.item.dossier_code.clone(),
                r.item.component.clone(),
                status.to_owned(),
                r.item.file_id.map(|i| i.to_string()).unwrap_or_default(),
                r.pages.map(|p| p.to_string()).unwrap_or_default(),
                r.pages_read.to_string(),
                r.mean_confidence
                    .map(|c| format!("{c:.3}"))
                    .unwrap_or_default(),
                r.low_confidence_pages
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                r.item.error.clone().unwrap_or_default(),
            ])?;
        }
        w.flush()?;
    }
    std::fs::write(path, out).with_context(|| format!("cannot write the report {}", path.display()))
}
