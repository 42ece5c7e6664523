//! The dossier (hồ sơ) and its state machine (docs/domain.md §Dossier statuses, §Working time
//! and deadlines). Everything here is pure: the caller passes the instant, the actor and the
//! working calendar; the store persists the result and the change record.
//!
//! Deadlines: `due_at` is the appointment in force. Time awaiting a supplement (and payment, when
//! the process says so) is added back to it in office minutes when the dossier resumes, and an
//! extension replaces it, so a completed dossier is classed by comparing its end with `due_at`.
//! While the clock is stopped the dossier is measured at the instant it stopped.

use crate::auth::Role;
use crate::calendar::{TimeLimit, TimeUnit, WorkCalendar};
use crate::catalogue::{Channel, ImplLevel, Procedure};
use crate::codes::{AgencyCode, CitizenId, ProcedureCode, TaxCode};
use crate::process::{Process, StepAgency};
use crate::text::clean;
use crate::units::Agency;
use crate::{Error, Errors, Msg};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Dossier status; the numbers are the national portal's status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    Received,
    Rejected,
    Processing,
    AwaitingSupplement,
    AwaitingPayment,
    WithdrawalRequested,
    Stopped,
    Resolved,
    Returned,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Submitted,
        Status::Received,
        Status::Rejected,
        Status::Processing,
        Status::AwaitingSupplement,
        Status::AwaitingPayment,
        Status::WithdrawalRequested,
        Status::Stopped,
        Status::Resolved,
        Status::Returned,
    ];

    /// The national portal's status code.
    pub fn portal_code(self) -> u8 {
        match self {
            Status::Submitted => 1,
            Status::Received => 2,
            Status::Rejected => 3,
            Status::Processing => 4,
            Status::AwaitingSupplement => 5,
            Status::AwaitingPayment => 6,
            Status::WithdrawalRequested => 7,
            Status::Stopped => 8,
            Status::Resolved => 9,
            Status::Returned => 10,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Received => "received",
            Status::Rejected => "rejected",
            Status::Processing => "processing",
            Status::AwaitingSupplement => "awaiting_supplement",
            Status::AwaitingPayment => "awaiting_payment",
            Status::WithdrawalRequested => "withdrawal_requested",
            Status::Stopped => "stopped",
            Status::Resolved => "resolved",
            Status::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Status::Submitted => "Mới nộp, chờ tiếp nhận",
            Status::Received => "Đã tiếp nhận",
            Status::Rejected => "Từ chối tiếp nhận",
            Status::Processing => "Đang xử lý",
            Status::AwaitingSupplement => "Chờ bổ sung hồ sơ",
            Status::AwaitingPayment => "Chờ thực hiện nghĩa vụ tài chính",
            Status::WithdrawalRequested => "Công dân xin rút hồ sơ",
            Status::Stopped => "Dừng xử lý",
            Status::Resolved => "Đã có kết quả",
            Status::Returned => "Đã trả kết quả",
        }
    }

    /// Received and not finished: the deadline runs (or is stopped).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Received
                | Status::Processing
                | Status::AwaitingSupplement
                | Status::AwaitingPayment
                | Status::WithdrawalRequested
        )
    }
}

/// How a completed dossier kept its appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    Early,
    OnTime,
    Late,
}

impl Timeliness {
    pub fn as_str(self) -> &'static str {
        match self {
            Timeliness::Early => "early",
            Timeliness::OnTime => "on_time",
            Timeliness::Late => "late",
        }
    }

    /// Classifies a dossier that ended at `end` against its appointment in force (docs/domain.md
    /// §Statistics): early if on an earlier day, on time up to the appointment instant, late after.
    pub fn of(end: DateTime<Utc>, due: Option<DateTime<Utc>>, cal: &WorkCalendar) -> Timeliness {
        match due {
            None => Timeliness::OnTime,
            Some(due) if cal.local(end).date() < cal.local(due).date() => Timeliness::Early,
            Some(due) if end <= due => Timeliness::OnTime,
            Some(_) => Timeliness::Late,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    /// A person, identified by the 12-digit citizen ID.
    Person,
    /// An organisation, identified by its enterprise / tax code.
    Organisation,
}

/// The applicant (chủ hồ sơ) with contact details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Applicant {
    pub kind: ApplicantKind,
    /// Citizen ID (person: 12 digits) or enterprise / tax code (organisation: 10 digits, or
    /// 13 as `NNNNNNNNNN-NNN` for a branch).
    #[schema(pattern = r"^\s*(\d{12}|\d{10}|\d{10}-\d{3})\s*$")]
    pub id_number: String,
    #[schema(min_length = 1, max_length = 300, pattern = r"\S")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Current administrative unit (commune or province code) of the applicant's residence or seat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_code: Option<String>,
}

fn valid_phone(p: &str) -> bool {
    let digits: String = p
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    let rest = digits.strip_prefix('+').unwrap_or(&digits);
    (9..=12).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_digit())
}

fn valid_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((a, b)) => {
            !a.is_empty() && b.contains('.') && !e.contains(char::is_whitespace) && !b.contains('@')
        }
        None => false,
    }
}

fn opt_text(s: Option<String>) -> Option<String> {
    s.map(|s| clean(&s)).filter(|s| !s.is_empty())
}

impl Applicant {
    pub fn validate(mut self) -> Result<Self, Error> {
        let mut errs = Errors::new();
        self.name = clean(&self.name);
        self.id_number = self.id_number.trim().to_owned();
        if self.name.is_empty() || self.name.chars().count() > 300 {
            errs.add(
                "applicant.name",
                "Tên người nộp không được để trống (tối đa 300 ký tự)",
                "applicant name must not be empty (at most 300 characters)",
            );
        }
        let id = match self.kind {
            ApplicantKind::Person => CitizenId::parse(&self.id_number).map(|c| c.to_string()),
            ApplicantKind::Organisation => TaxCode::parse(&self.id_number).map(|c| c.to_string()),
        };
        if let Err(Error::Invalid(e)) = id {
            for f in e {
                errs.add(
                    "applicant.id_number",
                    f.message.vi.clone(),
                    f.message.en.clone(),
                );
            }
        }
        self.phone = opt_text(self.phone);
        self.email = opt_text(self.email);
        self.address = opt_text(self.address);
        self.unit_code = opt_text(self.unit_code);
        if self.phone.as_deref().is_some_and(|p| !valid_phone(p)) {
            errs.add(
                "applicant.phone",
                "Số điện thoại không hợp lệ",
                "phone number is not valid",
            );
        }
        if self.email.as_deref().is_some_and(|e| !valid_email(e)) {
            errs.add(
                "applicant.email",
                "Địa chỉ thư điện tử không hợp lệ",
                "email address is not valid",
            );
        }
        if self
            .address
            .as_deref()
            .is_some_and(|a| a.chars().count() > 500)
        {
            errs.add(
                "applicant.address",
                "Địa chỉ quá dài",
                "address is too long",
            );
        }
        too_long(
            &mut errs,
            "applicant.email",
            self.email.as_deref().unwrap_or_default(),
            limits::EMAIL_CHARS,
        );
        too_long(
            &mut errs,
            "applicant.phone",
            self.phone.as_deref().unwrap_or_default(),
            limits::PHONE_CHARS,
        );
        if let Some(u) = &self.unit_code
            && !(crate::codes::is_commune_code(u) || crate::codes::is_province_code(u))
        {
            errs.add(
                "applicant.unit_code",
                "Mã đơn vị hành chính phải là mã xã (5 số) hoặc mã tỉnh (2 số)",
                "unit code must be a commune (5 digits) or province (2 digits) code",
            );
        }
        errs.into_result()?;
        Ok(self)
    }
}

