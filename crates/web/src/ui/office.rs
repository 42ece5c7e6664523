//! The one-stop counter (receive fast, print the receipt, hand back results), the back office
//! (work queues by deadline, the dossier page with every action the user may take) — and the
//! dossier page its owner sees.

use super::portal::{
    ComponentRow, Row, action_label, received_components, row, status_label, timeliness_label,
};
use super::{Form, Page, error_page, messages, render, render_form, see_other, when};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use motcua_domain::auth::Role;
use motcua_domain::catalogue::{Channel, Procedure};
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{
    Action, ActionKind, Applicant, ApplicantKind, Delivery, Dossier, DossierEvent, EventRecord,
    MissingItem, Slip, Status,
};
use motcua_service::store::{DossierQuery, ProcedureQuery, StoredDossier, User};
use motcua_service::{HistoryEntry, NewDossier, actor_of};
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mot-cua", get(counter))
        .route("/mot-cua/tiep-nhan", post(receive))
        .route("/xu-ly", get(queue))
        .route("/ho-so/{code}", get(dossier))
        .route("/ho-so/{code}/hanh-dong", post(action))
        .route("/ho-so/{code}/danh-gia", post(rate))
        .route("/ho-so/{code}/bien-nhan", get(receipt))
        .route("/ho-so/{code}/bien-nhan.pdf", get(receipt_pdf))
        .route("/ho-so/{code}/phieu/{kind}", get(slip))
        .route("/ho-so/{code}/phieu-pdf/{kind}", get(slip_pdf))
        .route("/ho-so/{code}/phieu-da-ky/{id}", get(kept_slip_pdf))
        .route("/ho-so/{code}/ket-qua-mau", post(draft_result))
        .route("/so-theo-doi", get(register_pdf))
        .route("/tim-kiem", get(find))
}

// ---------------------------------------------------------------------------------------------
// The search box (every officer page): a code typed or scanned opens the dossier at once.

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    page: Page,
    q: String,
    rows: Vec<Row>,
}

#[derive(Deserialize)]
struct FindQuery {
    #[serde(default)]
    q: String,
}

async fn find(State(s): State<AppState>, page: Page, Query(q): Query<FindQuery>) -> Response {
    let user = match page.require(&[
        Role::Reception,
        Role::Specialist,
        Role::Leader,
        Role::Postal,
        Role::Admin,
    ]) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let tr = page.tr;
    match s.find(&actor_of(&user), &q.q).await {
        Ok(motcua_service::Found::Dossier(code)) => see_other(&format!("/ho-so/{code}")),
        Ok(motcua_service::Found::List(found)) => {
            let rows = found.iter().map(|d| row(&s, tr, &d.dossier)).collect();
            render(&SearchPage {
                page: page.titled("Tìm hồ sơ", "Find a dossier"),
                q: q.q,
                rows,
            })
        }
        Err(e) => error_page(tr, e.into()),
    }
}

/// The full public tracking link of a dossier and its QR code (SVG), for receipts and slips.
pub struct TrackingLink {
    pub url: String,
    pub qr: String,
}

impl TrackingLink {
    pub fn new(s: &AppState, headers: &axum::http::HeaderMap, code: &str) -> TrackingLink {
        let (url, qr) = crate::slips::tracking(&super::public_base(s, headers), code);
        TrackingLink { url, qr }
    }
}

const OFFICERS: &[Role] = &[
    Role::Reception,
    Role::Specialist,
    Role::Leader,
    Role::Postal,
];

// ---------------------------------------------------------------------------------------------
// The dossier page

pub struct Facts {
    pub code: String,
    pub procedure: String,
    pub procedure_code: String,
    pub status: String,
    pub status_code: &'static str,
    pub channel: String,
    pub applicant: String,
    pub applicant_id: String,
    pub contact: String,
    pub receiving: String,
    pub current: String,
    pub step: String,
    pub assignee: String,
    pub submitted: String,
    pub received: String,
    pub due: String,
    pub original_due: String,
    pub step_due: String,
    pub overdue: bool,
    pub timeliness: String,
    pub postal_tracking: String,
    pub parent: String,
    pub children: Vec<String>,
    pub result: String,
    /// How the applicant asked for the result at intake: its code and words.
    pub delivery: &'static str,
    pub delivery_text: String,
}

/// How a result is returned, in words.
pub fn delivery_label(tr: super::Tr, m: Delivery) -> &'static str {
    match m {
        Delivery::Electronic => tr.t("bản điện tử", "electronically"),
        Delivery::Paper => tr.t("bản giấy tại bộ phận một cửa", "on paper at the counter"),
        Delivery::Postal => tr.t("qua bưu chính", "by post"),
    }
}

pub struct HistoryRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub status: String,
    pub step: String,
    pub agency: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "dossier.html")]
