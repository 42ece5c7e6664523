//! The first web pages: a catalogue search and a procedure page, server-rendered, no
//! JavaScript, small enough for a slow commune link. The full UI comes with its own issue.

use crate::AppState;
use crate::error::{ApiQuery, ApiResult};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use motcua_domain::calendar::TimeUnit;
use motcua_domain::catalogue::Procedure;
use motcua_store::ProcedureQuery;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/thu-tuc/{code}", get(procedure))
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1a1a1a}\
header{border-bottom:3px solid #b71c1c;margin-bottom:1rem}a{color:#0b4f9c}\
input,button{font:inherit;padding:.4rem}input[type=search]{width:min(100%,30rem)}\
:focus-visible{outline:3px solid #f9a825;outline-offset:2px}li{margin:.4rem 0}\
dt{font-weight:600}dd{margin:0 0 .6rem}.muted{color:#555;font-size:.9rem}";

fn layout(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} — motcua</title><style>{STYLE}</style></head><body>\
         <header><p><a href=\"/\"><strong>motcua</strong></a> · Hệ thống thông tin giải quyết thủ tục hành chính \
         <span class=\"muted\">(electronic one-stop system)</span></p></header><main>{body}</main>\
         <footer class=\"muted\"><p><a href=\"/api/docs\">API</a></p></footer></body></html>",
        esc(title)
    ))
}

#[derive(Deserialize)]
struct HomeQuery {
    q: Option<String>,
}

fn limit_text(p: &Procedure) -> String {
    match p.time_limit {
        None => p
            .time_limit_text
            .clone()
            .unwrap_or_else(|| "Chưa công bố".into()),
        Some(t) => {
            let unit = match t.unit {
                TimeUnit::WorkingDays => "ngày làm việc",
                TimeUnit::CalendarDays => "ngày",
                TimeUnit::WorkingHours => "giờ làm việc",
                TimeUnit::SameDay => "trong ngày",
                TimeUnit::Months => "tháng",
            };
            if t.unit == TimeUnit::SameDay {
                unit.into()
            } else {
                format!("{} {unit}", t.value)
            }
        }
    }
}

async fn home(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<HomeQuery>,
) -> ApiResult<Html<String>> {
    let text = q.q.unwrap_or_default();
    let page = s
        .store
        .search_procedures(&ProcedureQuery {
            q: Some(text.clone()).filter(|t| !t.trim().is_empty()),
            limit: Some(30),
            ..Default::default()
        })
        .await?;
    let mut body = format!(
        "<h1>Tra cứu thủ tục hành chính</h1>\
         <form method=\"get\" action=\"/\" role=\"search\"><label for=\"q\">Tên thủ tục hoặc mã \
         <span class=\"muted\">(procedure name or code)</span></label><br>\
         <input type=\"search\" id=\"q\" name=\"q\" value=\"{}\" autofocus> <button type=\"submit\">Tìm</button></form>",
        esc(&text)
    );
    if page.items.is_empty() {
        body.push_str("<p>Không tìm thấy thủ tục phù hợp. <span class=\"muted\">(No procedure found.)</span></p>");
    } else {
        body.push_str("<ul>");
        for p in &page.items {
            body.push_str(&format!(
                "<li><a href=\"/thu-tuc/{code}\">{name}</a><br><span class=\"muted\">{code} · {field} · {limit}</span></li>",
                code = esc(p.code.as_str()),
                name = esc(&p.name),
                field = esc(&p.field),
                limit = esc(&limit_text(p)),
            ));
        }
        body.push_str("</ul>");
    }
    Ok(layout("Tra cứu thủ tục", &body))
}

async fn procedure(State(s): State<AppState>, Path(code): Path<String>) -> ApiResult<Html<String>> {
    let p = s.store.procedure(&code).await?;
    let fees = if p.fees.is_empty() {
        p.fee_text.clone().unwrap_or_else(|| "Không thu phí".into())
    } else {
        p.fees
            .iter()
            .map(|f| format!("{}: {} {}", f.name, f.amount, f.currency))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let comps: String = p
        .components
        .iter()
        .map(|c| {
            format!(
                "<li>{} <span class=\"muted\">({} bản chính, {} bản sao)</span></li>",
                esc(&c.name),
                c.originals,
                c.copies
            )
        })
        .collect();
    let body = format!(
        "<h1>{name}</h1><dl><dt>Mã thủ tục</dt><dd>{code}</dd><dt>Lĩnh vực</dt><dd>{field}</dd>\
         <dt>Thời hạn giải quyết</dt><dd>{limit}</dd><dt>Phí, lệ phí</dt><dd>{fees}</dd>\
         <dt>Cơ quan thực hiện</dt><dd>{agency}</dd></dl><h2>Thành phần hồ sơ</h2>{comps}{prov}",
        name = esc(&p.name),
        code = esc(p.code.as_str()),
        field = esc(&p.field),
        limit = esc(&limit_text(&p)),
        fees = esc(&fees),
        agency = esc(p.implementing_agency.as_deref().unwrap_or("—")),
        comps = if comps.is_empty() {
            "<p>Chưa công bố.</p>".to_owned()
        } else {
            format!("<ul>{comps}</ul>")
        },
        prov = p
            .provenance
            .as_deref()
            .map(|x| format!("<p class=\"muted\">Nguồn dữ liệu: {}</p>", esc(x)))
            .unwrap_or_default(),
    );
    Ok(layout(&p.name, &body))
}
