//! The evaluation index (Decision 766/QĐ-TTg; docs/domain.md §Statistics) per agency or unit:
//! each indicator's score, threshold and the data behind it, ranked.

use crate::stats::{GroupBy, StatsQuery};
use crate::{Result, Service, ServiceError};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::dossier::Actor;
use motcua_domain::evaluation::{Evaluation, IndexConfig};
use motcua_domain::stats::Rate;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// One agency's or unit's index.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IndexRow {
    /// The agency's code or the unit's.
    pub code: String,
    pub name: String,
    /// The level of the unit (province, commune; district for history).
    pub level: Option<String>,
    #[serde(flatten)]
    pub evaluation: Evaluation,
}

/// The index of every agency or unit of a period, best first.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IndexReport {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub end: DateTime<Utc>,
    /// `agency` or `unit`.
    pub by: GroupBy,
    pub config: IndexConfig,
    pub rows: Vec<IndexRow>,
}

impl Service {
    /// Sets the index's configuration (the binary's `[evaluation]`), checked first.
    pub fn set_evaluation(&self, config: IndexConfig) -> Result<()> {
        config
            .validate()
            .map_err(|e| ServiceError::invalid("evaluation", e.clone(), e))?;
        if let Ok(mut c) = self.evaluation.write() {
            *c = Arc::new(config);
        }
        Ok(())
    }

    pub fn evaluation_config(&self) -> Arc<IndexConfig> {
        self.evaluation
            .read()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// The index per agency (or per unit) for `[from, to)`.
    pub async fn evaluation(
        &self,
        actor: &Actor,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        by: GroupBy,
    ) -> Result<IndexReport> {
        if !matches!(by, GroupBy::Agency | GroupBy::Unit) {
            return Err(ServiceError::invalid(
                "by",
                "Chỉ số đánh giá tính theo cơ quan (agency) hoặc đơn vị hành chính (unit)",
                "the index is per agency or per unit",
            ));
        }
        let report = self
            .stats(
                actor,
                &StatsQuery {
                    from,
                    to,
                    group_by: vec![by, GroupBy::Level],
                    ..StatsQuery::default()
                },
            )
            .await?;
        self.evaluation_of(&report, by).await
    }

    /// The index from a report grouped by `by` and level.
    pub(crate) async fn evaluation_of(
        &self,
        report: &crate::stats::StatsReport,
        by: GroupBy,
    ) -> Result<IndexReport> {
        let config = self.evaluation_config();
        let mut published: HashMap<String, Rate> = HashMap::new();
        let mut rows = Vec::new();
        for g in &report.groups {
            let level = g.key.get("level").filter(|l| !l.is_empty()).cloned();
            let key = level.clone().unwrap_or_default();
            let rate = match published.get(&key) {
                Some(r) => *r,
                None => {
                    let (total, yes) = self.store.procedure_publication(level.as_deref()).await?;
                    let r = Rate::of(yes, total);
                    published.insert(key, r);
                    r
                }
            };
            rows.push(IndexRow {
                code: g.key.get(by.as_str()).cloned().unwrap_or_default(),
                name: g.names.get(by.as_str()).cloned().unwrap_or_default(),
                level,
                evaluation: config.score(&g.figures, rate),
            });
        }
        rows.sort_by(|a, b| {
            b.evaluation
                .score
                .total_cmp(&a.evaluation.score)
                .then_with(|| a.code.cmp(&b.code))
        });
        Ok(IndexReport {
            from: report.from,
            to: report.to,
            end: report.end,
            by,
            config: (*config).clone(),
            rows,
        })
    }
}
