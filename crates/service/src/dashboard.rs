//! Dashboards: an officer's counters of what waits for their agency, and the operations
//! centre's (IOC) figures of the province — headline, trend by month, breakdowns by level,
//! unit and agency, the overdue dossiers by agency (codes and procedures: no personal data).

use crate::stats::{GroupBy, StatGroup, StatsQuery, StatsReport};
use crate::{Result, Service, ServiceError};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use motcua_domain::auth::Role;
use motcua_domain::dossier::{Actor, Status};
use motcua_domain::policy::Permission;
use motcua_domain::stats::local_day;
use motcua_store::dossiers::DossierQuery;
use motcua_store::stats::AgencyCounters;
use serde::Serialize;

/// An overdue dossier as the operations centre sees it: no applicant, no personal data.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OverdueDossier {
    pub code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    /// The agency holding it now.
    pub agency: String,
    pub agency_name: String,
    pub status: Status,
    pub due_at: Option<DateTime<Utc>>,
}

/// The operations centre's dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Ioc {
    /// The period of the headline and breakdowns (this year to date by default).
    pub period: StatsReport,
    /// The last twelve months, by month.
    pub trend: Vec<StatGroup>,
    pub by_level: Vec<StatGroup>,
    pub by_unit: Vec<StatGroup>,
    pub by_agency: Vec<StatGroup>,
    /// Overdue now, the longest overdue first.
    pub overdue: Vec<OverdueDossier>,
    /// The evaluation index of the period per agency, best first.
    pub ranking: Vec<crate::evaluation::IndexRow>,
}

/// How many overdue dossiers the dashboard lists.
pub const OVERDUE_LISTED: u32 = 200;

impl Service {
    /// What waits for the officer's agency now.
    pub async fn agency_counters(&self, actor: &Actor) -> Result<AgencyCounters> {
        let Some(agency) = &actor.agency else {
            return Err(ServiceError::Forbidden(motcua_domain::Msg::new(
                "Tài khoản chưa gắn với cơ quan nào",
                "this account belongs to no agency",
            )));
        };
        if !matches!(
            actor.role,
            Some(Role::Reception | Role::Specialist | Role::Leader | Role::Postal)
        ) {
            return Err(ServiceError::Forbidden(motcua_domain::Msg::new(
                "Chỉ cán bộ của cơ quan xem được số hồ sơ chờ xử lý",
                "only an agency's officers see what waits for it",
            )));
        }
        let now = self.now();
        let cal = self.calendar();
        let soon = cal.add_working_minutes(
            now,
            u64::try_from(cal.hours().minutes_per_day()).unwrap_or(480),
        );
        Ok(self
            .store
            .agency_counters(agency.as_str(), now, soon)
            .await?)
    }

    /// The operations centre's dashboard for `[from, to)` (default: this year to date).
    pub async fn ioc(
        &self,
        actor: &Actor,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Ioc> {
        self.authorize(actor, Permission::ReadStatistics)?;
        let today = local_day(self.now());
        let from =
            from.unwrap_or_else(|| NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today));
        let to = to.unwrap_or_else(|| today.succ_opt().unwrap_or(today));
        let agency = match actor.role {
            Some(Role::Leader) => actor.agency.as_ref().map(|a| a.as_str().to_owned()),
            _ => None,
        };
        let q = |group_by: Vec<GroupBy>| StatsQuery {
            from: Some(from),
            to: Some(to),
            agency: agency.clone(),
            group_by,
            ..StatsQuery::default()
        };
        // The period's figures read once, grouped every way the page shows.
        let mut all = self
            .reports(
                &q(vec![]),
                &[
                    vec![],
                    vec![GroupBy::Level],
                    vec![GroupBy::Unit],
                    vec![GroupBy::Agency],
                    vec![GroupBy::Agency, GroupBy::Level],
                ],
            )
            .await?
            .into_iter();
        let (Some(period), Some(by_level), Some(by_unit), Some(by_agency), Some(for_index)) =
            (all.next(), all.next(), all.next(), all.next(), all.next())
        else {
            return Err(ServiceError::Conflict(motcua_domain::Msg::new(
                "Không tính được số liệu",
                "the figures could not be computed",
            )));
        };
        let by_level = by_level.groups;
        let mut by_unit = by_unit.groups;
        by_unit.sort_by_key(|g| std::cmp::Reverse(g.figures.received));
        let mut by_agency = by_agency.groups;
        by_agency.sort_by_key(|g| std::cmp::Reverse(g.figures.received));
        // Twelve whole months up to this one.
        let first = NaiveDate::from_ymd_opt(today.year() - 1, today.month(), 1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .unwrap_or(today);
        let trend = self
            .report(&StatsQuery {
                from: Some(first),
                to: Some(today.succ_opt().unwrap_or(today)),
                agency: agency.clone(),
                group_by: vec![GroupBy::Month],
                ..StatsQuery::default()
            })
            .await?
            .groups;
        // Every month of the twelve, those without a dossier too.
        let mut months = Vec::new();
        let mut m = first;
        while m <= today {
            let label = format!("{:04}-{:02}", m.year(), m.month());
            let g = trend
                .iter()
                .find(|g| g.key.get("month") == Some(&label))
                .cloned()
                .unwrap_or_else(|| StatGroup {
                    key: [("month".to_owned(), label.clone())].into_iter().collect(),
                    names: [("month".to_owned(), label.clone())].into_iter().collect(),
                    figures: motcua_domain::stats::Tally::default().figures(),
                });
            months.push(g);
            let Some(next) = m.checked_add_months(chrono::Months::new(1)) else {
                break;
            };
            m = next;
        }
        let trend = months;
        let now = self.now();
        let page = self
            .store
            .dossiers(&DossierQuery {
                overdue: Some(true),
                as_of: Some(now),
                agency,
                limit: Some(OVERDUE_LISTED),
                ..DossierQuery::default()
            })
            .await?;
        let mut overdue = Vec::new();
        for d in page.items {
            let d = d.dossier;
            overdue.push(OverdueDossier {
                agency_name: self.agency_name(&d.current_agency).await,
                code: d.code,
                procedure_code: d.procedure_code.to_string(),
                procedure_name: d.procedure_name,
                agency: d.current_agency.to_string(),
                status: d.status,
                due_at: d.due_at,
            });
        }
        let ranking = self.evaluation_of(&for_index, GroupBy::Agency).await?.rows;
        Ok(Ioc {
            ranking,
            period,
            trend,
            by_level,
            by_unit,
            by_agency,
            overdue,
        })
    }
}
