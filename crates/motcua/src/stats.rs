//! `motcua stats`: the figures of a period (as `GET /api/v1/stats` gives them), and
//! `motcua stats rebuild`: the statistics recomputed from the dossiers' events.

use crate::{DbArgs, load_config, open_service, print_json, svc_err};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use motcua_domain::catalogue::Channel;
use motcua_service::stats::{StatsReport, UnitsMode};
use motcua_web::api::stats::StatsParams;
use std::path::PathBuf;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct StatsCmd {
    #[command(subcommand)]
    pub action: Option<StatsAction>,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Subcommand)]
pub enum StatsAction {
    /// Recomputes the statistics from the dossiers' events (and their digitisation and signing
    /// records); the figures must not change. Changes wait while it runs.
    Rebuild(DbArgs),
}

#[derive(Args)]
pub struct ReportArgs {
    /// The period's first day (default: the first of this month).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// The day after the period: `[from, to)` (default: tomorrow).
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// The instant the figures are read at (RFC 3339; default: now).
    #[arg(long)]
    pub as_of: Option<DateTime<Utc>>,
    #[arg(long)]
    pub unit: Option<String>,
    #[arg(long)]
    pub agency: Option<String>,
    /// province, commune or district (history).
    #[arg(long)]
    pub level: Option<String>,
    #[arg(long)]
    pub procedure: Option<String>,
    #[arg(long)]
    pub field: Option<String>,
    /// online, counter or postal.
    #[arg(long)]
    pub channel: Option<String>,
    /// Comma-separated: unit, agency, level, procedure, field, channel, month.
    #[arg(long)]
    pub group_by: Option<String>,
    /// Report abolished and merged units as they were (default: under their successors).
    #[arg(long)]
    pub as_they_were: bool,
    /// Print the report as JSON (one object).
    #[arg(long)]
    pub json: bool,
    /// Write the report to a file instead: `.csv` (UTF-8 with a byte-order mark) or `.xlsx`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
}

pub async fn run(cfg_path: Option<&PathBuf>, cmd: StatsCmd) -> anyhow::Result<()> {
    match cmd.action {
        Some(StatsAction::Rebuild(db)) => {
            let cfg = load_config(cfg_path, &db, None, false)?;
            let svc = open_service(&cfg).await?;
            let t = std::time::Instant::now();
            let report = svc.rebuild_stats().await.map_err(svc_err)?;
            svc.store().close().await;
            print_json(&serde_json::json!({
                "dossiers": report.dossiers,
                "counted": report.counted,
                "months": report.months,
                "seconds": t.elapsed().as_secs_f64(),
            }))
        }
        None => {
            let a = cmd.report;
            let channel = a
                .channel
                .as_deref()
                .map(|c| serde_json::from_value::<Channel>(serde_json::Value::String(c.into())))
                .transpose()
                .map_err(|_| anyhow::anyhow!("--channel: online, counter or postal"))?;
            let params = StatsParams {
                from: a.from,
                to: a.to,
                as_of: a.as_of,
                unit: a.unit,
                agency: a.agency,
                level: a.level,
                procedure: a.procedure,
                field: a.field,
                channel,
                group_by: a.group_by,
                units: Some(if a.as_they_were {
                    UnitsMode::AsTheyWere
                } else {
                    UnitsMode::Successors
                }),
            };
            let query = params.query().map_err(svc_err)?;
            let cfg = load_config(cfg_path, &a.db, None, false)?;
            let svc = open_service(&cfg).await?;
            let report = svc.report(&query).await.map_err(svc_err)?;
            svc.store().close().await;
            if let Some(out) = a.out {
                let bytes = export(&report, &out)?;
                std::fs::write(&out, bytes)?;
                return Ok(());
            }
            if a.json {
                print_json(&report)
            } else {
                print!("{}", text(&report));
                Ok(())
            }
        }
    }
}

fn export(report: &StatsReport, out: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    match out.extension().and_then(|e| e.to_str()) {
        Some("csv") => Ok(motcua_web::export::csv(report)),
        Some("xlsx") => motcua_web::export::xlsx(report).map_err(|e| anyhow::anyhow!("{e}")),
        _ => anyhow::bail!("--out: a .csv or .xlsx file"),
    }
}

/// A plain table for a terminal.
fn text(r: &StatsReport) -> String {
    let mut s = format!(
        "Kỳ {} – {} (đến {}), số liệu tại {}\n",
        r.from,
        r.to,
        r.end.to_rfc3339(),
        r.as_of.to_rfc3339()
    );
    let line = |name: &str, f: &motcua_domain::stats::Figures| {
        let pct = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{:.2}%", v * 100.0));
        format!(
            "{name:<40} tiếp nhận {:>7} (kỳ trước {:>6}, mới {:>6}) · đã giải quyết {:>7} · đúng hạn {:>8} · đang giải quyết {:>6} (quá hạn {:>5}) · trực tuyến {:>8}\n",
            f.received,
            f.carried_over,
            f.new.online + f.new.counter + f.new.postal,
            f.resolved.total,
            pct(f.rates.on_time.value),
            f.in_progress.total,
            f.in_progress.overdue,
            pct(f.rates.online.value),
        )
    };
    for g in &r.groups {
        let name: Vec<&str> = g.names.values().map(String::as_str).collect();
        s.push_str(&line(&name.join(" / "), &g.figures));
    }
    s.push_str(&line("Tổng cộng", &r.total));
    s
}
