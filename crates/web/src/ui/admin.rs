//! Administration: agencies, the calendar's yearly tables, procedures'
//! processes, the catalogue. Structured data (a year's table, a process, a catalogue file) is
//! edited as the same JSON or CSV the API and the import commands take, checked the same way.

use super::{Form, Page, error_page, messages, render, render_form, see_other};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::Datelike;
use motcua_domain::calendar::YearTable;
use motcua_domain::catalogue::{CatalogueFormat, parse_catalogue};
use motcua_domain::codes::AgencyCode;
use motcua_domain::policy::Permission;
use motcua_domain::process::Process;
use motcua_domain::units::Agency;
use motcua_service::actor_of;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/quan-tri", get(overview))
        .route("/quan-tri/co-quan", post(put_agency))
        .route("/quan-tri/lich", get(calendar).post(put_calendar))
        .route("/quan-tri/quy-trinh", get(process).post(put_process))
        .route(
            "/quan-tri/mau-ket-qua",
            get(result_template).post(put_result_template),
        )
        .route("/quan-tri/thu-tuc", post(import_catalogue))
        .route("/quan-tri/mot-thu-tuc", get(procedure).post(put_procedure))
        .route("/quan-tri/don-vi", get(units))
        .route("/quan-tri/tac-vu", get(jobs).post(job_action))
}

struct KindRow {
    kind: String,
    queued: i64,
    running: i64,
    failed: i64,
    dead: i64,
    done: i64,
    oldest: String,
    last_error: String,
}

struct DeadRow {
    id: i64,
    kind: String,
    attempts: i32,
    error: String,
}

#[derive(Template)]
#[template(path = "admin_jobs.html")]
struct JobsPage {
    page: Page,
    kinds: Vec<KindRow>,
    dead: Vec<DeadRow>,
    /// Audit records not yet sealed into the chain.
    unsealed: i64,
    /// Seconds since the oldest of them was written ("" when none).
    unsealed_oldest: String,
    notice: String,
    errors: Vec<String>,
}

async fn jobs_page(s: &AppState, page: Page, notice: String, errors: Vec<String>) -> Response {
    let tr = page.tr;
    let actor = page.acting(s).actor;
    let kinds = match s.job_stats(&actor).await {
        Ok(k) => k,
        Err(e) => return error_page(tr, e.into()),
    };
    let dead = match s.jobs(&actor, Some("dead"), None, 200).await {
        Ok(j) => j,
        Err(e) => return error_page(tr, e.into()),
    };
    let backlog = match s.seal_backlog(&actor).await {
        Ok(b) => b,
        Err(e) => return error_page(tr, e.into()),
    };
    let now = s.now();
    let has_errors = !errors.is_empty();
    render_form(
        &JobsPage {
            unsealed: backlog.unsealed,
            unsealed_oldest: backlog
                .oldest_at
                .map(|at| (now - at).num_seconds().max(0).to_string())
                .unwrap_or_default(),
            page: page.titled("Tác vụ nền", "Background jobs"),
            kinds: kinds
                .into_iter()
                .map(|k| KindRow {
                    kind: k.kind,
                    queued: k.queued,
                    running: k.running,
                    failed: k.failed,
                    dead: k.dead,
                    done: k.done,
                    oldest: k
                        .oldest_due_seconds
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    last_error: k.last_error.unwrap_or_default(),
                })
                .collect(),
            dead: dead
                .into_iter()
                .map(|j| DeadRow {
                    id: j.id,
                    kind: j.kind,
                    attempts: j.attempts,
                    error: j.last_error.unwrap_or_default(),
                })
                .collect(),
            notice,
            errors,
        },
        has_errors,
    )
}

async fn jobs(State(s): State<AppState>, page: Page, Query(q): Query<NoticeQuery>) -> Response {
    if let Err(r) = page.may(Permission::ManageJobs) {
        return r;
    }
    let notice = if q.ok.is_some() {
        page.tr.t("Đã thực hiện.", "Done.").to_owned()
    } else {
        String::new()
    };
    jobs_page(&s, page, notice, Vec::new()).await
}

