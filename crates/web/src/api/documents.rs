//! `/api/v1/documents`: the official-document register (văn bản đến / đi) of the caller's
//! agency.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiPath, ApiQuery, ApiResult};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use motcua_service::actor_of;
use motcua_service::documents::{IncomingDocument, OutgoingDocument};
use motcua_service::store::{DocumentCounts, OfficialDocument};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(incoming))
        .routes(routes!(outgoing))
        .layer(axum::extract::DefaultBodyLimit::max(
            super::files::UPLOAD_BODY_LIMIT,
        ))
        .routes(routes!(list))
        .routes(routes!(counts))
        .routes(routes!(one))
        .routes(routes!(file))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `in` (văn bản đến) or `out` (văn bản đi); both when absent.
    #[param(pattern = r"^(in|out)$")]
    pub direction: Option<String>,
    /// Words of the symbol, subject, other party or signer, with or without diacritics.
    #[param(max_length = 500)]
    pub q: Option<String>,
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
}

/// The books of the caller's agency, newest first (at most 500): searched without
/// diacritics, within a period of issue.
#[utoipa::path(get, path = "/documents", tag = "documents", params(ListParams),
    responses((status = 200, body = Vec<OfficialDocument>), (status = 403, body = crate::Problem),
        (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn list(
    State(s): State<AppState>,
    user: AuthUser,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Vec<OfficialDocument>>> {
    Ok(Json(
        s.official_documents(
            &actor_of(&user.0),
            p.direction.as_deref(),
            p.q.as_deref(),
            p.from,
            p.to,
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    #[param(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[param(value_type = String, format = Date)]
    pub to: NaiveDate,
}

/// How many incoming and outgoing documents (and outgoing ones signed and sent) the caller's
/// agency registered over a period of issue.
#[utoipa::path(get, path = "/documents/counts", tag = "documents", params(Period),
    responses((status = 200, body = DocumentCounts), (status = 403, body = crate::Problem),
        (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn counts(
    State(s): State<AppState>,
    user: AuthUser,
    ApiQuery(p): ApiQuery<Period>,
) -> ApiResult<Json<DocumentCounts>> {
    Ok(Json(
        s.document_counts(&actor_of(&user.0), p.from, p.to).await?,
    ))
}

/// Enters an incoming document (the body is its PDF) in the caller's agency's book, with the
/// book's next number and the verification of its signatures on arrival.
#[utoipa::path(post, path = "/documents/incoming", tag = "documents", params(IncomingDocument),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The PDF"),
    responses((status = 201, body = OfficialDocument), (status = 403, body = crate::Problem),
        (status = 413, body = crate::Problem), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn incoming(
    State(s): State<AppState>,
    user: AuthUser,
    ApiQuery(m): ApiQuery<IncomingDocument>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<OfficialDocument>)> {
    let by = s.acting(actor_of(&user.0));
    Ok((
        StatusCode::CREATED,
        Json(s.register_incoming(&by, m, &body).await?),
    ))
}

/// Enters an outgoing document (the body is its PDF) with the book's next number, to be
/// signed by the named leader and sealed (a job; `state` is `signing`, then `sent`, or
/// `failed` with the reason); once sent it is delivered to the recipient agency's incoming
/// book when that agency uses motcua.
#[utoipa::path(post, path = "/documents/outgoing", tag = "documents", params(OutgoingDocument),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The PDF"),
    responses((status = 201, body = OfficialDocument), (status = 403, body = crate::Problem),
        (status = 413, body = crate::Problem), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn outgoing(
    State(s): State<AppState>,
    user: AuthUser,
    ApiQuery(m): ApiQuery<OutgoingDocument>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<OfficialDocument>)> {
    let by = s.acting(actor_of(&user.0));
    Ok((
        StatusCode::CREATED,
        Json(s.send_outgoing(&by, m, &body).await?),
    ))
}

/// One document of the caller's agency's books.
#[utoipa::path(get, path = "/documents/{id}", tag = "documents",
    params(("id" = i64, Path, description = "The document")),
    responses((status = 200, body = OfficialDocument), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn one(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OfficialDocument>> {
    Ok(Json(s.official_document(&actor_of(&user.0), id).await?))
}

/// A document's PDF (signed and sealed, once an outgoing one is sent).
#[utoipa::path(get, path = "/documents/{id}/file", tag = "documents",
    params(("id" = i64, Path, description = "The document")),
    responses((status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn file(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (doc, bytes) = s.official_document_file(&actor_of(&user.0), id).await?;
    Ok(super::slips::pdf_response(
        &doc.file_name.replace('"', ""),
        bytes,
    ))
}
