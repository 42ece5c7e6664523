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
use motcua_domain::auth::Role;
use motcua_domain::catalogue::{Channel, OnlineLevel, Procedure};
use motcua_domain::codes::{AgencyCode, is_commune_code, is_province_code};
use motcua_domain::dossier::{
    Action, Actor, Applicant, Dossier, Intake, Place, Snapshot, Status, SubmittedComponent,
    Timeliness, agency_level, check_filing_place,
};
use motcua_domain::process::Process;
use motcua_domain::units::Agency;
use motcua_store::{DossierQuery, IdempotencyKey, Page, StoreError, StoredDossier, User};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one))
        .routes(routes!(act))
        .routes(routes!(history))
        .routes(routes!(tracking))
        .routes(routes!(get_process, put_process))
}

/// A new dossier.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDossier {
    #[schema(example = "1.001193")]
    pub procedure_code: String,
    pub channel: Channel,
    /// The receiving one-stop point. A counter officer's own agency when omitted.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub agency: Option<AgencyCode>,
    pub applicant: Applicant,
    #[serde(default)]
    pub components: Vec<SubmittedComponent>,
    /// Postal tracking number (postal channel).
    #[serde(default)]
    pub postal_tracking: Option<String>,
}

/// A dossier as officers and its owner see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierView {
    #[serde(flatten)]
    pub dossier: Dossier,
    /// Status code of the national portal (1–10).
    pub portal_status: u8,
    /// Past its appointment now (derived, never a status).
    pub overdue: bool,
    /// Also sent as the `ETag` header; send it back in `If-Match`.
    pub version: i64,
}

pub fn view(s: &AppState, d: StoredDossier) -> DossierView {
    let now = s.clock.now();
    DossierView {
        portal_status: d.dossier.status.portal_code(),
        overdue: d.dossier.overdue(now),
        version: d.version,
        dossier: d.dossier,
    }
}

fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

fn with_etag(status: StatusCode, v: DossierView) -> Response {
    let tag = etag(v.version);
    let code = v.dossier.code.clone();
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

/// The workflow actor a signed-in user is.
pub fn actor_of(u: &User) -> Actor {
    Actor {
        name: u.username.clone(),
        user_id: Some(u.id),
        role: Some(u.role),
        agency: u.agency_code.clone(),
    }
}

fn invalid_ref(field: &str, e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound(m) => ApiError::invalid(field, m.vi, m.en),
        other => other.into(),
    }
}

/// The agency and its current province.
async fn place(
    s: &AppState,
    field: &str,
    code: &AgencyCode,
) -> ApiResult<(Agency, Option<String>)> {
    s.refs
        .agency(&s.store, code.as_str())
        .await
        .map_err(|e| invalid_ref(field, e))
}

/// The competent agency: the process's, else for a non-territorial procedure the one-stop
/// point serving the applicant's unit at the procedure's level, else the receiving agency.
async fn competent_agency(
    s: &AppState,
    p: &Procedure,
    process: &Process,
    receiving: &Agency,
    applicant: &Applicant,
) -> ApiResult<AgencyCode> {
    if let Some(c) = &process.competent_agency {
        return Ok(c.clone());
    }
    let receiving_fits = agency_level(receiving).is_some_and(|l| p.levels.contains(&l));
    if !p.non_territorial
        || receiving_fits && !applicant.unit_code.as_deref().is_some_and(is_commune_code)
    {
        return Ok(receiving.code.clone());
    }
    let Some(unit) = applicant.unit_code.as_deref() else {
        return Ok(receiving.code.clone());
    };
    // The applicant's commune for a commune-level procedure, else the province.
    let commune_level = p
        .levels
        .contains(&motcua_domain::catalogue::ImplLevel::Commune);
    let target = if (commune_level && is_commune_code(unit)) || is_province_code(unit) {
        unit.to_owned()
    } else {
        s.refs
            .province_of(&s.store, unit)
            .await?
            .unwrap_or_default()
    };
    if receiving.unit_code.as_deref() == Some(target.as_str()) {
        return Ok(receiving.code.clone());
    }
    let page = s
        .store
        .agencies(None, None, Some(&target), None, Some(50))
        .await?;
    page.items
        .into_iter()
        .find(|a| a.one_stop_point)
        .map(|a| a.code)
        .ok_or_else(|| {
            ApiError::invalid(
                "applicant.unit_code",
                format!("Chưa có cơ quan giải quyết được khai báo cho đơn vị {target}"),
                format!("no competent agency is registered for unit {target}"),
            )
        })
}

