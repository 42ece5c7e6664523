//! Digitisation results and the applicants' electronic data warehouse:
//! `POST /api/v1/files/{id}/confirm`, `GET /api/v1/warehouse` (a citizen's own),
//! `GET /api/v1/dossiers/{code}/warehouse` (officers handling the dossier),
//! `GET /api/v1/warehouse/{code}/file`, and the digitisation figures of a period.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use motcua_domain::policy::Permission;
use motcua_service::actor_of;
use motcua_service::store::DigitisedDocument;
use motcua_service::warehouse::ConfirmFile;
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(confirm))
        .routes(routes!(mine))
        .routes(routes!(of_dossier))
        .routes(routes!(file))
        .routes(routes!(counts))
}

/// Confirms a dossier's file (with the fields as checked or corrected) as an electronic copy:
/// it gets a digitisation result code and joins the applicant's warehouse, *scan only* until
/// signed. Officers of the dossier's agencies; once per file.
#[utoipa::path(post, path = "/files/{id}/confirm", tag = "warehouse", request_body = ConfirmFile,
    params(("id" = i64, Path, description = "File id")),
    responses((status = 201, body = DigitisedDocument), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 409, body = crate::Problem),
        (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn confirm(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ConfirmFile>,
) -> ApiResult<Response> {
    let doc = s
        .confirm_file(&s.acting(actor_of(&user.0)), id, body)
        .await?;
    Ok((StatusCode::CREATED, Json(doc)).into_response())
}

/// The signed-in citizen's electronic data warehouse.
#[utoipa::path(get, path = "/warehouse", tag = "warehouse",
    responses((status = 200, body = Vec<DigitisedDocument>), (status = 403, body = crate::Problem)),
    security(("bearer" = [])))]
async fn mine(
    State(s): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Vec<DigitisedDocument>>> {
    Ok(Json(s.my_warehouse(&actor_of(&user.0)).await?))
}

/// The warehouse of a dossier's applicant: what a new component may be taken from.
#[utoipa::path(get, path = "/dossiers/{code}/warehouse", tag = "warehouse",
    params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, body = Vec<DigitisedDocument>), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn of_dossier(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Vec<DigitisedDocument>>> {
    Ok(Json(s.dossier_warehouse(&actor_of(&user.0), &code).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileParams {
    /// For an officer: the dossier (of the same applicant) they handle.
    pub dossier: Option<String>,
}

/// A warehouse document's file: its owner's, or an officer's inside a dossier of the same
/// applicant that they handle.
#[utoipa::path(get, path = "/warehouse/{code}/file", tag = "warehouse",
    params(("code" = String, Path, description = "Digitisation result code"), FileParams),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn file(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<FileParams>,
) -> ApiResult<Response> {
    let (f, bytes) = s
        .warehouse_file(&actor_of(&user.0), &code, q.dossier.as_deref())
        .await?;
    Ok(super::files::file_response(&f, bytes))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// From (inclusive).
    pub from: DateTime<Utc>,
    /// To (exclusive).
    pub to: DateTime<Utc>,
}

/// How many components and results were digitised, documents reused and copies signed in a
/// period (the typed digitisation events). An empty period (`to` not after `from`) counts
/// nothing.
#[utoipa::path(get, path = "/stats/digitisation", tag = "warehouse", params(PeriodParams),
    responses((status = 200, body = BTreeMap<String, i64>), (status = 403, body = crate::Problem)),
    security(("bearer" = [])))]
async fn counts(
    State(s): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<PeriodParams>,
) -> ApiResult<Json<BTreeMap<String, i64>>> {
    s.authorize(&actor_of(&user.0), Permission::ReadStatistics)?;
    let mut m: BTreeMap<String, i64> = [
        "component_digitised",
        "result_digitised",
        "reused",
        "signed",
    ]
    .into_iter()
    .map(|k| (k.to_owned(), 0))
    .collect();
    if q.to > q.from {
        m.extend(s.store().digitisation_counts(q.from, q.to).await?);
    }
    Ok(Json(m))
}
