//! Result templates per procedure (`/api/v1/procedures/{code}/result-template`) and results
//! drafted from them (`/api/v1/dossiers/{code}/result-draft`).

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiJson, ApiPath, ApiResult};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use motcua_domain::results::{PLACEHOLDERS, ResultTemplate};
use motcua_service::actor_of;
use motcua_service::store::StoredFile;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_template, put_template))
        .routes(routes!(draft))
}

/// A placeholder a template may use.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Placeholder {
    /// Written `{name}` in the template.
    pub name: &'static str,
    pub vi: &'static str,
    pub en: &'static str,
}

/// A procedure's result template.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TemplateView {
    pub template: ResultTemplate,
    /// Written for this procedure (`false`: the default template).
    pub custom: bool,
    pub placeholders: Vec<Placeholder>,
}

/// The result template of a procedure (the default one when none was written), with the
/// placeholders a template may use.
#[utoipa::path(get, path = "/procedures/{code}/result-template", tag = "catalogue",
    params(("code" = String, Path, description = "Procedure code")),
    responses((status = 200, body = TemplateView), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn get_template(
    State(s): State<AppState>,
    _user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<TemplateView>> {
    let (template, custom) = s.result_template(&code).await?;
    Ok(Json(TemplateView {
        template,
        custom,
        placeholders: PLACEHOLDERS
            .iter()
            .map(|(name, vi, en)| Placeholder { name, vi, en })
            .collect(),
    }))
}

/// Writes a procedure's result template (administrators): the title, the body (paragraphs
/// separated by a blank line) and the signer's title, with `{placeholder}`s from the list —
/// an unknown one or an unclosed brace is refused (422).
#[utoipa::path(put, path = "/procedures/{code}/result-template", tag = "catalogue",
    params(("code" = String, Path, description = "Procedure code")),
    request_body = ResultTemplate,
    responses((status = 200, body = ResultTemplate), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn put_template(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(t): ApiJson<ResultTemplate>,
) -> ApiResult<Json<ResultTemplate>> {
    let by = s.acting(actor_of(&user.0));
    Ok(Json(s.put_result_template(&by, &code, t).await?))
}

/// Drafts the dossier's result from its procedure's template, filled with the dossier's values
/// and laid out as PDF with the national heading, and attaches it as the result (officers who
/// may attach the result: the agency holding the dossier, while it is processed). It then
/// waits in the leader's signing queue.
#[utoipa::path(post, path = "/dossiers/{code}/result-draft", tag = "files",
    params(("code" = String, Path, description = "Dossier code")),
    responses((status = 201, body = StoredFile), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 409, body = crate::Problem)),
    security(("bearer" = [])))]
async fn draft(
    State(s): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<StoredFile>)> {
    let by = s.acting(actor_of(&user.0));
    let base = crate::ui::public_base(&s, &headers);
    let f = crate::slips::draft_result(&s, &by, &code, &base).await?;
    Ok((StatusCode::CREATED, Json(f)))
}