/// SHA-256 of a request body, for `Idempotency-Key`.
pub fn request_hash(body: &NewDossier) -> String {
    hex::encode(Sha256::digest(
        serde_json::to_string(body).unwrap_or_default().as_bytes(),
    ))
}

/// Files a dossier: `online` (a citizen), `counter` (a reception officer at their one-stop
/// point: received at once, with its appointment) or `postal` (a postal agent). A retried
/// request with the same `Idempotency-Key` returns the first dossier.
#[utoipa::path(post, path = "/dossiers", request_body = NewDossier, tag = "dossiers",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe")),
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
                request_hash: request_hash(&body),
            })
        }
    };
    let (stored, created) = file(&s, u, body, idem).await?;
    tracing::Span::current().record("dossier", stored.dossier.code.as_str());
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_etag(status, view(&s, stored)))
}

/// Files a dossier as user `u` (the API's and the CLI's one path): checks the channel for the
/// role, the procedure, the applicant, the components and the place of filing, then stores it.
pub async fn file(
    s: &AppState,
    u: &User,
    body: NewDossier,
    idem: Option<IdempotencyKey>,
) -> ApiResult<(StoredDossier, bool)> {
    let allowed = matches!(
        (u.role, body.channel),
        (Role::Citizen, Channel::Online)
            | (Role::Reception, Channel::Counter)
            | (Role::Postal, Channel::Postal)
    );
    if !allowed {
        return Err(ApiError::forbidden(
            "nộp hồ sơ qua kênh này (công dân: trực tuyến; cán bộ một cửa: trực tiếp; bưu điện: bưu chính)",
            "file on this channel (citizens: online; reception officers: counter; postal agents: postal)",
        ));
    }

    let receiving_code = match (&body.agency, u.role) {
        (Some(a), Role::Reception) if Some(a) != u.agency_code.as_ref() => {
            return Err(ApiError::forbidden(
                "tiếp nhận hồ sơ cho cơ quan khác",
                "receive dossiers for another agency",
            ));
        }
        (Some(a), _) => a.clone(),
        (None, Role::Reception) => u.agency_code.clone().ok_or_else(|| {
            ApiError::invalid(
                "agency",
                "Tài khoản chưa gắn cơ quan",
                "the account has no agency",
            )
        })?,
        (None, _) => {
            return Err(ApiError::invalid(
                "agency",
                "Cần chọn nơi tiếp nhận hồ sơ (mã cơ quan)",
                "choose the receiving agency (its code)",
            ));
        }
    };
    let postal_tracking = body
        .postal_tracking
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    if body.channel == Channel::Postal && postal_tracking.is_none() {
        return Err(ApiError::invalid(
            "postal_tracking",
            "Hồ sơ qua bưu chính cần số hiệu bưu gửi",
            "a postal dossier needs its postal tracking number",
        ));
    }
    let (procedure, process) = s
        .refs
        .procedure(&s.store, &body.procedure_code)
        .await
        .map_err(|e| invalid_ref("procedure_code", e))?;
    if !procedure.published {
        return Err(ApiError::invalid(
            "procedure_code",
            "Thủ tục chưa được công bố",
            "the procedure is not published",
        ));
    }
    if !procedure.channels.contains(&body.channel)
        || (body.channel == Channel::Online && procedure.online_level == OnlineLevel::Information)
    {
        return Err(ApiError::invalid(
            "channel",
            "Thủ tục không tiếp nhận hồ sơ qua kênh này",
            "the procedure does not accept dossiers on this channel",
        ));
    }
    let applicant = body.applicant.clone().validate()?;
    let (receiving, r_province) = place(s, "agency", &receiving_code).await?;
    let competent_code = competent_agency(s, &procedure, &process, &receiving, &applicant).await?;
    let (competent, c_province) = place(s, "agency", &competent_code).await?;
    let applicant_province = match applicant.unit_code.as_deref() {
        Some(u) => s.refs.province_of(&s.store, u).await?,
        None => None,
    };
    check_filing_place(
        &procedure,
        Place {
            agency: &receiving,
            province: r_province.as_deref(),
        },
        Place {
            agency: &competent,
            province: c_province.as_deref(),
        },
        &applicant,
        applicant_province.as_deref(),
    )?;
    let at = s.clock.now();
    let cal = s.calendar();
    let intake = Intake {
        procedure,
        process,
        channel: body.channel,
        receiving_agency: receiving.code,
        competent_agency: competent.code,
        applicant,
        components: body.components,
        postal_tracking,
        owner_id: (u.role == Role::Citizen).then_some(u.id),
    };
    let (d, change) = Dossier::new(intake, String::new(), at, &cal)?;
    let (stored, created) = s
        .store
        .create_dossier(d, change, &u.username, at, &cal, idem.as_ref())
        .await?;
    if created {
        let channel = serde_json::to_value(body.channel)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        metrics::counter!("motcua_dossiers_created_total", "channel" => channel).increment(1);
        tracing::info!(dossier = %stored.dossier.code, channel = ?body.channel, "dossier created");
    }
    Ok((stored, created))
}

