//! The figures of a period (docs/domain.md §Statistics): `GET /api/v1/stats`.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiPath, ApiQuery, ApiResult};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::catalogue::Channel;
use motcua_service::stats::{GroupBy, StatsQuery, StatsReport, UnitsMode};
use motcua_service::{ServiceError, actor_of};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report))
        .routes(routes!(export))
        .routes(routes!(periodic_report))
        .routes(routes!(counters))
        .routes(routes!(index))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// The period's first day (default: the first of this month).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// The day after the period: the period is `[from, to)` (default: tomorrow).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// The instant the figures are read at (default: now, or the period's end if earlier).
    pub as_of: Option<DateTime<Utc>>,
    /// Only this administrative unit (its code; a successor's code takes in its predecessors).
    pub unit: Option<String>,
    /// Only this competent agency (electronic identifier code).
    pub agency: Option<String>,
    /// Only this level: `province`, `commune` or `district` (history).
    #[param(pattern = r"^\s*(province|commune|district)?\s*$")]
    pub level: Option<String>,
    /// Only this procedure (national code).
    pub procedure: Option<String>,
    /// Only this field (its code or name).
    pub field: Option<String>,
    pub channel: Option<Channel>,
    /// Comma-separated: `unit`, `agency`, `level`, `procedure`, `field`, `channel`, `month`.
    pub group_by: Option<String>,
    /// `successors` (default): units changed on 1 July 2025 under their successors;
    /// `as_they_were`: as they were.
    pub units: Option<UnitsMode>,
}

