//! The official-document register (`/van-ban`): the agency's incoming and outgoing books,
//! searched without diacritics, counted for the month; an incoming document entered with the
//! verification of its signatures; an outgoing one sent to a leader to sign, then delivered.

use super::files::{MultipartForm, csrf_refused, read_multipart, too_large};
use super::{Page, error_page, messages, render, see_other};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{Datelike, NaiveDate};
use motcua_service::actor_of;
use motcua_service::documents::{IncomingDocument, OutgoingDocument};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/van-ban", get(books))
        .route(
            "/van-ban/den",
            post(incoming).layer(axum::extract::DefaultBodyLimit::max(
                crate::api::files::UPLOAD_BODY_LIMIT,
            )),
        )
        .route(
            "/van-ban/di",
            post(outgoing).layer(axum::extract::DefaultBodyLimit::max(
                crate::api::files::UPLOAD_BODY_LIMIT,
            )),
        )
        .route("/van-ban/{id}/tep", get(file))
}

/// A document as the book shows it.
pub struct Row {
    pub id: i64,
    pub direction: String,
    pub number: i32,
    pub symbol: String,
    pub issued_on: String,
    pub other_party: String,
    pub subject: String,
    pub state: String,
    /// The verification on arrival, in words.
    pub verified: String,
}

