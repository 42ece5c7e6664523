//! The one-stop counter (receive fast, print the receipt, hand back results), the back office
//! (work queues by deadline, the dossier page with every action the user may take) — and the
//! dossier page its owner sees.

use super::portal::{
    ComponentRow, Row, action_label, one_stop_points, row, status_label, timeliness_label,
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
    Action, ActionKind, Applicant, ApplicantKind, Dossier, DossierEvent, EventRecord, MissingItem,
    Slip, Status, SubmittedComponent,
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
        .route("/ho-so/{code}/bien-nhan", get(receipt))
        .route("/ho-so/{code}/phieu/{kind}", get(slip))
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
    actions: Vec<(&'static str, String)>,
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
}

/// The actions `u` may take now: allowed by the policy and by the dossier's state.
fn possible_actions(s: &AppState, u: &User, d: &Dossier) -> Vec<&'static str> {
    s.available_actions(&actor_of(u), d)
        .into_iter()
        .map(ActionKind::as_str)
        .collect()
}

async fn dossier_page(
    s: &AppState,
    page: Page,
    stored: StoredDossier,
    notice: String,
    errors: Vec<String>,
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
        })
        .collect();
    let actions: Vec<(&str, String)> = possible_actions(s, &user, &d)
        .into_iter()
        .map(|a| (a, action_label(tr, a)))
        .collect();
    // The choices of the assign and transfer forms, read only when those forms are shown.
    let has = |name: &str| actions.iter().any(|(a, _)| *a == name);
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
    let f = facts(s, tr, &d).await;
    let page = Page {
        title: format!("{} {}", tr.t("Hồ sơ", "Dossier"), d.code),
        ..page
    };
    let has_errors = !errors.is_empty();
    render_form(
        &DossierPage {
            receipt: d.received_at.is_some(),
            missing,
            slips,
            citizen: user.role == Role::Citizen,
            f,
            components,
            history,
            actions,
            version: stored.version,
            officers,
            agencies,
            notice,
            errors,
            page,
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
            let how = match m {
                motcua_domain::dossier::Delivery::Electronic => {
                    tr.t("bản điện tử", "electronically")
                }
                motcua_domain::dossier::Delivery::Paper => {
                    tr.t("bản giấy tại bộ phận một cửa", "on paper at the counter")
                }
                motcua_domain::dossier::Delivery::Postal => tr.t("qua bưu chính", "by post"),
            };
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
            } else {
                String::new()
            };
            dossier_page(&s, page, d, notice, Vec::new()).await
        }
        Err(e) => error_page(page.tr, e.into()),
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
                Ok(d) => dossier_page(&s, page, d, String::new(), msgs).await,
                Err(e2) => error_page(page.tr, e2.into()),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The receipt (an HTML print view until the PDF slips exist)

#[derive(Template)]
#[template(path = "receipt.html")]
struct Receipt {
    page: Page,
    f: Facts,
    components: Vec<ComponentRow>,
    officer: String,
    limit: String,
}

async fn receipt(State(s): State<AppState>, page: Page, Path(code): Path<String>) -> Response {
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
    #[serde(default)]
    unit_code: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    postal_tracking: String,
}

async fn counter_page(
    s: &AppState,
    page: Page,
    user: &User,
    mut v: CounterValues,
    checked: Option<&Form>,
    errors: Vec<String>,
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
    let components = procedure
        .as_ref()
        .map(|p| {
            p.components
                .iter()
                .enumerate()
                .map(|(i, c)| ComponentRow {
                    index: i,
                    name: c.name.clone(),
                    required: c.required,
                    warehouse: c.warehouse_copy_accepted,
                    checked: checked.is_some_and(|f| f.get(&format!("c{i}")).is_some()),
                })
                .collect()
        })
        .unwrap_or_default();
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
                    v.unit_code = a.unit_code.clone().unwrap_or_default();
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
    let agencies = if user.role == Role::Postal {
        match one_stop_points(s).await {
            Ok(a) => a,
            Err(e) => return error_page(tr, e),
        }
    } else {
        Vec::new()
    };
    let has_errors = !errors.is_empty();
    render_form(
        &Counter {
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
    counter_page(&s, page, &user, v, None, Vec::new()).await
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
    let count = |name: String| {
        form.get(&name)
            .and_then(|v| v.parse::<u16>().ok())
            .unwrap_or(0)
    };
    let components = (0..procedure.components.len())
        .filter(|i| form.get(&format!("c{i}")).is_some())
        .map(|i| {
            let (originals, copies) = (count(format!("o{i}")), count(format!("s{i}")));
            SubmittedComponent {
                index: i,
                // Ticked without counts: one copy handed in.
                originals,
                copies: if originals == 0 && copies == 0 {
                    1
                } else {
                    copies
                },
                from_warehouse: false,
            }
        })
        .collect();
    let v = CounterValues {
        q: String::new(),
        thu_tuc: code.clone(),
        kind: form.text("kind"),
        id_number: form.text("id_number"),
        name: form.text("name"),
        phone: form.text("phone"),
        email: form.text("email"),
        address: form.text("address"),
        unit_code: form.text("unit_code"),
        agency: form.text("agency"),
        postal_tracking: form.text("postal_tracking"),
    };
    let postal = user.role == Role::Postal;
    let agency = if postal {
        match AgencyCode::parse(&v.agency) {
            Ok(a) => Some(a),
            Err(e) => {
                let msgs = messages(page.tr, &ApiError::from(e));
                return counter_page(&s, page, &user, v, Some(&form), msgs).await;
            }
        }
    } else {
        None
    };
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
            unit_code: Some(v.unit_code.clone()).filter(|x| !x.is_empty()),
        },
        components,
        postal_tracking: Some(v.postal_tracking.clone()).filter(|x| !x.is_empty()),
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
            counter_page(&s, page, &user, v, Some(&form), msgs).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The work queue

#[derive(Template)]
#[template(path = "queue.html")]
struct Queue {
    page: Page,
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
        statuses: vec![
            Status::Received,
            Status::Processing,
            Status::AwaitingSupplement,
            Status::AwaitingPayment,
            Status::WithdrawalRequested,
            Status::Resolved,
        ],
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
        _ => {}
    }
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
