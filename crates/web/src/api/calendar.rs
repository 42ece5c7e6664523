//! `/api/v1/calendar`: lunar dates, holidays, deadlines, and the editable yearly tables.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use motcua_domain::calendar::{CalendarEntry, HolidayKey, TimeLimit, YearTable};
use motcua_domain::lunar::{self, LunarDate};
use motcua_service::actor_of;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(lunar_date))
        .routes(routes!(holidays))
        .routes(routes!(due))
        .routes(routes!(working_days))
        .routes(routes!(get_year, put_year, delete_year))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LunarQuery {
    /// A solar date (YYYY-MM-DD), 1900-01-31 .. 2100-12-31; today when nothing is given.
    date: Option<NaiveDate>,
    /// Start of a range (at most 3,660 days; `to` alone or `from` alone is one day).
    from: Option<NaiveDate>,
    /// End of a range (inclusive).
    to: Option<NaiveDate>,
}

/// A solar date and its Vietnamese lunar date.
#[derive(Serialize, ToSchema)]
pub struct LunarDay {
    #[schema(value_type = String, format = Date)]
    pub solar: NaiveDate,
    pub lunar: LunarDate,
}

/// One day, or the days of a range.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum LunarAnswer {
    Day(LunarDay),
    Range(Vec<LunarDay>),
}

const MAX_RANGE_DAYS: i64 = 3660;

/// Converts solar dates to the Vietnamese lunar calendar (UTC+7).
#[utoipa::path(get, path = "/calendar/lunar", params(LunarQuery), tag = "calendar",
    responses((status = 200, body = LunarAnswer, description = "one day for `date` (or today), the days of a range for `from`–`to`"), (status = 422, body = crate::error::Problem)))]
async fn lunar_date(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<LunarQuery>,
) -> ApiResult<Json<LunarAnswer>> {
    let day = |d: NaiveDate| -> ApiResult<LunarDay> {
        Ok(LunarDay {
            solar: d,
            lunar: lunar::to_lunar(d)?,
        })
    };
    let range = match (q.from, q.to) {
        (None, None) => None,
        (f, t) => f.or(t).zip(t.or(f)),
    };
    match (q.date, range) {
        (date, None) => {
            let d = date.unwrap_or_else(|| s.calendar().local(s.now()).date());
            Ok(Json(LunarAnswer::Day(day(d)?)))
        }
        (None, Some((from, to))) => {
            if to < from || (to - from).num_days() >= MAX_RANGE_DAYS {
                return Err(ApiError::invalid(
                    "to",
                    format!("Khoảng ngày phải từ 1 đến {MAX_RANGE_DAYS} ngày"),
                    format!("the range must span 1 to {MAX_RANGE_DAYS} days"),
                ));
            }
            let days = blocking(move || {
                from.iter_days()
                    .take_while(|d| *d <= to)
                    .map(|d| {
                        Ok(LunarDay {
                            solar: d,
                            lunar: lunar::to_lunar(d)?,
                        })
                    })
                    .collect::<ApiResult<Vec<_>>>()
            })
            .await??;
            Ok(Json(LunarAnswer::Range(days)))
        }
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "Cần tham số date, hoặc khoảng from–to, không cả hai",
            "give either date or a from–to range, not both",
        )),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    #[param(minimum = 1900, maximum = 2100)]
    year: i32,
}

/// One day of a year's calendar (a day off, or a worked weekend day).
#[derive(Serialize, ToSchema)]
pub struct HolidayDay {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub key: HolidayKey,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl From<CalendarEntry> for HolidayDay {
    fn from(e: CalendarEntry) -> Self {
        HolidayDay {
            date: e.date,
            key: e.key,
            name: e.name,
            note: e.note,
        }
    }
}

fn check_year(year: i32) -> ApiResult<()> {
    if (1900..=2100).contains(&year) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "year",
            "Năm phải trong khoảng 1900–2100",
            "year must be within 1900–2100",
        ))
    }
}

/// Public holidays, compensatory and swapped days off, and make-up workdays of a year.
#[utoipa::path(get, path = "/calendar/holidays", params(YearQuery), tag = "calendar",
    responses((status = 200, body = Vec<HolidayDay>)))]
