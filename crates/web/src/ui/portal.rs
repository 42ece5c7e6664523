//! The citizen portal: catalogue search, a procedure's requirements, registration and login,
//! online filing, "my dossiers", public tracking.

use super::{Form, Page, Tr, error_page, messages, render, see_other, session_cookie, when};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::Response;
use axum::routing::{get, post};
use motcua_domain::auth::Role;
use motcua_domain::calendar::TimeUnit;
use motcua_domain::catalogue::{Channel, ImplLevel, OnlineLevel, Procedure};
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{Applicant, ApplicantKind, Delivery, SubmittedComponent};
use motcua_service::store::{DossierQuery, ProcedureQuery};
use motcua_service::{NewDossier, Tracking, actor_of};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/thu-tuc/{code}", get(procedure))
        .route("/tra-cuu", get(tracking))
        .route("/dang-nhap", get(login_form).post(login))
        .route("/dang-xuat", post(logout))
        .route("/dang-ky", get(register_form).post(register))
        .route("/ngon-ngu", get(language))
        .route("/nop/{code}", get(file_form).post(file_online))
        .route("/ho-so", get(my_dossiers))
        .route("/kho-du-lieu", get(my_warehouse))
        .route("/kho-du-lieu/{code}/tep", get(warehouse_download))
}

/// A time limit in words.
pub fn limit_text(tr: Tr, p: &Procedure) -> String {
    match p.time_limit {
        None => p
            .time_limit_text
            .clone()
            .unwrap_or_else(|| tr.t("Chưa công bố", "Not published").into()),
        Some(t) => {
            let unit = match t.unit {
                TimeUnit::WorkingDays => tr.t("ngày làm việc", "working days"),
                TimeUnit::CalendarDays => tr.t("ngày", "days"),
                TimeUnit::WorkingHours => tr.t("giờ làm việc", "working hours"),
                TimeUnit::SameDay => tr.t("trong ngày", "the same day"),
                TimeUnit::Months => tr.t("tháng", "months"),
            };
            if t.unit == TimeUnit::SameDay {
                unit.into()
            } else {
                format!("{} {unit}", t.value)
            }
        }
    }
}