struct DossierPage {
    page: Page,
    f: Facts,
    components: Vec<ComponentRow>,
    history: Vec<HistoryRow>,
    /// The action the page leads with for this user (their role's main work now).
    main: Option<(&'static str, String)>,
    /// The other actions, folded away.
    others: Vec<(&'static str, String)>,
    /// Actions the user's role would take here, and why they cannot now.
    blocked: Vec<(String, String)>,
    /// What happens next and who does it; then the step after.
    next: (String, String),
    /// The folded action to show open (the one an error came back for).
    open: String,
    open_others: bool,
    version: i64,
    officers: Vec<(String, String)>,
    agencies: Vec<(String, String)>,
    notice: String,
    errors: Vec<String>,
    receipt: bool,
    citizen: bool,
    /// What the applicant must still hand in (awaiting a supplement).
    missing: Vec<String>,
    /// Printable slips of this dossier: (kind, title).
    slips: Vec<(&'static str, String)>,
    /// Signed slips kept with the dossier: (id, title and time).
    kept: Vec<(i64, String)>,
    /// Components the accept form can record as received (those not handed in yet).
    to_receive: Vec<ComponentRow>,
    /// Components the supplement form can record (all of them).
    supplement: Vec<ComponentRow>,
    /// The dossier's files.
    files: Vec<super::files::FileLine>,
    /// Whether the user may add a component's file now, a result's, confirm digitisation.
    can_upload: bool,
    can_upload_result: bool,
    can_digitise: bool,
    has_result_files: bool,
    /// The rating form is shown (to the owner, or a one-stop officer of the receiving agency).
    can_rate: bool,
    /// The rating given: level and comment.
    rating: Option<(String, String)>,
}

/// The actions that lead the page for a role, first available first. Refusing, stopping and
/// withdrawing never lead: they are folded away and confirmed.
fn main_order(role: Role) -> &'static [ActionKind] {
    use ActionKind as K;
    match role {
        Role::Leader => &[K::Approve, K::ConfirmWithdrawal, K::Forward, K::Assign],
        Role::Specialist => &[K::Forward, K::SupplementReceived, K::Resume, K::Assign],
        Role::Reception => &[
            K::Accept,
            K::SupplementReceived,
            K::ReturnResult,
            K::MarkCollected,
            K::ConfirmWithdrawal,
            K::Forward,
            K::Assign,
        ],
        Role::Postal => &[K::ReturnResult, K::MarkCollected],
        Role::Citizen => &[K::SupplementReceived],
        Role::Admin | Role::Viewer => &[],
    }
}

/// Actions that end or stop a dossier: the page asks for confirmation first.
const CONFIRM_FIRST: &[&str] = &["refuse", "withdraw", "confirm_withdrawal"];

/// The label of an action's button (what the user does).
pub fn action_button(tr: super::Tr, a: &str) -> String {
    let (vi, en) = match a {
        "accept" => ("Tiếp nhận hồ sơ", "Accept the dossier"),
        "assign" => ("Phân công xử lý", "Assign"),
        "forward" => ("Chuyển bước tiếp theo", "Forward to the next step"),
        "transfer" => ("Chuyển liên thông", "Send to another agency"),
        "request_supplement" => ("Yêu cầu bổ sung hồ sơ", "Request a supplement"),
        "supplement_received" => ("Đã nhận hồ sơ bổ sung", "Supplement received"),
        "pause" => ("Tạm dừng chờ nghĩa vụ tài chính", "Pause for payment"),
        "resume" => ("Tiếp tục xử lý", "Resume"),
        "extend" => ("Gia hạn, lập phiếu xin lỗi", "Extend with an apology slip"),
        "refuse" => ("Từ chối hồ sơ", "Refuse the dossier"),
        "withdraw" => ("Xin rút hồ sơ", "Withdraw the dossier"),
        "confirm_withdrawal" => ("Đồng ý cho rút hồ sơ", "Confirm the withdrawal"),
        "approve" => ("Phê duyệt", "Approve"),
        "return_result" => ("Chuyển trả kết quả", "Send the result"),
        "mark_collected" => ("Công dân đã nhận kết quả", "Result collected"),
        other => return action_label(tr, other),
    };
    tr.t(vi, en).to_owned()
}

/// Who handles a step: the assignee's name when there is one, else the role at the agency.
async fn handler(
    s: &AppState,
    tr: super::Tr,
    role: Role,
    agency: &AgencyCode,
    assignee: Option<&str>,
) -> String {
    let (vi, en) = role.label();
    let at = s.agency_name(agency).await;
    match assignee {
        Some(a) => {
            let name = match s.store().user_by_name(a).await {
                Ok(Some(u)) => u.full_name,
                _ => a.to_owned(),
            };
            format!("{name} ({}, {at})", tr.t(vi, en))
        }
        None => format!(
            "{}, {at} — {}",
            tr.t(vi, en),
            tr.t("chưa phân công người xử lý", "nobody assigned yet")
        ),
    }
}

/// What happens next to the dossier and who does it; then the step after that.
async fn next_step(s: &AppState, tr: super::Tr, d: &Dossier, citizen: bool) -> (String, String) {
    let receiving = s.agency_name(&d.receiving_agency).await;
    let step = |i: usize| d.process.steps.get(i);
    let now = match d.status {
        Status::Submitted => format!(
            "{} — {}, {receiving}",
            tr.t("Kiểm tra và tiếp nhận hồ sơ", "Check and accept the dossier"),
            tr.t(Role::Reception.label().0, Role::Reception.label().1)
        ),
        Status::AwaitingSupplement if citizen => tr
            .t(
                "Bạn bổ sung, hoàn thiện hồ sơ theo yêu cầu dưới đây; thời hạn giải quyết tạm dừng đến khi bạn bổ sung.",
                "Hand in what is asked below; the time limit is paused until you do.",
            )
            .to_owned(),
        Status::AwaitingSupplement => tr
            .t(
                "Người nộp bổ sung, hoàn thiện hồ sơ (thời hạn giải quyết tạm dừng)",
                "The applicant hands in the supplement (the deadline is stopped)",
            )
            .to_owned(),
        Status::AwaitingPayment if citizen => tr
            .t(
                "Bạn nộp phí, lệ phí hoặc thực hiện nghĩa vụ tài chính.",
                "Pay the fees due.",
            )
            .to_owned(),
        Status::AwaitingPayment => tr
            .t(
                "Người nộp thực hiện nghĩa vụ tài chính",
                "The applicant pays the fees",
            )
            .to_owned(),
        Status::WithdrawalRequested => format!(
            "{} — {}",
            tr.t("Đồng ý cho rút hồ sơ", "Confirm the withdrawal"),
            tr.t("lãnh đạo hoặc cán bộ một cửa", "a leader or the one-stop officer")
        ),
        Status::Received | Status::Processing => match step(d.step) {
            Some(st) => format!(
                "{} — {}",
                st.name,
                handler(s, tr, st.role, &d.current_agency, d.assignee.as_deref()).await
            ),
            None => String::new(),
        },
        Status::Resolved if d.result_delivery.is_none() => format!(
            "{} — {}, {receiving}",
            tr.t("Chuyển trả kết quả cho người nộp", "Hand the result to the applicant"),
            tr.t(Role::Reception.label().0, Role::Reception.label().1)
        ),
        Status::Resolved => format!(
            "{} {receiving}",
            tr.t("Người nộp nhận kết quả tại", "The applicant collects the result at")
        ),
        Status::Returned | Status::Rejected | Status::Stopped => tr
            .t("Hồ sơ đã kết thúc.", "The dossier is closed.")
            .to_owned(),
    };
    let after = match d.status {
        Status::Received | Status::Processing => {
            match (step(d.step + 1), d.step_agency(d.step + 1)) {
                (Some(st), Some(a)) => format!(
                    "{} — {}, {}",
                    st.name,
                    tr.t(st.role.label().0, st.role.label().1),
                    s.agency_name(&a).await
                ),
                _ => String::new(),
            }
        }
        _ => String::new(),
    };
    (now, after)
}

/// The actions `u` may take now: allowed by the policy and by the dossier's state.
fn possible_actions(s: &AppState, u: &User, d: &Dossier) -> Vec<&'static str> {
    s.available_actions(&actor_of(u), d)
        .into_iter()
        .map(ActionKind::as_str)
        .collect()
}

/// Rows for recording components received: the catalogue's numbers when the procedure is
/// still in it, else one copy each.
fn receive_rows(p: Option<&Procedure>, d: &Dossier, only_missing: bool) -> Vec<ComponentRow> {
    let indexes = d
        .components
        .iter()
        .filter(|c| !only_missing || !c.submitted)
        .map(|c| c.index);
    match p.filter(|p| p.components.len() == d.components.len()) {
        Some(p) => ComponentRow::of_catalogue(p, indexes, None, false),
        None => indexes
            .filter_map(|i| d.components.get(i))
            .map(|c| ComponentRow {
                index: c.index,
                name: c.name.clone(),
                required: c.required,
                warehouse: false,
                checked: false,
                originals: 0,
                copies: 1,
                warehouse_code: String::new(),
                reused: false,
            })
            .collect(),
    }
}

pub(super) async fn dossier_page(
    s: &AppState,
    page: Page,
    stored: StoredDossier,
    notice: String,
    errors: Vec<String>,
    open: &str,
) -> Response {
    let Some(user) = page.user.clone() else {
        return see_other(&format!("/dang-nhap?next=/ho-so/{}", stored.dossier.code));
    };
    let d = stored.dossier;
    let tr = page.tr;
    // The policy decides who reads the dossier and its history.
    let trail = match s.history(&actor_of(&user), &d.code).await {
        Ok(t) => t,
        Err(e) => return error_page(tr, e.into()),
    };
    let mut slips: Vec<(&'static str, String)> = Vec::new();
    let mut missing = Vec::new();
    for e in &trail {
        if let Some(kind) = e.data.event.slip().map(slip_kind)
            && !slips.iter().any(|(k, _)| *k == kind)
        {
            slips.push((kind, slip_title(tr, kind).to_owned()));
        }
        if let DossierEvent::SupplementRequested { missing: m, .. } = &e.data.event {
            missing = missing_items(m);
        }
    }
    if d.status != Status::AwaitingSupplement {
        missing.clear();
    }
    slips.push(("kiem-soat", slip_title(tr, "kiem-soat").to_owned()));
    let kept: Vec<(i64, String)> = s
        .kept_slips(&actor_of(&user), &d.code)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|k| {
            let title = motcua_domain::slips::SlipKind::parse(&k.kind)
                .map(|kind| kept_title(tr, kind))
                .unwrap_or_default();
            (k.id, format!("{title} · {}", super::when(s, &k.issued_at)))
        })
        .collect();
    let history = history_rows(s, tr, &d, &trail, false).await;
    let components = d
        .components
        .iter()
        .map(|c| ComponentRow {
            index: c.index,
            name: c.name.clone(),
            required: c.required,
            warehouse: c.from_warehouse,
            checked: c.submitted,
            originals: c.originals,
            copies: c.copies,
            warehouse_code: c.warehouse_code.clone().unwrap_or_default(),
            reused: c.warehouse_code.is_some(),
        })
        .collect();
    let available = possible_actions(s, &user, &d);
    let main = main_order(user.role)
        .iter()
        .map(|k| k.as_str())
        .find(|k| available.contains(k));
    let others: Vec<(&str, String)> = available
        .iter()
        .filter(|a| Some(**a) != main)
        .map(|a| (*a, action_button(tr, a)))
        .collect();
    // What the role would do here but cannot now, with the reason.
    let actor = actor_of(&user);
    let now = s.now();
    let blocked = ActionKind::ALL
        .into_iter()
        .filter(|k| {
            s.authorize(&actor, motcua_domain::policy::Permission::Act(&d, *k))
                .is_ok()
        })
        .filter_map(|k| {
            d.blocked_by(k, now)
                .map(|m| (action_button(tr, k.as_str()), tr.t(&m.vi, &m.en).to_owned()))
        })
        .collect();
    // The choices of the assign and transfer forms, read only when those forms are shown.
    let has = |name: &str| available.contains(&name);
    let officers = if has("assign") {
        match s.assignable(&d).await {
            Ok(us) => us
                .into_iter()
                .map(|u| {
                    (
                        u.username.clone(),
                        format!("{} ({})", u.full_name, u.username),
                    )
                })
                .collect(),
            Err(e) => return error_page(tr, e.into()),
        }
    } else {
        Vec::new()
    };
    let agencies = if has("transfer") {
        match s.store().agencies(None, None, None, None, Some(500)).await {
            Ok(p) => p
                .items
                .into_iter()
                .filter(|a| a.code != d.current_agency)
                .map(|a| (a.code.to_string(), a.name))
                .collect(),
            Err(e) => return error_page(tr, e.into()),
        }
    } else {
        Vec::new()
    };
    let (to_receive, supplement) = if has("accept") || has("supplement_received") {
        let p = s.store().procedure(d.procedure_code.as_str()).await.ok();
        (
            receive_rows(p.as_ref(), &d, true),
            receive_rows(p.as_ref(), &d, false),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let f = facts(s, tr, &d).await;
    let next = next_step(s, tr, &d, user.role == Role::Citizen).await;
    let may = |p| s.authorize(&actor, p).is_ok();
    use motcua_domain::policy::{FileFor, Permission as P};
    let can_upload = may(P::AttachFile(&d, FileFor::Component));
    let can_upload_result = may(P::AttachFile(&d, FileFor::Result));
    let can_digitise = may(P::Digitise(&d));
    let files = super::files::file_lines(s, &d.code).await;
    let open_others = others.iter().any(|(a, _)| *a == open);
    let page = Page {
        title: format!("{} {}", tr.t("Hồ sơ", "Dossier"), d.code),
        ..page
    };
    let has_errors = !errors.is_empty();
    let can_rate = d.rating.is_none()
        && d.parent_code.is_none()
        && matches!(d.status, Status::Resolved | Status::Returned)
        && match user.role {
            Role::Citizen => d.owner_id == Some(user.id),
            Role::Reception => user.agency_code.as_ref() == Some(&d.receiving_agency),
            _ => false,
        };
    let rating = d.rating.as_ref().map(|r| {
        let (vi, en) = r.level.label();
        (
            tr.t(vi, en).to_owned(),
            r.comment.clone().unwrap_or_default(),
        )
    });
    render_form(
        &DossierPage {
            receipt: d.received_at.is_some(),
            missing,
            slips,
            kept,
            citizen: user.role == Role::Citizen,
            f,
            components,
            history,
            main: main.map(|a| (a, action_button(tr, a))),
            others,
            blocked,
            next,
            open_others,
            open: open.to_owned(),
            version: stored.version,
            officers,
            agencies,
            notice,
            errors,
            page,
            to_receive,
            supplement,
            has_result_files: files.iter().any(super::files::FileLine::is_result),
            can_rate,
            rating,
            files,
            can_upload,
            can_upload_result,
            can_digitise,
        },
        has_errors,
    )
}

/// What the dossier page and the slips show about a dossier.
async fn facts(s: &AppState, tr: super::Tr, d: &Dossier) -> Facts {
    let channel = match d.channel {
        Channel::Online => tr.t("Trực tuyến", "Online"),
        Channel::Counter => tr.t("Trực tiếp", "At the counter"),
        Channel::Postal => tr.t("Bưu chính công ích", "By post"),
    };
    let result = match (d.result_delivery, d.returned_at) {
        (Some(m), returned) => {
            let how = delivery_label(tr, m);
            match returned {
                Some(t) => format!("{} {how} ({})", tr.t("Đã trả", "Returned"), when(s, &t)),
                None => format!(
                    "{} {how}",
                    tr.t("Chờ công dân nhận", "Waiting for collection")
                ),
            }
        }
        _ => String::new(),
    };
    Facts {
        code: d.code.clone(),
        procedure: d.procedure_name.clone(),
        procedure_code: d.procedure_code.to_string(),
        status: status_label(tr, d.status),
        status_code: d.status.as_str(),
        channel: channel.to_owned(),
        applicant: d.applicant.name.clone(),
        applicant_id: d.applicant.id_number.clone(),
        contact: [d.applicant.phone.clone(), d.applicant.email.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · "),
        receiving: s.agency_name(&d.receiving_agency).await,
        current: s.agency_name(&d.current_agency).await,
        step: d.step_name(),
        assignee: d.assignee.clone().unwrap_or_default(),
        submitted: when(s, &d.submitted_at),
        received: d.received_at.map(|t| when(s, &t)).unwrap_or_default(),
        due: d.due_at.map(|t| when(s, &t)).unwrap_or_default(),
        original_due: match (d.original_due_at, d.due_at) {
            (Some(o), Some(n)) if o != n => when(s, &o),
            _ => String::new(),
        },
        step_due: d
            .step_due_at
            .filter(|_| d.status.is_open())
            .map(|t| when(s, &t))
            .unwrap_or_default(),
        overdue: d.overdue(s.now()),
        timeliness: timeliness_label(tr, d.timeliness),
        postal_tracking: d.postal_tracking.clone().unwrap_or_default(),
        parent: d.parent_code.clone().unwrap_or_default(),
        children: d.open_children.clone(),
        result,
        delivery: d.requested_delivery.map_or("", |m| match m {
            Delivery::Electronic => "electronic",
            Delivery::Paper => "paper",
            Delivery::Postal => "postal",
        }),
        delivery_text: d
            .requested_delivery
            .map(|m| delivery_label(tr, m).to_owned())
            .unwrap_or_default(),
    }
}

/// The control slip's lines: each hand-off with its time, actor, result and slip details.
async fn history_rows(
    s: &AppState,
    tr: super::Tr,
    d: &Dossier,
    trail: &[HistoryEntry],
    with_step_due: bool,
) -> Vec<HistoryRow> {
    let mut rows = Vec::with_capacity(trail.len());
    for e in trail {
        let after = &e.after;
        let step_due = after
            .as_ref()
            .and_then(|a| a.step_due_at)
            .filter(|_| with_step_due)
            .map(|t| format!("{} {}", tr.t("hạn bước", "step due"), when(s, &t)));
        rows.push(HistoryRow {
            at: when(s, &e.at),
            actor: e.actor.clone(),
            action: action_label(tr, &e.action),
            status: after
                .as_ref()
                .map(|a| status_label(tr, a.status))
                .unwrap_or_default(),
            step: after
                .as_ref()
                .map(|a| d.process.step_name(&a.step))
                .unwrap_or_default(),
            agency: match &after {
                Some(a) => s.agency_name(&a.agency).await,
                None => String::new(),
            },
            details: step_due
                .into_iter()
                .chain(Some(details(tr, s, &e.data)))
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
        });
    }
    rows
}

/// The items of a supplement request: "what — why".
fn missing_items(missing: &[MissingItem]) -> Vec<String> {
    missing
        .iter()
        .map(|i| format!("{} — {}", i.item, i.reason))
        .collect()
}

/// The slip data of a history line, in words.
fn details(tr: super::Tr, s: &AppState, r: &EventRecord) -> String {
    let mut out = Vec::new();
    match &r.event {
        DossierEvent::SupplementRequested { missing, .. } => out.push(format!(
            "{}: {}",
            tr.t("Cần bổ sung", "Missing"),
            missing_items(missing).join("; ")
        )),
        DossierEvent::Refused { reasons, .. } => {
            out.push(format!(
                "{}: {}",
                tr.t("Lý do", "Reasons"),
                reasons.join("; ")
            ));
        }
        DossierEvent::Paused { reason, .. } | DossierEvent::WithdrawalRequested { reason }
            if !reason.is_empty() =>
        {
            out.push(format!("{}: {reason}", tr.t("Lý do", "Reason")));
        }
        DossierEvent::Extended {
            reason, new_due_at, ..
        } => {
            out.push(format!("{}: {reason}", tr.t("Lý do", "Reason")));
            out.push(format!(
                "{}: {}",
                tr.t("Hẹn mới", "New appointment"),
                when(s, new_due_at)
            ));
        }
        DossierEvent::ChildOpened { child_code } | DossierEvent::ChildClosed { child_code, .. } => {
            out.push(child_code.clone());
        }
        _ => {}
    }
    if let Some(n) = &r.note {
        out.push(n.clone());
    }
    out.join(" · ")
}

#[derive(Deserialize)]
struct DossierQueryParams {
    moi: Option<String>,
    tep: Option<String>,
    so_hoa: Option<String>,
}

async fn dossier(
    State(s): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<DossierQueryParams>,
) -> Response {
    let Some(user) = page.user.clone() else {
        return see_other(&format!("/dang-nhap?next=/ho-so/{code}"));
    };
    match s.dossier(&actor_of(&user), code.trim()).await {
        Ok(d) => {
            let notice = if q.moi.is_some() {
                page.tr
                    .t(
                        "Hồ sơ đã được gửi. Hãy ghi lại mã hồ sơ để tra cứu.",
                        "Your dossier was sent. Keep its code to track it.",
                    )
                    .to_owned()
            } else if q.tep.is_some() {
                page.tr
                    .t("Đã nhận tệp.", "The file was received.")
                    .to_owned()
            } else if let Some(c) = &q.so_hoa {
                format!(
                    "{}: {c}",
                    page.tr.t(
                        "Đã xác nhận số hóa, mã kết quả",
                        "Confirmed as digitised, result code"
                    )
                )
            } else {
                String::new()
            };
            dossier_page(&s, page, d, notice, Vec::new(), "").await
        }
        Err(e) => error_page(page.tr, e.into()),
    }
}

/// The applicant's rating, from the dossier page (the owner on the portal, or the counter's
/// device with a one-stop officer signed in).
async fn rate(
    State(s): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    form: Form,
) -> Response {
    let user = match page.require(&[Role::Citizen, Role::Reception]) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let by = s.acting(actor_of(&user));
    let Some(level) = motcua_domain::dossier::Satisfaction::parse(&form.text("level")) else {
        return error_page(
            page.tr,
            ApiError::invalid(
                "level",
                "Hãy chọn một mức độ hài lòng",
                "choose how satisfied the applicant is",
            ),
        );
    };
    match s.rate(&by, &code, level, form.get("comment")).await {
        Ok(_) => see_other(&format!("/ho-so/{code}")),
        Err(e) => {
            let msgs = messages(page.tr, &e.into());
            match s.dossier(&by.actor, &code).await {
                Ok(d) => dossier_page(&s, page, d, String::new(), msgs, "").await,
                Err(e2) => error_page(page.tr, e2.into()),
            }
        }
    }
}

/// Builds the action a form asks for; the action's own rules check it.
fn action_from(form: &Form, d: &Dossier) -> Result<Action, ApiError> {
    let name = form.text("action");
    let note = form.get("note").map(str::to_owned);
    let v = match name.as_str() {
        "assign" => json!({"action": name, "assignee": form.text("assignee"), "note": note}),
        "transfer" => json!({"action": name, "agency": form.text("agency"), "note": note}),
        "request_supplement" => {
            let reason = form.text("reason");
            let mut items: Vec<String> = form
                .all("missing")
                .into_iter()
                .filter_map(|i| i.parse::<usize>().ok())
                .filter_map(|i| d.components.get(i).map(|c| c.name.clone()))
                .collect();
            if let Some(other) = form.get("other") {
                items.push(other.to_owned());
            }
            let missing: Vec<_> = items
                .into_iter()
                .map(|item| json!({"item": item, "reason": reason}))
                .collect();
            json!({"action": name, "missing": missing, "note": note})
        }
        "pause" | "withdraw" => json!({"action": name, "reason": form.text("reason")}),
        "extend" => {
            json!({"action": name, "reason": form.text("reason"), "new_due_date": form.text("new_due_date")})
        }
        "refuse" => {
            // One reason per line (or separated by semicolons).
            let reasons: Vec<String> = form
                .text("reasons")
                .split(['\n', ';'])
                .map(|l| l.trim().to_owned())
                .filter(|l| !l.is_empty())
                .collect();
            json!({"action": name, "reasons": reasons})
        }
        "return_result" => {
            json!({"action": name, "method": form.get("method").unwrap_or("paper"), "note": note})
        }
        "accept" | "supplement_received" => {
            let components = received_components(form, d.components.iter().map(|c| c.index));
            json!({"action": name, "note": note, "components": components})
        }
        _ => json!({"action": name, "note": note}),
    };
    serde_json::from_value(v).map_err(|e| {
        ApiError::invalid(
            "action",
            format!("Thao tác không hợp lệ: {e}"),
            format!("invalid action: {e}"),
        )
    })
}

async fn action(
    State(s): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    form: Form,
) -> Response {
    let user = match page.require(&[
        Role::Citizen,
        Role::Reception,
        Role::Specialist,
        Role::Leader,
        Role::Postal,
    ]) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let by = s.acting(actor_of(&user));
    let current = match s.dossier(&by.actor, &code).await {
        Ok(d) => d,
        Err(e) => return error_page(page.tr, e.into()),
    };
    let version = form.get("version").and_then(|v| v.parse().ok());
    let name = form.text("action");
    if CONFIRM_FIRST.contains(&name.as_str()) && form.get("confirmed") != Some("1") {
        return confirm_page(page, &current.dossier, &form);
    }
    let result = match action_from(&form, &current.dossier) {
        Ok(a) => s
            .act(&by, &code, &a, version)
            .await
            .map(|d| (d, a))
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok((_, a)) => {
            if matches!(a, Action::Accept { .. }) {
                return see_other(&format!("/ho-so/{code}/bien-nhan"));
            }
            see_other(&format!("/ho-so/{code}"))
        }
        Err(e) => {
            let msgs = messages(page.tr, &e);
            match s.dossier(&by.actor, &code).await {
                Ok(d) => dossier_page(&s, page, d, String::new(), msgs, &name).await,
                Err(e2) => error_page(page.tr, e2.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    page: Page,
    code: String,
    question: String,
    consequence: String,
    details: Vec<String>,
    button: String,
    fields: Vec<(String, String)>,
}

/// Asks before an action that ends or stops a dossier: the same form, sent again with
/// `confirmed=1` (works without JavaScript).
fn confirm_page(page: Page, d: &Dossier, form: &Form) -> Response {
    let tr = page.tr;
    let action = form.text("action");
    let (question, consequence) = match action.as_str() {
        "refuse" if d.status == Status::Submitted => (
            tr.t("Từ chối tiếp nhận hồ sơ này?", "Refuse to accept this dossier?"),
            tr.t(
                "Hồ sơ sẽ không được tiếp nhận và phiếu từ chối được lập gửi người nộp. Không thể hoàn tác.",
                "The dossier will not be accepted and a refusal slip goes to the applicant. This cannot be undone.",
            ),
        ),
        "refuse" => (
            tr.t("Từ chối giải quyết và dừng xử lý hồ sơ này?", "Refuse and stop processing this dossier?"),
            tr.t(
                "Hồ sơ sẽ dừng xử lý và thông báo được gửi người nộp. Không thể hoàn tác.",
                "Processing stops and the applicant is notified. This cannot be undone.",
            ),
        ),
        "withdraw" => (
            tr.t("Rút hồ sơ này?", "Withdraw this dossier?"),
            tr.t(
                "Yêu cầu rút hồ sơ được gửi tới cơ quan giải quyết; hồ sơ chưa tiếp nhận sẽ dừng ngay.",
                "The request goes to the agency; a dossier not yet accepted stops at once.",
            ),
        ),
        _ => (
            tr.t("Đồng ý cho rút và dừng xử lý hồ sơ này?", "Confirm the withdrawal and stop this dossier?"),
            tr.t(
                "Hồ sơ sẽ dừng xử lý và thông báo được gửi người nộp. Không thể hoàn tác.",
                "Processing stops and the applicant is notified. This cannot be undone.",
            ),
        ),
    };
    let details: Vec<String> = ["reasons", "reason", "note"]
        .iter()
        .filter_map(|k| form.get(k))
        .flat_map(|v| {
            v.split(['\n', ';'])
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let fields = form
        .pairs()
        .iter()
        .filter(|(k, _)| k != "_csrf" && k != "confirmed")
        .cloned()
        .collect();
    let page = page.titled("Xác nhận thao tác", "Confirm");
    render(&ConfirmPage {
        code: d.code.clone(),
        question: question.to_owned(),
        consequence: consequence.to_owned(),
        details,
        button: action_button(tr, &action),
        fields,
        page,
    })
}

// ---------------------------------------------------------------------------------------------
// The receipt (an HTML print view until the PDF slips exist)

#[derive(Template)]
#[template(path = "receipt.html")]
struct Receipt {
    page: Page,
    link: TrackingLink,
    f: Facts,
    components: Vec<ComponentRow>,
    officer: String,
    limit: String,
}

/// The receipt as PDF (form 01 of the set in force), the one the counter prints.
async fn receipt_pdf(
    State(s): State<AppState>,
    page: Page,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
) -> Response {
    pdf_slip(
        &s,
        page,
        &headers,
        &code,
        motcua_domain::slips::SlipKind::Receipt,
    )
    .await
}

/// A slip of the dossier page as PDF, by the page's slug (`bo-sung`, `tu-choi`, `xin-loi`,
/// `dung`, `kiem-soat`).
async fn slip_pdf(
    State(s): State<AppState>,
    page: Page,
    headers: axum::http::HeaderMap,
    Path((code, kind)): Path<(String, String)>,
) -> Response {
    use motcua_domain::slips::SlipKind as K;
    let kind = match kind.as_str() {
        "bo-sung" => K::SupplementRequest,
        "tu-choi" => K::Refusal,
        "xin-loi" => K::Apology,
        "dung" => K::Stopping,
        "kiem-soat" => K::Control,
        _ => {
            return error_page(
                page.tr,
                ApiError::new(
                    axum::http::StatusCode::NOT_FOUND,
                    "not-found",
                    "Không có phiếu này",
                    "no such slip",
                ),
            );
        }
    };
    pdf_slip(&s, page, &headers, &code, kind).await
}

/// A kept slip's short name (unlike the printable slips' full titles, so that each link is
/// named apart).
fn kept_title(tr: super::Tr, kind: motcua_domain::slips::SlipKind) -> &'static str {
    use motcua_domain::slips::SlipKind as K;
    match kind {
        K::Receipt => tr.t("Giấy tiếp nhận, bản đã ký số", "Receipt, signed copy"),
        K::SupplementRequest => tr.t(
            "Yêu cầu bổ sung, bản đã ký số",
            "Supplement request, signed copy",
        ),
        K::Refusal => tr.t("Từ chối tiếp nhận, bản đã ký số", "Refusal, signed copy"),
        K::Apology => tr.t("Xin lỗi và hẹn lại, bản đã ký số", "Apology, signed copy"),
        K::Stopping => tr.t(
            "Dừng giải quyết, bản đã ký số",
            "Notice of stopping, signed copy",
        ),
        K::Control | K::Register => "",
    }
}

async fn kept_slip_pdf(
    State(s): State<AppState>,
    page: Page,
    Path((code, id)): Path<(String, i64)>,
) -> Response {
    let user = match page.require(&Role::ALL) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    match s.kept_slip(&actor_of(&user), &code, id).await {
        Ok((slip, bytes)) => {
            crate::api::slips::pdf_response(&format!("{}-{code}-ky-so.pdf", slip.kind), bytes)
        }
        Err(e) => error_page(page.tr, e.into()),
    }
}

async fn pdf_slip(
    s: &AppState,
    page: Page,
    headers: &axum::http::HeaderMap,
    code: &str,
    kind: motcua_domain::slips::SlipKind,
) -> Response {
    let user = match page.require(&Role::ALL) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let base = super::public_base(s, headers);
    let pdf = match crate::slips::slip(s, &actor_of(&user), kind, code, &base).await {
        Ok(data) => s.render_slip(kind, data).await,
        Err(e) => Err(e),
    };
    match pdf {
        Ok(bytes) => {
            crate::api::slips::pdf_response(&format!("{}-{code}.pdf", kind.as_str()), bytes)
        }
        Err(e) => error_page(page.tr, e.into()),
    }
}

async fn receipt(
    State(s): State<AppState>,
    page: Page,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let user = match page.require(&Role::ALL) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let d = match s.dossier(&actor_of(&user), &code).await {
        Ok(d) => d.dossier,
        Err(e) => return error_page(page.tr, e.into()),
    };
    let tr = page.tr;
    let limit = match s.store().procedure(d.procedure_code.as_str()).await {
        Ok(p) => super::portal::limit_text(tr, &p),
        Err(_) => String::new(),
    };
    let mut f = facts(&s, tr, &d).await;
    // The receipt promises the first appointment.
    f.due = d.original_due_at.map(|t| when(&s, &t)).unwrap_or_default();
    let components = d
        .components
        .iter()
        .filter(|c| c.submitted)
        .map(|c| ComponentRow {
            index: c.index,
            name: format!(
                "{} — {} {}, {} {}{}",
                c.name,
                c.originals,
                tr.t("bản chính", "originals"),
                c.copies,
                tr.t("bản sao", "copies"),
                if c.from_warehouse {
                    tr.t(", từ kho dữ liệu", ", from the data warehouse")
                } else {
                    ""
                }
            ),
            required: c.required,
            warehouse: c.from_warehouse,
            checked: true,
            originals: c.originals,
            copies: c.copies,
            warehouse_code: c.warehouse_code.clone().unwrap_or_default(),
            reused: c.warehouse_code.is_some(),
        })
        .collect();
    // The officer who received it (not whoever prints the slip).
    let receiver = match s.history(&actor_of(&user), &d.code).await {
        Ok(t) => t
            .into_iter()
            .find(|e| e.data.event.is_receipt())
            .map(|e| e.actor)
            .unwrap_or_default(),
        Err(e) => return error_page(tr, e.into()),
    };
    let receiver = match s.store().user_by_name(&receiver).await {
        Ok(Some(u)) => format!("{} ({})", u.full_name, u.username),
        _ => receiver,
    };
    let page = page.titled(
        "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
        "Receipt and appointment slip",
    );
    render(&Receipt {
        link: TrackingLink::new(&s, &headers, &d.code),
        officer: receiver,
        limit,
        f,
        components,
        page,
    })
}

// ---------------------------------------------------------------------------------------------
// The counter

#[derive(Template)]
#[template(path = "counter.html")]
struct Counter {
    page: Page,
    q: String,
    found: Vec<super::portal::ProcRow>,
    procedure: Option<Procedure>,
    limit: String,
    components: Vec<ComponentRow>,
    postal: bool,
    agencies: Vec<(String, String)>,
    v: CounterValues,
    history: Vec<Row>,
    submitted: Vec<Row>,
    results: Vec<Row>,
    errors: Vec<String>,
    /// Communes of the officer's province, as the commune field's choices: "Name (code)".
    communes: Vec<String>,
    /// The same applicant filed the same procedure here a few minutes ago: (code, when).
    duplicate: Option<(String, String)>,
}

#[derive(Default, Deserialize)]
struct CounterValues {
    /// Procedure search words.
    #[serde(default)]
    q: String,
    /// The chosen procedure.
    #[serde(default)]
    thu_tuc: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    address: String,
    /// The commune of residence as chosen: "Name (code)", a name, or a code.
    #[serde(default)]
    unit: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    postal_tracking: String,
    /// How the result will be returned: paper, postal or electronic.
    #[serde(default)]
    delivery: String,
}

/// "Name (code)" of a current commune, as the commune field shows it (the code alone when
/// it is not a current commune).
async fn commune_choice(s: &AppState, code: &str) -> String {
    match s
        .store()
        .current_unit(motcua_domain::units::UnitLevel::Commune, code)
        .await
    {
        Ok(Some(u)) => format!("{} ({})", u.name, u.code),
        _ => code.to_owned(),
    }
}

/// The current province unit of the officer's agency.
async fn home_province(s: &AppState, user: &User) -> Option<motcua_service::store::Unit> {
    let agency = user.agency_code.as_ref()?;
    let (_, province) = s.refs().agency(s.store(), agency.as_str()).await.ok()?;
    s.store()
        .current_unit(motcua_domain::units::UnitLevel::Province, &province?)
        .await
        .ok()
        .flatten()
}

/// The communes of the officer's province, as "Name (code)", for the commune field's list.
async fn commune_choices(s: &AppState, user: &User) -> Vec<String> {
    let Some(p) = home_province(s, user).await else {
        return Vec::new();
    };
    let q = motcua_service::store::UnitQuery {
        level: Some(motcua_domain::units::UnitLevel::Commune),
        parent_id: Some(p.id),
        current: true,
        limit: Some(500),
        ..Default::default()
    };
    match s.store().units(&q).await {
        Ok(page) => {
            let mut v: Vec<String> = page
                .items
                .into_iter()
                .map(|u| format!("{} ({})", u.name, u.code))
                .collect();
            v.sort();
            v
        }
        Err(_) => Vec::new(),
    }
}

/// The commune code of what the officer chose or typed in the commune field: an entry of
/// the list ("Name (code)"), a 5-digit code, or a name (with or without diacritics) — the
/// officer's own province first; a name found in several provinces must be chosen.
pub(super) async fn resolve_commune(
    s: &AppState,
    user: &User,
    text: &str,
) -> Result<Option<String>, ApiError> {
    use motcua_domain::codes::is_commune_code;
    use motcua_domain::text::fold;
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let listed = t
        .strip_suffix(')')
        .and_then(|x| x.rsplit_once('('))
        .map(|(_, c)| c.trim())
        .filter(|c| is_commune_code(c));
    if let Some(c) = listed.or(Some(t).filter(|c| is_commune_code(c))) {
        return Ok(Some(c.to_owned()));
    }
    let want = fold(t);
    let strip = |n: &str| {
        let f = fold(n);
        ["xa ", "phuong ", "dac khu ", "thi tran "]
            .iter()
            .find_map(|p| f.strip_prefix(p).map(str::to_owned))
            .unwrap_or(f)
    };
    let q = motcua_service::store::UnitQuery {
        level: Some(motcua_domain::units::UnitLevel::Commune),
        q: Some(t.to_owned()),
        current: true,
        limit: Some(100),
        ..Default::default()
    };
    let found = s
        .store()
        .units(&q)
        .await
        .map_err(|e| ApiError::from(motcua_service::ServiceError::from(e)))?
        .items;
    let exact: Vec<_> = found
        .iter()
        .filter(|u| fold(&u.name) == want || strip(&u.name) == strip(t))
        .collect();
    let province = home_province(s, user).await.map(|p| p.id);
    let home: Vec<_> = exact
        .iter()
        .copied()
        .filter(|u| province.is_some() && u.parent_id == province)
        .collect();
    match (home.as_slice(), exact.as_slice()) {
        ([one], _) | ([], [one]) => Ok(Some(one.code.clone())),
        (_, []) => Err(ApiError::invalid(
            "unit",
            format!("Không tìm thấy xã, phường «{t}»; hãy chọn trong danh sách"),
            format!("no commune is called «{t}»; choose one from the list"),
        )),
        (_, many) => {
            let names = many
                .iter()
                .take(10)
                .map(|u| format!("{} ({})", u.name, u.code))
                .collect::<Vec<_>>()
                .join("; ");
            Err(ApiError::invalid(
                "unit",
                format!("Có nhiều xã, phường tên «{t}»: {names}; hãy chọn đúng một"),
                format!("several communes are called «{t}»: {names}; choose one"),
            ))
        }
    }
}

/// How the result will be returned, as chosen on a form (`delivery`).
pub fn delivery_from(form: &Form) -> Option<Delivery> {
    match form.get("delivery") {
        Some("paper") => Some(Delivery::Paper),
        Some("postal") => Some(Delivery::Postal),
        Some("electronic") => Some(Delivery::Electronic),
        _ => None,
    }
}

/// How long after a filing the same applicant and procedure at the same place asks for
/// confirmation instead of making a second dossier.
const DUPLICATE_WINDOW_MINUTES: i64 = 15;

async fn counter_page(
    s: &AppState,
    page: Page,
    user: &User,
    mut v: CounterValues,
    checked: Option<&Form>,
    errors: Vec<String>,
    duplicate: Option<(String, String)>,
) -> Response {
    let tr = page.tr;
    let q = v.q.clone();
    let procedure_code = Some(v.thu_tuc.clone());
    let found = if q.trim().is_empty() {
        Vec::new()
    } else {
        match s
            .store()
            .search_procedures(&ProcedureQuery {
                q: Some(q.clone()),
                limit: Some(20),
                ..Default::default()
            })
            .await
        {
            Ok(p) => p
                .items
                .iter()
                .map(|p| super::portal::ProcRow {
                    code: p.code.to_string(),
                    name: p.name.clone(),
                    field: p.field.clone(),
                    limit: super::portal::limit_text(tr, p),
                })
                .collect(),
            Err(e) => return error_page(tr, e.into()),
        }
    };
    let procedure = match procedure_code.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => match s.store().procedure(c).await {
            Ok(p) => Some(p),
            Err(e) => return error_page(tr, e.into()),
        },
        None => None,
    };
    let mut components = procedure
        .as_ref()
        .map(|p| ComponentRow::of_catalogue(p, 0..p.components.len(), checked, false))
        .unwrap_or_default();
    // Documents of the applicant's warehouse that can stand for a component: no paper needed.
    if let Some(p) = &procedure
        && !v.id_number.trim().is_empty()
        && let Ok(found) = s
            .reuse_suggestions(&actor_of(user), v.id_number.trim(), p.code.as_str())
            .await
    {
        for (i, doc) in found {
            if let Some(row) = components.iter_mut().find(|r| r.index == i) {
                row.warehouse_code = doc.code;
            }
        }
    }
    let mine = user.agency_code.as_ref().map(|a| a.to_string());
    let list = |statuses: Vec<Status>, applicant: Option<String>| DossierQuery {
        statuses,
        receiving_agency: if user.role == Role::Reception {
            mine.clone()
        } else {
            None
        },
        applicant_id: applicant,
        as_of: Some(s.now()),
        limit: Some(50),
        ..Default::default()
    };
    let rows = |p: motcua_service::store::Page<StoredDossier>| -> Vec<Row> {
        p.items.iter().map(|d| row(s, tr, &d.dossier)).collect()
    };
    // Looking the applicant up is the policy's to allow (not a postal agent), and only what the
    // officer may read comes back.
    let actor = actor_of(user);
    let may_look_up = s
        .authorize(&actor, motcua_domain::policy::Permission::LookUpApplicant)
        .is_ok();
    let history = if v.id_number.trim().is_empty() || !may_look_up {
        Vec::new()
    } else {
        match s
            .store()
            .dossiers(&list(Vec::new(), Some(v.id_number.trim().to_owned())))
            .await
        {
            Ok(mut p) => {
                p.items.retain(|d| {
                    s.authorize(
                        &actor,
                        motcua_domain::policy::Permission::ReadDossier(&d.dossier),
                    )
                    .is_ok()
                });
                // Known applicant: fill the form from their latest dossier (the officer checks it).
                if v.name.is_empty()
                    && let Some(last) = p.items.iter().max_by_key(|d| d.dossier.submitted_at)
                {
                    let a = &last.dossier.applicant;
                    v.kind = if a.kind == ApplicantKind::Organisation {
                        "organisation".into()
                    } else {
                        "person".into()
                    };
                    v.name = a.name.clone();
                    v.phone = a.phone.clone().unwrap_or_default();
                    v.email = a.email.clone().unwrap_or_default();
                    v.address = a.address.clone().unwrap_or_default();
                    v.unit = match a.unit_code.as_deref() {
                        Some(code) => commune_choice(s, code).await,
                        None => String::new(),
                    };
                }
                rows(p)
            }
            Err(e) => return error_page(tr, e.into()),
        }
    };
    let (submitted, results) = if user.role == Role::Reception {
        let a = s
            .store()
            .dossiers(&list(vec![Status::Submitted], None))
            .await;
        let b = s
            .store()
            .dossiers(&list(vec![Status::Resolved], None))
            .await;
        match (a, b) {
            (Ok(a), Ok(b)) => (rows(a), rows(b)),
            (Err(e), _) | (_, Err(e)) => return error_page(tr, e.into()),
        }
    } else {
        (Vec::new(), Vec::new())
    };
    // A postal agent chooses among the one-stop points that may receive this procedure.
    let agencies = match (&procedure, user.role) {
        (Some(p), Role::Postal) => match s.filing_places(p.code.as_str(), None).await {
            Ok(a) => a
                .into_iter()
                .map(|a| (a.code.to_string(), a.name))
                .collect(),
            Err(e) => return error_page(tr, e.into()),
        },
        _ => Vec::new(),
    };
    let communes = if procedure.is_some() {
        commune_choices(s, user).await
    } else {
        Vec::new()
    };
    let has_errors = !errors.is_empty() || duplicate.is_some();
    render_form(
        &Counter {
            communes,
            duplicate,
            page: page.titled("Bộ phận một cửa", "One-stop counter"),
            q,
            found,
            limit: procedure
                .as_ref()
                .map(|p| super::portal::limit_text(tr, p))
                .unwrap_or_default(),
            procedure,
            components,
            postal: user.role == Role::Postal,
            agencies,
            v,
            history,
            submitted,
            results,
            errors,
        },
        has_errors,
    )
}

async fn counter(
    State(s): State<AppState>,
    page: Page,
    Query(v): Query<CounterValues>,
) -> Response {
    let user = match page.require(&[Role::Reception, Role::Postal]) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    counter_page(&s, page, &user, v, None, Vec::new(), None).await
}

async fn receive(State(s): State<AppState>, page: Page, form: Form) -> Response {
    let user = match page.require(&[Role::Reception, Role::Postal]) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let code = form.text("thu_tuc");
    let procedure = match s.store().procedure(&code).await {
        Ok(p) => p,
        Err(e) => return error_page(page.tr, e.into()),
    };
    let components = received_components(&form, 0..procedure.components.len());
    let v = CounterValues {
        q: String::new(),
        thu_tuc: code.clone(),
        kind: form.text("kind"),
        id_number: form.text("id_number"),
        name: form.text("name"),
        phone: form.text("phone"),
        email: form.text("email"),
        address: form.text("address"),
        unit: form.text("unit"),
        agency: form.text("agency"),
        postal_tracking: form.text("postal_tracking"),
        delivery: form.text("delivery"),
    };
    let postal = user.role == Role::Postal;
    let agency = if postal {
        match AgencyCode::parse(&v.agency) {
            Ok(a) => Some(a),
            Err(e) => {
                let msgs = messages(page.tr, &ApiError::from(e));
                return counter_page(&s, page, &user, v, Some(&form), msgs, None).await;
            }
        }
    } else {
        None
    };
    let unit_code = match resolve_commune(&s, &user, &v.unit).await {
        Ok(u) => u,
        Err(e) => {
            let msgs = messages(page.tr, &e);
            return counter_page(&s, page, &user, v, Some(&form), msgs, None).await;
        }
    };
    let Some(delivery) = delivery_from(&form) else {
        let msgs = vec![page.tr.t(
            "Chọn cách trả kết quả (tại bộ phận một cửa, qua bưu chính hoặc bản điện tử)",
            "Choose how the result will be returned (at the counter, by post or electronically)",
        ).to_owned()];
        return counter_page(&s, page, &user, v, Some(&form), msgs, None).await;
    };
    // The same applicant and procedure a few minutes ago: ask before making a second dossier.
    if form.get("duplicate_ok").is_none() {
        let recent = DossierQuery {
            applicant_id: Some(v.id_number.trim().to_owned()),
            procedure_code: Some(code.clone()),
            receiving_agency: agency
                .as_ref()
                .or(user.agency_code.as_ref())
                .map(ToString::to_string),
            submitted_from: Some(s.now() - chrono::Duration::minutes(DUPLICATE_WINDOW_MINUTES)),
            limit: Some(5),
            ..Default::default()
        };
        if let Ok(p) = s.store().dossiers(&recent).await
            && let Some(d) = p.items.iter().max_by_key(|d| d.dossier.submitted_at)
        {
            let dup = Some((d.dossier.code.clone(), when(&s, &d.dossier.submitted_at)));
            return counter_page(&s, page, &user, v, Some(&form), Vec::new(), dup).await;
        }
    }
    let body = NewDossier {
        procedure_code: code.clone(),
        channel: if postal {
            Channel::Postal
        } else {
            Channel::Counter
        },
        agency,
        applicant: Applicant {
            kind: if v.kind == "organisation" {
                ApplicantKind::Organisation
            } else {
                ApplicantKind::Person
            },
            id_number: v.id_number.clone(),
            name: v.name.clone(),
            phone: Some(v.phone.clone()).filter(|x| !x.is_empty()),
            email: Some(v.email.clone()).filter(|x| !x.is_empty()),
            address: Some(v.address.clone()).filter(|x| !x.is_empty()),
            unit_code,
        },
        components,
        postal_tracking: Some(v.postal_tracking.clone()).filter(|x| !x.is_empty()),
        result_delivery: Some(delivery),
    };
    match s
        .file(&s.acting(actor_of(&user)), body, None)
        .await
        .map_err(ApiError::from)
    {
        Ok((d, _)) if d.dossier.received_at.is_some() => {
            see_other(&format!("/ho-so/{}/bien-nhan", d.dossier.code))
        }
        Ok((d, _)) => see_other(&format!("/ho-so/{}?moi=1", d.dossier.code)),
        Err(e) => {
            let msgs = messages(page.tr, &e);
            counter_page(&s, page, &user, v, Some(&form), msgs, None).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The work queue

#[derive(Template)]
#[template(path = "queue.html")]
struct Queue {
    page: Page,
    counters: Vec<super::dashboard::Counter>,
    filter: String,
    rows: Vec<Row>,
    next: String,
}

#[derive(Deserialize)]
struct QueueQuery {
    loc: Option<String>,
    cursor: Option<String>,
}

async fn queue(State(s): State<AppState>, page: Page, Query(q): Query<QueueQuery>) -> Response {
    let user = match page.require(OFFICERS) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let filter = q.loc.unwrap_or_else(|| "all".into());
    let mut query = DossierQuery {
        // The work list, which the store reads from its own indexes.
        statuses: motcua_service::store::dossiers::WORKLIST.to_vec(),
        agency: user.agency_code.as_ref().map(|a| a.to_string()),
        as_of: Some(s.now()),
        cursor: q.cursor,
        limit: Some(100),
        ..Default::default()
    };
    match filter.as_str() {
        "mine" => query.assignee = Some(user.username.clone()),
        "overdue" => query.overdue = Some(true),
        "approval" => query.statuses = vec![Status::Processing],
        "supplement" => query.statuses = vec![Status::AwaitingSupplement],
        "soon" => {
            // Due within a working day, not overdue yet (the counter of the same name).
            let cal = s.calendar();
            let day = u64::try_from(cal.hours().minutes_per_day()).unwrap_or(480);
            query.overdue = Some(false);
            query.due_before =
                Some(cal.add_working_minutes(s.now(), day) + chrono::Duration::seconds(1));
            query
                .statuses
                .retain(|st| st.is_open() && *st != Status::AwaitingSupplement);
        }
        _ => {}
    }
    let counters = match s.agency_counters(&motcua_service::actor_of(&user)).await {
        Ok(c) => super::dashboard::counter_links(page.tr, &c),
        Err(_) => Vec::new(),
    };
    let page_ = match s.store().dossiers(&query).await {
        Ok(p) => p,
        Err(e) => return error_page(page.tr, e.into()),
    };
    let tr = page.tr;
    let rows = page_
        .items
        .iter()
        .filter(|d| {
            filter != "approval"
                || d.dossier
                    .process
                    .steps
                    .get(d.dossier.step)
                    .is_some_and(|st| st.decides)
        })
        .map(|d| row(&s, tr, &d.dossier))
        .collect();
    render(&Queue {
        counters,
        page: page.titled("Hồ sơ cần xử lý", "Work queue"),
        next: page_.next_cursor.unwrap_or_default(),
        filter,
        rows,
    })
}

// ---------------------------------------------------------------------------------------------
// Slips (HTML print views until the PDF slips exist)

/// The slip an event of the history gives rise to.
/// The path segment of a slip's print view.
fn slip_kind(slip: Slip) -> &'static str {
    match slip {
        Slip::SupplementRequest => "bo-sung",
        Slip::Refusal => "tu-choi",
        Slip::Apology => "xin-loi",
        Slip::Stopping => "dung",
    }
}

fn slip_title(tr: super::Tr, kind: &str) -> &'static str {
    match kind {
        "bo-sung" => tr.t(
            "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
            "Supplement request slip",
        ),
        "tu-choi" => tr.t("Phiếu từ chối giải quyết hồ sơ", "Refusal slip"),
        "xin-loi" => tr.t(
            "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
            "Apology and new appointment slip",
        ),
        "dung" => tr.t("Thông báo dừng xử lý hồ sơ", "Notice of stopping"),
        _ => tr.t("Phiếu kiểm soát quá trình giải quyết hồ sơ", "Control slip"),
    }
}

#[derive(Template)]
#[template(path = "slip.html")]
struct SlipPage {
    page: Page,
    link: TrackingLink,
    code: String,
    agency: String,
    applicant: String,
    procedure: String,
    facts: Vec<(String, String)>,
    items_title: String,
    items: Vec<String>,
    rows: Vec<HistoryRow>,
    signer: String,
}

async fn slip(
    State(s): State<AppState>,
    page: Page,
    headers: axum::http::HeaderMap,
    Path((code, kind)): Path<(String, String)>,
) -> Response {
    let Some(user) = page.user.clone() else {
        return see_other(&format!("/dang-nhap?next=/ho-so/{code}/phieu/{kind}"));
    };
    let tr = page.tr;
    let not_found = || {
        error_page(
            tr,
            ApiError::not_found("Không có phiếu này", "no such slip"),
        )
    };
    let actor = actor_of(&user);
    let d = match s.dossier(&actor, &code).await {
        Ok(d) => d.dossier,
        Err(e) => return error_page(tr, e.into()),
    };
    let trail = match s.history(&actor, &d.code).await {
        Ok(t) => t,
        Err(e) => return error_page(tr, e.into()),
    };
    let title = slip_title(tr, &kind);
    let mut facts = Vec::new();
    let mut items = Vec::new();
    let mut items_title = String::new();
    let mut rows = Vec::new();
    let mut signer = String::new();
    if kind == "kiem-soat" {
        rows = history_rows(&s, tr, &d, &trail, true).await;
    } else {
        let Some(e) = trail
            .iter()
            .rev()
            .find(|e| e.data.event.slip().map(slip_kind) == Some(kind.as_str()))
        else {
            return not_found();
        };
        signer = e.actor.clone();
        facts.push((tr.t("Ngày lập", "Issued").to_owned(), when(&s, &e.at)));
        match &e.data.event {
            DossierEvent::SupplementRequested {
                missing,
                request_no,
            } => {
                items_title = tr
                    .t(
                        "Đề nghị bổ sung, hoàn thiện các nội dung sau",
                        "Please hand in the following",
                    )
                    .to_owned();
                items = missing_items(missing);
                facts.push((
                    tr.t("Lần yêu cầu", "Request number").to_owned(),
                    request_no.to_string(),
                ));
            }
            DossierEvent::Refused { reasons, .. } => {
                items_title = tr.t("Lý do", "Reasons").to_owned();
                items = reasons.clone();
                items.extend(e.data.note.clone());
            }
            DossierEvent::WithdrawalConfirmed {} => {
                items_title = tr.t("Lý do", "Reasons").to_owned();
                items.push(
                    tr.t(
                        "Người nộp hồ sơ xin rút hồ sơ",
                        "The applicant withdrew the dossier",
                    )
                    .to_owned(),
                );
                items.extend(e.data.note.clone());
            }
            DossierEvent::Extended {
                agency,
                reason,
                old_due_at,
                new_due_at,
            } => {
                facts.push((
                    tr.t("Cơ quan chậm giải quyết", "Agency at fault")
                        .to_owned(),
                    s.agency_name(agency).await,
                ));
                facts.push((tr.t("Lý do", "Reason").to_owned(), reason.clone()));
                facts.push((
                    tr.t("Ngày hẹn cũ", "Former appointment").to_owned(),
                    when(&s, old_due_at),
                ));
                facts.push((
                    tr.t("Ngày hẹn mới", "New appointment").to_owned(),
                    when(&s, new_due_at),
                ));
            }
            _ => return not_found(),
        }
    }
    let page = Page {
        title: title.to_owned(),
        ..page
    };
    render(&SlipPage {
        link: TrackingLink::new(&s, &headers, &d.code),
        code: d.code.clone(),
        agency: s.agency_name(&d.receiving_agency).await,
        applicant: format!("{} ({})", d.applicant.name, d.applicant.id_number),
        procedure: format!("{} ({})", d.procedure_name, d.procedure_code),
        facts,
        items_title,
        items,
        rows,
        signer,
        page,
    })
}

/// Drafts the result from the procedure's template and attaches it (the dossier page's button).
async fn draft_result(
    State(s): State<AppState>,
    page: Page,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
    _form: Form,
) -> Response {
    if page.user.is_none() {
        return see_other(&format!("/dang-nhap?next=/ho-so/{code}"));
    }
    let by = page.acting(&s);
    let base = super::public_base(&s, &headers);
    match crate::slips::draft_result(&s, &by, &code, &base).await {
        Ok(_) => see_other(&format!("/ho-so/{code}?tep=1#components")),
        Err(e) => error_page(page.tr, e.into()),
    }
}

#[derive(Deserialize)]
struct RegisterQuery {
    tu: Option<String>,
    den: Option<String>,
}

/// The officer's agency's dossier register as PDF (`tu`, `den`: the receipt period; this
/// month by default).
async fn register_pdf(
    State(s): State<AppState>,
    page: Page,
    Query(q): Query<RegisterQuery>,
) -> Response {
    let user = match page.require(&Role::ALL) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let Some(agency) = user.agency_code.clone() else {
        return error_page(
            page.tr,
            ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                "Chỉ cán bộ của cơ quan mới in sổ theo dõi hồ sơ",
                "only an agency's officers print its dossier register",
            ),
        );
    };
    use chrono::Datelike;
    let today = s.calendar().local(s.now()).date();
    // An empty date field means the default (this month so far).
    let day = |v: Option<String>| {
        v.and_then(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
    };
    let from = day(q.tu).unwrap_or_else(|| today.with_day(1).unwrap_or(today));
    let to = day(q.den).unwrap_or(today);
    let pdf = match crate::slips::register(&s, &actor_of(&user), agency.as_str(), from, to).await {
        Ok(data) => {
            s.render_slip(motcua_domain::slips::SlipKind::Register, data)
                .await
        }
        Err(e) => Err(e),
    };
    match pdf {
        Ok(bytes) => {
            crate::api::slips::pdf_response(&format!("so-theo-doi-{from}-{to}.pdf"), bytes)
        }
        Err(e) => error_page(page.tr, e.into()),
    }
}