impl StatsParams {
    /// The service's question, or which parameter is wrong.
    pub fn query(&self) -> Result<StatsQuery, ServiceError> {
        let mut group_by = Vec::new();
        for g in self
            .group_by
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
        {
            let Some(g) = GroupBy::parse(g) else {
                return Err(ServiceError::invalid(
                    "group_by",
                    format!(
                        "Không nhóm được theo «{g}» (unit, agency, level, procedure, field, channel, month)"
                    ),
                    format!(
                        "cannot group by «{g}» (unit, agency, level, procedure, field, channel, month)"
                    ),
                ));
            };
            if !group_by.contains(&g) {
                group_by.push(g);
            }
        }
        let blank = |v: &Option<String>| {
            v.as_ref()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        if let Some(l) = blank(&self.level)
            && !matches!(l.as_str(), "province" | "commune" | "district")
        {
            return Err(ServiceError::invalid(
                "level",
                "Cấp phải là province, commune hoặc district",
                "level must be province, commune or district",
            ));
        }
        Ok(StatsQuery {
            from: self.from,
            to: self.to,
            as_of: self.as_of,
            unit: blank(&self.unit),
            agency: blank(&self.agency),
            level: blank(&self.level),
            procedure: blank(&self.procedure),
            field: blank(&self.field),
            channel: self.channel,
            group_by,
            units: self.units.unwrap_or_default(),
        })
    }
}

/// The figures of a period — carried over, new by channel, received, resolved (early, on
/// time, late), refused, withdrawn, in progress (not yet due, overdue) as of `as_of`,
/// supplements requested — and every rate with its numerator and denominator, for the whole
/// and for each group. Inter-agency child cases are counted once, under the case the applicant
/// filed. Administrators and the operations centre see everything; a leader sees their agency.
#[utoipa::path(get, path = "/stats", tag = "statistics", params(StatsParams),
    responses((status = 200, body = StatsReport), (status = 401, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn report(
    State(s): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<StatsParams>,
) -> ApiResult<Json<StatsReport>> {
    let query = q.query()?;
    Ok(Json(s.stats(&actor_of(&user.0), &query).await?))
}

/// A report as a file: `csv` (UTF-8 with a byte-order mark) or `xlsx`, with the same
/// parameters and figures as `GET /stats` (each rate as numerator, denominator and percentage).
#[utoipa::path(get, path = "/stats/export/{format}", tag = "statistics",
    params(("format" = String, Path, description = "`csv` or `xlsx`"), StatsParams),
    responses((status = 200, description = "The report as a file",
            content((Vec<u8> = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn export(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(format): ApiPath<String>,
    ApiQuery(q): ApiQuery<StatsParams>,
) -> ApiResult<Response> {
    let query = q.query()?;
    let (content_type, ext) = match format.as_str() {
        "csv" => ("text/csv; charset=utf-8", "csv"),
        "xlsx" => (XLSX, "xlsx"),
        _ => {
            return Err(ServiceError::NotFound(motcua_domain::Msg::new(
                "Định dạng xuất phải là csv hoặc xlsx",
                "the export format is csv or xlsx",
            ))
            .into());
        }
    };
    let report = s.stats(&actor_of(&user.0), &query).await?;
    let bytes = if ext == "csv" {
        crate::export::csv(&report)
    } else {
        crate::export::xlsx(&report).map_err(export_failed)?
    };
    Ok(file(
        bytes,
        content_type,
        &format!("bao-cao-{}-{}.{ext}", report.from, report.to),
    ))
}

/// The standard periodic report form on the processing of administrative procedures (by field:
/// received — carried over, new online / counter / postal; resolved early, on time, late; in
/// progress, overdue), as an XLSX sheet, for the agency or unit asked (a leader: their agency).
#[utoipa::path(get, path = "/stats/periodic-report", tag = "statistics", params(StatsParams),
    responses((status = 200, description = "The form as XLSX",
            content((Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn periodic_report(
    State(s): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<StatsParams>,
) -> ApiResult<Response> {
    let mut query = q.query()?;
    query.group_by = vec![GroupBy::Field];
    let actor = actor_of(&user.0);
    let report = s.stats(&actor, &query).await?;
    let name = match (&query.agency, &actor.agency, &query.unit) {
        (Some(a), _, _) => match motcua_domain::codes::AgencyCode::parse(a) {
            Ok(code) => s.agency_name(&code).await,
            Err(_) => a.clone(),
        },
        (None, Some(own), _) if actor.role == Some(motcua_domain::auth::Role::Leader) => {
            s.agency_name(own).await
        }
        (None, _, Some(u)) => format!("Đơn vị hành chính {u}"),
        _ => "Toàn tỉnh".to_owned(),
    };
    let bytes = crate::export::periodic_form(&report, &name).map_err(export_failed)?;
    Ok(file(
        bytes,
        XLSX,
        &format!("bieu-tong-hop-{}-{}.xlsx", report.from, report.to),
    ))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn export_failed(e: rust_xlsxwriter::XlsxError) -> crate::ApiError {
    tracing::error!(error = %e, "xlsx export failed");
    crate::ApiError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Không tạo được tệp bảng tính; vui lòng thử lại",
        "the spreadsheet could not be made; please retry",
    )
}

fn file(bytes: Vec<u8>, content_type: &str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// What waits for the signed-in officer's agency now: dossiers waiting to be received, in
/// progress, due within a working day, overdue, awaiting a supplement, results awaiting the
/// leader's signature, results to hand back (the officer's home page counters).
#[utoipa::path(get, path = "/stats/counters", tag = "statistics",
    responses((status = 200, body = motcua_service::store::stats::AgencyCounters),
        (status = 401, body = crate::Problem), (status = 403, body = crate::Problem)),
    security(("bearer" = [])))]
async fn counters(
    State(s): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<motcua_service::store::stats::AgencyCounters>> {
    Ok(Json(s.agency_counters(&actor_of(&user.0)).await?))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndexParams {
    /// The period's first day (default: the first of this month).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// The day after the period (default: tomorrow).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// `agency` (default) or `unit`.
    pub by: Option<String>,
}

/// The evaluation index (Decision 766/QĐ-TTg) of every agency or unit for a period, best
/// first: each group's and indicator's score, its threshold and maximum, the rate behind it
/// (numerator and denominator), and the rank. Groups, weights and thresholds are the server's
/// configuration (`[evaluation]`), returned with the figures.
#[utoipa::path(get, path = "/stats/index", tag = "statistics", params(IndexParams),
    responses((status = 200, body = motcua_service::evaluation::IndexReport),
        (status = 401, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn index(
    State(s): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<IndexParams>,
) -> ApiResult<Json<motcua_service::evaluation::IndexReport>> {
    let by = match q.by.as_deref().map(str::trim) {
        None | Some("" | "agency") => GroupBy::Agency,
        Some("unit") => GroupBy::Unit,
        Some(_) => {
            return Err(ServiceError::invalid(
                "by",
                "Chỉ số tính theo agency hoặc unit",
                "the index is by agency or by unit",
            )
            .into());
        }
    };
    Ok(Json(
        s.evaluation(&actor_of(&user.0), q.from, q.to, by).await?,
    ))
}
