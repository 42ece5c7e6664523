//! Dossier use cases: intake on every channel, workflow actions, reads, lists, the control
//! slip, public tracking and per-procedure processes.

use crate::{Acting, Result, Service, ServiceError};
use chrono::{DateTime, Utc};
use motcua_domain::catalogue::{Channel, ImplLevel, OnlineLevel, Procedure};
use motcua_domain::codes::{AgencyCode, is_commune_code, is_province_code};
use motcua_domain::dossier::{
    Action, ActionKind, Actor, Applicant, Change, Delivery, Dossier, EventRecord, Intake, Place,
    Snapshot, Status, SubmittedComponent, Timeliness, agency_level, check_filing_place,
};
use motcua_domain::policy::{
    Permission, Scope, authorize, default_receiving_agency, list_scope, owner_of_filing,
};
use motcua_domain::process::Process;
use motcua_domain::units::Agency;
use motcua_store::{DossierQuery, IdempotencyKey, NewJob, Page, StoredDossier, no_jobs};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// A new dossier.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
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
    /// How the applicant wants the result returned (asked at intake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_delivery: Option<Delivery>,
}

/// What the search box found: one dossier to open, or a list to choose from.
#[derive(Debug)]
pub enum Found {
    Dossier(String),
    List(Vec<StoredDossier>),
}

/// SHA-256 of a request body, for `Idempotency-Key`.
pub fn request_hash(body: &NewDossier) -> String {
    hex::encode(Sha256::digest(
        serde_json::to_string(body).unwrap_or_default().as_bytes(),
    ))
}

/// Filters of a dossier list, as asked; the service narrows them to what the actor may see.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub statuses: Vec<Status>,
    pub overdue: Option<bool>,
    /// Overdue as of this instant (default now).
    pub as_of: Option<DateTime<Utc>>,
    pub due_before: Option<DateTime<Utc>>,
    /// Received within `[received_from, received_to)`.
    pub received_from: Option<DateTime<Utc>>,
    pub received_to: Option<DateTime<Utc>>,
    /// Agency holding the dossier now (officers: their own, by default).
    pub agency: Option<String>,
    /// Officer the dossier is assigned to; `me` for the actor.
    pub assignee: Option<String>,
    pub applicant_id: Option<String>,
    pub procedure_code: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// One line of the control slip (process history), with its typed event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// The event's name (`submit`, `accept`, `assign`, …).
    pub action: String,
    pub before: Option<Snapshot>,
    pub after: Option<Snapshot>,
    /// The typed event: its fields (tagged by `action`), the actor's note and the shape's
    /// version `v`.
    pub data: EventRecord,
    /// Place in the audit chain (absent for a few moments until sealed).
    pub seq: Option<i64>,
}

/// Public view of a dossier: no personal data.
#[derive(Debug, Clone, Serialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackingStep {
    pub at: DateTime<Utc>,
    pub action: String,
    pub status: Status,
    /// Step name (Vietnamese).
    pub step: String,
    pub agency: String,
    pub agency_name: String,
}

/// Removes the applicant's personal data from a dossier shown as a code and figures only.
pub fn redact(d: &mut Dossier) {
    let a = &mut d.applicant;
    a.name = String::new();
    a.id_number = String::new();
    a.phone = None;
    a.email = None;
    a.address = None;
    d.owner_id = None;
}

fn not_visible(code: &str) -> ServiceError {
    ServiceError::NotFound(motcua_domain::Msg::new(
        format!("Không tìm thấy hồ sơ «{code}»"),
        format!("dossier «{code}» not found"),
    ))
}