/// A component as handed in: which of the procedure's components (by position), how many
/// originals and copies, and whether it was taken from the applicant's data warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmittedComponent {
    /// Position (from 0) in the procedure's `components`.
    pub index: usize,
    #[serde(default)]
    pub originals: u16,
    #[serde(default)]
    pub copies: u16,
    #[serde(default)]
    pub from_warehouse: bool,
    /// The digitisation result code of the warehouse document taken (with `from_warehouse`;
    /// omitted: the applicant's valid document of the same name is found).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_code: Option<String>,
}

/// A component recorded on the dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DossierComponent {
    pub index: usize,
    pub name: String,
    pub required: bool,
    pub submitted: bool,
    pub originals: u16,
    pub copies: u16,
    pub from_warehouse: bool,
    /// The warehouse document taken (its digitisation result code): a reuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_code: Option<String>,
}

/// How a result reaches the applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// To the applicant's account / data warehouse.
    Electronic,
    /// On paper, collected at the one-stop point.
    Paper,
    /// On paper, by the public postal service.
    Postal,
}

/// A missing item of a supplement request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MissingItem {
    /// What is missing (usually a component's name).
    pub item: String,
    pub reason: String,
}

/// A workflow action, as posted to `/api/v1/dossiers/{code}/actions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Accept a submitted dossier as complete: receipt and appointment. `components` records
    /// what the officer received at the same time (originals and copies), so that a dossier
    /// filed incomplete can be completed and accepted in one step.
    Accept {
        #[serde(default)]
        note: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        components: Vec<SubmittedComponent>,
    },
    /// Give the dossier to an officer of the current step's agency.
    Assign {
        assignee: String,
        #[serde(default)]
        note: Option<String>,
    },
    /// Hand the dossier to the next step.
    Forward {
        #[serde(default)]
        note: Option<String>,
    },
    /// Send an inter-agency child case to another agency; the parent waits for it.
    Transfer {
        #[schema(value_type = String)]
        agency: AgencyCode,
        #[serde(default)]
        note: Option<String>,
    },
    /// Ask the applicant for a supplement; the deadline clock stops.
    RequestSupplement {
        missing: Vec<MissingItem>,
        #[serde(default)]
        note: Option<String>,
    },
    /// The supplement arrived; the clock restarts with the waiting time added back.
    /// `components` records what was handed in (originals and copies).
    SupplementReceived {
        #[serde(default)]
        note: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        components: Vec<SubmittedComponent>,
    },
    /// Wait for the applicant's fees or financial obligations.
    Pause { reason: String },
    /// The fees were paid: the clock restarts. `paid_online` records a payment made through
    /// the online payment platform (counted in the online payment rate).
    Resume {
        #[serde(default)]
        note: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        paid_online: bool,
    },
    /// A new appointment with an apology slip (once, before the appointment).
    Extend {
        reason: String,
        #[schema(value_type = String, format = Date)]
        new_due_date: NaiveDate,
    },
    /// Refuse: at intake (refusal slip) or during processing (notice of stopping).
    Refuse { reasons: Vec<String> },
    /// The applicant asks to withdraw the dossier.
    Withdraw { reason: String },
    /// Agree to the withdrawal: processing stops.
    ConfirmWithdrawal {
        #[serde(default)]
        note: Option<String>,
    },
    /// Decide favourably: the result is ready.
    Approve {
        #[serde(default)]
        note: Option<String>,
    },
    /// Return the result: electronically (done), on paper at the counter (waits for
    /// collection) or by post.
    ReturnResult {
        method: Delivery,
        #[serde(default)]
        note: Option<String>,
    },
    /// The applicant collected the paper result.
    MarkCollected {
        #[serde(default)]
        note: Option<String>,
    },
}

/// What a user may ask of a dossier: the kind of an [`Action`], without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Accept,
    Assign,
    Forward,
    Transfer,
    RequestSupplement,
    SupplementReceived,
    Pause,
    Resume,
    Extend,
    Refuse,
    Withdraw,
    ConfirmWithdrawal,
    Approve,
    ReturnResult,
    MarkCollected,
}

