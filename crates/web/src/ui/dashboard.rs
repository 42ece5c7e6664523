//! Dashboards: `/tong-quan`, an officer's counters of what waits for their agency (each a link
//! to its list), and `/ioc`, the operations centre's figures of the province — headline, trend
//! by month, breakdowns, overdue dossiers by agency (codes and procedures only) — with charts
//! drawn as inline SVG on the server and refreshed by htmx every minute where JavaScript is on.

use super::{Page, Tr, error_page, render};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use motcua_domain::auth::Role;
use motcua_domain::stats::{Figures, Rate};
use motcua_service::actor_of;
use motcua_service::dashboard::Ioc;
use motcua_service::stats::StatGroup;
use motcua_service::store::stats::AgencyCounters;
use serde::Deserialize;
use std::fmt::Write;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tong-quan", get(counters))
        .route("/ioc", get(ioc))
        .route("/ioc/{file}", get(download))
}

/// One counter: its label, number, link and emphasis.
pub struct Counter {
    pub label: &'static str,
    pub n: i64,
    pub href: &'static str,
    pub tone: &'static str,
}

/// The counters of an agency, as links to their lists.
pub fn counter_links(tr: Tr, c: &AgencyCounters) -> Vec<Counter> {
    vec![
        Counter {
            label: tr.t("Chờ tiếp nhận", "Waiting to be received"),
            n: c.waiting,
            href: "/mot-cua#online",
            tone: "",
        },
        Counter {
            label: tr.t("Đang giải quyết", "In progress"),
            n: c.in_progress,
            href: "/xu-ly",
            tone: "",
        },
        Counter {
            label: tr.t(
                "Đến hạn trong một ngày làm việc",
                "Due within a working day",
            ),
            n: c.due_soon,
            href: "/xu-ly?loc=soon",
            tone: "soon",
        },
        Counter {
            label: tr.t("Quá hạn", "Overdue"),
            n: c.overdue,
            href: "/xu-ly?loc=overdue",
            tone: "overdue",
        },
        Counter {
            label: tr.t("Chờ bổ sung", "Awaiting supplement"),
            n: c.awaiting_supplement,
            href: "/xu-ly?loc=supplement",
            tone: "",
        },
        Counter {
            label: tr.t("Chờ ký số", "Awaiting signature"),
            n: c.awaiting_signature,
            href: "/ky-so",
            tone: "",
        },
        Counter {
            label: tr.t("Chờ trả kết quả", "Results to return"),
            n: c.to_return,
            href: "/mot-cua#return",
            tone: "",
        },
    ]
}

#[derive(Template)]
#[template(path = "counters.html")]
struct CountersPage {
    page: Page,
    counters: Vec<Counter>,
}

const OFFICERS: &[Role] = &[
    Role::Reception,
    Role::Specialist,
    Role::Leader,
    Role::Postal,
];

async fn counters(State(s): State<AppState>, page: Page) -> Response {
    let user = match page.require(OFFICERS) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    match s.agency_counters(&actor_of(&user)).await {
        Ok(c) => render(&CountersPage {
            counters: counter_links(page.tr, &c),
            page: page.titled("Tổng quan công việc", "My agency at a glance"),
        }),
        Err(e) => error_page(page.tr, e.into()),
    }
}

#[derive(Deserialize)]
struct IocQuery {
    tu: Option<String>,
    den: Option<String>,
}

/// A date field of a form: empty or unreadable is none (the default period).
fn date(v: &Option<String>) -> Option<NaiveDate> {
    v.as_deref()
        .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
}

/// A row of a breakdown table.
struct Line {
    name: String,
    received: i64,
    resolved: i64,
    on_time: String,
    online: String,
    in_progress: i64,
    overdue: i64,
    bar: String,
}

/// A headline tile.
struct Tile {
    label: &'static str,
    value: String,
    detail: String,
}

struct OverdueLine {
    code: String,
    procedure: String,
    agency: String,
    due: String,
}