async fn holidays(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<Vec<HolidayDay>>> {
    check_year(q.year)?;
    Ok(Json(
        s.calendar()
            .entries(q.year)
            .into_iter()
            .map(HolidayDay::from)
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// Instant of receipt, RFC 3339 with offset (e.g. `2025-01-24T09:00:00+07:00`).
    start: DateTime<FixedOffset>,
    working_days: Option<u32>,
    working_hours: Option<u32>,
    calendar_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct DueAnswer {
    #[schema(value_type = String, format = DateTime)]
    pub start: DateTime<FixedOffset>,
    pub limit: TimeLimit,
    /// The day the limit counts from (next working day if received on a day off or after the cut-off).
    #[schema(value_type = String, format = Date)]
    pub effective_receipt_day: NaiveDate,
    /// The appointment: RFC 3339 in office time.
    #[schema(value_type = String, format = DateTime)]
    pub due: DateTime<FixedOffset>,
}

/// Computes an appointment from a receipt instant and a time limit.
#[utoipa::path(get, path = "/calendar/due", params(DueQuery), tag = "calendar",
    responses((status = 200, body = DueAnswer), (status = 400, body = crate::error::Problem)))]
async fn due(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<DueQuery>,
) -> ApiResult<Json<DueAnswer>> {
    let limit =
        TimeLimit::one_of(q.working_days, q.working_hours, q.calendar_days).ok_or_else(|| {
            ApiError::bad_request(
                "Cần đúng một trong: working_days, working_hours, calendar_days",
                "give exactly one of working_days, working_hours, calendar_days",
            )
        })?;
    if limit.value > 3650 {
        return Err(ApiError::invalid(
            "limit",
            "Thời hạn quá lớn",
            "time limit is too large",
        ));
    }
    let cal = s.calendar();
    let start = q.start.with_timezone(&Utc);
    if !cal.supports(start) {
        return Err(ApiError::invalid(
            "start",
            "Ngày nằm ngoài khoảng lịch hỗ trợ (1900–2100)",
            "the date is outside the supported range of the calendar (1900–2100)",
        ));
    }
    let q_start = q.start;
    blocking(move || DueAnswer {
        start: q_start,
        limit,
        effective_receipt_day: cal.effective_receipt_day(start),
        due: cal.to_local_fixed(cal.due(start, limit)),
    })
    .await
    .map(Json)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BetweenQuery {
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
}

#[derive(Serialize, ToSchema)]
pub struct Between {
    /// Working days after `from`'s day up to and including `to`'s day (negative if `to` is earlier).
    pub working_days: i64,
    /// Office minutes between the two instants.
    pub working_minutes: i64,
}

/// Counts working days and office minutes between two instants.
#[utoipa::path(get, path = "/calendar/working-days", params(BetweenQuery), tag = "calendar",
    description = "Both instants within 1900–2100, at most 3,660 days apart.",
    responses((status = 200, body = Between), (status = 422, body = crate::error::Problem)))]
async fn working_days(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<BetweenQuery>,
) -> ApiResult<Json<Between>> {
    let cal = s.calendar();
    let (a, b) = (q.from.with_timezone(&Utc), q.to.with_timezone(&Utc));
    for (field, t) in [("from", a), ("to", b)] {
        if !cal.supports(t) {
            return Err(ApiError::invalid(
                field,
                "Ngày nằm ngoài khoảng lịch hỗ trợ (1900–2100)",
                "the date is outside the supported range of the calendar (1900–2100)",
            ));
        }
    }
    if (b - a).num_days().abs() > MAX_RANGE_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("Khoảng thời gian dài tối đa {MAX_RANGE_DAYS} ngày"),
            format!("the span is at most {MAX_RANGE_DAYS} days"),
        ));
    }
    blocking(move || Between {
        working_days: cal.working_days_between(cal.local(a).date(), cal.local(b).date()),
        working_minutes: cal.working_minutes_between(a, b),
    })
    .await
    .map(Json)
}

/// Runs a computation of the calendar off the async workers (it may take milliseconds), so
/// that no number of such requests holds up the others (health checks included).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "calendar computation failed");
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Lỗi hệ thống khi tính lịch",
            "internal error computing the calendar",
        )
    })
}

/// A year's calendar: its explicit table, or the computed rules (`source` = `computed`).
#[utoipa::path(get, path = "/calendar/years/{year}", tag = "calendar",
    params(("year" = i32, Path, minimum = 1900, maximum = 2100)), responses((status = 200, body = YearTable)))]
async fn get_year(
    State(s): State<AppState>,
    ApiPath(year): ApiPath<i32>,
) -> ApiResult<Json<YearTable>> {
    check_year(year)?;
    let cal = s.calendar();
    Ok(Json(cal.table(year).cloned().unwrap_or_else(|| {
        YearTable {
            year,
            source: "computed".into(),
            entries: cal.entries(year),
        }
    })))
}

/// Body of a year's table edit.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YearTableInput {
    pub source: String,
    pub entries: Vec<CalendarEntry>,
}

/// Replaces a year's table (admin): official Tết span, swaps, make-up days, compensatory days.
#[utoipa::path(put, path = "/calendar/years/{year}", tag = "calendar", request_body = YearTableInput,
    params(("year" = i32, Path, minimum = 1900, maximum = 2100)), security(("bearer" = [])),
    responses((status = 200, body = YearTable), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn put_year(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(year): ApiPath<i32>,
    ApiJson(body): ApiJson<YearTableInput>,
) -> ApiResult<Json<YearTable>> {
    check_year(year)?;
    let t = s
        .put_calendar_year(
            &s.acting(actor_of(&user.0)),
            YearTable {
                year,
                source: body.source,
                entries: body.entries,
            },
        )
        .await?;
    Ok(Json(t))
}

/// Removes a year's table (admin): the computed rules apply again.
#[utoipa::path(delete, path = "/calendar/years/{year}", tag = "calendar",
    params(("year" = i32, Path, minimum = 1900, maximum = 2100)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn delete_year(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(year): ApiPath<i32>,
) -> ApiResult<axum::http::StatusCode> {
    if !s
        .delete_calendar_year(&s.acting(actor_of(&user.0)), year)
        .await?
    {
        return Err(ApiError::not_found(
            format!("Năm {year} không có bảng lịch riêng"),
            format!("year {year} has no table"),
        ));
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}