/// The jobs that follow a dossier change (the outbox), in the change's own transaction: the
/// slip it issues is rendered, signed by the officer who issued it and kept (`slip.sign`).
/// Portal sync and notifications will add theirs here.
fn outbox(d: &Dossier, c: &Change, at: DateTime<Utc>) -> Vec<NewJob> {
    use motcua_domain::dossier::Slip;
    use motcua_domain::slips::SlipKind;
    let mut jobs = no_jobs(d, c, at);
    let kind = if c.event.is_receipt() {
        Some(SlipKind::Receipt)
    } else {
        c.event.slip().map(|s| match s {
            Slip::SupplementRequest => SlipKind::SupplementRequest,
            Slip::Refusal => SlipKind::Refusal,
            Slip::Apology => SlipKind::Apology,
            Slip::Stopping => SlipKind::Stopping,
        })
    };
    if let Some(kind) = kind {
        jobs.push(
            NewJob::new(
                motcua_store::SLIP_SIGN_JOB,
                &serde_json::json!({"code": d.code, "kind": kind.as_str()}),
                at,
            )
            .ordered_by(format!("slip:{}", d.code)),
        );
    }
    jobs
}

impl Service {
    /// The agency and its current province.
    async fn place(&self, field: &str, code: &AgencyCode) -> Result<(Agency, Option<String>)> {
        self.refs()
            .agency(self.store(), code.as_str())
            .await
            .map_err(|e| ServiceError::from(e).as_invalid(field))
    }

    /// Where a dossier of `procedure` received at `receiving_code` is decided, if the filing
    /// rules (`check_filing_place`) let it be received there: the competent agency.
    async fn filing_place(
        &self,
        procedure: &Procedure,
        process: &Process,
        receiving_code: &AgencyCode,
        applicant: &Applicant,
        applicant_province: Option<&str>,
    ) -> Result<(Agency, Agency)> {
        let (receiving, r_province) = self.place("agency", receiving_code).await?;
        let competent_code = self
            .competent_agency(procedure, process, &receiving, applicant)
            .await?;
        let (competent, c_province) = self.place("agency", &competent_code).await?;
        check_filing_place(
            procedure,
            Place {
                agency: &receiving,
                province: r_province.as_deref(),
            },
            Place {
                agency: &competent,
                province: c_province.as_deref(),
            },
            applicant,
            applicant_province,
        )?;
        Ok((receiving, competent))
    }

    /// The one-stop points that may receive a dossier of `procedure_code` (its level, its
    /// province, non-territorial or not): the only places a filing form offers. `applicant`,
    /// when known, narrows a commune-level procedure to the applicant's own commune.
    pub async fn filing_places(
        &self,
        procedure_code: &str,
        applicant: Option<&Applicant>,
    ) -> Result<Vec<Agency>> {
        let (procedure, process) = self
            .refs()
            .procedure(self.store(), procedure_code)
            .await
            .map_err(ServiceError::from)?;
        let anyone = Applicant {
            kind: motcua_domain::dossier::ApplicantKind::Person,
            id_number: String::new(),
            name: String::new(),
            phone: None,
            email: None,
            address: None,
            unit_code: None,
        };
        let applicant = applicant.unwrap_or(&anyone);
        let applicant_province = match applicant.unit_code.as_deref() {
            Some(u) => self.refs().province_of(self.store(), u).await?,
            None => None,
        };
        let points = self
            .store()
            .agencies(None, None, None, None, Some(500))
            .await?
            .items
            .into_iter()
            .filter(|a| a.one_stop_point);
        let mut out = Vec::new();
        for point in points {
            let fits = self
                .filing_place(
                    &procedure,
                    &process,
                    &point.code,
                    applicant,
                    applicant_province.as_deref(),
                )
                .await;
            if let Ok((receiving, _)) = fits {
                out.push(receiving);
            }
        }
        Ok(out)
    }