impl ActionKind {
    pub const ALL: [ActionKind; 15] = [
        ActionKind::Accept,
        ActionKind::Assign,
        ActionKind::Forward,
        ActionKind::Transfer,
        ActionKind::RequestSupplement,
        ActionKind::SupplementReceived,
        ActionKind::Pause,
        ActionKind::Resume,
        ActionKind::Extend,
        ActionKind::Refuse,
        ActionKind::Withdraw,
        ActionKind::ConfirmWithdrawal,
        ActionKind::Approve,
        ActionKind::ReturnResult,
        ActionKind::MarkCollected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Accept => "accept",
            ActionKind::Assign => "assign",
            ActionKind::Forward => "forward",
            ActionKind::Transfer => "transfer",
            ActionKind::RequestSupplement => "request_supplement",
            ActionKind::SupplementReceived => "supplement_received",
            ActionKind::Pause => "pause",
            ActionKind::Resume => "resume",
            ActionKind::Extend => "extend",
            ActionKind::Refuse => "refuse",
            ActionKind::Withdraw => "withdraw",
            ActionKind::ConfirmWithdrawal => "confirm_withdrawal",
            ActionKind::Approve => "approve",
            ActionKind::ReturnResult => "return_result",
            ActionKind::MarkCollected => "mark_collected",
        }
    }

    pub fn parse(s: &str) -> Option<ActionKind> {
        ActionKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Maximum lengths of the free text of dossiers and actions (docs/domain.md §Limits).
pub mod limits {
    /// A note, a reason for a pause, an extension or a withdrawal.
    pub const NOTE_CHARS: usize = 2000;
    /// Items of one supplement request.
    pub const SUPPLEMENT_ITEMS: usize = 50;
    /// The name of a missing item, and why it is needed.
    pub const ITEM_CHARS: usize = 500;
    /// Reasons of one refusal.
    pub const REFUSAL_REASONS: usize = 20;
    /// One reason of a refusal.
    pub const REASON_CHARS: usize = 1000;
    /// An account name (assignee).
    pub const USERNAME_CHARS: usize = 64;
    /// A postal tracking number.
    pub const POSTAL_TRACKING_CHARS: usize = 40;
    /// An email address (RFC 5321).
    pub const EMAIL_CHARS: usize = 254;
    /// A phone number as typed.
    pub const PHONE_CHARS: usize = 20;
    /// Components listed in one dossier.
    pub const COMPONENTS: usize = 200;
}

fn too_long(errs: &mut Errors, field: &str, v: &str, max: usize) {
    if v.chars().count() > max {
        errs.add(
            field,
            format!("«{field}» dài tối đa {max} ký tự"),
            format!("«{field}» is at most {max} characters"),
        );
    }
}

fn too_many(errs: &mut Errors, field: &str, n: usize, max: usize) {
    if n > max {
        errs.add(
            field,
            format!("«{field}» có tối đa {max} mục"),
            format!("«{field}» has at most {max} items"),
        );
    }
}

impl Action {
    /// Checks the action's free text against [`limits`] (before anything else looks at it).
    pub fn check_limits(&self) -> Result<(), Error> {
        use limits::*;
        let mut errs = Errors::new();
        let note = |errs: &mut Errors, n: &Option<String>| {
            if let Some(n) = n {
                too_long(errs, "note", n, NOTE_CHARS);
            }
        };
        match self {
            Action::Accept {
                note: n,
                components,
            }
            | Action::SupplementReceived {
                note: n,
                components,
            } => {
                too_many(&mut errs, "components", components.len(), COMPONENTS);
                note(&mut errs, n);
            }
            Action::Forward { note: n }
            | Action::Transfer { note: n, .. }
            | Action::Resume { note: n, .. }
            | Action::ConfirmWithdrawal { note: n }
            | Action::Approve { note: n }
            | Action::ReturnResult { note: n, .. }
            | Action::MarkCollected { note: n } => note(&mut errs, n),
            Action::Assign { assignee, note: n } => {
                too_long(&mut errs, "assignee", assignee, USERNAME_CHARS);
                note(&mut errs, n);
            }
            Action::RequestSupplement { missing, note: n } => {
                too_many(&mut errs, "missing", missing.len(), SUPPLEMENT_ITEMS);
                for m in missing.iter().take(SUPPLEMENT_ITEMS) {
                    too_long(&mut errs, "missing.item", &m.item, ITEM_CHARS);
                    too_long(&mut errs, "missing.reason", &m.reason, ITEM_CHARS);
                }
                note(&mut errs, n);
            }
            Action::Pause { reason } | Action::Withdraw { reason } => {
                too_long(&mut errs, "reason", reason, NOTE_CHARS)
            }
            Action::Extend { reason, .. } => too_long(&mut errs, "reason", reason, NOTE_CHARS),
            Action::Refuse { reasons } => {
                too_many(&mut errs, "reasons", reasons.len(), REFUSAL_REASONS);
                for r in reasons.iter().take(REFUSAL_REASONS) {
                    too_long(&mut errs, "reasons", r, REASON_CHARS);
                }
            }
        }
        errs.into_result()
    }

    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Accept { .. } => ActionKind::Accept,
            Action::Assign { .. } => ActionKind::Assign,
            Action::Forward { .. } => ActionKind::Forward,
            Action::Transfer { .. } => ActionKind::Transfer,
            Action::RequestSupplement { .. } => ActionKind::RequestSupplement,
            Action::SupplementReceived { .. } => ActionKind::SupplementReceived,
            Action::Pause { .. } => ActionKind::Pause,
            Action::Resume { .. } => ActionKind::Resume,
            Action::Extend { .. } => ActionKind::Extend,
            Action::Refuse { .. } => ActionKind::Refuse,
            Action::Withdraw { .. } => ActionKind::Withdraw,
            Action::ConfirmWithdrawal { .. } => ActionKind::ConfirmWithdrawal,
            Action::Approve { .. } => ActionKind::Approve,
            Action::ReturnResult { .. } => ActionKind::ReturnResult,
            Action::MarkCollected { .. } => ActionKind::MarkCollected,
        }
    }

    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The officer's or applicant's note, free text.
    fn note(&self) -> Option<&str> {
        match self {
            Action::Accept { note, .. }
            | Action::Assign { note, .. }
            | Action::Forward { note }
            | Action::Transfer { note, .. }
            | Action::RequestSupplement { note, .. }
            | Action::SupplementReceived { note, .. }
            | Action::Resume { note, .. }
            | Action::ConfirmWithdrawal { note }
            | Action::Approve { note }
            | Action::ReturnResult { note, .. }
            | Action::MarkCollected { note } => note.as_deref(),
            // Their reason is a field of the event.
            Action::Pause { .. }
            | Action::Withdraw { .. }
            | Action::Extend { .. }
            | Action::Refuse { .. } => None,
        }
    }

    /// One example of every action, for tests that walk them all.
    pub fn examples(agency: &AgencyCode, assignee: &str, today: NaiveDate) -> Vec<Action> {
        vec![
            Action::Accept {
                note: None,
                components: Vec::new(),
            },
            Action::Assign {
                assignee: assignee.into(),
                note: None,
            },
            Action::Forward { note: None },
            Action::Transfer {
                agency: agency.clone(),
                note: None,
            },
            Action::RequestSupplement {
                missing: vec![MissingItem {
                    item: "Tờ khai".into(),
                    reason: "Thiếu chữ ký".into(),
                }],
                note: None,
            },
            Action::SupplementReceived {
                note: None,
                components: Vec::new(),
            },
            Action::Pause {
                reason: "Chờ nộp lệ phí".into(),
            },
            Action::Resume {
                note: None,
                paid_online: false,
            },
            Action::Extend {
                reason: "Cần xác minh thêm".into(),
                new_due_date: today + chrono::Days::new(30),
            },
            Action::Refuse {
                reasons: vec!["Không đủ điều kiện".into()],
            },
            Action::Withdraw {
                reason: "Không còn nhu cầu".into(),
            },
            Action::ConfirmWithdrawal { note: None },
            Action::Approve { note: None },
            Action::ReturnResult {
                method: Delivery::Paper,
                note: None,
            },
            Action::MarkCollected { note: None },
        ]
    }
}

/// Who acts: a signed-in user, or the system / a legacy record (no role checks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Username, or `system`, or the legacy system's actor name.
    pub name: String,
    pub user_id: Option<i64>,
    pub role: Option<Role>,
    pub agency: Option<AgencyCode>,
}

impl Actor {
    pub fn system(name: &str) -> Self {
        Actor {
            name: name.into(),
            user_id: None,
            role: None,
            agency: None,
        }
    }
}

/// Why an action was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The actor may not take this action on this dossier (HTTP 403).
    #[error("forbidden: {0}")]
    Forbidden(Msg),
    /// The dossier's state does not allow the action (HTTP 409).
    #[error("conflict: {0}")]
    Conflict(Msg),
    /// The action's own data is invalid (HTTP 422).
    #[error(transparent)]
    Invalid(#[from] Error),
}

fn conflict(vi: impl Into<String>, en: impl Into<String>) -> Refusal {
    Refusal::Conflict(Msg::new(vi, en))
}

impl From<crate::policy::Denied> for Refusal {
    fn from(d: crate::policy::Denied) -> Self {
        Refusal::Forbidden(d.0)
    }
}

/// The state of a dossier, as of its last change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dossier {
    pub code: String,
    #[schema(value_type = String)]
    pub procedure_code: ProcedureCode,
    pub procedure_name: String,
    pub channel: Channel,
    pub status: Status,
    pub applicant: Applicant,
    pub components: Vec<DossierComponent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_tracking: Option<String>,
    #[schema(value_type = String)]
    pub receiving_agency: AgencyCode,
    #[schema(value_type = String)]
    pub competent_agency: AgencyCode,
    /// The agency holding the dossier at its current step.
    #[schema(value_type = String)]
    pub current_agency: AgencyCode,
    pub process: Process,
    /// Index of the current step in `process.steps`.
    pub step: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// The citizen account that owns the dossier (online filing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit: Option<TimeLimit>,
    pub submitted_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<DateTime<Utc>>,
    /// The appointment in force (after extensions and added-back waiting time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// The appointment printed on the receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_due_at: Option<DateTime<Utc>>,
    /// Office minutes from receipt to the original appointment (shared among the steps).
    #[serde(default)]
    pub total_minutes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_due_at: Option<DateTime<Utc>>,
    /// When the clock stopped (awaiting supplement, or payment when it stops the clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<DateTime<Utc>>,
    /// Status to go back to when the wait ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_status: Option<Status>,
    /// Office minutes spent with the clock stopped, already added to `due_at`.
    #[serde(default)]
    pub paused_minutes: i64,
    #[serde(default)]
    pub supplement_requests: u32,
    #[serde(default)]
    pub extended: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeliness: Option<Timeliness>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_delivery: Option<Delivery>,
    /// How the applicant asked, at intake, for the result to be returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_delivery: Option<Delivery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned_at: Option<DateTime<Utc>>,
    /// The parent dossier of an inter-agency child case (never counted on its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_code: Option<String>,
    /// Open inter-agency child cases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_children: Vec<String>,
    /// The applicant's rating of the service, once the result is ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
}

/// How satisfied the applicant was (the national portal's levels; docs/domain.md §Statistics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// Rất hài lòng.
    VerySatisfied,
    /// Hài lòng.
    Satisfied,
    /// Không hài lòng.
    Unsatisfied,
}

