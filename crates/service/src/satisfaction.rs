//! The applicant's rating of the service (docs/domain.md §Statistics): given once the result
//! is ready, on the portal by the applicant signed in, or on the counter's device with the
//! one-stop officer of the receiving agency; kept per dossier (an event of its history) and
//! counted per agency and unit in the figures.

use crate::{Acting, Result, Service, ServiceError};
use motcua_domain::Msg;
use motcua_domain::auth::Role;
use motcua_domain::dossier::{Dossier, RatingChannel, Refusal, Satisfaction};
use motcua_store::StoredDossier;

impl Service {
    /// Records a rating: the owner on the portal, or a reception officer of the receiving
    /// agency at the counter.
    pub async fn rate(
        &self,
        by: &Acting,
        code: &str,
        level: Satisfaction,
        comment: Option<&str>,
    ) -> Result<StoredDossier> {
        let actor = &by.actor;
        let channel = match actor.role {
            Some(Role::Citizen) => RatingChannel::Portal,
            Some(Role::Reception) => RatingChannel::Counter,
            _ => {
                return Err(ServiceError::Forbidden(Msg::new(
                    "Chỉ người nộp hồ sơ (trên cổng) hoặc cán bộ một cửa (tại quầy) ghi nhận được đánh giá",
                    "only the applicant (on the portal) or a one-stop officer (at the counter) records a rating",
                )));
            }
        };
        // A dossier the actor may not read does not exist for them.
        self.dossier(actor, code).await?;
        let guard = move |d: &Dossier| -> std::result::Result<(), Refusal> {
            let allowed = match channel {
                RatingChannel::Portal => actor.user_id.is_some() && d.owner_id == actor.user_id,
                RatingChannel::Counter => actor.agency.as_ref() == Some(&d.receiving_agency),
            };
            if allowed {
                Ok(())
            } else {
                Err(Refusal::Forbidden(Msg::new(
                    "Bạn không ghi nhận được đánh giá cho hồ sơ này",
                    "you cannot record a rating for this dossier",
                )))
            }
        };
        let d = self
            .store()
            .rate_dossier(code, level, channel, comment, actor, by.at, &guard)
            .await?;
        self.tracking_cache().forget(code);
        metrics::counter!("motcua_ratings_total", "level" => level.as_str()).increment(1);
        tracing::info!(dossier = code, level = level.as_str(), "dossier rated");
        Ok(d)
    }
}
