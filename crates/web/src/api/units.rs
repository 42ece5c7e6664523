//! `/api/v1/units` and `/api/v1/agencies` (read: anyone; write: admin).

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use motcua_domain::units::{Agency, NewUnit, UnitLevel};
use motcua_service::actor_of;
use motcua_service::store::{Page, Unit, UnitQuery};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_units, create_unit))
        .routes(routes!(get_unit))
        .routes(routes!(list_agencies))
        .routes(routes!(get_agency, put_agency))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnitListQuery {
    level: Option<UnitLevel>,
    code: Option<String>,
    parent_id: Option<i64>,
    /// Words of the name or code, ignoring case and diacritics.
    #[param(max_length = 200)]
    q: Option<String>,
    /// Only units valid on this date; `current=true` is today.
    as_of: Option<NaiveDate>,
    #[serde(default)]
    current: bool,
    cursor: Option<i64>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Administrative units, current and historical (districts end on 30 June 2025).
#[utoipa::path(get, path = "/units", params(UnitListQuery), tag = "units",
    responses((status = 200, body = Page<Unit>)))]
async fn list_units(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<UnitListQuery>,
) -> ApiResult<Json<Page<Unit>>> {
    crate::error::page_size(q.limit, 500)?;
    crate::error::short_text("q", q.q.as_deref(), 200)?;
    let as_of = if q.current {
        Some(s.calendar().local(s.now()).date())
    } else {
        q.as_of
    };
    Ok(Json(
        s.store()
            .units(&UnitQuery {
                level: q.level,
                code: q.code,
                parent_id: q.parent_id,
                q: q.q,
                as_of,
                current: false,
                cursor: q.cursor,
                limit: q.limit,
            })
            .await?,
    ))
}

/// One unit with the units that succeeded it and those merged into it.
#[utoipa::path(get, path = "/units/{id}", tag = "units", params(("id" = i64, Path)),
    responses((status = 200, body = Unit), (status = 404, body = crate::error::Problem)))]
async fn get_unit(State(s): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Unit>> {
    Ok(Json(s.store().unit(id).await?))
}

/// Adds or updates a unit (admin).
#[utoipa::path(post, path = "/units", tag = "units", request_body = NewUnit, security(("bearer" = [])),
    responses((status = 200, body = Unit), (status = 403, body = crate::error::Problem)))]
async fn create_unit(
    State(s): State<AppState>,
    user: AuthUser,
    ApiJson(u): ApiJson<NewUnit>,
) -> ApiResult<Json<Unit>> {
    let u = s.put_unit(&s.acting(actor_of(&user.0)), u).await?;
    Ok(Json(u))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgencyListQuery {
    #[param(max_length = 200)]
    q: Option<String>,
    /// Code of the parent agency.
    parent: Option<String>,
    /// Code of the administrative unit served.
    unit: Option<String>,
    cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Agencies with their electronic identifier codes.
#[utoipa::path(get, path = "/agencies", params(AgencyListQuery), tag = "units",
    responses((status = 200, body = Page<Agency>)))]
async fn list_agencies(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<AgencyListQuery>,
) -> ApiResult<Json<Page<Agency>>> {
    crate::error::page_size(q.limit, 500)?;
    crate::error::short_text("q", q.q.as_deref(), 200)?;
    Ok(Json(
        s.store()
            .agencies(
                q.q.as_deref(),
                q.parent.as_deref(),
                q.unit.as_deref(),
                q.cursor.as_deref(),
                q.limit,
            )
            .await?,
    ))
}

#[utoipa::path(get, path = "/agencies/{code}", tag = "units", params(("code" = String, Path, example = "000.00.00.H59")),
    responses((status = 200, body = Agency), (status = 404, body = crate::error::Problem)))]
async fn get_agency(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Agency>> {
    Ok(Json(s.store().agency(&code).await?))
}

/// Creates or replaces an agency (admin).
#[utoipa::path(put, path = "/agencies/{code}", tag = "units", request_body = Agency,
    params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Agency), (status = 201, body = Agency), (status = 403, body = crate::error::Problem)))]
async fn put_agency(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(a): ApiJson<Agency>,
) -> ApiResult<(StatusCode, Json<Agency>)> {
    if a.code.as_str() != code {
        return Err(ApiError::invalid(
            "code",
            "Mã cơ quan trong nội dung khác mã trên đường dẫn",
            "the body's code differs from the path's",
        ));
    }
    let (a, created) = s.put_agency(&s.acting(actor_of(&user.0)), a).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(a),
    ))
}
