//! `/api/v1/procedures`: the procedure catalogue (read: anyone; write: admin).

use crate::AppState;
use crate::auth::{AuthUser, MaybeUser};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use motcua_domain::catalogue::{
    CatalogueFormat, ImplLevel, OnlineLevel, Procedure, parse_catalogue,
};
use motcua_domain::policy::Permission;
use motcua_service::actor_of;
use motcua_service::store::{ImportReport, Page, ProcedureQuery, StoreError};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one, put_one))
        .routes(routes!(import))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Words to find in code, name or field; case and diacritics are ignored (`dang ky` finds `Đăng ký`).
    #[param(max_length = 200)]
    q: Option<String>,
    field: Option<String>,
    level: Option<ImplLevel>,
    online_level: Option<OnlineLevel>,
    /// Include unpublished procedures (admins only).
    #[serde(default)]
    include_unpublished: bool,
    cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Searches the catalogue, ordered by code.
#[utoipa::path(get, path = "/procedures", params(ListQuery), tag = "catalogue",
    responses((status = 200, body = Page<Procedure>)))]
async fn list(
    State(s): State<AppState>,
    MaybeUser(user): MaybeUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<Procedure>>> {
    crate::error::page_size(q.limit, 500)?;
    crate::error::short_text("q", q.q.as_deref(), 200)?;
    let editor = user.as_ref().is_some_and(|u| {
        s.authorize(&motcua_service::actor_of(u), Permission::EditReference)
            .is_ok()
    });
    if q.include_unpublished && !editor {
        return Err(ApiError::forbidden(
            "xem thủ tục chưa công bố",
            "see unpublished procedures",
        ));
    }
    if q.q.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::invalid(
            "q",
            "Từ khóa quá dài",
            "query is too long",
        ));
    }
    Ok(Json(
        s.store()
            .search_procedures(&ProcedureQuery {
                q: q.q,
                field: q.field,
                level: q.level,
                online_level: q.online_level,
                include_unpublished: q.include_unpublished,
                cursor: q.cursor,
                limit: q.limit,
            })
            .await?,
    ))
}

/// One procedure by its national code.
#[utoipa::path(get, path = "/procedures/{code}", tag = "catalogue",
    params(("code" = String, Path, example = "1.001612")),
    responses((status = 200, body = Procedure), (status = 404, body = crate::error::Problem)))]
async fn get_one(
    State(s): State<AppState>,
    MaybeUser(user): MaybeUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Procedure>> {
    let p = s.store().procedure(&code).await?;
    let editor = user.as_ref().is_some_and(|u| {
        s.authorize(&motcua_service::actor_of(u), Permission::EditReference)
            .is_ok()
    });
    if !p.published && !editor {
        return Err(StoreError::NotFound(motcua_domain::Msg::new(
            format!("Không tìm thấy thủ tục {code}"),
            format!("procedure {code} not found"),
        ))
        .into());
    }
    Ok(Json(p))
}

/// Creates or replaces a procedure (admin).
#[utoipa::path(put, path = "/procedures/{code}", tag = "catalogue", request_body = Procedure,
    params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Procedure), (status = 201, body = Procedure),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn put_one(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(p): ApiJson<Procedure>,
) -> ApiResult<(StatusCode, Json<Procedure>)> {
    if p.code.as_str() != code {
        return Err(ApiError::invalid(
            "code",
            "Mã thủ tục trong nội dung khác mã trên đường dẫn",
            "the body's code differs from the path's",
        ));
    }
    let (p, created) = s.put_procedure(&s.acting(actor_of(&user.0)), p).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(p),
    ))
}

/// Imports a catalogue file (admin): the national CSV export (`text/csv`) or motcua JSON
/// (`application/json`, an array or JSON lines). All rows or none.
#[utoipa::path(post, path = "/procedures/import", tag = "catalogue",
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = ImportReport), (status = 422, body = crate::error::Problem)))]
async fn import(
    State(s): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<ImportReport>> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = if ctype.starts_with("text/csv") {
        CatalogueFormat::Csv
    } else if ctype.starts_with("application/json") || ctype.starts_with("application/x-ndjson") {
        CatalogueFormat::Json
    } else {
        CatalogueFormat::detect("", &body)
    };
    let procedures = parse_catalogue(format, &body).map_err(StoreError::Import)?;
    let report = s
        .import_procedures(&s.acting(actor_of(&user.0)), procedures)
        .await?;
    Ok(Json(report))
}
