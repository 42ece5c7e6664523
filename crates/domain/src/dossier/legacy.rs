//! Dossiers from a legacy system (data conversion before a merger, backward digitisation): one
//! JSON object per line with the original code, channel, times and full event history. The
//! history is replayed through the same state machine as live actions, so an imported dossier
//! is in exactly the state a native one would be, and bad histories are refused.

use super::{Action, Applicant, Change, Dossier, Intake, SubmittedComponent, parse_dossier_code};
use crate::calendar::WorkCalendar;
use crate::catalogue::{Channel, Procedure};
use crate::codes::AgencyCode;
use crate::process::Process;
use crate::{Error, Msg};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// One line of a `motcua import dossiers` file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyDossier {
    pub code: String,
    pub procedure_code: String,
    pub channel: Channel,
    pub receiving_agency: AgencyCode,
    #[serde(default)]
    pub competent_agency: Option<AgencyCode>,
    pub applicant: Applicant,
    #[serde(default)]
    pub components: Vec<SubmittedComponent>,
    #[serde(default)]
    pub postal_tracking: Option<String>,
    pub submitted_at: DateTime<Utc>,
    /// The workflow the dossier followed (default: the procedure's default process).
    #[serde(default)]
    pub process: Option<Process>,
    #[serde(default)]
    pub events: Vec<LegacyEvent>,
}

/// An event: `at`, `actor` and the action's own fields (`{"action": "accept", …}`); the
/// action refuses unknown fields.
#[derive(Debug, Clone, Deserialize)]
pub struct LegacyEvent {
    pub at: DateTime<Utc>,
    /// The legacy system's user name.
    pub actor: String,
    #[serde(flatten)]
    pub action: Action,
}

/// A replayed legacy dossier: its final state and every change, with time and actor.
pub type Replayed = (Dossier, Vec<(DateTime<Utc>, String, Change)>);

fn msg(vi: String, en: String) -> Error {
    Error::OutOfRange(Msg::new(vi, en))
}

impl LegacyDossier {
    /// Replays the history. `default_process` is used when the line does not name its own.
    pub fn replay(
        self,
        procedure: Procedure,
        default_process: Process,
        source: &str,
        cal: &WorkCalendar,
    ) -> Result<Replayed, Error> {
        let (agency, _, _) = parse_dossier_code(&self.code)?;
        if agency != self.receiving_agency {
            return Err(msg(
                format!(
                    "Mã hồ sơ không bắt đầu bằng mã cơ quan tiếp nhận {}",
                    self.receiving_agency
                ),
                format!(
                    "the code does not start with the receiving agency {}",
                    self.receiving_agency
                ),
            ));
        }
        let process = self.process.unwrap_or(default_process).validate()?;
        let intake = Intake {
            procedure,
            process,
            channel: self.channel,
            competent_agency: self
                .competent_agency
                .unwrap_or_else(|| self.receiving_agency.clone()),
            receiving_agency: self.receiving_agency,
            applicant: self.applicant.validate()?,
            components: self.components,
            postal_tracking: self.postal_tracking,
            owner_id: None,
            delivery: None,
        };
        let (mut d, mut first) = Dossier::new(intake, self.code, self.submitted_at, cal)?;
        if let super::DossierEvent::Submitted { imported_from, .. }
        | super::DossierEvent::Received { imported_from, .. } = &mut first.event
        {
            *imported_from = Some(source.to_owned());
        }
        let mut changes = vec![(self.submitted_at, format!("{source}:import"), first)];
        let mut last = self.submitted_at;
        for (i, e) in self.events.into_iter().enumerate() {
            let n = i + 1;
            if e.at < last {
                return Err(msg(
                    format!("Sự kiện {n} có thời điểm trước sự kiện liền trước"),
                    format!("event {n} is earlier than the one before it"),
                ));
            }
            if matches!(e.action, Action::Transfer { .. }) {
                return Err(msg(
                    format!(
                        "Sự kiện {n}: chuyển liên thông không nhập được; hãy nhập hồ sơ liên thông thành dòng riêng"
                    ),
                    format!(
                        "event {n}: transfers cannot be imported; import the inter-agency case as its own line"
                    ),
                ));
            }
            last = e.at;
            let change = d.apply(&e.action, e.at, cal).map_err(|r| {
                let m = match r {
                    super::Refusal::Invalid(e) => e.message(),
                    super::Refusal::Conflict(m) | super::Refusal::Forbidden(m) => m,
                };
                msg(
                    format!("Sự kiện {n}: {}", m.vi),
                    format!("event {n}: {}", m.en),
                )
            })?;
            changes.push((e.at, e.actor, change));
        }
        Ok((d, changes))
    }
}