impl Satisfaction {
    pub const ALL: [Satisfaction; 3] = [
        Satisfaction::VerySatisfied,
        Satisfaction::Satisfied,
        Satisfaction::Unsatisfied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "very_satisfied",
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::Unsatisfied => "unsatisfied",
        }
    }

    pub fn parse(s: &str) -> Option<Satisfaction> {
        Satisfaction::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// (Vietnamese, English)
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Satisfaction::VerySatisfied => ("Rất hài lòng", "Very satisfied"),
            Satisfaction::Satisfied => ("Hài lòng", "Satisfied"),
            Satisfaction::Unsatisfied => ("Không hài lòng", "Unsatisfied"),
        }
    }
}

/// Where a rating was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RatingChannel {
    /// On the portal, by the applicant signed in.
    Portal,
    /// On the counter's device, with the one-stop officer.
    Counter,
}

/// An applicant's rating of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rating {
    pub level: Satisfaction,
    pub channel: RatingChannel,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// What an intake needs, checked by the caller against the catalogue and the agencies.
#[derive(Debug, Clone)]
pub struct Intake {
    pub procedure: Procedure,
    pub process: Process,
    pub channel: Channel,
    pub receiving_agency: AgencyCode,
    pub competent_agency: AgencyCode,
    pub applicant: Applicant,
    pub components: Vec<SubmittedComponent>,
    pub postal_tracking: Option<String>,
    pub owner_id: Option<i64>,
    /// How the applicant asked for the result to be returned.
    pub delivery: Option<Delivery>,
}

/// A compact view of the state before and after a change (kept in the audit record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Snapshot {
    pub status: Status,
    pub step: String,
    #[schema(value_type = String)]
    pub agency: AgencyCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_due_at: Option<DateTime<Utc>>,
}

/// One change of a dossier: the typed event that the audit chain records, with the state
/// before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub event: DossierEvent,
    /// The officer's or applicant's note.
    pub note: Option<String>,
    pub before: Option<Snapshot>,
    pub after: Snapshot,
    /// A child case to create at this agency (for `transfer`).
    pub spawn: Option<AgencyCode>,
}

impl Change {
    /// The event as stored in the audit record.
    pub fn record(&self) -> EventRecord {
        EventRecord::new(self.event.clone(), self.note.clone())
    }
}

/// Builds a dossier code `{agency}-{yyMMdd}-{NNNN}`.
pub fn dossier_code(agency: &AgencyCode, day: NaiveDate, seq: i64) -> String {
    format!("{agency}-{}-{seq:04}", day.format("%y%m%d"))
}

/// Splits a dossier code into its agency, day and sequence number.
pub fn parse_dossier_code(code: &str) -> Result<(AgencyCode, NaiveDate, i64), Error> {
    let bad = || {
        Error::field(
            "code",
            format!("Mã hồ sơ «{code}» không đúng dạng {{mã cơ quan}}-{{yyMMdd}}-{{NNNN}}"),
            format!("dossier code «{code}» is not of the form {{agency}}-{{yyMMdd}}-{{NNNN}}"),
        )
    };
    let mut parts = code.trim().rsplitn(3, '-');
    let (Some(seq), Some(day), Some(agency)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let agency = AgencyCode::parse(agency).map_err(|_| bad())?;
    let day = (day.len() == 6)
        .then(|| NaiveDate::parse_from_str(&format!("20{day}"), "%Y%m%d").ok())
        .flatten()
        .ok_or_else(bad)?;
    let seq = (seq.len() >= 4 && seq.bytes().all(|b| b.is_ascii_digit()))
        .then(|| seq.parse::<i64>().ok())
        .flatten()
        .filter(|n| *n > 0)
        .ok_or_else(bad)?;
    Ok((agency, day, seq))
}

/// Checks the components handed in against the procedure's list.
pub fn check_components(
    procedure: &Procedure,
    submitted: &[SubmittedComponent],
) -> Result<Vec<DossierComponent>, Error> {
    let mut errs = Errors::new();
    let mut out: Vec<DossierComponent> = procedure
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| DossierComponent {
            index: i,
            name: c.name.clone(),
            required: c.required,
            submitted: false,
            originals: 0,
            copies: 0,
            from_warehouse: false,
            warehouse_code: None,
        })
        .collect();
    for (k, s) in submitted.iter().enumerate() {
        match out.get_mut(s.index) {
            None => errs.add(
                format!("components[{k}].index"),
                format!(
                    "Thủ tục chỉ có {} thành phần hồ sơ (chỉ số từ 0)",
                    procedure.components.len()
                ),
                format!(
                    "the procedure has {} components (indexes from 0)",
                    procedure.components.len()
                ),
            ),
            Some(c) if c.submitted => errs.add(
                format!("components[{k}].index"),
                format!("Thành phần «{}» được khai hai lần", c.name),
                format!("component «{}» is listed twice", c.name),
            ),
            Some(c) => {
                if s.originals == 0 && s.copies == 0 && !s.from_warehouse {
                    errs.add(
                        format!("components[{k}]"),
                        format!(
                            "Thành phần «{}»: cần số bản chính, bản sao hoặc lấy từ kho dữ liệu",
                            c.name
                        ),
                        format!(
                            "component «{}»: give originals, copies or from_warehouse",
                            c.name
                        ),
                    );
                }
                if s.from_warehouse && !procedure.components[s.index].warehouse_copy_accepted {
                    errs.add(
                        format!("components[{k}].from_warehouse"),
                        format!("Thành phần «{}» không chấp nhận bản từ kho dữ liệu", c.name),
                        format!("component «{}» does not accept a warehouse copy", c.name),
                    );
                }
                if let Some(code) = &s.warehouse_code
                    && (!s.from_warehouse || !crate::digitisation::is_result_code(code))
                {
                    errs.add(
                        format!("components[{k}].warehouse_code"),
                        format!("Mã kết quả số hóa «{code}» không hợp lệ (kèm from_warehouse)"),
                        format!(
                            "digitisation result code «{code}» is not valid (needs from_warehouse)"
                        ),
                    );
                }
                c.submitted = true;
                c.originals = s.originals;
                c.copies = s.copies;
                c.from_warehouse = s.from_warehouse;
                c.warehouse_code = s.warehouse_code.clone();
            }
        }
    }
    errs.into_result()?;
    for c in &mut out {
        c.name = clean(&c.name);
    }
    Ok(out)
}

/// The level of government an agency serves, from its unit code.
pub fn agency_level(a: &Agency) -> Option<ImplLevel> {
    match a.unit_code.as_deref() {
        Some(u) if crate::codes::is_province_code(u) => Some(ImplLevel::Province),
        Some(u) if crate::codes::is_commune_code(u) => Some(ImplLevel::Commune),
        _ => None,
    }
}

/// Where an agency is, for the filing rules: the agency and its current province code.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub agency: &'a Agency,
    pub province: Option<&'a str>,
}

