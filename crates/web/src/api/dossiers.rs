//! `/api/v1/dossiers`: intake on every channel, workflow actions, work queues, the control
//! slip; `/api/v1/tracking/{code}`: public tracking; `/api/v1/procedures/{code}/process`.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use motcua_domain::calendar::TimeLimit;
use motcua_domain::catalogue::Channel;
use motcua_domain::dossier::{
    Action, ActionKind, Actor, Applicant, Delivery, Dossier, DossierComponent, Status, Timeliness,
};
use motcua_domain::process::Process;
use motcua_service::store::{IdempotencyKey, Page, StoredDossier};
use motcua_service::{HistoryEntry, ListFilter, NewDossier, Tracking, actor_of};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one))
        .routes(routes!(act))
        .routes(routes!(rate))
        .routes(routes!(history))
        .routes(routes!(tracking))
        .routes(routes!(get_process, put_process))
}

/// A dossier as officers and its owner see it: the API's own shape, built from the domain's
/// dossier (internal bookkeeping such as the process copy, the status to resume and office
/// minutes is not part of the contract).
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierView {
    pub code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub channel: Channel,
    pub status: Status,
    /// Status code of the national portal (1–10).
    pub portal_status: u8,
    pub applicant: Applicant,
    pub components: Vec<DossierComponent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_tracking: Option<String>,
    pub receiving_agency: String,
    pub competent_agency: String,
    /// The agency holding the dossier at its current step.
    pub current_agency: String,
    /// Key of the current step of the procedure's process.
    pub step: String,
    /// Name of the current step.
    pub step_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_limit: Option<TimeLimit>,
    pub submitted_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<DateTime<Utc>>,
    /// The appointment in force (after an extension and added-back waiting time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// The appointment printed on the receipt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_due_at: Option<DateTime<Utc>>,
    /// Deadline of the current step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_due_at: Option<DateTime<Utc>>,
    /// When the deadline clock stopped (awaiting a supplement or payment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<DateTime<Utc>>,
    pub supplement_requests: u32,
    pub extended: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeliness: Option<Timeliness>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_delivery: Option<Delivery>,
    /// How the applicant asked, at intake, for the result to be returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_delivery: Option<Delivery>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned_at: Option<DateTime<Utc>>,
    /// The parent of an inter-agency child case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_code: Option<String>,
    /// Open inter-agency child cases.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub open_children: Vec<String>,
    /// The applicant's rating of the service, once given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<motcua_domain::dossier::Rating>,
    /// Past its appointment now (derived, never a status).
    pub overdue: bool,
    /// Also sent as the `ETag` header; send it back in `If-Match`.
    pub version: i64,
    /// The actions the caller may take now.
    pub available_actions: Vec<ActionKind>,
}

impl DossierView {
    /// The view of `d` at `now`, for `actions` the caller may take.
    pub fn of(d: &Dossier, version: i64, now: DateTime<Utc>, actions: Vec<ActionKind>) -> Self {
        DossierView {
            code: d.code.clone(),
            procedure_code: d.procedure_code.to_string(),
            procedure_name: d.procedure_name.clone(),
            channel: d.channel,
            status: d.status,
            portal_status: d.status.portal_code(),
            applicant: d.applicant.clone(),
            components: d.components.clone(),
            postal_tracking: d.postal_tracking.clone(),
            receiving_agency: d.receiving_agency.to_string(),
            competent_agency: d.competent_agency.to_string(),
            current_agency: d.current_agency.to_string(),
            step: d.snapshot().step,
            step_name: d.step_name(),
            assignee: d.assignee.clone(),
            time_limit: d.time_limit,
            submitted_at: d.submitted_at,
            received_at: d.received_at,
            due_at: d.due_at,
            original_due_at: d.original_due_at,
            step_due_at: d.step_due_at,
            paused_at: d.paused_at,
            supplement_requests: d.supplement_requests,
            extended: d.extended,
            ended_at: d.ended_at,
            timeliness: d.timeliness,
            result_delivery: d.result_delivery,
            requested_delivery: d.requested_delivery,
            returned_at: d.returned_at,
            parent_code: d.parent_code.clone(),
            open_children: d.open_children.clone(),
            rating: d.rating.clone(),
            overdue: d.overdue(now),
            version,
            available_actions: actions,
        }
    }
}

/// The view of a stored dossier for `actor`.
pub fn view_for(s: &AppState, actor: &Actor, d: &StoredDossier) -> DossierView {
    DossierView::of(
        &d.dossier,
        d.version,
        s.now(),
        s.available_actions(actor, &d.dossier),
    )
}

fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

fn with_etag(status: StatusCode, v: DossierView) -> Response {
    let tag = etag(v.version);
    let code = v.code.clone();
    let mut res = (status, Json(v)).into_response();
    if let Ok(h) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, h);
    }
    if status == StatusCode::CREATED
        && let Ok(h) = HeaderValue::from_str(&format!("/api/v1/dossiers/{code}"))
    {
        res.headers_mut().insert(header::LOCATION, h);
    }
    res
}

/// Files a dossier: `online` (a citizen), `counter` (a reception officer at their one-stop
/// point: received at once, with its appointment) or `postal` (a postal agent). A retried
/// request with the same `Idempotency-Key` returns the first dossier.
#[utoipa::path(post, path = "/dossiers", request_body = NewDossier, tag = "dossiers",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Makes a retried request safe: 1–200 printable ASCII characters",
        min_length = 1, max_length = 200, pattern = r"^[!-~]([ -~]*[!-~])?$")),
    responses((status = 201, body = DossierView), (status = 200, body = DossierView, description = "replay of an earlier request with the same Idempotency-Key"),
        (status = 422, body = crate::Problem), (status = 403, body = crate::Problem)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(dossier))]
async fn create(
    State(s): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewDossier>,
) -> ApiResult<Response> {
    let u = &user.0;
    let idem = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let key = v.to_str().unwrap_or("").trim();
            if key.is_empty() || key.len() > 200 {
                return Err(ApiError::bad_request(
                    "Idempotency-Key phải từ 1 đến 200 ký tự ASCII",
                    "Idempotency-Key must be 1 to 200 ASCII characters",
                ));
            }
            Some(IdempotencyKey {
                actor: u.username.clone(),
                key: key.to_owned(),
                request_hash: motcua_service::dossiers::request_hash(&body),
            })
        }
    };
    let (stored, created) = s.file(&s.acting(actor_of(u)), body, idem).await?;
    tracing::Span::current().record("dossier", stored.dossier.code.as_str());
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_etag(status, view_for(&s, &actor_of(u), &stored)))
}

/// A dossier with its components, deadlines and current step. `ETag` carries its version.
#[utoipa::path(get, path = "/dossiers/{code}", tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, body = DossierView), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn get_one(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Response> {
    let actor = actor_of(&user.0);
    let d = s.dossier(&actor, &code).await?;
    Ok(with_etag(StatusCode::OK, view_for(&s, &actor, &d)))
}

fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let t = v.to_str().unwrap_or("").trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.strip_prefix("\"v")
        .and_then(|x| x.strip_suffix('"'))
        .and_then(|x| x.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(
                "If-Match phải là ETag đã nhận, ví dụ \"v3\"",
                "If-Match must be an ETag you received, e.g. \"v3\"",
            )
        })
}

/// Takes a workflow action. Send `If-Match` with the `ETag` you read: if someone acted in
/// between, the answer is 412 and nothing changes.
#[utoipa::path(post, path = "/dossiers/{code}/actions", request_body = Action, tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code"),
           ("If-Match" = Option<String>, Header, nullable = false, description = "ETag of the version acted on, e.g. `\"v3\"`",
               pattern = r#"^\s*(W/)?"v[0-9]{1,18}"\s*$"#)),
    responses((status = 200, body = DossierView), (status = 403, body = crate::Problem),
        (status = 409, body = crate::Problem), (status = 412, body = crate::Problem)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(dossier = %code))]
async fn act(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(action): ApiJson<Action>,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let by = s.acting(actor_of(&user.0));
    let d = s.act(&by, &code, &action, expected).await?;
    Ok(with_etag(StatusCode::OK, view_for(&s, &by.actor, &d)))
}

/// An applicant's rating of the service.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRating {
    pub level: motcua_domain::dossier::Satisfaction,
    /// What the applicant wants to say (at most 2,000 characters).
    #[serde(default)]
    pub comment: Option<String>,
}

/// Records the applicant's rating of the service — `very_satisfied`, `satisfied` or
/// `unsatisfied` — once the result is ready: by the applicant on the portal, or by a one-stop
/// officer of the receiving agency on the counter's device. Once per dossier.
#[utoipa::path(post, path = "/dossiers/{code}/rating", request_body = NewRating, tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, body = DossierView), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 409, body = crate::Problem),
        (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(dossier = %code))]
