//! The one authorisation policy: may actor X do A on record Y?
//!
//! Every entry point (API, pages, CLI, background jobs) asks [`authorize`] before reading or
//! changing anything; it is the only place where roles, agencies and ownership are compared.
//! It is a pure function of the actor, the permission asked for and the record, so the whole
//! matrix (role × relation to the record × action) is tested in one table (see the tests).
//!
//! What the dossier's *state* allows (status, deciding step, open child cases) is the state
//! machine's business ([`crate::dossier::Dossier::precondition`]); this module only answers who.

use crate::Msg;
use crate::auth::Role;
use crate::catalogue::Channel;
use crate::codes::AgencyCode;
use crate::dossier::{ActionKind, Actor, Dossier};

/// What an actor asks to do.
#[derive(Debug, Clone, Copy)]
pub enum Permission<'a> {
    /// Read a dossier with the applicant's personal data (its page, its history, its slips).
    ReadDossier(&'a Dossier),
    /// Take a workflow action on a dossier.
    Act(&'a Dossier, ActionKind),
    /// Be the assignee of a dossier (asked with the assignee as the actor).
    BeAssigned(&'a Dossier),
    /// Hand in a file for a dossier: a component's (the applicant while the dossier waits for
    /// acceptance or a supplement; officers of its agencies while it is open) or the result's
    /// (officers of the agency holding it, up to its return).
    AttachFile(&'a Dossier, FileFor),
    /// Confirm a dossier's file as digitised (an electronic copy in the applicant's
    /// warehouse), and see the applicant's warehouse while handling the dossier.
    Digitise(&'a Dossier),
    /// File a new dossier on `channel` at `agency` (the receiving one-stop point; `None`
    /// while not chosen yet: a reception officer's own).
    File {
        channel: Channel,
        agency: Option<&'a AgencyCode>,
    },
    /// List dossiers: one's own, those an agency holds, or all.
    ListDossiers(Scope<'a>),
    /// Look up an applicant's details and dossiers by their identifier (the counter).
    LookUpApplicant,
    /// Edit reference data: catalogue, processes, administrative units, agencies, calendar.
    EditReference,
    /// Add, change, lock and unlock user accounts.
    ManageUsers,
    /// See, retry and discard background jobs.
    ManageJobs,
    /// Read aggregate figures (no personal data).
    ReadStatistics,
}

/// What a file is handed in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFor {
    Component,
    Result,
    /// A component's file digitised backwards from the paper archive (any state of the
    /// dossier, finished ones included): officers of its agencies.
    Archive,
}

/// Which dossiers a list covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The citizen's own dossiers.
    Owned,
    /// Those held now by an agency.
    Agency(&'a AgencyCode),
    /// Every dossier.
    All,
}

/// How an actor stands to a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Relation {
    /// The citizen account that filed it.
    pub owner: bool,
    /// The actor works at the receiving one-stop point.
    pub receiving: bool,
    /// The actor works at the agency holding the dossier at its current step.
    pub current: bool,
    /// The actor works at the competent agency.
    pub competent: bool,
}

impl Relation {
    pub fn of(actor: &Actor, d: &Dossier) -> Relation {
        let at = |agency: &AgencyCode| actor.agency.as_ref() == Some(agency);
        Relation {
            owner: actor.role == Some(Role::Citizen)
                && actor.user_id.is_some()
                && actor.user_id == d.owner_id,
            receiving: at(&d.receiving_agency),
            current: at(&d.current_agency),
            competent: at(&d.competent_agency),
        }
    }

    fn any_agency(self) -> bool {
        self.receiving || self.current || self.competent
    }
}

/// Why the policy said no (HTTP 403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub Msg);

/// The dossiers a list by `actor` covers when they ask for `agency` (or for none): a
/// citizen's own; for staff of an agency, that agency's (unless they name another, which
/// [`authorize`] then refuses); for administrators, the operations centre and the system, all
/// or the one agency asked for.
pub fn list_scope<'a>(actor: &'a Actor, agency: Option<&'a AgencyCode>) -> Scope<'a> {
    match actor.role {
        None | Some(Role::Admin | Role::Viewer) => agency.map_or(Scope::All, Scope::Agency),
        Some(Role::Citizen) => Scope::Owned,
        Some(_) => agency
            .or(actor.agency.as_ref())
            .map_or(Scope::Owned, Scope::Agency),
    }
}

/// Where a dossier filed by `actor` on `channel` is received when the filing names no
/// agency: a counter officer's own one-stop point (others must name one).
pub fn default_receiving_agency(actor: &Actor, channel: Channel) -> Option<&AgencyCode> {
    match (actor.role, channel) {
        (Some(Role::Reception), Channel::Counter) => actor.agency.as_ref(),
        _ => None,
    }
}

/// The account that owns a dossier `actor` files: a citizen's own (they then read it, answer
/// supplement requests and withdraw it); staff file for the applicant and own nothing.
pub fn owner_of_filing(actor: &Actor) -> Option<i64> {
    (actor.role == Some(Role::Citizen))
        .then_some(actor.user_id)
        .flatten()
}

/// Roles that handle dossiers inside an agency (may be assigned one).
pub fn handles_dossiers(role: Role) -> bool {
    matches!(role, Role::Reception | Role::Specialist | Role::Leader)
}

/// The answer for a dossier action, from the role, the relation and the step's role.
pub fn may_act(role: Role, rel: Relation, kind: ActionKind, d: &Dossier) -> bool {
    use crate::dossier::Status;
    use ActionKind as K;
    let step_role = d.process.steps.get(d.step).map(|s| s.role);
    let officer = matches!(role, Role::Specialist | Role::Leader);
    match kind {
        K::Accept => role == Role::Reception && rel.receiving,
        K::Refuse if d.status == Status::Submitted => role == Role::Reception && rel.receiving,
        K::Refuse | K::Extend | K::Transfer => officer && rel.current,
        K::Assign | K::RequestSupplement | K::Pause | K::Resume => {
            handles_dossiers(role) && rel.current
        }
        K::Forward | K::Approve => (Some(role) == step_role || role == Role::Leader) && rel.current,
        K::SupplementReceived => {
            rel.owner || (role == Role::Reception && rel.receiving) || (officer && rel.current)
        }
        K::Withdraw => rel.owner || (role == Role::Reception && rel.receiving),
        K::ConfirmWithdrawal => {
            matches!(role, Role::Reception | Role::Leader) && (rel.receiving || rel.current)
        }
        K::ReturnResult | K::MarkCollected => {
            (role == Role::Reception && rel.receiving)
                || (role == Role::Postal && d.channel == Channel::Postal)
        }
    }
}

/// May `actor` do what `p` asks? The only place roles, agencies and ownership are compared.
/// An actor with no role is the system itself (a legacy import, a background job): the state
/// machine still applies to it, the role checks do not.
pub fn authorize(actor: &Actor, p: Permission<'_>) -> Result<(), Denied> {
    let Some(role) = actor.role else {
        return Ok(());
    };
    let ok = match p {
        Permission::ReadDossier(d) => match role {
            Role::Admin => true,
            Role::Citizen => Relation::of(actor, d).owner,
            Role::Reception | Role::Specialist | Role::Leader | Role::Postal => {
                Relation::of(actor, d).any_agency()
            }
            // The operations centre sees figures and codes, never personal data.
            Role::Viewer => false,
        },
        Permission::Act(d, kind) => may_act(role, Relation::of(actor, d), kind, d),
        Permission::BeAssigned(d) => handles_dossiers(role) && Relation::of(actor, d).current,
        Permission::Digitise(d) => handles_dossiers(role) && Relation::of(actor, d).any_agency(),
        Permission::AttachFile(d, what) => {
            use crate::dossier::Status as S;
            let rel = Relation::of(actor, d);
            match what {
                FileFor::Component => {
                    (rel.owner && matches!(d.status, S::Submitted | S::AwaitingSupplement))
                        || (handles_dossiers(role)
                            && rel.any_agency()
                            && (d.status == S::Submitted || d.status.is_open()))
                }
                FileFor::Result => {
                    matches!(role, Role::Specialist | Role::Leader | Role::Reception)
                        && (rel.current || rel.competent)
                        && matches!(d.status, S::Processing | S::Resolved)
                }
                FileFor::Archive => handles_dossiers(role) && rel.any_agency(),
            }
        }
        Permission::File { channel, agency } => match (role, channel) {
            (Role::Citizen, Channel::Online) | (Role::Postal, Channel::Postal) => true,
            (Role::Reception, Channel::Counter) => {
                agency.is_none_or(|a| actor.agency.as_ref() == Some(a))
            }
            _ => false,
        },
        Permission::ListDossiers(scope) => match (role, scope) {
            (Role::Admin | Role::Viewer, _) => true,
            (Role::Citizen, Scope::Owned) => true,
            (
                Role::Reception | Role::Specialist | Role::Leader | Role::Postal,
                Scope::Agency(a),
            ) => actor.agency.as_ref() == Some(a),
            _ => false,
        },
        // Looking an applicant up by their identifier is counter and back-office work; a
        // postal agent files for the applicant in front of them and looks nobody up.
        Permission::LookUpApplicant => matches!(
            role,
            Role::Reception | Role::Specialist | Role::Leader | Role::Admin
        ),
        Permission::EditReference | Permission::ManageUsers | Permission::ManageJobs => {
            role == Role::Admin
        }
        Permission::ReadStatistics => matches!(role, Role::Admin | Role::Viewer | Role::Leader),
    };
    if ok {
        Ok(())
    } else {
        Err(denied(actor, role, p))
    }
}

fn denied(actor: &Actor, role: Role, p: Permission<'_>) -> Denied {
    let (vi, en) = match p {
        Permission::ReadDossier(d) => (
            format!("xem hồ sơ {}", d.code),
            format!("read dossier {}", d.code),
        ),
        Permission::Act(d, kind) => {
            return Denied(Msg::new(
                format!(
                    "Bạn ({}, {}) không được thực hiện «{}» với hồ sơ này (đang ở {})",
                    actor.name,
                    role.as_str(),
                    kind.as_str(),
                    d.current_agency
                ),
                format!(
                    "you ({}, {}) may not {} this dossier (held by {})",
                    actor.name,
                    role.as_str(),
                    kind.as_str(),
                    d.current_agency
                ),
            ));
        }
        Permission::BeAssigned(d) => {
            return Denied(Msg::new(
                format!(
                    "«{}» không phải cán bộ đang hoạt động của {}",
                    actor.name, d.current_agency
                ),
                format!(
                    "«{}» is not an active officer of {}",
                    actor.name, d.current_agency
                ),
            ));
        }
        Permission::Digitise(d) => (
            format!("số hóa hồ sơ {} (cán bộ của cơ quan xử lý hồ sơ)", d.code),
            format!("digitise dossier {} (officers of its agencies)", d.code),
        ),
        Permission::AttachFile(d, _) => (
            format!("nộp tệp cho hồ sơ {} lúc này", d.code),
            format!("add a file to dossier {} now", d.code),
        ),
        Permission::File { .. } => (
            "nộp hồ sơ qua kênh này tại nơi này (công dân: trực tuyến; cán bộ một cửa: trực tiếp tại cơ quan mình; bưu điện: bưu chính)".into(),
            "file on this channel here (citizens: online; reception officers: counter, at their own agency; postal agents: postal)".into(),
        ),
        Permission::ListDossiers { .. } => (
            "xem danh sách hồ sơ của cơ quan này".into(),
            "list this agency's dossiers".into(),
        ),
        Permission::LookUpApplicant => (
            "tra cứu thông tin người nộp".into(),
            "look up applicants".into(),
        ),
        Permission::EditReference => (
            "sửa dữ liệu danh mục (thủ tục, quy trình, đơn vị, cơ quan, lịch)".into(),
            "edit reference data (catalogue, processes, units, agencies, calendar)".into(),
        ),
        Permission::ManageUsers => ("quản lý tài khoản".into(), "manage accounts".into()),
        Permission::ManageJobs => (
            "quản lý tác vụ nền".into(),
            "manage background jobs".into(),
        ),
        Permission::ReadStatistics => ("xem số liệu thống kê".into(), "read statistics".into()),
    };
    Denied(Msg::new(
        format!("Bạn không có quyền {vi}"),
        format!("you are not allowed to {en}"),
    ))
}

#[cfg(test)]
mod tests;