/// Checks that a dossier may be filed at `receiving` and decided by `competent` (docs/domain.md:
/// a procedure that is not non-territorial is received at its own level and unit; a
/// non-territorial one at any one-stop point of the province, then routed).
pub fn check_filing_place(
    p: &Procedure,
    receiving: Place<'_>,
    competent: Place<'_>,
    applicant: &Applicant,
    applicant_province: Option<&str>,
) -> Result<(), Error> {
    let r = receiving.agency;
    let refuse = |vi: String, en: String| Err(Error::field("agency", vi, en));
    if !r.one_stop_point {
        return refuse(
            format!("{} không phải bộ phận một cửa tiếp nhận hồ sơ", r.name),
            format!("{} is not a one-stop point that receives dossiers", r.code),
        );
    }
    let levels = p
        .levels
        .iter()
        .map(|l| match l {
            ImplLevel::Ministry => "bộ",
            ImplLevel::Province => "tỉnh",
            ImplLevel::Commune => "xã",
            ImplLevel::Other => "khác",
        })
        .collect::<Vec<_>>()
        .join(", ");
    if p.non_territorial {
        if receiving.province.is_none() || receiving.province != competent.province {
            return refuse(
                format!(
                    "Thủ tục phi địa giới chỉ được tiếp nhận tại bộ phận một cửa trong tỉnh của cơ quan giải quyết ({})",
                    competent.agency.name
                ),
                format!(
                    "a non-territorial procedure is received at any one-stop point of the competent agency's province ({})",
                    competent.agency.code
                ),
            );
        }
        if agency_level(competent.agency).is_none_or(|l| !p.levels.contains(&l)) {
            return refuse(
                format!(
                    "{} không có thẩm quyền giải quyết thủ tục cấp {levels}",
                    competent.agency.name
                ),
                format!(
                    "{} is not competent for a procedure of level {levels}",
                    competent.agency.code
                ),
            );
        }
        return Ok(());
    }
    let level = agency_level(r);
    if level.is_none_or(|l| !p.levels.contains(&l)) {
        return refuse(
            format!(
                "Thủ tục thuộc thẩm quyền cấp {levels}, không tiếp nhận tại {} (thủ tục không phi địa giới)",
                r.name
            ),
            format!(
                "the procedure belongs to level {levels} and is not non-territorial: {} cannot receive it",
                r.code
            ),
        );
    }
    if receiving.province != competent.province {
        return refuse(
            format!(
                "{} không thuộc tỉnh của nơi tiếp nhận",
                competent.agency.name
            ),
            format!(
                "{} is not in the receiving agency's province",
                competent.agency.code
            ),
        );
    }
    match (level, applicant.unit_code.as_deref()) {
        (Some(ImplLevel::Commune), Some(u))
            if crate::codes::is_commune_code(u) && r.unit_code.as_deref() != Some(u) =>
        {
            refuse(
                format!(
                    "Thủ tục không phi địa giới: nộp tại UBND xã nơi cư trú của người nộp (mã {u}), không phải {}",
                    r.name
                ),
                format!(
                    "not non-territorial: file at the applicant's own commune ({u}), not at {}",
                    r.code
                ),
            )
        }
        (Some(ImplLevel::Province), _)
            if applicant_province.is_some() && applicant_province != receiving.province =>
        {
            refuse(
                "Thủ tục không phi địa giới: nộp tại tỉnh nơi cư trú hoặc trụ sở của người nộp"
                    .into(),
                "not non-territorial: file in the applicant's own province".into(),
            )
        }
        _ => Ok(()),
    }
}

impl Dossier {
    /// A new dossier: `received` at once at a counter, `submitted` (waiting for a one-stop
    /// officer to accept it) online or by post.
    pub fn new(
        intake: Intake,
        code: String,
        at: DateTime<Utc>,
        cal: &WorkCalendar,
    ) -> Result<(Dossier, Change), Error> {
        check_time(at, cal)?;
        let components = check_components(&intake.procedure, &intake.components)?;
        let mut d = Dossier {
            code,
            procedure_code: intake.procedure.code.clone(),
            procedure_name: intake.procedure.name.clone(),
            channel: intake.channel,
            status: Status::Submitted,
            applicant: intake.applicant,
            components,
            postal_tracking: intake.postal_tracking,
            receiving_agency: intake.receiving_agency.clone(),
            competent_agency: intake.competent_agency,
            current_agency: intake.receiving_agency,
            process: intake.process,
            step: 0,
            assignee: None,
            owner_id: intake.owner_id,
            time_limit: intake.procedure.time_limit,
            submitted_at: at,
            received_at: None,
            due_at: None,
            original_due_at: None,
            total_minutes: 0,
            step_started_at: None,
            step_due_at: None,
            paused_at: None,
            resume_status: None,
            paused_minutes: 0,
            supplement_requests: 0,
            extended: false,
            ended_at: None,
            timeliness: None,
            result_delivery: None,
            requested_delivery: intake.delivery,
            returned_at: None,
            parent_code: None,
            open_children: Vec::new(),
            rating: None,
        };
        let action = if d.channel == Channel::Counter {
            let missing = d.missing_required();
            if !missing.is_empty() {
                return Err(Error::field(
                    "components",
                    format!(
                        "Hồ sơ chưa đủ thành phần bắt buộc, chưa thể tiếp nhận: {}",
                        missing.join("; ")
                    ),
                    format!(
                        "required components are missing, the dossier cannot be received: {}",
                        missing.join("; ")
                    ),
                ));
            }
            d.receive(at, cal);
            DossierEvent::Received {
                channel: d.channel,
                procedure_code: d.procedure_code.to_string(),
                due_at: d.due_at,
                postal_tracking: d.postal_tracking.clone(),
                imported_from: None,
            }
        } else {
            DossierEvent::Submitted {
                channel: d.channel,
                procedure_code: d.procedure_code.to_string(),
                postal_tracking: d.postal_tracking.clone(),
                imported_from: None,
            }
        };
        let change = Change {
            event: action,
            note: None,
            before: None,
            after: d.snapshot(),
            spawn: None,
        };
        Ok((d, change))
    }