    /// The competent agency: the process's, else for a non-territorial procedure the one-stop
    /// point serving the applicant's unit at the procedure's level, else the receiving agency.
    pub async fn competent_agency(
        &self,
        p: &Procedure,
        process: &Process,
        receiving: &Agency,
        applicant: &Applicant,
    ) -> Result<AgencyCode> {
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
        let commune_level = p.levels.contains(&ImplLevel::Commune);
        let target = if (commune_level && is_commune_code(unit)) || is_province_code(unit) {
            unit.to_owned()
        } else {
            self.refs()
                .province_of(self.store(), unit)
                .await?
                .unwrap_or_default()
        };
        if receiving.unit_code.as_deref() == Some(target.as_str()) {
            return Ok(receiving.code.clone());
        }
        let page = self
            .store()
            .agencies(None, None, Some(&target), None, Some(50))
            .await?;
        page.items
            .into_iter()
            .find(|a| a.one_stop_point)
            .map(|a| a.code)
            .ok_or_else(|| {
                ServiceError::invalid(
                    "applicant.unit_code",
                    format!("Chưa có cơ quan giải quyết được khai báo cho đơn vị {target}"),
                    format!("no competent agency is registered for unit {target}"),
                )
            })
    }

    /// Files a dossier: `online` (a citizen), `counter` (a reception officer at their one-stop
    /// point: received at once, with its appointment) or `postal` (a postal agent). Checks the
    /// channel for the actor, the procedure, the applicant, the components and the place of
    /// filing, then stores it durably. A retried request with the same idempotency key
    /// returns the first dossier and `false`.
    #[tracing::instrument(skip_all, fields(dossier))]
    pub async fn file(
        &self,
        by: &Acting,
        body: NewDossier,
        idem: Option<IdempotencyKey>,
    ) -> Result<(StoredDossier, bool)> {
        let actor = &by.actor;
        // The channel and the place first: a wrong one is refused whatever the body says.
        authorize(
            actor,
            Permission::File {
                channel: body.channel,
                agency: body.agency.as_ref(),
            },
        )?;
        let receiving_code = match body
            .agency
            .as_ref()
            .or_else(|| default_receiving_agency(actor, body.channel))
        {
            Some(a) => a.clone(),
            None => {
                return Err(ServiceError::invalid(
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
        {
            use motcua_domain::dossier::limits;
            if postal_tracking
                .as_deref()
                .is_some_and(|t| t.chars().count() > limits::POSTAL_TRACKING_CHARS)
            {
                return Err(ServiceError::invalid(
                    "postal_tracking",
                    format!(
                        "Số hiệu bưu gửi dài tối đa {} ký tự",
                        limits::POSTAL_TRACKING_CHARS
                    ),
                    format!(
                        "the postal tracking number is at most {} characters",
                        limits::POSTAL_TRACKING_CHARS
                    ),
                ));
            }
            if body.components.len() > limits::COMPONENTS {
                return Err(ServiceError::invalid(
                    "components",
                    format!("Tối đa {} thành phần hồ sơ", limits::COMPONENTS),
                    format!("at most {} components", limits::COMPONENTS),
                ));
            }
        }
        if body.channel == Channel::Postal && postal_tracking.is_none() {
            return Err(ServiceError::invalid(
                "postal_tracking",
                "Hồ sơ qua bưu chính cần số hiệu bưu gửi",
                "a postal dossier needs its postal tracking number",
            ));
        }
        let (procedure, process) = self
            .refs()
            .procedure(self.store(), &body.procedure_code)
            .await
            .map_err(|e| ServiceError::from(e).as_invalid("procedure_code"))?;
        if !procedure.published {
            return Err(ServiceError::invalid(
                "procedure_code",
                "Thủ tục chưa được công bố",
                "the procedure is not published",
            ));
        }
        if !procedure.channels.contains(&body.channel)
            || (body.channel == Channel::Online
                && procedure.online_level == OnlineLevel::Information)
        {
            return Err(ServiceError::invalid(
                "channel",
                "Thủ tục không tiếp nhận hồ sơ qua kênh này",
                "the procedure does not accept dossiers on this channel",
            ));
        }
        let applicant = body.applicant.clone().validate()?;
        // Warehouse documents named (or found by name) for `from_warehouse` components.
        let mut components = body.components.clone();
        let names: Vec<String> = procedure
            .components
            .iter()
            .map(|c| c.name.clone())
            .collect();
        self.resolve_warehouse(
            &applicant.id_number,
            &names,
            &mut components,
            self.calendar().local(by.at).date(),
        )
        .await?;
        let applicant_province = match applicant.unit_code.as_deref() {
            Some(u) => self.refs().province_of(self.store(), u).await?,
            None => None,
        };
        let (receiving, competent) = self
            .filing_place(
                &procedure,
                &process,
                &receiving_code,
                &applicant,
                applicant_province.as_deref(),
            )
            .await?;
        let cal = self.calendar();
        let intake = Intake {
            procedure,
            process,
            channel: body.channel,
            receiving_agency: receiving.code,
            competent_agency: competent.code,
            applicant,
            components,
            postal_tracking,
            owner_id: owner_of_filing(actor),
            delivery: body.result_delivery,
        };
        let (d, change) = Dossier::new(intake, String::new(), by.at, &cal)?;
        let (stored, created) = self
            .store()
            .create_dossier(d, change, &actor.name, by.at, &cal, idem.as_ref(), &outbox)
            .await?;
        tracing::Span::current().record("dossier", stored.dossier.code.as_str());
        if created {
            self.tracking_cache()
                .remember_new(self, &stored.dossier, stored.version)
                .await;
            let channel = serde_json::to_value(body.channel)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            metrics::counter!("motcua_dossiers_created_total", "channel" => channel).increment(1);
            tracing::info!(dossier = %stored.dossier.code, channel = ?body.channel, "dossier created");
        }
        Ok((stored, created))
    }

    /// A dossier, if the actor may read it (otherwise it does not exist for them).
    pub async fn dossier(&self, actor: &Actor, code: &str) -> Result<StoredDossier> {
        let d = self.store().dossier(code).await?;
        if authorize(actor, Permission::ReadDossier(&d.dossier)).is_err() {
            return Err(not_visible(code));
        }
        Ok(d)
    }

    /// The officers' search box: `text` as typed or scanned — a dossier code (also inside a
    /// scanned tracking URL, in any letter case), an applicant's ID or tax code, or words of
    /// the applicant's name with or without diacritics. Only dossiers the actor may read come
    /// back; staff of an agency see those their agency received or holds.
    pub async fn find(&self, actor: &Actor, text: &str) -> Result<Found> {
        let text = crate::search::scanned(text);
        if text.is_empty() {
            return Ok(Found::List(Vec::new()));
        }
        if let Some(code) = crate::search::as_dossier_code(&text) {
            return match self.dossier(actor, &code).await {
                Ok(d) => Ok(Found::Dossier(d.dossier.code)),
                Err(ServiceError::NotFound(_)) => Ok(Found::List(Vec::new())),
                Err(e) => Err(e),
            };
        }
        authorize(actor, Permission::LookUpApplicant)?;
        let mut q = DossierQuery {
            involving: actor.agency.as_ref().map(ToString::to_string),
            limit: Some(50),
            ..Default::default()
        };
        if crate::search::is_applicant_id(&text) {
            q.applicant_id = Some(text.clone());
        } else {
            q.applicant_name = Some(text.clone());
        }
        let mut found = self.store().dossiers(&q).await?.items;
        found.retain(|d| authorize(actor, Permission::ReadDossier(&d.dossier)).is_ok());
        // The most recent first: the one at the counter now is usually the newest.
        found.sort_by_key(|d| std::cmp::Reverse(d.dossier.submitted_at));
        Ok(Found::List(found))
    }

    /// Takes a workflow action. `expected` is the version acted on (`If-Match`): if someone
    /// acted in between, the answer is [`ServiceError::Stale`] and nothing changes.
    #[tracing::instrument(skip_all, fields(dossier = %code, action = action.name()))]
    pub async fn act(
        &self,
        by: &Acting,
        code: &str,
        action: &Action,
        expected: Option<i64>,
    ) -> Result<StoredDossier> {
        let actor = &by.actor;
        action.check_limits()?;
        // A dossier the actor may not read does not exist for them.
        self.dossier(actor, code).await?;
        let assignee = match action {
            Action::Assign { assignee, .. } => Some(self.assignee(assignee).await?),
            _ => None,
        };
        let kind = action.kind();
        let guard = move |d: &Dossier| -> std::result::Result<(), motcua_domain::dossier::Refusal> {
            authorize(actor, Permission::Act(d, kind))?;
            if let Some(a) = &assignee {
                authorize(a, Permission::BeAssigned(d)).map_err(|e| {
                    motcua_domain::dossier::Refusal::Invalid(motcua_domain::Error::field(
                        "assignee", e.0.vi, e.0.en,
                    ))
                })?;
            }
            Ok(())
        };
        let (d, _) = self
            .store()
            .act(
                code,
                action,
                actor,
                expected,
                by.at,
                &self.calendar(),
                &guard,
                &outbox,
            )
            .await?;
        // This instance's tracking views of the dossier and of the cases linked to it.
        self.tracking_cache().forget(code);
        if let Some(p) = &d.dossier.parent_code {
            self.tracking_cache().forget(p);
        }
        for c in &d.dossier.open_children {
            self.tracking_cache().forget(c);
        }
        metrics::counter!("motcua_dossier_actions_total", "action" => action.name()).increment(1);
        tracing::info!(
            dossier = code,
            action = action.name(),
            status = d.dossier.status.as_str(),
            "dossier action"
        );
        Ok(d)
    }

    /// The workflow actor of an assignee named in an `assign` action: an active account.
    async fn assignee(&self, name: &str) -> Result<Actor> {
        let name = name.trim();
        match self.store().user_by_name(name).await? {
            Some(u) if !u.disabled => Ok(crate::actor_of(&u)),
            _ => Err(ServiceError::invalid(
                "assignee",
                format!("«{name}» không phải cán bộ đang hoạt động"),
                format!("«{name}» is not an active officer"),
            )),
        }
    }

    /// The accounts `d` may be assigned to now (the assign form's choices).
    pub async fn assignable(&self, d: &Dossier) -> Result<Vec<motcua_store::User>> {
        Ok(self
            .store()
            .active_users_of(&d.current_agency)
            .await?
            .into_iter()
            .filter(|u| authorize(&crate::actor_of(u), Permission::BeAssigned(d)).is_ok())
            .collect())
    }

    /// The actions `actor` may take on `d` now.
    pub fn available_actions(&self, actor: &Actor, d: &Dossier) -> Vec<ActionKind> {
        d.available_actions(actor, self.now(), &self.calendar())
    }

    /// Dossiers matching `f` that `actor` may list, soonest appointment first. Citizens see
    /// their own; officers those their agency holds; admins and the operations centre all.
    pub async fn dossiers(&self, actor: &Actor, f: ListFilter) -> Result<Page<StoredDossier>> {
        // A parameter sent empty (`agency=`) is a parameter not sent.
        let given = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        let f = ListFilter {
            agency: given(f.agency),
            assignee: given(f.assignee),
            applicant_id: given(f.applicant_id),
            procedure_code: given(f.procedure_code),
            cursor: given(f.cursor),
            ..f
        };
        let mut q = DossierQuery {
            statuses: f.statuses,
            overdue: f.overdue,
            as_of: Some(f.as_of.unwrap_or_else(|| self.now())),
            due_before: f.due_before,
            received_from: f.received_from,
            received_to: f.received_to,
            agency: f.agency,
            assignee: match f.assignee.as_deref() {
                Some("me") => Some(actor.name.clone()),
                other => other.map(str::to_owned),
            },
            procedure_code: f.procedure_code,
            applicant_id: f.applicant_id.map(|a| a.trim().to_owned()),
            cursor: f.cursor,
            limit: f.limit,
            ..DossierQuery::default()
        };
        // Which dossiers this list covers is the policy's: one's own, an agency's, or all.
        let other_agency = || {
            ServiceError::Forbidden(motcua_domain::Msg::new(
                "Bạn không có quyền xem hồ sơ của cơ quan khác",
                "you are not allowed to see another agency's dossiers",
            ))
        };
        match q.agency.as_deref().map(AgencyCode::parse).transpose() {
            // Not an agency code: only a list of everything may filter by it (finding none).
            Err(_) => authorize(actor, Permission::ListDossiers(Scope::All))
                .map_err(|_| other_agency())?,
            Ok(asked) => {
                let scope = list_scope(actor, asked.as_ref());
                authorize(actor, Permission::ListDossiers(scope)).map_err(|e| match scope {
                    Scope::Agency(_) if asked.is_some() => other_agency(),
                    _ => e.into(),
                })?;
                match scope {
                    Scope::Owned => q.owner_id = actor.user_id.or(Some(-1)),
                    Scope::Agency(a) => q.agency = Some(a.to_string()),
                    Scope::All => {}
                }
            }
        }
        // Finding someone's dossiers by their identifier is a look-up of personal data.
        if q.applicant_id.is_some() && q.owner_id.is_none() {
            authorize(actor, Permission::LookUpApplicant)?;
        }
        let mut page = self.store().dossiers(&q).await?;
        // Rows the actor may list but not read (the operations centre): codes and figures,
        // no personal data.
        for d in &mut page.items {
            if authorize(actor, Permission::ReadDossier(&d.dossier)).is_err() {
                redact(&mut d.dossier);
            }
        }
        Ok(page)
    }

    /// The control slip: every change of the dossier, from the audit chain, with its event.
    pub async fn history(&self, actor: &Actor, code: &str) -> Result<Vec<HistoryEntry>> {
        self.dossier(actor, code).await?;
        let trail = self.store().audit_trail("dossier", code).await?;
        let mut out = Vec::with_capacity(trail.len());
        for e in trail {
            let event = EventRecord::from_stored(&e.action, &e.data, e.before.as_deref())?;
            out.push(HistoryEntry {
                at: e.at,
                actor: e.actor,
                // The typed event's name (a record of the first version may say otherwise).
                action: event.event.name().to_owned(),
                before: e.before.and_then(|b| serde_json::from_str(&b).ok()),
                after: e.after.and_then(|b| serde_json::from_str(&b).ok()),
                data: event,
                seq: e.seq,
            });
        }
        Ok(out)
    }

    /// Stores a legacy dossier with its original code and whole history (already replayed
    /// through the state machine), in one transaction: a data conversion, for whoever may
    /// edit reference data (an administrator, or the operator on the command line).
    pub async fn import_dossier(
        &self,
        by: &Acting,
        d: &Dossier,
        events: &[motcua_store::ImportedEvent],
    ) -> Result<()> {
        authorize(&by.actor, Permission::EditReference)?;
        Ok(self.store().import_dossier(d, events).await?)
    }

    /// The workflow of a procedure (the default one unless an admin set another).
    pub async fn process(&self, procedure_code: &str) -> Result<Process> {
        self.store().procedure(procedure_code).await?;
        Ok(self.store().process_for(procedure_code).await?)
    }

    /// Sets the workflow of a procedure. Dossiers already filed keep their process.
    pub async fn put_process(
        &self,
        by: &Acting,
        procedure_code: &str,
        process: Process,
    ) -> Result<Process> {
        authorize(&by.actor, Permission::EditReference)?;
        self.store().procedure(procedure_code).await?;
        if let Some(c) = &process.competent_agency {
            self.store()
                .agency(c.as_str())
                .await
                .map_err(|e| ServiceError::from(e).as_invalid("competent_agency"))?;
        }
        let process = self
            .store()
            .put_process(procedure_code, process, &by.stamp())
            .await?;
        self.reload_reference().await?;
        Ok(process)
    }
}