#[derive(Template)]
#[template(path = "ioc.html")]
struct IocPage {
    page: Page,
    from: String,
    to: String,
    from_input: String,
    to_input: String,
    tiles: Vec<Tile>,
    trend_svg: String,
    /// (heading, element id, rows)
    tables: Vec<(&'static str, &'static str, Vec<Line>)>,
    overdue: Vec<OverdueLine>,
    /// (place, name, score, band)
    ranking: Vec<(usize, String, String, String)>,
    query: String,
}

async fn ioc(State(s): State<AppState>, page: Page, Query(q): Query<IocQuery>) -> Response {
    let user = match page.require(&[Role::Viewer, Role::Admin, Role::Leader]) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    // The form's "to" is the last day shown; the period runs to the day after it.
    let to = date(&q.den).and_then(|d| d.succ_opt());
    let d = match s.ioc(&actor_of(&user), date(&q.tu), to).await {
        Ok(d) => d,
        Err(e) => return error_page(page.tr, e.into()),
    };
    let tr = page.tr;
    let last = d.period.to.pred_opt().unwrap_or(d.period.to);
    render(&IocPage {
        from: d.period.from.format("%d/%m/%Y").to_string(),
        to: last.format("%d/%m/%Y").to_string(),
        to_input: last.to_string(),
        from_input: d.period.from.to_string(),
        query: format!("tu={}&den={}", d.period.from, last),
        tiles: tiles(tr, &d.period.total),
        trend_svg: trend_svg(tr, &d),
        tables: vec![
            (
                tr.t("Theo cấp", "By level"),
                "by-level",
                lines(&d.by_level, "level", 10),
            ),
            (
                tr.t("Theo đơn vị hành chính", "By administrative unit"),
                "by-unit",
                lines(&d.by_unit, "unit", 15),
            ),
            (
                tr.t("Theo cơ quan", "By agency"),
                "by-agency",
                lines(&d.by_agency, "agency", 15),
            ),
        ],
        overdue: d
            .overdue
            .iter()
            .map(|o| OverdueLine {
                code: o.code.clone(),
                procedure: format!("{} — {}", o.procedure_code, o.procedure_name),
                agency: o.agency_name.clone(),
                due: o
                    .due_at
                    .map(|t| {
                        motcua_domain::stats::local_time(t)
                            .format("%H:%M %d/%m/%Y")
                            .to_string()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
        ranking: d
            .ranking
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    i + 1,
                    r.name.clone(),
                    format!("{:.2}", r.evaluation.score),
                    r.evaluation.rank.clone(),
                )
            })
            .collect(),
        page: page.titled("Trung tâm điều hành (IOC)", "Operations centre (IOC)"),
    })
}

fn pct(r: &Rate) -> String {
    r.percent()
        .map_or_else(|| "–".to_owned(), |p| format!("{p:.2}%"))
}

fn parts(r: &Rate) -> String {
    format!("{}/{}", r.numerator, r.denominator)
}

fn tiles(tr: Tr, f: &Figures) -> Vec<Tile> {
    vec![
        Tile {
            label: tr.t("Tiếp nhận", "Received"),
            value: f.received.to_string(),
            detail: format!(
                "{} {} · {} {}",
                tr.t("kỳ trước", "carried over"),
                f.carried_over,
                tr.t("mới", "new"),
                f.new.online + f.new.counter + f.new.postal
            ),
        },
        Tile {
            label: tr.t("Đã giải quyết", "Resolved"),
            value: f.resolved.total.to_string(),
            detail: format!(
                "{} {} · {} {} · {} {}",
                tr.t("trước hạn", "early"),
                f.resolved.early,
                tr.t("đúng hạn", "on time"),
                f.resolved.on_time,
                tr.t("quá hạn", "late"),
                f.resolved.late
            ),
        },
        Tile {
            label: tr.t("Tỷ lệ đúng hạn", "On-time rate"),
            value: pct(&f.rates.on_time),
            detail: parts(&f.rates.on_time),
        },
        Tile {
            label: tr.t("Đang giải quyết", "In progress"),
            value: f.in_progress.total.to_string(),
            detail: format!(
                "{} {} · {} {}",
                tr.t("trong hạn", "not due"),
                f.in_progress.not_due,
                tr.t("quá hạn", "overdue"),
                f.in_progress.overdue
            ),
        },
        Tile {
            label: tr.t("Tỷ lệ trực tuyến", "Online rate"),
            value: pct(&f.rates.online),
            detail: format!(
                "{} · {} {}",
                parts(&f.rates.online),
                tr.t("toàn trình", "full"),
                pct(&f.rates.full_online)
            ),
        },
        Tile {
            label: tr.t("Số hóa thành phần", "Digitised components"),
            value: pct(&f.rates.digitised_components),
            detail: parts(&f.rates.digitised_components),
        },
        Tile {
            label: tr.t("Kết quả điện tử", "Electronic results"),
            value: pct(&f.rates.electronic_results),
            detail: parts(&f.rates.electronic_results),
        },
        Tile {
            label: tr.t("Tái sử dụng", "Reuse"),
            value: pct(&f.rates.reuse),
            detail: parts(&f.rates.reuse),
        },
        Tile {
            label: tr.t("Rút / từ chối", "Withdrawn / refused"),
            value: format!("{} / {}", f.withdrawn, f.refused),
            detail: format!(
                "{} {}",
                tr.t("yêu cầu bổ sung", "supplements"),
                f.supplements_requested
            ),
        },
    ]
}

/// Text for SVG and HTML (the groups' names come from the reference data).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A breakdown table's rows, with a bar of each row's share of the largest.
fn lines(groups: &[StatGroup], dim: &str, n: usize) -> Vec<Line> {
    let max = groups
        .iter()
        .map(|g| g.figures.received)
        .max()
        .unwrap_or(0)
        .max(1);
    groups
        .iter()
        .take(n)
        .map(|g| {
            let f = &g.figures;
            let w = f.received * 100 / max;
            let late = if f.received > 0 {
                f.in_progress.overdue * w / f.received.max(1)
            } else {
                0
            };
            Line {
                name: g.names.get(dim).cloned().unwrap_or_default(),
                received: f.received,
                resolved: f.resolved.total,
                on_time: pct(&f.rates.on_time),
                online: pct(&f.rates.online),
                in_progress: f.in_progress.total,
                overdue: f.in_progress.overdue,
                bar: format!(
                    "<svg class=\"bar\" viewBox=\"0 0 100 8\" preserveAspectRatio=\"none\" aria-hidden=\"true\" focusable=\"false\">\
                     <rect width=\"{w}\" height=\"8\" class=\"all\"/><rect width=\"{late}\" height=\"8\" class=\"late\"/></svg>"
                ),
            }
        })
        .collect()
}

/// The last twelve months: received (online and other, stacked) and resolved, as an SVG.
fn trend_svg(tr: Tr, d: &Ioc) -> String {
    let months = &d.trend;
    let (w, h, pad) = (720i64, 240i64, 28i64);
    let max = months
        .iter()
        .map(|g| g.figures.new.online + g.figures.new.counter + g.figures.new.postal)
        .chain(months.iter().map(|g| g.figures.resolved.total))
        .max()
        .unwrap_or(0)
        .max(1);
    let n = i64::try_from(months.len()).unwrap_or(1).max(1);
    let slot = (w - pad) / n;
    let bar = (slot * 2 / 5).max(2);
    let mut s = format!(
        "<svg viewBox=\"0 0 {w} {}\" role=\"img\" aria-labelledby=\"trend-title\" class=\"chart\">\
         <title id=\"trend-title\">{}</title>",
        h + 24,
        esc(tr.t(
            "Hồ sơ mới tiếp nhận (trực tuyến và trực tiếp) và đã giải quyết theo tháng",
            "New dossiers (online and other) and resolved dossiers by month"
        ))
    );
    let plot = h - pad * 2;
    let _ = write!(
        s,
        "<line x1=\"{pad}\" y1=\"{}\" x2=\"{w}\" y2=\"{}\" class=\"axis\"/>",
        h - pad,
        h - pad
    );
    let _ = write!(
        s,
        "<text x=\"0\" y=\"{}\" class=\"tick\">{max}</text>",
        pad - 8
    );
    for (i, g) in months.iter().enumerate() {
        let f = &g.figures;
        let x = pad + i64::try_from(i).unwrap_or(0) * slot + slot / 8;
        let online = f.new.online * plot / max;
        let other = (f.new.counter + f.new.postal) * plot / max;
        let resolved = f.resolved.total * plot / max;
        let base = h - pad;
        let month = g.key.get("month").cloned().unwrap_or_default();
        let label =
            month.get(5..).unwrap_or(&month).to_owned() + "/" + month.get(2..4).unwrap_or("");
        let _ = write!(
            s,
            "<g><title>{}: {} {} ({} {}), {} {}</title>\
             <rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{online}\" class=\"online\"/>\
             <rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{other}\" class=\"other\"/>\
             <rect x=\"{}\" y=\"{}\" width=\"{bar}\" height=\"{resolved}\" class=\"resolved\"/>\
             <text x=\"{x}\" y=\"{}\" class=\"tick\">{}</text></g>",
            esc(&month),
            f.new.online + f.new.counter + f.new.postal,
            esc(tr.t("mới", "new")),
            f.new.online,
            esc(tr.t("trực tuyến", "online")),
            f.resolved.total,
            esc(tr.t("đã giải quyết", "resolved")),
            base - online,
            base - online - other,
            x + bar + 2,
            base - resolved,
            h - pad + 16,
            esc(&label),
        );
    }
    let legend = [
        ("online", tr.t("Trực tuyến", "Online")),
        ("other", tr.t("Trực tiếp, bưu chính", "Counter, post")),
        ("resolved", tr.t("Đã giải quyết", "Resolved")),
    ];
    for (i, (class, name)) in legend.iter().enumerate() {
        let x = pad + i64::try_from(i).unwrap_or(0) * 170;
        let _ = write!(
            s,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" class=\"{class}\"/>\
             <text x=\"{}\" y=\"{}\" class=\"tick\">{}</text>",
            h + 10,
            x + 14,
            h + 19,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

/// The dashboard's period as a file: the report by agency (`bao-cao.xlsx`, `bao-cao.csv`) or
/// the periodic report form (`bieu-tong-hop.xlsx`).
async fn download(
    State(s): State<AppState>,
    page: Page,
    axum::extract::Path(file): axum::extract::Path<String>,
    Query(q): Query<IocQuery>,
) -> Response {
    use axum::response::IntoResponse;
    let user = match page.require(&[Role::Viewer, Role::Admin, Role::Leader]) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let group_by = match file.as_str() {
        "bieu-tong-hop.xlsx" => vec![motcua_service::stats::GroupBy::Field],
        "bao-cao.xlsx" | "bao-cao.csv" => vec![motcua_service::stats::GroupBy::Agency],
        _ => {
            return error_page(
                page.tr,
                crate::error::ApiError::new(
                    axum::http::StatusCode::NOT_FOUND,
                    "not-found",
                    "Không có tệp này",
                    "no such file",
                ),
            );
        }
    };
    let query = motcua_service::stats::StatsQuery {
        from: date(&q.tu),
        to: date(&q.den).and_then(|d| d.succ_opt()),
        group_by,
        ..Default::default()
    };
    let actor = actor_of(&user);
    let report = match s.stats(&actor, &query).await {
        Ok(r) => r,
        Err(e) => return error_page(page.tr, e.into()),
    };
    let made = match file.as_str() {
        "bao-cao.csv" => Ok(crate::export::csv(&report)),
        "bao-cao.xlsx" => crate::export::xlsx(&report),
        _ => {
            let name = match (&actor.role, &actor.agency) {
                (Some(Role::Leader), Some(a)) => s.agency_name(a).await,
                _ => page.tr.t("Toàn tỉnh", "The whole province").to_owned(),
            };
            crate::export::periodic_form(&report, &name)
        }
    };
    match made {
        Ok(bytes) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    if file.ends_with(".csv") {
                        "text/csv; charset=utf-8"
                    } else {
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                    },
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    &format!("attachment; filename=\"{file}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "xlsx export failed");
            error_page(
                page.tr,
                crate::error::ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Không tạo được tệp bảng tính; vui lòng thử lại",
                    "the spreadsheet could not be made; please retry",
                ),
            )
        }
    }
}
