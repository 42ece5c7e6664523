//! The leader's signing queue (`/ky-so`): each result before signing (open it), sign one or
//! many at once, refuse one with a reason; signing runs as jobs (a remote signer approves on
//! their device) and the page follows their progress.

use super::{Form, Page, error_page, messages, render, see_other};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ky-so", get(queue).post(sign))
        .route("/ky-so/{file}/tu-choi", post(refuse))
}

/// One result as the queue shows it.
pub struct Row {
    pub file_id: i64,
    pub dossier: String,
    pub procedure: String,
    pub applicant: String,
    pub file_name: String,
    pub state: String,
    pub state_text: String,
    pub reason: String,
    pub document: String,
    /// May be (re)queued.
    pub signable: bool,
}

#[derive(Template)]
#[template(path = "signing.html")]
struct Queue {
    page: Page,
    rows: Vec<Row>,
    /// Some job still runs: the page refreshes itself.
    running: bool,
    notice: String,
    errors: Vec<String>,
}

#[derive(Deserialize)]
struct Q {
    gui: Option<usize>,
}

fn state_text(tr: super::Tr, state: &str) -> String {
    match state {
        "unsigned" => tr.t("Chưa ký", "Not signed"),
        "queued" => tr.t("Đang chờ ký", "Waiting to be signed"),
        "signing" => tr.t(
            "Đang chờ xác nhận trên thiết bị ký",
            "Waiting for approval on the signing device",
        ),
        "signed" => tr.t("Đã ký và đóng dấu", "Signed and sealed"),
        "refused" => tr.t("Từ chối ký", "Refused"),
        _ => tr.t("Ký không thành công", "Signing failed"),
    }
    .to_owned()
}

async fn show(s: &AppState, page: Page, notice: String, errors: Vec<String>) -> Response {
    let Some(user) = page.user.clone() else {
        return see_other("/dang-nhap?next=/ky-so");
    };
    let tr = page.tr;
    let items = match s.signing_queue(&motcua_service::actor_of(&user)).await {
        Ok(items) => items,
        Err(e) => return error_page(tr, ApiError::from(e)),
    };
    let rows: Vec<Row> = items
        .into_iter()
        .map(|q| Row {
            file_id: q.file.id,
            dossier: q.dossier_code,
            procedure: q.procedure_name,
            applicant: q.applicant_name,
            file_name: q.file.name,
            state_text: state_text(tr, &q.state),
            signable: matches!(q.state.as_str(), "unsigned" | "refused" | "failed"),
            state: q.state,
            reason: q.reason.unwrap_or_default(),
            document: q.document_code.unwrap_or_default(),
        })
        .collect();
    let running = rows
        .iter()
        .any(|r| matches!(r.state.as_str(), "queued" | "signing"));
    render(&Queue {
        page: page.titled("Ký số kết quả", "Sign results"),
        rows,
        running,
        notice,
        errors,
    })
}

async fn queue(State(s): State<AppState>, page: Page, Query(q): Query<Q>) -> Response {
    let notice = match q.gui {
        Some(n) => format!(
            "{} {n} {}",
            page.tr.t("Đã gửi ký", "Sent for signing:"),
            page.tr.t("kết quả.", "result(s).")
        ),
        None => String::new(),
    };
    show(&s, page, notice, Vec::new()).await
}

async fn sign(State(s): State<AppState>, page: Page, form: Form) -> Response {
    if page.user.is_none() {
        return see_other("/dang-nhap?next=/ky-so");
    }
    let ids: Vec<i64> = form
        .all("file")
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    let by = page.acting(&s);
    match s.sign_results(&by, &ids).await {
        Ok(n) => see_other(&format!("/ky-so?gui={n}")),
        Err(e) => {
            let m = messages(page.tr, &ApiError::from(e));
            show(&s, page, String::new(), m).await
        }
    }
}

async fn refuse(
    State(s): State<AppState>,
    page: Page,
    Path(file): Path<i64>,
    form: Form,
) -> Response {
    if page.user.is_none() {
        return see_other("/dang-nhap?next=/ky-so");
    }
    let by = page.acting(&s);
    match s.refuse_result(&by, file, &form.text("reason")).await {
        Ok(()) => see_other("/ky-so"),
        Err(e) => {
            let m = messages(page.tr, &ApiError::from(e));
            show(&s, page, String::new(), m).await
        }
    }
}