/// Who may read a dossier: its owner, officers of an agency it passed through, admins, IOC.
pub fn can_read(u: &User, d: &Dossier) -> bool {
    match u.role {
        Role::Admin | Role::Viewer => true,
        Role::Citizen => d.owner_id == Some(u.id),
        _ => u.agency_code.as_ref().is_some_and(|a| {
            *a == d.receiving_agency || *a == d.current_agency || *a == d.competent_agency
        }),
    }
}

fn not_visible(code: &str) -> ApiError {
    ApiError::not_found(
        format!("Không tìm thấy hồ sơ «{code}»"),
        format!("dossier «{code}» not found"),
    )
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
    let d = s.store.dossier(&code).await?;
    if !can_read(&user.0, &d.dossier) {
        return Err(not_visible(&code));
    }
    Ok(with_etag(StatusCode::OK, view(&s, d)))
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
           ("If-Match" = Option<String>, Header, description = "ETag of the version acted on")),
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
    let d = act_as(&s, &user.0, &code, &action, expected).await?;
    Ok(with_etag(StatusCode::OK, view(&s, d)))
}

/// Takes a workflow action as user `u` (the API's and the CLI's one path).
pub async fn act_as(
    s: &AppState,
    u: &User,
    code: &str,
    action: &Action,
    expected: Option<i64>,
) -> ApiResult<StoredDossier> {
    let current = s.store.dossier(code).await?;
    if !can_read(u, &current.dossier) {
        return Err(not_visible(code));
    }
    let (d, _) = s
        .store
        .act(
            code,
            action,
            &actor_of(u),
            expected,
            s.clock.now(),
            &s.calendar(),
        )
        .await?;
    metrics::counter!("motcua_dossier_actions_total", "action" => action.name()).increment(1);
    tracing::info!(
        dossier = code,
        action = action.name(),
        status = d.dossier.status.as_str(),
        "dossier action"
    );
    Ok(d)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Comma-separated statuses, e.g. `received,processing`.
    status: Option<String>,
    /// Only overdue (`true`) or not overdue (`false`) dossiers, as of `as_of` (default now).
    overdue: Option<bool>,
    as_of: Option<DateTime<Utc>>,
    /// Appointment before this instant.
    due_before: Option<DateTime<Utc>>,
    /// Agency holding the dossier now. Officers see their own agency's by default.
    agency: Option<String>,
    /// Officer the dossier is assigned to (`me` for yourself).
    assignee: Option<String>,
    /// The applicant's citizen ID or tax code (officers looking up an applicant's dossiers).
    applicant_id: Option<String>,
    procedure_code: Option<String>,
    cursor: Option<String>,
    /// Page size, 1–500 (default 50).
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
    let mut query = DossierQuery {
        statuses,
        overdue: q.overdue,
        as_of: Some(q.as_of.unwrap_or_else(|| s.clock.now())),
        due_before: q.due_before,
        agency: q.agency,
        assignee: match q.assignee.as_deref() {
            Some("me") => Some(u.username.clone()),
            other => other.map(str::to_owned),
        },
        procedure_code: q.procedure_code,
        applicant_id: q.applicant_id.map(|a| a.trim().to_owned()),
        cursor: q.cursor,
        limit: q.limit,
        ..DossierQuery::default()
    };
    match u.role {
        Role::Admin | Role::Viewer => {}
        Role::Citizen => query.owner_id = Some(u.id),
        _ => {
            let own = u.agency_code.as_ref().map(|a| a.to_string());
            if query.agency.is_some() && query.agency != own {
                return Err(ApiError::forbidden(
                    "xem hồ sơ của cơ quan khác",
                    "see another agency's dossiers",
                ));
            }
            query.agency = own;
        }
    }
    let page = s.store.dossiers(&query).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(|d| view(&s, d)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One line of the control slip (process history).
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub before: Option<Snapshot>,
    pub after: Option<Snapshot>,
    pub data: serde_json::Value,
    /// Place in the audit chain (absent for a few moments until sealed).
    pub seq: Option<i64>,
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
    let d = s.store.dossier(&code).await?;
    if !can_read(&user.0, &d.dossier) {
        return Err(not_visible(&code));
    }
    let trail = s.store.audit_trail("dossier", &code).await?;
    Ok(Json(
        trail
            .into_iter()
            .map(|e| HistoryEntry {
                at: e.at,
                actor: e.actor,
                action: e.action,
                before: e.before.and_then(|b| serde_json::from_str(&b).ok()),
                after: e.after.and_then(|b| serde_json::from_str(&b).ok()),
                data: serde_json::from_str(&e.data).unwrap_or_default(),
                seq: e.seq,
            })
            .collect(),
    ))
}

/// Public view of a dossier: no personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tracking {
    pub code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub status: Status,
    pub status_label: String,
    pub portal_status: u8,
    pub channel: Channel,
    pub receiving_agency: String,
    pub receiving_agency_name: String,
    pub submitted_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeliness: Option<Timeliness>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned_at: Option<DateTime<Utc>>,
    pub history: Vec<TrackingStep>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingStep {
    pub at: DateTime<Utc>,
    pub action: String,
    pub status: Status,
    /// Step name (Vietnamese).
    pub step: String,
    pub agency: String,
    pub agency_name: String,
}

/// The public view of a dossier by its code (the API's and the tracking page's one path).
pub async fn tracking_view(s: &AppState, code: &str) -> ApiResult<Tracking> {
    // As typed from a receipt: spaces around it, a lower-case agency letter.
    let code = code.trim().to_uppercase();
    let StoredDossier { dossier: d, .. } = s.store.dossier(&code).await?;
    let trail = s.store.audit_trail("dossier", &code).await?;
    let mut history = Vec::with_capacity(trail.len());
    for e in trail {
        let Some(after) = e
            .after
            .as_deref()
            .and_then(|a| serde_json::from_str::<Snapshot>(a).ok())
        else {
            continue;
        };
        history.push(TrackingStep {
            at: e.at,
            action: e.action,
            status: after.status,
            step: d.process.step_name(&after.step),
            agency_name: s.agency_name(&after.agency).await,
            agency: after.agency.to_string(),
        });
    }
    let body = Tracking {
        receiving_agency_name: s.agency_name(&d.receiving_agency).await,
        overdue: d.overdue(s.clock.now()),
        code: d.code,
        procedure_code: d.procedure_code.to_string(),
        procedure_name: d.procedure_name,
        status: d.status,
        status_label: d.status.label().to_owned(),
        portal_status: d.status.portal_code(),
        channel: d.channel,
        receiving_agency: d.receiving_agency.to_string(),
        submitted_at: d.submitted_at,
        received_at: d.received_at,
        due_at: d.due_at,
        timeliness: d.timeliness,
        ended_at: d.ended_at,
        returned_at: d.returned_at,
        history,
    };
    Ok(body)
}

/// Public tracking by dossier code, as printed on the receipt. No login; no personal data.
#[utoipa::path(get, path = "/tracking/{code}", tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, body = Tracking), (status = 404, body = crate::Problem)))]
async fn tracking(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Response> {
    let body = tracking_view(&s, &code).await?;
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
    s.store.procedure(&code).await?;
    Ok(Json(s.store.process_for(&code).await?))
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
    let u = user.require_admin("sửa quy trình xử lý", "edit processes")?;
    s.store.procedure(&code).await?;
    if let Some(c) = &process.competent_agency {
        s.store
            .agency(c.as_str())
            .await
            .map_err(|e| invalid_ref("competent_agency", e))?;
    }
    let process = s
        .store
        .put_process(&code, process, &u.username, s.clock.now())
        .await?;
    s.refs.clear();
    Ok(Json(process))
}