async fn rate(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(r): ApiJson<NewRating>,
) -> ApiResult<Response> {
    let by = s.acting(actor_of(&user.0));
    let d = s.rate(&by, &code, r.level, r.comment.as_deref()).await?;
    Ok(with_etag(StatusCode::OK, view_for(&s, &by.actor, &d)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Comma-separated statuses, e.g. `received,processing`.
    #[param(
        pattern = r"^\s*((submitted|received|rejected|processing|awaiting_supplement|awaiting_payment|withdrawal_requested|stopped|resolved|returned)\s*(,\s*(submitted|received|rejected|processing|awaiting_supplement|awaiting_payment|withdrawal_requested|stopped|resolved|returned)\s*)*)?$"
    )]
    status: Option<String>,
    /// Only overdue (`true`) or not overdue (`false`) dossiers, as of `as_of` (default now).
    overdue: Option<bool>,
    as_of: Option<DateTime<Utc>>,
    /// Appointment before this instant.
    due_before: Option<DateTime<Utc>>,
    /// Received at or after this instant (the receipt period, with `received_to`).
    received_from: Option<DateTime<Utc>>,
    /// Received before this instant.
    received_to: Option<DateTime<Utc>>,
    /// Agency holding the dossier now. Officers see their own agency's by default.
    agency: Option<String>,
    /// Officer the dossier is assigned to (`me` for yourself).
    assignee: Option<String>,
    /// The applicant's citizen ID or tax code (officers looking up an applicant's dossiers).
    applicant_id: Option<String>,
    procedure_code: Option<String>,
    /// The `next_cursor` of the previous page (opaque).
    cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Work queues: dossiers by status, overdue, appointment and agency, soonest appointment first.
/// Citizens see their own dossiers; officers those of their agency.
#[utoipa::path(get, path = "/dossiers", params(ListQuery), tag = "dossiers",
    responses((status = 200, body = Page<DossierView>)), security(("bearer" = [])))]
async fn list(
    State(s): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<DossierView>>> {
    crate::error::page_size(q.limit, 500)?;
    let u = &user.0;
    let mut statuses = Vec::new();
    for part in q
        .status
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        statuses.push(Status::parse(part).ok_or_else(|| {
            ApiError::invalid(
                "status",
                format!("Trạng thái «{part}» không tồn tại"),
                format!("unknown status «{part}»"),
            )
        })?);
    }
    let filter = ListFilter {
        statuses,
        overdue: q.overdue,
        as_of: q.as_of,
        due_before: q.due_before,
        received_from: q.received_from,
        received_to: q.received_to,
        agency: q.agency,
        assignee: q.assignee,
        applicant_id: q.applicant_id,
        procedure_code: q.procedure_code,
        cursor: q.cursor,
        limit: q.limit,
    };
    let actor = actor_of(u);
    let page = s.dossiers(&actor, filter).await?;
    Ok(Json(Page {
        items: page.items.iter().map(|d| view_for(&s, &actor, d)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The control slip: every hand-off of the dossier, from the audit chain.
#[utoipa::path(get, path = "/dossiers/{code}/history", tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, body = Vec<HistoryEntry>)), security(("bearer" = [])))]
async fn history(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Vec<HistoryEntry>>> {
    Ok(Json(s.history(&actor_of(&user.0), &code).await?))
}

/// Public tracking by dossier code, as printed on the receipt. No login; no personal data.
#[utoipa::path(get, path = "/tracking/{code}", tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, body = Tracking), (status = 404, body = crate::Problem)))]
async fn tracking(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Response> {
    let body = s.tracking(&code).await?;
    let mut res = Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The workflow of a procedure (the default one unless an admin set another).
#[utoipa::path(get, path = "/procedures/{code}/process", tag = "dossiers",
    params(("code" = String, Path, description = "Procedure code")),
    responses((status = 200, body = Process)))]
async fn get_process(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Process>> {
    Ok(Json(s.process(&code).await?))
}

/// Sets the workflow of a procedure (admin). Dossiers already filed keep their process.
#[utoipa::path(put, path = "/procedures/{code}/process", request_body = Process, tag = "dossiers",
    params(("code" = String, Path, description = "Procedure code")),
    responses((status = 200, body = Process), (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn put_process(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(process): ApiJson<Process>,
) -> ApiResult<Json<Process>> {
    let p = s
        .put_process(&s.acting(actor_of(&user.0)), &code, process)
        .await?;
    Ok(Json(p))
}