    /// The inter-agency child case of `parent`, held by `agency` from the first processing step.
    pub fn child(
        parent: &Dossier,
        code: String,
        agency: AgencyCode,
        at: DateTime<Utc>,
    ) -> (Dossier, Change) {
        let mut d = parent.clone();
        d.code = code;
        d.parent_code = Some(parent.code.clone());
        d.open_children = Vec::new();
        d.rating = None;
        d.receiving_agency = agency.clone();
        d.competent_agency = agency.clone();
        d.current_agency = agency;
        d.status = Status::Processing;
        d.step = 1.min(d.process.steps.len().saturating_sub(1));
        d.assignee = None;
        d.submitted_at = at;
        d.received_at = Some(at);
        d.step_started_at = Some(at);
        // The child must answer within the parent's current step.
        d.due_at = parent.step_due_at.or(parent.due_at);
        d.original_due_at = d.due_at;
        d.step_due_at = d.due_at;
        d.paused_at = None;
        d.resume_status = None;
        let change = Change {
            event: DossierEvent::ChildCreated {
                parent_code: parent.code.clone(),
            },
            note: None,
            before: None,
            after: d.snapshot(),
            spawn: None,
        };
        (d, change)
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            status: self.status,
            step: self
                .process
                .steps
                .get(self.step)
                .map(|s| s.key.clone())
                .unwrap_or_default(),
            agency: self.current_agency.clone(),
            assignee: self.assignee.clone(),
            due_at: self.due_at,
            step_due_at: self.step_due_at,
        }
    }

    /// The name of the step the dossier is at.
    pub fn step_name(&self) -> String {
        self.process
            .steps
            .get(self.step)
            .map(|st| st.name.clone())
            .unwrap_or_default()
    }

    /// Names of required components not handed in.
    pub fn missing_required(&self) -> Vec<String> {
        self.components
            .iter()
            .filter(|c| c.required && !c.submitted)
            .map(|c| c.name.clone())
            .collect()
    }

    fn receive(&mut self, at: DateTime<Utc>, cal: &WorkCalendar) {
        self.status = Status::Received;
        self.received_at = Some(at);
        if let Some(limit) = self.time_limit {
            let due = cal.due(at, limit);
            self.due_at = Some(due);
            self.original_due_at = Some(due);
            // Days-based limits do not count the day of receipt; hour-based ones count from now.
            let start = match limit.unit {
                TimeUnit::WorkingHours | TimeUnit::SameDay => at,
                _ => cal.close_of(cal.effective_receipt_day(at)),
            };
            self.total_minutes = cal.working_minutes_between(start, due).max(0);
        }
        self.enter_step(0, at, cal);
    }

    fn enter_step(&mut self, step: usize, at: DateTime<Utc>, cal: &WorkCalendar) {
        self.step = step;
        self.assignee = None;
        self.step_started_at = Some(at);
        let Some(s) = self.process.steps.get(step) else {
            return;
        };
        self.current_agency = self
            .step_agency(step)
            .unwrap_or_else(|| self.competent_agency.clone());
        self.step_due_at = (self.time_limit.is_some() && self.due_at.is_some()).then(|| {
            let minutes = self.total_minutes * i64::from(s.share) / 100;
            cal.add_working_minutes(at, u64::try_from(minutes).unwrap_or(0))
        });
    }

    /// The agency that holds the dossier at step `step` of its process.
    pub fn step_agency(&self, step: usize) -> Option<AgencyCode> {
        let s = self.process.steps.get(step)?;
        Some(match &s.agency {
            StepAgency::Receiving => self.receiving_agency.clone(),
            StepAgency::Competent => self.competent_agency.clone(),
            StepAgency::Code(c) => {
                AgencyCode::parse(c).unwrap_or_else(|_| self.competent_agency.clone())
            }
        })
    }

    /// Whether the dossier is past its appointment at `at` (never a status: derived). While
    /// the clock is stopped, it is measured at the instant it stopped.
    pub fn overdue(&self, at: DateTime<Utc>) -> bool {
        if !self.status.is_open() {
            return false;
        }
        match (self.due_at, self.paused_at) {
            (Some(due), Some(paused)) => paused > due,
            (Some(due), None) => at > due,
            (None, _) => false,
        }
    }

    /// The actions `actor` may take now: allowed by the authorisation policy and by the
    /// dossier's state at `at` (the forms a page shows; the API's `available_actions`).
    pub fn available_actions(
        &self,
        actor: &Actor,
        at: DateTime<Utc>,
        cal: &WorkCalendar,
    ) -> Vec<ActionKind> {
        ActionKind::ALL
            .into_iter()
            .filter(|k| {
                crate::policy::authorize(actor, crate::policy::Permission::Act(self, *k)).is_ok()
                    && self.precondition(*k, at, cal).is_ok()
            })
            .collect()
    }

    fn wrong_status(&self, kind: ActionKind) -> Refusal {
        conflict(
            format!(
                "Không thể «{}» khi hồ sơ đang ở trạng thái «{}»",
                kind.as_str(),
                self.status.label()
            ),
            format!(
                "cannot {} a dossier whose status is {}",
                kind.as_str(),
                self.status.as_str()
            ),
        )
    }

    fn waiting_children(&self) -> Result<(), Refusal> {
        if self.open_children.is_empty() {
            Ok(())
        } else {
            Err(conflict(
                format!(
                    "Hồ sơ đang chờ kết quả liên thông: {}",
                    self.open_children.join(", ")
                ),
                format!(
                    "waiting for inter-agency cases: {}",
                    self.open_children.join(", ")
                ),
            ))
        }
    }

    /// Whether the dossier's state lets an action of `kind` be taken at `at` (what does not
    /// depend on the action's own data). Every action checks it first.
    pub fn precondition(
        &self,
        kind: ActionKind,
        at: DateTime<Utc>,
        cal: &WorkCalendar,
    ) -> Result<(), Refusal> {
        check_time(at, cal)?;
        if !self.status_allows(kind) {
            return Err(self.wrong_status(kind));
        }
        self.state_allows(kind, at)
    }

    /// Why an action of `kind`, which the dossier's status allows, cannot be taken at `at`
    /// (`None` when it can, or when the status rules it out anyway).
    pub fn blocked_by(&self, kind: ActionKind, at: DateTime<Utc>) -> Option<Msg> {
        if !self.status_allows(kind) {
            return None;
        }
        match self.state_allows(kind, at) {
            Ok(()) => None,
            Err(Refusal::Conflict(m) | Refusal::Forbidden(m)) => Some(m),
            Err(Refusal::Invalid(e)) => Some(e.message()),
        }
    }

    /// Whether an action of `kind` belongs to the dossier's status at all (an action that
    /// does not is never offered; one that does but is blocked by something else is shown
    /// with the reason, see [`Self::state_allows`]).
    pub fn status_allows(&self, kind: ActionKind) -> bool {
        use ActionKind as K;
        use Status as S;
        match kind {
            K::Accept => self.status == S::Submitted,
            K::Assign => matches!(
                self.status,
                S::Received | S::Processing | S::AwaitingSupplement | S::AwaitingPayment
            ),
            K::Forward => matches!(self.status, S::Received | S::Processing),
            K::Transfer | K::Pause | K::Approve => self.status == S::Processing,
            K::RequestSupplement => {
                matches!(self.status, S::Submitted | S::Received | S::Processing)
            }
            K::SupplementReceived => self.status == S::AwaitingSupplement,
            K::Resume => self.status == S::AwaitingPayment,
            K::Extend => matches!(
                self.status,
                S::Received | S::Processing | S::AwaitingPayment | S::AwaitingSupplement
            ),
            K::Refuse | K::Withdraw => matches!(
                self.status,
                S::Submitted
                    | S::Received
                    | S::Processing
                    | S::AwaitingSupplement
                    | S::AwaitingPayment
            ),
            K::ConfirmWithdrawal => self.status == S::WithdrawalRequested,
            K::ReturnResult | K::MarkCollected => self.status == S::Resolved,
        }
    }

    /// What, besides the status, blocks an action of `kind` at `at` (the reason a page shows
    /// next to an action it cannot offer).
    fn state_allows(&self, kind: ActionKind, at: DateTime<Utc>) -> Result<(), Refusal> {
        use ActionKind as K;
        let deciding = self.process.deciding_step();
        match kind {
            K::Forward => {
                self.waiting_children()?;
                if self.step >= deciding {
                    return Err(conflict(
                        "Bước này là bước quyết định: hãy phê duyệt hoặc từ chối",
                        "this is the deciding step: approve or refuse",
                    ));
                }
            }
            K::Transfer if self.parent_code.is_some() => {
                return Err(conflict(
                    "Hồ sơ liên thông không được chuyển tiếp liên thông lần nữa",
                    "an inter-agency case cannot itself be transferred",
                ));
            }
            K::Extend => {
                let Some(due) = self.due_at else {
                    return Err(conflict(
                        "Thủ tục không có thời hạn giải quyết để gia hạn",
                        "the procedure has no time limit to extend",
                    ));
                };
                if self.extended {
                    return Err(conflict(
                        "Hồ sơ đã được gia hạn một lần (phiếu xin lỗi chỉ được lập một lần)",
                        "the dossier was already extended once (one apology slip at most)",
                    ));
                }
                if at > due {
                    return Err(conflict(
                        "Đã quá hạn: phiếu xin lỗi và hẹn lại phải lập trước ngày hẹn trả",
                        "already overdue: the apology slip must be issued before the appointment",
                    ));
                }
            }
            K::Approve => {
                self.waiting_children()?;
                if self.step != deciding {
                    return Err(conflict(
                        format!(
                            "Chỉ phê duyệt ở bước «{}»",
                            self.process.steps.get(deciding).map_or("", |s| &s.name)
                        ),
                        "approval happens at the deciding step only",
                    ));
                }
            }
            K::ReturnResult => {
                if self.result_delivery.is_some() {
                    return Err(conflict(
                        "Kết quả đã được chuyển trả, chờ công dân nhận",
                        "the result was already sent, waiting for collection",
                    ));
                }
                if self.parent_code.is_some() {
                    return Err(conflict(
                        "Hồ sơ liên thông trả kết quả cho cơ quan chủ trì, không trả cho công dân",
                        "an inter-agency case answers to its parent, not to the applicant",
                    ));
                }
            }
            K::MarkCollected if self.result_delivery.is_none() => {
                return Err(conflict(
                    "Kết quả chưa được chuyển ra bộ phận trả kết quả",
                    "the result has not been sent to the counter yet",
                ));
            }
            _ => {}
        }
        Ok(())
    }

    fn stop_clock(&mut self, at: DateTime<Utc>, to: Status) {
        self.resume_status = Some(self.status);
        self.status = to;
        self.paused_at = Some(at);
    }

    /// Ends a wait: adds the office minutes spent waiting to the appointment and step deadline.
    fn restart_clock(&mut self, at: DateTime<Utc>, cal: &WorkCalendar) -> i64 {
        let minutes = self
            .paused_at
            .map(|p| cal.working_minutes_between(p, at))
            .unwrap_or(0);
        self.paused_at = None;
        self.status = self.resume_status.take().unwrap_or(Status::Processing);
        if minutes > 0 {
            let add = u64::try_from(minutes).unwrap_or(0);
            self.paused_minutes += minutes;
            self.due_at = self.due_at.map(|d| cal.add_working_minutes(d, add));
            self.step_due_at = self.step_due_at.map(|d| cal.add_working_minutes(d, add));
        }
        minutes
    }

    fn end(&mut self, at: DateTime<Utc>, status: Status, cal: &WorkCalendar) {
        self.status = status;
        self.ended_at = Some(at);
        self.paused_at = None;
        self.resume_status = None;
        if self.received_at.is_some() {
            let repeated = self
                .process
                .late_after_supplements
                .is_some_and(|n| self.supplement_requests >= n);
            self.timeliness = Some(if repeated {
                Timeliness::Late
            } else {
                Timeliness::of(at, self.due_at, cal)
            });
        }
    }

    /// Applies `action` at `at`, if the dossier's state allows it, and describes the change.
    /// Who may take it is the authorisation policy's ([`crate::policy::authorize`]); ask it
    /// first.
    pub fn apply(
        &mut self,
        action: &Action,
        at: DateTime<Utc>,
        cal: &WorkCalendar,
    ) -> Result<Change, Refusal> {
        self.precondition(action.kind(), at, cal)?;
        let before = self.snapshot();
        let mut spawn = None;
        let event = match action {
            Action::Accept { components, .. } => self.accept(components, at, cal)?,
            Action::Assign { assignee, .. } => self.assign(assignee)?,
            Action::Forward { .. } => self.forward(at, cal),
            Action::Transfer { agency, .. } => {
                let e = self.transfer(agency)?;
                spawn = Some(agency.clone());
                e
            }
            Action::RequestSupplement { missing, .. } => self.request_supplement(missing, at)?,
            Action::SupplementReceived { components, .. } => {
                self.components = self.with_received(components)?;
                let minutes = self.restart_clock(at, cal);
                DossierEvent::SupplementReceived {
                    waited_office_minutes: minutes,
                    due_at: self.due_at,
                    components: components.clone(),
                }
            }
            Action::Pause { reason } => self.pause(reason, at)?,
            Action::Resume { paid_online, .. } => {
                let minutes = self.restart_clock(at, cal);
                DossierEvent::Resumed {
                    waited_office_minutes: minutes,
                    due_at: self.due_at,
                    paid_online: *paid_online,
                }
            }
            Action::Extend {
                reason,
                new_due_date,
            } => self.extend(reason, *new_due_date, cal)?,
            Action::Refuse { reasons } => self.refuse(reasons, at, cal)?,
            Action::Withdraw { reason } => self.withdraw(reason, at)?,
            Action::ConfirmWithdrawal { .. } => {
                self.end(at, Status::Stopped, cal);
                DossierEvent::WithdrawalConfirmed {}
            }
            Action::Approve { .. } => self.approve(at, cal),
            Action::ReturnResult { method, .. } => self.return_result(*method, at),
            Action::MarkCollected { .. } => {
                self.status = Status::Returned;
                self.returned_at = Some(at);
                DossierEvent::Collected {}
            }
        };
        Ok(Change {
            event,
            note: action.note().map(clean).filter(|n| !n.is_empty()),
            before: Some(before),
            after: self.snapshot(),
            spawn,
        })
    }

    fn accept(
        &mut self,
        received: &[SubmittedComponent],
        at: DateTime<Utc>,
        cal: &WorkCalendar,
    ) -> Result<DossierEvent, Refusal> {
        let components = self.with_received(received)?;
        let missing: Vec<&str> = components
            .iter()
            .filter(|c| c.required && !c.submitted)
            .map(|c| c.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(conflict(
                format!(
                    "Hồ sơ chưa đủ thành phần bắt buộc: {}. Hãy đánh dấu thành phần đã nhận, yêu cầu bổ sung hoặc từ chối",
                    missing.join("; ")
                ),
                format!(
                    "required components are missing: {}. Tick those received, request a supplement or refuse",
                    missing.join("; ")
                ),
            ));
        }
        self.components = components;
        self.receive(at, cal);
        Ok(DossierEvent::Accepted {
            due_at: self.due_at,
            components: received.to_vec(),
        })
    }

    /// The dossier's components with `received` recorded (originals and copies handed in now,
    /// replacing what was recorded of those components before). Warehouse copies are chosen
    /// when the dossier is filed, where the catalogue says which components accept them.
    fn with_received(
        &self,
        received: &[SubmittedComponent],
    ) -> Result<Vec<DossierComponent>, Error> {
        let mut out = self.components.clone();
        let mut errs = Errors::new();
        let mut seen = Vec::with_capacity(received.len());
        for (k, r) in received.iter().enumerate() {
            let Some(c) = out.iter_mut().find(|c| c.index == r.index) else {
                errs.add(
                    format!("components[{k}].index"),
                    format!(
                        "Hồ sơ chỉ có {} thành phần (chỉ số từ 0)",
                        self.components.len()
                    ),
                    format!(
                        "the dossier has {} components (indexes from 0)",
                        self.components.len()
                    ),
                );
                continue;
            };
            if seen.contains(&r.index) {
                errs.add(
                    format!("components[{k}].index"),
                    format!("Thành phần «{}» được khai hai lần", c.name),
                    format!("component «{}» is listed twice", c.name),
                );
                continue;
            }
            seen.push(r.index);
            if r.from_warehouse {
                errs.add(
                    format!("components[{k}].from_warehouse"),
                    format!(
                        "Thành phần «{}»: bản từ kho dữ liệu được chọn khi nộp hồ sơ",
                        c.name
                    ),
                    format!(
                        "component «{}»: warehouse copies are chosen when the dossier is filed",
                        c.name
                    ),
                );
                continue;
            }
            if r.originals == 0 && r.copies == 0 {
                errs.add(
                    format!("components[{k}]"),
                    format!("Thành phần «{}»: cần số bản chính hoặc bản sao", c.name),
                    format!("component «{}»: give the originals or copies", c.name),
                );
                continue;
            }
            c.submitted = true;
            c.originals = r.originals;
            c.copies = r.copies;
            c.from_warehouse = false;
            c.warehouse_code = None;
        }
        errs.into_result()?;
        Ok(out)
    }

    fn assign(&mut self, assignee: &str) -> Result<DossierEvent, Refusal> {
        let a = assignee.trim();
        if a.is_empty() {
            return Err(Error::field(
                "assignee",
                "Cần tên đăng nhập của người được giao",
                "assignee username is required",
            )
            .into());
        }
        self.assignee = Some(a.to_owned());
        Ok(DossierEvent::Assigned {
            assignee: a.to_owned(),
        })
    }

    fn forward(&mut self, at: DateTime<Utc>, cal: &WorkCalendar) -> DossierEvent {
        self.enter_step(self.step + 1, at, cal);
        self.status = Status::Processing;
        DossierEvent::Forwarded {
            step: self.snapshot().step,
        }
    }

    fn transfer(&mut self, agency: &AgencyCode) -> Result<DossierEvent, Refusal> {
        if *agency == self.current_agency {
            return Err(Error::field(
                "agency",
                "Cơ quan nhận liên thông phải khác cơ quan đang xử lý",
                "the receiving agency must differ from the current one",
            )
            .into());
        }
        Ok(DossierEvent::Transferred {
            to_agency: agency.clone(),
        })
    }

    fn request_supplement(
        &mut self,
        missing: &[MissingItem],
        at: DateTime<Utc>,
    ) -> Result<DossierEvent, Refusal> {
        if missing.is_empty()
            || missing
                .iter()
                .any(|m| clean(&m.item).is_empty() || clean(&m.reason).is_empty())
        {
            return Err(Error::field(
                "missing",
                "Phiếu yêu cầu bổ sung phải nêu đủ từng thành phần còn thiếu và lý do",
                "a supplement request lists every missing item with its reason",
            )
            .into());
        }
        self.supplement_requests += 1;
        self.stop_clock(at, Status::AwaitingSupplement);
        Ok(DossierEvent::SupplementRequested {
            missing: missing.to_vec(),
            request_no: self.supplement_requests,
        })
    }

    fn pause(&mut self, reason: &str, at: DateTime<Utc>) -> Result<DossierEvent, Refusal> {
        require_text("reason", reason)?;
        self.stop_clock(at, Status::AwaitingPayment);
        if !self.process.payment_stops_clock {
            self.paused_at = None;
        }
        Ok(DossierEvent::Paused {
            reason: clean(reason),
            clock_stopped: self.process.payment_stops_clock,
        })
    }

    fn extend(
        &mut self,
        reason: &str,
        new_due_date: NaiveDate,
        cal: &WorkCalendar,
    ) -> Result<DossierEvent, Refusal> {
        require_text("reason", reason)?;
        check_time(cal.close_of(new_due_date), cal).map_err(|_| {
            Error::field(
                "new_due_date",
                "Ngày hẹn mới nằm ngoài phạm vi lịch (1900–2099)",
                "the new appointment is outside the calendar's range (1900–2099)",
            )
        })?;
        let Some(due) = self.due_at else {
            return Err(conflict(
                "Thủ tục không có thời hạn giải quyết để gia hạn",
                "the procedure has no time limit to extend",
            ));
        };
        let day = if cal.is_working_day(new_due_date) {
            new_due_date
        } else {
            cal.next_working_day(new_due_date)
        };
        let new_due = cal.close_of(day);
        if new_due <= due {
            return Err(Error::field(
                "new_due_date",
                "Ngày hẹn mới phải sau ngày hẹn hiện tại",
                "the new appointment must be after the current one",
            )
            .into());
        }
        self.extended = true;
        self.due_at = Some(new_due);
        Ok(DossierEvent::Extended {
            agency: self.current_agency.clone(),
            reason: clean(reason),
            old_due_at: due,
            new_due_at: new_due,
        })
    }

    fn refuse(
        &mut self,
        reasons: &[String],
        at: DateTime<Utc>,
        cal: &WorkCalendar,
    ) -> Result<DossierEvent, Refusal> {
        let reasons: Vec<String> = reasons
            .iter()
            .map(|r| clean(r))
            .filter(|r| !r.is_empty())
            .collect();
        if reasons.is_empty() {
            return Err(Error::field(
                "reasons",
                "Cần nêu rõ lý do từ chối",
                "give the reasons for refusing",
            )
            .into());
        }
        let at_intake = self.status == Status::Submitted;
        if at_intake {
            self.status = Status::Rejected;
            self.ended_at = Some(at);
        } else {
            self.end(at, Status::Stopped, cal);
        }
        Ok(DossierEvent::Refused { reasons, at_intake })
    }

    fn withdraw(&mut self, reason: &str, at: DateTime<Utc>) -> Result<DossierEvent, Refusal> {
        require_text("reason", reason)?;
        if self.status == Status::Submitted {
            // Never received: nothing to confirm.
            self.status = Status::Stopped;
            self.ended_at = Some(at);
        } else {
            self.resume_status = None;
            self.status = Status::WithdrawalRequested;
        }
        Ok(DossierEvent::WithdrawalRequested {
            reason: clean(reason),
        })
    }

    fn approve(&mut self, at: DateTime<Utc>, cal: &WorkCalendar) -> DossierEvent {
        let deciding = self.process.deciding_step();
        let last_step = self.process.steps.len().saturating_sub(1);
        self.end(at, Status::Resolved, cal);
        if self.parent_code.is_none() && deciding < last_step {
            self.enter_step(deciding + 1, at, cal);
        }
        DossierEvent::Approved {
            timeliness: self.timeliness,
        }
    }

    fn return_result(&mut self, method: Delivery, at: DateTime<Utc>) -> DossierEvent {
        self.result_delivery = Some(method);
        if method == Delivery::Electronic {
            self.status = Status::Returned;
            self.returned_at = Some(at);
        }
        DossierEvent::ResultReturned { method }
    }

    /// Records that an inter-agency child case was created.
    pub fn child_opened(&mut self, child: &str) -> Change {
        let before = self.snapshot();
        self.open_children.push(child.to_owned());
        Change {
            event: DossierEvent::ChildOpened {
                child_code: child.to_owned(),
            },
            note: None,
            before: Some(before),
            after: self.snapshot(),
            spawn: None,
        }
    }

    /// Records that an inter-agency child case ended (resolved or stopped).
    pub fn child_closed(&mut self, child: &str, outcome: Status) -> Change {
        let before = self.snapshot();
        self.open_children.retain(|c| c != child);
        Change {
            event: DossierEvent::ChildClosed {
                child_code: child.to_owned(),
                outcome,
            },
            note: None,
            before: Some(before),
            after: self.snapshot(),
            spawn: None,
        }
    }

    /// The applicant rates the service: once, when the result is ready (resolved or returned),
    /// never on an inter-agency child case.
    pub fn rate(
        &mut self,
        level: Satisfaction,
        channel: RatingChannel,
        comment: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Change, Refusal> {
        if self.parent_code.is_some() || !matches!(self.status, Status::Resolved | Status::Returned)
        {
            return Err(Refusal::Conflict(Msg::new(
                "Chỉ đánh giá được khi đã có kết quả giải quyết",
                "a dossier is rated once its result is ready",
            )));
        }
        if self.rating.is_some() {
            return Err(Refusal::Conflict(Msg::new(
                "Hồ sơ này đã được đánh giá",
                "this dossier was already rated",
            )));
        }
        let comment = comment.map(clean).filter(|c| !c.is_empty());
        if comment
            .as_ref()
            .is_some_and(|c| c.chars().count() > limits::NOTE_CHARS)
        {
            return Err(Error::field(
                "comment",
                format!("Ý kiến dài tối đa {} ký tự", limits::NOTE_CHARS),
                format!("a comment has at most {} characters", limits::NOTE_CHARS),
            )
            .into());
        }
        let before = self.snapshot();
        self.rating = Some(Rating {
            level,
            channel,
            at,
            comment: comment.clone(),
        });
        Ok(Change {
            event: DossierEvent::Rated {
                level,
                channel,
                comment,
            },
            note: None,
            before: Some(before),
            after: self.snapshot(),
            spawn: None,
        })
    }

    /// Whether this change ended a child case (so its parent must hear of it).
    pub fn ended(&self) -> bool {
        matches!(self.status, Status::Resolved | Status::Stopped) && self.ended_at.is_some()
    }
}

/// Refuses instants the working calendar cannot count from (a legacy file's typo, a bad clock).
fn check_time(at: DateTime<Utc>, cal: &WorkCalendar) -> Result<(), Error> {
    if cal.supports(at) {
        Ok(())
    } else {
        Err(Error::OutOfRange(Msg::new(
            format!("Thời điểm {at} nằm ngoài phạm vi lịch làm việc (1900–2099)"),
            format!("instant {at} is outside the working calendar's range (1900–2099)"),
        )))
    }
}

fn require_text(field: &str, s: &str) -> Result<(), Refusal> {
    if clean(s).is_empty() {
        return Err(Error::field(field, "Cần nêu lý do", "a reason is required").into());
    }
    Ok(())
}

pub mod events;
pub mod legacy;

pub use events::{DossierEvent, EVENT_VERSION, EventRecord, Slip};

#[cfg(test)]
pub(crate) mod tests;