async fn job_action(State(s): State<AppState>, page: Page, form: Form) -> Response {
    if let Err(r) = page.may(Permission::ManageJobs) {
        return r;
    }
    let by = page.acting(&s);
    let result = match (form.text("id").parse::<i64>(), form.text("do").as_str()) {
        (Ok(id), "retry") => s.retry_job(&by, id).await.map(|_| ()),
        (Ok(id), "discard") => s.discard_job(&by, id).await,
        _ => Err(motcua_service::ServiceError::invalid(
            "id",
            "Cần số tác vụ và thao tác (thử lại hoặc bỏ)",
            "give the job number and the action (retry or discard)",
        )),
    };
    match result {
        Ok(()) => see_other("/quan-tri/tac-vu?ok=1"),
        Err(e) => {
            let m = messages(page.tr, &ApiError::from(e));
            jobs_page(&s, page, String::new(), m).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin.html")]
struct Overview {
    page: Page,
    users: usize,
    agencies: Vec<(String, String, String, bool)>,
    procedures: usize,
    notice: String,
    errors: Vec<String>,
}

#[derive(Deserialize)]
struct NoticeQuery {
    ok: Option<String>,
}

async fn overview_page(s: &AppState, page: Page, notice: String, errors: Vec<String>) -> Response {
    let tr = page.tr;
    let users = match s.store().users().await {
        Ok(u) => u.len(),
        Err(e) => return error_page(tr, e.into()),
    };
    let agencies = match s.store().agencies(None, None, None, None, Some(500)).await {
        Ok(a) => a.items,
        Err(e) => return error_page(tr, e.into()),
    };
    let procedures = match s.store().procedure_fields().await {
        Ok(f) => f.iter().map(|(_, n)| *n as usize).sum(),
        Err(e) => return error_page(tr, e.into()),
    };
    let has_errors = !errors.is_empty();
    render_form(
        &Overview {
            page: page.titled("Quản trị hệ thống", "Administration"),
            users,
            agencies: agencies
                .into_iter()
                .map(|a| {
                    (
                        a.code.to_string(),
                        a.name,
                        a.unit_code.unwrap_or_default(),
                        a.one_stop_point,
                    )
                })
                .collect(),
            procedures,
            notice,
            errors,
        },
        has_errors,
    )
}

async fn overview(State(s): State<AppState>, page: Page, Query(q): Query<NoticeQuery>) -> Response {
    if let Err(r) = page.may(Permission::EditReference) {
        return r;
    }
    let notice =
        q.ok.map(|_| page.tr.t("Đã lưu.", "Saved.").to_owned())
            .unwrap_or_default();
    overview_page(&s, page, notice, Vec::new()).await
}

async fn put_agency(State(s): State<AppState>, page: Page, form: Form) -> Response {
    if let Err(r) = page.may(Permission::EditReference) {
        return r;
    }
    let parsed = AgencyCode::parse(&form.text("code")).and_then(|code| {
        Ok(Agency {
            code,
            name: form.text("name"),
            parent_code: form.get("parent_code").map(AgencyCode::parse).transpose()?,
            unit_code: form.get("unit_code").map(str::to_owned),
            one_stop_point: form.get("one_stop_point").is_some(),
            provenance: None,
        })
    });
    let result = match parsed {
        Ok(a) => s
            .put_agency(&page.acting(&s), a)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::from(e)),
    };
    match result {
        Ok(_) => see_other("/quan-tri?ok=1"),
        Err(e) => {
            let m = messages(page.tr, &e);
            overview_page(&s, page, String::new(), m).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_json.html")]
struct JsonEditor {
    page: Page,
    action: &'static str,
    intro: String,
    key_name: &'static str,
    key: String,
    text: String,
    notice: String,
    errors: Vec<String>,
}

/// One kind of structured record edited as JSON: where it posts, its key, what it is.
struct EditorKind {
    action: &'static str,
    key_name: &'static str,
    intro: (&'static str, &'static str),
}

const CALENDAR: EditorKind = EditorKind {
    action: "/quan-tri/lich",
    key_name: "nam",
    intro: (
        "Bảng ngày nghỉ, nghỉ bù, hoán đổi và ngày làm bù của năm. Lưu bảng này thì nó thay cho quy tắc tính sẵn của năm đó.",
        "The year's days off, compensatory and swapped days, make-up workdays. A saved table replaces the computed rules for that year.",
    ),
};

const PROCESS: EditorKind = EditorKind {
    action: "/quan-tri/quy-trinh",
    key_name: "thu_tuc",
    intro: (
        "Các bước theo thứ tự: vai trò, cơ quan (receiving, competent hoặc {\"code\": mã}), tỷ lệ thời gian (tổng 100), đúng một bước quyết định. Hồ sơ đã nộp giữ quy trình cũ.",
        "Ordered steps: role, agency (receiving, competent or {\"code\": id}), share of the time limit (adding up to 100), exactly one deciding step. Dossiers already filed keep their process.",
    ),
};

const RESULT_TEMPLATE: EditorKind = EditorKind {
    action: "/quan-tri/mau-ket-qua",
    key_name: "thu_tuc",
    intro: (
        "Mẫu văn bản kết quả do cơ quan ban hành cho thủ tục: tiêu đề (title), nội dung (body — các đoạn cách nhau một dòng trống) và chức danh người ký (signer_title). Các trường được điền từ hồ sơ: {ho_ten}, {so_dinh_danh}, {dia_chi}, {ma_ho_so}, {thu_tuc}, {ma_thu_tuc}, {co_quan}, {ngay_tiep_nhan}, {ngay}.",
        "The result document the agency issues for the procedure: the title, the body (paragraphs separated by a blank line) and the signer's title. Filled from the dossier: {ho_ten}, {so_dinh_danh}, {dia_chi}, {ma_ho_so}, {thu_tuc}, {ma_thu_tuc}, {co_quan}, {ngay_tiep_nhan}, {ngay}.",
    ),
};

const PROCEDURE: EditorKind = EditorKind {
    action: "/quan-tri/mot-thu-tuc",
    key_name: "ma",
    intro: (
        "Một thủ tục của danh mục, dạng JSON như khi nhập danh mục. Nhập mã để mở thủ tục có sẵn.",
        "One procedure of the catalogue, as JSON like a catalogue import. Give a code to open an existing one.",
    ),
};

/// The JSON editor of `kind`: "saved" after the redirect of a save, the errors (422) after a
/// refused one.
fn editor(
    page: Page,
    kind: &EditorKind,
    key: String,
    text: String,
    saved: bool,
    errors: Vec<String>,
) -> Response {
    let has_errors = !errors.is_empty();
    let tr = page.tr;
    render_form(
        &JsonEditor {
            action: kind.action,
            intro: tr.t(kind.intro.0, kind.intro.1).to_owned(),
            key_name: kind.key_name,
            key,
            text,
            notice: if saved {
                tr.t("Đã lưu.", "Saved.").to_owned()
            } else {
                String::new()
            },
            errors,
            page,
        },
        has_errors,
    )
}

#[derive(Deserialize)]
struct YearQuery {
    nam: Option<i32>,
    ok: Option<String>,
}

async fn calendar(State(s): State<AppState>, page: Page, Query(q): Query<YearQuery>) -> Response {
    if let Err(r) = page.may(Permission::EditReference) {
        return r;
    }
    let cal = s.calendar();
    let year = q.nam.unwrap_or_else(|| cal.local(s.now()).year());
    let table = YearTable {
        year,
        source: cal.table(year).map_or_else(
            || "computed from the Labour Code rules".to_owned(),
            |t| t.source.clone(),
        ),
        entries: cal.entries(year),
    };
    let text = serde_json::to_string_pretty(&table).unwrap_or_default();
    let page = page.titled("Lịch làm việc theo năm", "Working calendar by year");
    editor(
        page,
        &CALENDAR,
        year.to_string(),
        text,
        q.ok.is_some(),
        Vec::new(),
    )
}

async fn put_calendar(State(s): State<AppState>, page: Page, form: Form) -> Response {
    if let Err(r) = page.may(Permission::EditReference) {
        return r;
    }
    let text = form.text("text");
    let result = match serde_json::from_str::<YearTable>(&text) {
        Ok(t) if (1900..=2100).contains(&t.year) => s
            .put_calendar_year(&page.acting(&s), t)
            .await
            .map_err(ApiError::from),
        Ok(_) => Err(ApiError::invalid(
            "year",
            "Năm phải trong khoảng 1900–2100",
            "year must be within 1900–2100",
        )),
        Err(e) => Err(ApiError::invalid(
            "text",
            format!("JSON không hợp lệ: {e}"),
            format!("invalid JSON: {e}"),
        )),
    };
    let page = page.titled("Lịch làm việc theo năm", "Working calendar by year");
    match result {
        Ok(t) => see_other(&format!("/quan-tri/lich?nam={}&ok=1", t.year)),
        Err(e) => {
            let tr = page.tr;
            editor(
                page,
                &CALENDAR,
                form.text("nam"),
                text,
                false,
                messages(tr, &e),
            )
        }
    }
}

#[derive(Deserialize)]
struct ProcessQuery {
    thu_tuc: Option<String>,
    ok: Option<String>,
}

async fn process(State(s): State<AppState>, page: Page, Query(q): Query<ProcessQuery>) -> Response {
    if let Err(r) = page.may(Permission::EditReference) {
        return r;
    }
    let code = q.thu_tuc.unwrap_or_default();
    let page = page.titled("Quy trình xử lý của thủ tục", "Process of a procedure");
    let tr = page.tr;
    let text = if code.is_empty() {
        String::new()
    } else {
        match s.store().procedure(&code).await {
            Ok(_) => match s.store().process_for(&code).await {
                Ok(p) => serde_json::to_string_pretty(&p).unwrap_or_default(),
                Err(e) => return error_page(tr, e.into()),
            },
            Err(e) => return error_page(tr, e.into()),
        }
    };
    editor(page, &PROCESS, code, text, q.ok.is_some(), Vec::new())
}

async fn put_process(State(s): State<AppState>, page: Page, form: Form) -> Response {
    let user = match page.may(Permission::EditReference) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let code = form.text("thu_tuc");
    let text = form.text("text");
    let result = match (
        s.store().procedure(&code).await,
        serde_json::from_str::<Process>(&text),
    ) {
        (Err(e), _) => Err(ApiError::from(e)),
        (_, Err(e)) => Err(ApiError::invalid(
            "text",
            format!("JSON không hợp lệ: {e}"),
            format!("invalid JSON: {e}"),
        )),
        (Ok(_), Ok(p)) => s
            .put_process(&s.acting(actor_of(&user)), &code, p)
            .await
            .map_err(ApiError::from),
    };
    let page = page.titled("Quy trình xử lý của thủ tục", "Process of a procedure");
    match result {
        Ok(_) => see_other(&format!("/quan-tri/quy-trinh?thu_tuc={code}&ok=1")),
        Err(e) => {
            let tr = page.tr;
            editor(page, &PROCESS, code, text, false, messages(tr, &e))
        }
    }
}

async fn import_catalogue(State(s): State<AppState>, page: Page, form: Form) -> Response {
    if let Err(r) = page.may(Permission::EditReference) {
        return r;
    }
    let text = form.text("catalogue");
    let format = CatalogueFormat::detect("", text.as_bytes());
    let result = match parse_catalogue(format, text.as_bytes()) {
        Ok(ps) => s
            .import_procedures(&page.acting(&s), ps)
            .await
            .map_err(ApiError::from),
        Err(rows) => Err(motcua_service::ServiceError::Import(rows).into()),
    };
    match result {
        Ok(_) => see_other("/quan-tri?ok=1"),
        Err(e) => {
            let tr = page.tr;
            let mut m = messages(tr, &e);
            m.extend(e.rows.iter().map(|r| r.to_string()));
            overview_page(&s, page, String::new(), m).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_units.html")]
struct Units {
    page: Page,
    q: String,
    rows: Vec<UnitRow>,
}

struct UnitRow {
    level: String,
    code: String,
    name: String,
    validity: String,
    successors: String,
}

#[derive(Deserialize)]
struct UnitsQuery {
    q: Option<String>,
}

/// Administrative units, current and historical, with what replaced the old ones.
async fn units(State(s): State<AppState>, page: Page, Query(q): Query<UnitsQuery>) -> Response {
    if let Err(r) = page.may(Permission::EditReference) {
        return r;
    }
    let page = page.titled("Đơn vị hành chính", "Administrative units");
    let text = q.q.unwrap_or_default();
    let mut rows = Vec::new();
    if !text.trim().is_empty() {
        let found = match s
            .store()
            .units(&motcua_service::store::UnitQuery {
                q: Some(text.clone()),
                limit: Some(50),
                ..Default::default()
            })
            .await
        {
            Ok(p) => p.items,
            Err(e) => return error_page(page.tr, e.into()),
        };
        for u in found {
            let full = match s.store().unit(u.id).await {
                Ok(f) => f,
                Err(e) => return error_page(page.tr, e.into()),
            };
            rows.push(UnitRow {
                level: u.level.as_str().to_owned(),
                code: u.code,
                name: u.name,
                validity: match (u.valid_from, u.valid_to) {
                    (_, Some(to)) => {
                        format!("{} {}", page.tr.t("đến", "until"), to.format("%d/%m/%Y"))
                    }
                    (Some(from), None) => {
                        format!("{} {}", page.tr.t("từ", "since"), from.format("%d/%m/%Y"))
                    }
                    (None, None) => String::new(),
                },
                successors: full
                    .successors
                    .iter()
                    .map(|x| format!("{} {} ({})", x.code, x.name, x.note))
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
    }
    render(&Units {
        page,
        q: text,
        rows,
    })
}

#[derive(Deserialize)]
struct ProcedureQuery {
    ma: Option<String>,
    ok: Option<String>,
}

async fn procedure(
    State(s): State<AppState>,
    page: Page,
    Query(q): Query<ProcedureQuery>,
) -> Response {
    if let Err(r) = page.may(Permission::EditReference) {
        return r;
    }
    let page = page.titled("Sửa một thủ tục", "Edit a procedure");
    let code = q.ma.unwrap_or_default();
    let text = if code.is_empty() {
        String::new()
    } else {
        match s.store().procedure(&code).await {
            Ok(p) => serde_json::to_string_pretty(&p).unwrap_or_default(),
            Err(e) => return error_page(page.tr, e.into()),
        }
    };
    editor(page, &PROCEDURE, code, text, q.ok.is_some(), Vec::new())
}

async fn put_procedure(State(s): State<AppState>, page: Page, form: Form) -> Response {
    if let Err(r) = page.may(Permission::EditReference) {
        return r;
    }
    let page = page.titled("Sửa một thủ tục", "Edit a procedure");
    let text = form.text("text");
    let result = match serde_json::from_str::<motcua_domain::catalogue::Procedure>(&text) {
        Ok(p) => s
            .put_procedure(&page.acting(&s), p)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::invalid(
            "text",
            format!("JSON không hợp lệ: {e}"),
            format!("invalid JSON: {e}"),
        )),
    };
    match result {
        Ok((p, _)) => see_other(&format!("/quan-tri/mot-thu-tuc?ma={}&ok=1", p.code)),
        Err(e) => {
            let m = messages(page.tr, &e);
            editor(page, &PROCEDURE, form.text("ma"), text, false, m)
        }
    }
}

async fn result_template(
    State(s): State<AppState>,
    page: Page,
    Query(q): Query<ProcessQuery>,
) -> Response {
    if let Err(r) = page.may(Permission::EditReference) {
        return r;
    }
    let code = q.thu_tuc.unwrap_or_default();
    let page = page.titled(
        "Mẫu văn bản kết quả của thủ tục",
        "Result template of a procedure",
    );
    let text = if code.is_empty() {
        String::new()
    } else {
        match s.result_template(&code).await {
            Ok((t, _)) => serde_json::to_string_pretty(&t).unwrap_or_default(),
            Err(e) => return error_page(page.tr, e.into()),
        }
    };
    editor(
        page,
        &RESULT_TEMPLATE,
        code,
        text,
        q.ok.is_some(),
        Vec::new(),
    )
}

async fn put_result_template(State(s): State<AppState>, page: Page, form: Form) -> Response {
    let user = match page.may(Permission::EditReference) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let code = form.text("thu_tuc");
    let text = form.text("text");
    let result = match serde_json::from_str::<motcua_domain::results::ResultTemplate>(&text) {
        Err(e) => Err(ApiError::invalid(
            "text",
            format!("JSON không hợp lệ: {e}"),
            format!("invalid JSON: {e}"),
        )),
        Ok(t) => s
            .put_result_template(&s.acting(actor_of(&user)), &code, t)
            .await
            .map_err(ApiError::from),
    };
    let page = page.titled(
        "Mẫu văn bản kết quả của thủ tục",
        "Result template of a procedure",
    );
    match result {
        Ok(_) => see_other(&format!("/quan-tri/mau-ket-qua?thu_tuc={code}&ok=1")),
        Err(e) => {
            let tr = page.tr;
            editor(page, &RESULT_TEMPLATE, code, text, false, messages(tr, &e))
        }
    }
}
