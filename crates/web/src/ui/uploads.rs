//! The web pages' resumable uploads: the service's uploads behind the browser's session, with
//! the anti-forgery token in the `X-CSRF-Token` header. `upload.js` uses them to send a file in
//! chunks with a progress bar and to resume after a dropped connection; without JavaScript the
//! dossier page's plain multipart form is used instead.

use super::Page;
use crate::AppState;
use crate::api::uploads::{BeginUpload, begun, offset_of, progressed};
use crate::error::ApiError;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use motcua_service::actor_of;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ho-so/{code}/tai-len", post(begin))
        .route("/tai-len/{id}", get(status).patch(append))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::api::uploads::CHUNK_LIMIT,
        ))
}

/// The signed-in user of a script's request that changes something, or the problem to answer.
fn actor(
    page: &Page,
    headers: &HeaderMap,
    changes: bool,
) -> Result<motcua_domain::dossier::Actor, ApiError> {
    let Some(user) = &page.user else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Phiên đăng nhập đã hết; hãy đăng nhập lại",
            "your session has ended; sign in again",
        ));
    };
    if changes {
        let sent = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !super::csrf_matches(page, sent) {
            return Err(super::files::csrf_refused());
        }
    }
    Ok(actor_of(user))
}

async fn begin(
    State(s): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let by = match actor(&page, &headers, true) {
        Ok(a) => s.acting(a),
        Err(e) => return e.into_response(),
    };
    let b: BeginUpload = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return ApiError::invalid(
                "body",
                format!("Yêu cầu không hợp lệ: {e}"),
                format!("invalid request: {e}"),
            )
            .into_response();
        }
    };
    match s
        .begin_upload(&by, &code, b.component.map(|c| c as usize), &b.name, b.size)
        .await
    {
        Ok(u) => begun(&u, &format!("/tai-len/{}", u.id)),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn status(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let by = match actor(&page, &headers, false) {
        Ok(a) => s.acting(a),
        Err(e) => return e.into_response(),
    };
    match s.upload_status(&by, &id).await {
        Ok(u) => progressed(u, None),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn append(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let by = match actor(&page, &headers, true) {
        Ok(a) => s.acting(a),
        Err(e) => return e.into_response(),
    };
    let offset = match offset_of(&headers) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    match s.append_upload(&by, &id, offset, &body).await {
        Ok((u, f)) => progressed(u, f),
        Err(e) => ApiError::from(e).into_response(),
    }
}