pub struct ProcRow {
    pub code: String,
    pub name: String,
    pub field: String,
    pub limit: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    page: Page,
    q: String,
    items: Vec<ProcRow>,
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

async fn home(State(s): State<AppState>, page: Page, Query(q): Query<SearchQuery>) -> Response {
    let page = page.titled("Thủ tục hành chính", "Administrative procedures");
    let q =
        q.q.unwrap_or_default()
            .chars()
            .take(200)
            .collect::<String>();
    let found = s
        .store()
        .search_procedures(&ProcedureQuery {
            q: Some(q.clone()).filter(|q| !q.trim().is_empty()),
            limit: Some(if q.trim().is_empty() { 10 } else { 30 }),
            ..Default::default()
        })
        .await;
    match found {
        Ok(p) => render(&Home {
            items: p
                .items
                .iter()
                .map(|p| ProcRow {
                    code: p.code.to_string(),
                    name: p.name.clone(),
                    field: p.field.clone(),
                    limit: limit_text(page.tr, p),
                })
                .collect(),
            page,
            q,
        }),
        Err(e) => error_page(page.tr, e.into()),
    }
}

#[derive(Template)]
#[template(path = "procedure.html")]
struct ProcedurePage {
    page: Page,
    p: Procedure,
    levels: String,
    online: String,
    limit: String,
    fees: String,
    online_filing: bool,
}

async fn procedure(State(s): State<AppState>, page: Page, Path(code): Path<String>) -> Response {
    let p = match s.store().procedure(&code).await {
        Ok(p) if p.published => p,
        Ok(_) => {
            return error_page(
                page.tr,
                ApiError::not_found("Thủ tục chưa công bố", "procedure not published"),
            );
        }
        Err(e) => return error_page(page.tr, e.into()),
    };
    let tr = page.tr;
    let levels = p
        .levels
        .iter()
        .map(|l| match l {
            ImplLevel::Ministry => tr.t("Cấp bộ", "Ministry"),
            ImplLevel::Province => tr.t("Cấp tỉnh", "Province"),
            ImplLevel::Commune => tr.t("Cấp xã", "Commune"),
            ImplLevel::Other => tr.t("Cơ quan khác", "Other"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let online = match p.online_level {
        OnlineLevel::Full => tr.t("Toàn trình", "Full (entirely online)"),
        OnlineLevel::Partial => tr.t("Một phần", "Partial"),
        OnlineLevel::Information => tr.t("Cung cấp thông tin", "Information only"),
    }
    .to_owned();
    let fees = if p.fees.is_empty() {
        p.fee_text
            .clone()
            .unwrap_or_else(|| tr.t("Không", "None").into())
    } else {
        p.fees
            .iter()
            .map(|f| format!("{}: {} {}", f.name, f.amount, f.currency))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let page = Page {
        title: p.name.clone(),
        ..page
    };
    render(&ProcedurePage {
        limit: limit_text(tr, &p),
        online_filing: p.channels.contains(&Channel::Online)
            && p.online_level != OnlineLevel::Information,
        levels,
        online,
        fees,
        p,
        page,
    })
}

#[derive(Template)]
#[template(path = "tracking.html")]
struct TrackingPage {
    page: Page,
    code: String,
    t: Option<TrackingInfo>,
    errors: Vec<String>,
}

pub struct TrackingInfo {
    pub code: String,
    pub procedure: String,
    pub status: String,
    pub agency: String,
    pub received: String,
    pub due: String,
    pub overdue: bool,
    pub timeliness: String,
    pub steps: Vec<(String, String, String, String)>,
}

pub fn timeliness_label(tr: Tr, t: Option<motcua_domain::dossier::Timeliness>) -> String {
    use motcua_domain::dossier::Timeliness as T;
    match t {
        Some(T::Early) => tr.t("Trước hạn", "Early"),
        Some(T::OnTime) => tr.t("Đúng hạn", "On time"),
        Some(T::Late) => tr.t("Quá hạn", "Late"),
        None => "",
    }
    .to_owned()
}

pub fn status_label(tr: Tr, s: motcua_domain::dossier::Status) -> String {
    use motcua_domain::dossier::Status as S;
    match tr.0 {
        super::Lang::Vi => s.label().to_owned(),
        super::Lang::En => match s {
            S::Submitted => "Submitted, awaiting acceptance",
            S::Received => "Received",
            S::Rejected => "Not accepted",
            S::Processing => "Being processed",
            S::AwaitingSupplement => "Awaiting a supplement",
            S::AwaitingPayment => "Awaiting payment",
            S::WithdrawalRequested => "Withdrawal requested",
            S::Stopped => "Stopped",
            S::Resolved => "Result ready",
            S::Returned => "Result returned",
        }
        .to_owned(),
    }
}

pub fn action_label(tr: Tr, a: &str) -> String {
    let (vi, en) = match a {
        "submit" => ("Nộp hồ sơ", "Filed"),
        "receive" | "accept" => ("Tiếp nhận hồ sơ", "Received"),
        "assign" => ("Phân công xử lý", "Assigned"),
        "forward" => ("Chuyển bước tiếp theo", "Forwarded to the next step"),
        "transfer" => ("Chuyển liên thông", "Sent to another agency"),
        "child_created" => ("Nhận hồ sơ liên thông", "Inter-agency case received"),
        "child_opened" => ("Mở hồ sơ liên thông", "Inter-agency case opened"),
        "child_resolved" => ("Cơ quan liên thông đã xử lý xong", "Inter-agency case done"),
        "request_supplement" => ("Yêu cầu bổ sung hồ sơ", "Supplement requested"),
        "supplement_received" => ("Đã nhận hồ sơ bổ sung", "Supplement received"),
        "pause" => ("Tạm dừng chờ nghĩa vụ tài chính", "Paused for payment"),
        "resume" => ("Tiếp tục xử lý", "Resumed"),
        "extend" => (
            "Gia hạn, phiếu xin lỗi và hẹn lại",
            "Extended with an apology slip",
        ),
        "refuse" => ("Từ chối", "Refused"),
        "withdraw" => ("Xin rút hồ sơ", "Withdrawal requested"),
        "confirm_withdrawal" => ("Đồng ý rút hồ sơ", "Withdrawal confirmed"),
        "approve" => ("Phê duyệt", "Approved"),
        "return_result" => ("Chuyển trả kết quả", "Result sent"),
        "mark_collected" => ("Công dân đã nhận kết quả", "Result collected"),
        other => (other, other),
    };
    tr.t(vi, en).to_owned()
}

pub fn tracking_info(s: &AppState, tr: Tr, t: Tracking) -> TrackingInfo {
    TrackingInfo {
        status: status_label(tr, t.status),
        received: t.received_at.map(|x| when(s, &x)).unwrap_or_default(),
        due: t.due_at.map(|x| when(s, &x)).unwrap_or_default(),
        overdue: t.overdue,
        timeliness: timeliness_label(tr, t.timeliness),
        agency: t.receiving_agency_name,
        procedure: t.procedure_name,
        steps: t
            .history
            .into_iter()
            .map(|h| {
                (
                    when(s, &h.at),
                    action_label(tr, &h.action),
                    h.step,
                    h.agency_name,
                )
            })
            .collect(),
        code: t.code,
    }
}

#[derive(Deserialize)]
struct TrackQuery {
    ma: Option<String>,
}

async fn tracking(State(s): State<AppState>, page: Page, Query(q): Query<TrackQuery>) -> Response {
    let page = page.titled("Tra cứu hồ sơ", "Track a dossier");
    let code = q.ma.unwrap_or_default().trim().to_owned();
    if code.is_empty() {
        return render(&TrackingPage {
            page,
            code,
            t: None,
            errors: Vec::new(),
        });
    }
    match s.tracking(&code).await.map_err(ApiError::from) {
        Ok(t) => render(&TrackingPage {
            t: Some(tracking_info(&s, page.tr, t)),
            page,
            code,
            errors: Vec::new(),
        }),
        Err(e) => {
            let mut res = render(&TrackingPage {
                errors: messages(page.tr, &e),
                page,
                code,
                t: None,
            });
            *res.status_mut() = e.status;
            res
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login {
    page: Page,
    next: String,
    username: String,
    errors: Vec<String>,
    /// A form posted after the session expired: where it went, and what was typed.
    resume_to: String,
    resume: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "resume.html")]
struct Resume {
    page: Page,
    to: String,
    csrf: String,
    /// The fields as they will be sent.
    fields: Vec<(String, String)>,
    /// What is shown (without hidden bookkeeping).
    shown: Vec<(String, String)>,
}

/// A form posted with an expired session: the login page, keeping what was typed (never
/// passwords) so that it can be sent once the user is signed in again.
pub(super) fn expired_session_login(page: Page, pairs: &[(String, String)]) -> Response {
    let to = safe_next(Some(page.path.as_str()));
    let resume = pairs
        .iter()
        .filter(|(k, _)| k != "_csrf" && !k.contains("password"))
        .cloned()
        .collect();
    let mut res = render(&Login {
        page: page.titled("Đăng nhập lại", "Log in again"),
        next: String::new(),
        username: String::new(),
        errors: Vec::new(),
        resume_to: to,
        resume,
    });
    *res.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    res
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

use crate::security::safe_next;

async fn login_form(page: Page, Query(q): Query<NextQuery>) -> Response {
    render(&Login {
        page: page.titled("Đăng nhập", "Log in"),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        errors: Vec::new(),
        resume_to: String::new(),
        resume: Vec::new(),
    })
}

pub(super) fn home_of(role: Role) -> &'static str {
    match role {
        Role::Citizen => "/ho-so",
        Role::Reception | Role::Postal => "/mot-cua",
        Role::Specialist | Role::Leader => "/xu-ly",
        Role::Admin => "/quan-tri",
        Role::Viewer => "/ioc",
    }
}

async fn login(
    State(s): State<AppState>,
    page: Page,
    addr: crate::security::ClientAddr,
    form: Form,
) -> Response {
    let page = page.titled("Đăng nhập", "Log in");
    let username = form.text("username");
    let next = safe_next(form.get("next"));
    let resume_to = safe_next(form.get("r_to"));
    let resume: Vec<(String, String)> = form
        .pairs()
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("r:").map(|k| (k.to_owned(), v.clone())))
        .collect();
    let user = match s
        .login(&username, form.get("password").unwrap_or_default(), &addr.0)
        .await
        .map_err(ApiError::from)
    {
        Ok(u) => u,
        Err(e) if e.status.is_client_error() => {
            let status = e.status;
            let mut res = render(&Login {
                errors: messages(page.tr, &e),
                page,
                next,
                username,
                resume_to,
                resume,
            });
            *res.status_mut() = status;
            return res;
        }
        Err(e) => return error_page(page.tr, e),
    };
    let to = if !next.is_empty() {
        next
    } else {
        home_of(user.role).to_owned()
    };
    let (token, mut res) = match start_session(&s, &page, &user, &to).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !resume_to.is_empty() {
        // The form that was posted after the session expired, ready to send again.
        let csrf = super::csrf_token(&s.csrf_key[..], Some(&token), "");
        let shown = resume
            .iter()
            .filter(|(k, v)| !v.is_empty() && !k.starts_with('_'))
            .cloned()
            .collect();
        let mut page = page.titled("Gửi tiếp biểu mẫu", "Send the form again");
        page.user = Some(user);
        let mut body = render(&Resume {
            page,
            to: resume_to,
            csrf,
            fields: resume,
            shown,
        });
        if let Some(c) = res.headers_mut().remove(header::SET_COOKIE) {
            body.headers_mut().append(header::SET_COOKIE, c);
        }
        res = body;
    }
    res
}

/// Opens a web session for `user` and redirects to `to`; also returns the session's token.
async fn start_session(
    s: &AppState,
    page: &Page,
    user: &motcua_service::store::User,
    to: &str,
) -> Result<(String, Response), Response> {
    match s
        .store()
        .issue_session(user, s.now(), s.session_idle, s.session_max)
        .await
    {
        Ok((token, _)) => {
            let mut res = see_other(to);
            res.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(&token, page.secure_cookies, s.session_max.num_seconds()),
            );
            Ok((token, res))
        }
        Err(e) => Err(error_page(page.tr, e.into())),
    }
}

async fn logout(
    State(s): State<AppState>,
    page: Page,
    headers: axum::http::HeaderMap,
    _form: Form,
) -> Response {
    if let Some(token) = super::cookie(&headers, super::SESSION_COOKIE)
        && let Err(e) = s.revoke_token(token).await
    {
        return error_page(page.tr, e.into());
    }
    let mut res = see_other("/");
    res.headers_mut().append(
        header::SET_COOKIE,
        session_cookie("", page.secure_cookies, 0),
    );
    res
}

#[derive(Template)]
#[template(path = "register.html")]
struct Register {
    page: Page,
    /// Where to go once registered (the form the citizen was going to).
    next: String,
    id_number: String,
    name: String,
    phone: String,
    email: String,
    errors: Vec<String>,
}

async fn register_form(page: Page, Query(q): Query<NextQuery>) -> Response {
    render(&Register {
        page: page.titled("Đăng ký tài khoản", "Register"),
        next: safe_next(q.next.as_deref()),
        id_number: String::new(),
        name: String::new(),
        phone: String::new(),
        email: String::new(),
        errors: Vec::new(),
    })
}

async fn register(State(s): State<AppState>, page: Page, form: Form) -> Response {
    let page = page.titled("Đăng ký tài khoản", "Register");
    let applicant = Applicant {
        kind: ApplicantKind::Person,
        id_number: form.text("id_number"),
        name: form.text("name"),
        phone: form.get("phone").map(str::to_owned),
        email: form.get("email").map(str::to_owned),
        address: None,
        unit_code: None,
    };
    match s
        .register_citizen(s.now(), applicant, form.text("password"))
        .await
    {
        Ok(user) => match start_session(&s, &page, &user, &{
            let next = safe_next(form.get("next"));
            if next.is_empty() {
                "/ho-so".to_owned()
            } else {
                next
            }
        })
        .await
        {
            Ok((_, r)) | Err(r) => r,
        },
        Err(e) => {
            let e = ApiError::from(e);
            let mut res = render(&Register {
                next: safe_next(form.get("next")),
                errors: messages(page.tr, &e),
                id_number: form.text("id_number"),
                name: form.text("name"),
                phone: form.text("phone"),
                email: form.text("email"),
                page,
            });
            *res.status_mut() = e.status;
            res
        }
    }
}

#[derive(Deserialize)]
struct LangQuery {
    l: Option<String>,
    next: Option<String>,
}

async fn language(page: Page, Query(q): Query<LangQuery>) -> Response {
    let lang = if q.l.as_deref() == Some("en") {
        "en"
    } else {
        "vi"
    };
    let next = safe_next(q.next.as_deref());
    let mut res = see_other(if next.is_empty() { "/" } else { &next });
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!(
        "{}={lang}; Path=/; Max-Age=31536000; SameSite=Lax{}",
        super::LANG_COOKIE,
        if page.secure_cookies { "; Secure" } else { "" }
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub struct ComponentRow {
    pub index: usize,
    pub name: String,
    pub required: bool,
    pub warehouse: bool,
    pub checked: bool,
    /// Originals and copies: the catalogue's numbers, or those recorded or typed.
    pub originals: u16,
    pub copies: u16,
    /// The warehouse document taken for it (its digitisation result code), if any.
    pub warehouse_code: String,
    /// The form came back with that document chosen.
    pub reused: bool,
}

impl ComponentRow {
    /// Rows for the components at `indexes` of `p`, with the catalogue's numbers of originals
    /// and copies — or, when `form` came back with an error, what the officer ticked and
    /// typed. `ticked` says whether a row starts ticked on a fresh form.
    pub fn of_catalogue(
        p: &Procedure,
        indexes: impl Iterator<Item = usize>,
        form: Option<&Form>,
        ticked: bool,
    ) -> Vec<ComponentRow> {
        indexes
            .filter_map(|i| p.components.get(i).map(|c| (i, c)))
            .map(|(i, c)| {
                let typed = |k: &str| form.and_then(|f| f.get(&format!("{k}{i}"))?.parse().ok());
                ComponentRow {
                    index: i,
                    name: c.name.clone(),
                    required: c.required,
                    warehouse: c.warehouse_copy_accepted,
                    checked: form.map_or(ticked, |f| f.get(&format!("c{i}")).is_some()),
                    originals: typed("o").unwrap_or(c.originals),
                    copies: typed("s").unwrap_or(c.copies),
                    warehouse_code: String::new(),
                    reused: form.is_some_and(|f| f.get(&format!("w{i}")).is_some()),
                }
            })
            .collect()
    }
}

/// The components ticked on a form (`c{i}` among `indexes`) with their numbers of originals
/// (`o{i}`) and copies (`s{i}`); ticked with no numbers means one copy handed in.
pub fn received_components(
    form: &Form,
    indexes: impl Iterator<Item = usize>,
) -> Vec<motcua_domain::dossier::SubmittedComponent> {
    let count = |k: &str, i: usize| {
        form.get(&format!("{k}{i}"))
            .and_then(|v| v.trim().parse::<u16>().ok())
            .unwrap_or(0)
    };
    indexes
        .filter(|i| form.get(&format!("c{i}")).is_some() || form.get(&format!("w{i}")).is_some())
        .map(|i| {
            // Taken from the applicant's warehouse: no paper.
            if let Some(code) = form.get(&format!("w{i}")) {
                return motcua_domain::dossier::SubmittedComponent {
                    index: i,
                    originals: 0,
                    copies: 0,
                    from_warehouse: true,
                    warehouse_code: Some(code.to_owned()),
                };
            }
            let (originals, copies) = (count("o", i), count("s", i));
            motcua_domain::dossier::SubmittedComponent {
                index: i,
                originals,
                copies: if originals == 0 && copies == 0 {
                    1
                } else {
                    copies
                },
                from_warehouse: false,
                warehouse_code: None,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "file.html")]
struct FilePage {
    page: Page,
    p: Procedure,
    limit: String,
    agencies: Vec<(String, String)>,
    agency: String,
    name: String,
    id_number: String,
    phone: String,
    email: String,
    address: String,
    /// The commune of residence as typed: a name, "Name (code)" or a code.
    unit: String,
    components: Vec<ComponentRow>,
    errors: Vec<String>,
    delivery: String,
}

async fn file_page(
    s: &AppState,
    page: Page,
    code: &str,
    form: Option<&Form>,
    errors: Vec<String>,
) -> Response {
    let Some(user) = page.user.clone() else {
        return see_other(&format!("/dang-nhap?next=/nop/{code}"));
    };
    let p = match s.store().procedure(code).await {
        Ok(p) => p,
        Err(e) => return error_page(page.tr, e.into()),
    };
    // Only the one-stop points that may receive this procedure are offered.
    let agencies: Vec<(String, String)> = match s.filing_places(code, None).await {
        Ok(a) => a
            .into_iter()
            .map(|a| (a.code.to_string(), a.name))
            .collect(),
        Err(e) => return error_page(page.tr, e.into()),
    };
    let (phone, email) = s.store().user_contact(user.id).await.unwrap_or_default();
    let field = |name: &str, default: String| form.map_or(default, |f| f.text(name));
    let mut components = ComponentRow::of_catalogue(&p, 0..p.components.len(), form, true);
    // The citizen's own warehouse documents that can stand for a component: offered (and
    // ticked on a fresh form), so the paper is not asked for again.
    if let Ok(found) = s
        .reuse_suggestions(&actor_of(&user), &user.username, code)
        .await
    {
        for (i, doc) in found {
            if let Some(row) = components.iter_mut().find(|r| r.index == i) {
                row.reused = form.is_none_or(|f| f.get(&format!("w{i}")).is_some());
                row.warehouse_code = doc.code;
            }
        }
    }
    let page = Page {
        title: format!("{}: {}", page.tr.t("Nộp hồ sơ", "File"), p.name),
        ..page
    };
    let mut res = render(&FilePage {
        limit: limit_text(page.tr, &p),
        agency: field(
            "agency",
            match agencies.as_slice() {
                [only] => only.0.clone(),
                _ => String::new(),
            },
        ),
        delivery: field("delivery", "electronic".to_owned()),
        name: field("name", user.full_name.clone()),
        id_number: field("id_number", user.username.clone()),
        phone: field("phone", phone.unwrap_or_default()),
        email: field("email", email.unwrap_or_default()),
        address: field("address", String::new()),
        unit: field("unit", String::new()),
        components,
        agencies,
        p,
        errors: errors.clone(),
        page,
    });
    if !errors.is_empty() {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

async fn file_form(State(s): State<AppState>, page: Page, Path(code): Path<String>) -> Response {
    if let Err(r) = page.require(&[Role::Citizen]) {
        return r;
    }
    file_page(&s, page, &code, None, Vec::new()).await
}

async fn file_online(
    State(s): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    form: Form,
) -> Response {
    let user = match page.require(&[Role::Citizen]) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let procedure = match s.store().procedure(&code).await {
        Ok(p) => p,
        Err(e) => return error_page(page.tr, e.into()),
    };
    let components = (0..procedure.components.len())
        .filter(|i| form.get(&format!("c{i}")).is_some() || form.get(&format!("w{i}")).is_some())
        .map(|i| {
            // The document offered (its code), or a bare "from my warehouse".
            let chosen = form.get(&format!("w{i}"));
            let warehouse = chosen.is_some();
            SubmittedComponent {
                index: i,
                originals: 0,
                copies: u16::from(!warehouse),
                from_warehouse: warehouse,
                warehouse_code: chosen
                    .filter(|c| motcua_domain::digitisation::is_result_code(c))
                    .map(str::to_owned),
            }
        })
        .collect();
    let agency = match form.get("agency").map(AgencyCode::parse) {
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => {
            let msgs = messages(page.tr, &ApiError::from(e));
            return file_page(&s, page, &code, Some(&form), msgs).await;
        }
        None => None,
    };
    let unit_code = match super::office::resolve_commune(&s, &user, &form.text("unit")).await {
        Ok(u) => u,
        Err(e) => {
            let msgs = messages(page.tr, &e);
            return file_page(&s, page, &code, Some(&form), msgs).await;
        }
    };
    let body = NewDossier {
        procedure_code: code.clone(),
        channel: Channel::Online,
        agency,
        applicant: Applicant {
            kind: ApplicantKind::Person,
            id_number: form.text("id_number"),
            name: form.text("name"),
            phone: form.get("phone").map(str::to_owned),
            email: form.get("email").map(str::to_owned),
            address: form.get("address").map(str::to_owned),
            unit_code,
        },
        components,
        postal_tracking: None,
        result_delivery: super::office::delivery_from(&form).or(Some(Delivery::Electronic)),
    };
    match s
        .file(&s.acting(actor_of(&user)), body, None)
        .await
        .map_err(ApiError::from)
    {
        Ok((d, _)) => see_other(&format!("/ho-so/{}?moi=1", d.dossier.code)),
        Err(e) => {
            let msgs = messages(page.tr, &e);
            file_page(&s, page, &code, Some(&form), msgs).await
        }
    }
}

#[derive(Clone)]
pub struct Row {
    pub code: String,
    pub procedure: String,
    pub applicant: String,
    pub status: String,
    pub step: String,
    pub due: String,
    pub urgency: &'static str,
    pub assignee: String,
}

/// A list row, with its urgency: `overdue`, `soon` (due within a working day) or none.
pub fn row(s: &AppState, tr: Tr, d: &motcua_domain::dossier::Dossier) -> Row {
    let now = s.now();
    let urgency = if d.overdue(now) {
        "overdue"
    } else if d.status.is_open()
        && d.paused_at.is_none()
        && d.due_at.is_some_and(|due| {
            s.calendar().working_minutes_between(now, due) <= s.calendar().hours().minutes_per_day()
        })
    {
        "soon"
    } else {
        ""
    };
    Row {
        code: d.code.clone(),
        procedure: d.procedure_name.clone(),
        applicant: d.applicant.name.clone(),
        status: status_label(tr, d.status),
        step: d.step_name(),
        due: d.due_at.map(|t| when(s, &t)).unwrap_or_default(),
        urgency,
        assignee: d.assignee.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "my_dossiers.html")]
struct MyDossiers {
    page: Page,
    rows: Vec<Row>,
}

/// A document of the citizen's warehouse as listed.
struct WarehouseLine {
    code: String,
    name: String,
    dossier: String,
    confirmed: String,
    signed: bool,
    valid_until: String,
    expired: bool,
}

#[derive(Template)]
#[template(path = "warehouse.html")]
struct WarehousePage {
    page: Page,
    docs: Vec<WarehouseLine>,
}

/// The citizen's own electronic data warehouse: every confirmed copy and electronic result,
/// with its code, source dossier, validity and whether it is signed.
async fn my_warehouse(State(s): State<AppState>, page: Page) -> Response {
    let user = match page.require(&[Role::Citizen]) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let page = page.titled("Kho dữ liệu của tôi", "My data warehouse");
    let today = s.calendar().to_local_fixed(s.now()).date_naive();
    match s.my_warehouse(&actor_of(&user)).await {
        Ok(docs) => render(&WarehousePage {
            docs: docs
                .into_iter()
                .map(|d| WarehouseLine {
                    expired: d.valid_until.is_some_and(|v| v < today),
                    valid_until: d
                        .valid_until
                        .map(|v| v.format("%d/%m/%Y").to_string())
                        .unwrap_or_default(),
                    confirmed: super::when(&s, &d.confirmed_at),
                    code: d.code,
                    name: d.name,
                    dossier: d.dossier_code,
                    signed: d.signed,
                })
                .collect(),
            page,
        }),
        Err(e) => error_page(page.tr, e.into()),
    }
}

async fn warehouse_download(
    State(s): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> Response {
    let user = match page.require(&[Role::Citizen]) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    match s.warehouse_file(&actor_of(&user), &code, None).await {
        Ok((f, bytes)) => crate::api::files::file_response(&f, bytes),
        Err(e) => error_page(page.tr, e.into()),
    }
}

async fn my_dossiers(State(s): State<AppState>, page: Page) -> Response {
    let user = match page.require(&[Role::Citizen]) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let page = page.titled("Hồ sơ của tôi", "My dossiers");
    match s
        .store()
        .dossiers(&DossierQuery {
            owner_id: Some(user.id),
            as_of: Some(s.now()),
            limit: Some(200),
            ..Default::default()
        })
        .await
    {
        Ok(p) => render(&MyDossiers {
            rows: p
                .items
                .iter()
                .map(|d| row(&s, page.tr, &d.dossier))
                .collect(),
            page,
        }),
        Err(e) => error_page(page.tr, e.into()),
    }
}