#[derive(Template)]
#[template(path = "documents.html")]
struct Books {
    page: Page,
    rows: Vec<Row>,
    q: String,
    direction: String,
    month: String,
    incoming: i64,
    outgoing: i64,
    signed: i64,
    leaders: Vec<(String, String)>,
    notice: String,
    errors: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Q {
    q: Option<String>,
    so: Option<String>,
    ok: Option<String>,
}

fn state_words(tr: super::Tr, direction: &str, state: &str) -> String {
    match (direction, state) {
        ("in", _) => tr.t("Đã vào sổ", "Registered"),
        (_, "signing") => tr.t("Đang chờ ký", "Waiting for the signature"),
        (_, "sent") => tr.t("Đã ký, đã gửi", "Signed and sent"),
        _ => tr.t("Ký không thành công", "Signing failed"),
    }
    .to_owned()
}

fn verified_words(tr: super::Tr, json: Option<&str>) -> String {
    let Some(reports) = json.and_then(|j| serde_json::from_str::<Vec<serde_json::Value>>(j).ok())
    else {
        return String::new();
    };
    if reports.is_empty() {
        return tr
            .t("Không có chữ ký số", "No digital signature")
            .to_owned();
    }
    let valid = reports.iter().filter(|r| r["valid"] == true).count();
    let signers = reports
        .iter()
        .filter_map(|r| r["signer"].as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if valid == reports.len() {
        format!(
            "{} ({signers})",
            tr.t("Chữ ký số hợp lệ", "Valid digital signatures")
        )
    } else {
        format!(
            "{} ({signers})",
            tr.t("Có chữ ký không hợp lệ", "A signature is not valid")
        )
    }
}

async fn show(s: &AppState, page: Page, q: Q, notice: String, errors: Vec<String>) -> Response {
    let Some(user) = page.user.clone() else {
        return see_other("/dang-nhap?next=/van-ban");
    };
    let tr = page.tr;
    let actor = actor_of(&user);
    let direction = q.so.unwrap_or_default();
    let words = q.q.unwrap_or_default();
    let docs = match s
        .official_documents(
            &actor,
            Some(direction.as_str()).filter(|d| !d.is_empty()),
            Some(words.as_str()).filter(|w| !w.trim().is_empty()),
            None,
            None,
        )
        .await
    {
        Ok(d) => d,
        Err(e) => return error_page(tr, ApiError::from(e)),
    };
    let today = s.calendar().local(s.now()).date();
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let counts = s
        .document_counts(&actor, first, today)
        .await
        .unwrap_or_default();
    let leaders = match &user.agency_code {
        Some(a) => s
            .store()
            .active_users_of(a)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|u| u.role == motcua_domain::auth::Role::Leader)
            .map(|u| (u.username, u.full_name))
            .collect(),
        None => Vec::new(),
    };
    let rows = docs
        .into_iter()
        .map(|d| Row {
            state: state_words(tr, &d.direction, &d.state),
            verified: verified_words(tr, d.verification.as_deref()),
            id: d.id,
            number: d.number,
            symbol: d.symbol,
            issued_on: d.issued_on.format("%d/%m/%Y").to_string(),
            other_party: d.other_party,
            subject: d.subject,
            direction: d.direction,
        })
        .collect();
    render(&Books {
        page: page.titled(
            "Sổ văn bản đến, văn bản đi",
            "Incoming and outgoing documents",
        ),
        rows,
        q: words,
        direction,
        month: today.format("%m/%Y").to_string(),
        incoming: counts.incoming,
        outgoing: counts.outgoing,
        signed: counts.outgoing_signed,
        leaders,
        notice,
        errors,
    })
}

async fn books(State(s): State<AppState>, page: Page, Query(q): Query<Q>) -> Response {
    let notice = if q.ok.is_some() {
        page.tr.t("Đã vào sổ.", "Registered.").to_owned()
    } else {
        String::new()
    };
    show(&s, page, q, notice, Vec::new()).await
}

/// The form's fields, the file, and the check of its anti-forgery token.
async fn form_of(
    page: &Page,
    parts: &mut Multipart,
) -> Result<(MultipartForm, String, Vec<u8>), ApiError> {
    let form = read_multipart(parts).await.map_err(|_| too_large())?;
    if !super::csrf_matches(page, &form.csrf) {
        return Err(csrf_refused());
    }
    let Some((name, bytes)) = form.file.clone().filter(|f| !f.1.is_empty()) else {
        return Err(ApiError::invalid(
            "file",
            "Chưa chọn tệp",
            "no file was chosen",
        ));
    };
    Ok((form, name, bytes))
}

async fn incoming(State(s): State<AppState>, page: Page, mut parts: Multipart) -> Response {
    if page.user.is_none() {
        return see_other("/dang-nhap?next=/van-ban");
    }
    let result = match form_of(&page, &mut parts).await {
        Err(e) => Err(e),
        Ok((form, name, bytes)) => {
            let f = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
            match NaiveDate::parse_from_str(&f("issued_on"), "%Y-%m-%d") {
                Err(_) => Err(ApiError::invalid(
                    "issued_on",
                    "Cần ngày ban hành",
                    "the day of issue is needed",
                )),
                Ok(issued_on) => {
                    let m = IncomingDocument {
                        subject: f("subject"),
                        issuer: f("issuer"),
                        symbol: f("symbol"),
                        issued_on,
                        signer: Some(f("signer")),
                        name: Some(name),
                    };
                    s.register_incoming(&page.acting(&s), m, &bytes)
                        .await
                        .map_err(ApiError::from)
                }
            }
        }
    };
    answer(&s, page, result, "/van-ban?so=in&ok=1").await
}

async fn outgoing(State(s): State<AppState>, page: Page, mut parts: Multipart) -> Response {
    if page.user.is_none() {
        return see_other("/dang-nhap?next=/van-ban");
    }
    let result = match form_of(&page, &mut parts).await {
        Err(e) => Err(e),
        Ok((form, name, bytes)) => {
            let f = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
            let m = OutgoingDocument {
                subject: f("subject"),
                recipient: f("recipient"),
                recipient_agency: Some(f("recipient_agency")),
                symbol: Some(f("symbol")),
                signer: f("signer"),
                name: Some(name),
            };
            s.send_outgoing(&page.acting(&s), m, &bytes)
                .await
                .map_err(ApiError::from)
        }
    };
    answer(&s, page, result, "/van-ban?so=out&ok=1").await
}

/// After a form: on to the book, or the book again with the errors.
async fn answer<T>(s: &AppState, page: Page, result: Result<T, ApiError>, then: &str) -> Response {
    match result {
        Ok(_) => see_other(then),
        Err(e) => {
            let m = messages(page.tr, &e);
            show(s, page, Q::default(), String::new(), m).await
        }
    }
}

async fn file(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    let Some(user) = page.user.clone() else {
        return see_other("/dang-nhap?next=/van-ban");
    };
    match s.official_document_file(&actor_of(&user), id).await {
        Ok((doc, bytes)) => crate::api::slips::pdf_response(&doc.file_name.replace('"', ""), bytes),
        Err(e) => error_page(page.tr, e.into()),
    }
}
