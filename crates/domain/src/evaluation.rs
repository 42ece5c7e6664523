//! The evaluation index of the quality of service to citizens and businesses (Decision
//! 766/QĐ-TTg, 2022; docs/domain.md §Statistics): groups of indicators, each indicator a rate
//! of the statistics with a threshold and a maximum score — at or above the threshold it
//! earns its maximum, below it `rate × max ÷ threshold`. Groups, indicators, weights,
//! thresholds and the ranking bands are configuration ([`IndexConfig`]); the default is the
//! reading of docs/domain.md, to be verified against the decision in force.

use crate::stats::{Figures, Rate};
use serde::{Deserialize, Serialize};

/// What an indicator measures: a rate of the report, or the share of published procedures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Procedures published in the catalogue ÷ procedures of the catalogue.
    PublishedProcedures,
    /// Dossiers whose progress is published (public tracking by code) ÷ dossiers received.
    ProgressPublished,
    OnTime,
    Online,
    FullOnline,
    OnlinePayment,
    DigitisedComponents,
    DigitisedResults,
    ElectronicResults,
    Reuse,
    Satisfaction,
}

impl Source {
    /// The rate of this source in a report's figures (`published` for the catalogue's).
    pub fn rate(self, f: &Figures, published: Rate) -> Rate {
        let r = &f.rates;
        match self {
            Source::PublishedProcedures => published,
            // Every dossier motcua holds is tracked publicly by its code.
            Source::ProgressPublished => Rate::of(f.received, f.received),
            Source::OnTime => r.on_time,
            Source::Online => r.online,
            Source::FullOnline => r.full_online,
            Source::OnlinePayment => r.online_payment,
            Source::DigitisedComponents => r.digitised_components,
            Source::DigitisedResults => r.digitised_results,
            Source::ElectronicResults => r.electronic_results,
            Source::Reuse => r.reuse,
            Source::Satisfaction => r.satisfaction,
        }
    }
}

/// One indicator: its name, what it measures, its maximum score and its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorConfig {
    pub code: String,
    pub name: String,
    pub source: Source,
    pub max: f64,
    /// The rate (0–1) at or above which the indicator earns its maximum.
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    pub code: String,
    pub name: String,
    pub indicators: Vec<IndicatorConfig>,
}

/// A ranking band: from this score up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub from: f64,
    pub name: String,
}

/// The index's configuration (`[evaluation]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexConfig {
    pub groups: Vec<GroupConfig>,
    /// Highest first.
    pub bands: Vec<Band>,
}

fn indicator(code: &str, name: &str, source: Source, max: f64, threshold: f64) -> IndicatorConfig {
    IndicatorConfig {
        code: code.into(),
        name: name.into(),
        source,
        max,
        threshold,
    }
}

impl Default for IndexConfig {
    /// Five groups, 100 points (docs/domain.md §Statistics; verify against the decision).
    fn default() -> Self {
        IndexConfig {
            groups: vec![
                GroupConfig {
                    code: "publicity".into(),
                    name: "Công khai, minh bạch".into(),
                    indicators: vec![
                        indicator(
                            "published_procedures",
                            "Thủ tục hành chính được công khai",
                            Source::PublishedProcedures,
                            9.0,
                            1.0,
                        ),
                        indicator(
                            "progress_published",
                            "Tiến độ giải quyết hồ sơ được công khai",
                            Source::ProgressPublished,
                            9.0,
                            1.0,
                        ),
                    ],
                },
                GroupConfig {
                    code: "progress".into(),
                    name: "Tiến độ, kết quả giải quyết".into(),
                    indicators: vec![indicator(
                        "on_time",
                        "Hồ sơ giải quyết đúng hạn",
                        Source::OnTime,
                        20.0,
                        0.8,
                    )],
                },
                GroupConfig {
                    code: "digitisation".into(),
                    name: "Số hóa hồ sơ, kết quả".into(),
                    indicators: vec![
                        indicator(
                            "digitised_components",
                            "Hồ sơ được số hóa thành phần",
                            Source::DigitisedComponents,
                            8.0,
                            0.8,
                        ),
                        indicator(
                            "electronic_results",
                            "Kết quả giải quyết được cấp bản điện tử",
                            Source::ElectronicResults,
                            7.0,
                            0.8,
                        ),
                        indicator(
                            "reuse",
                            "Khai thác, sử dụng lại dữ liệu đã số hóa",
                            Source::Reuse,
                            7.0,
                            0.8,
                        ),
                    ],
                },
                GroupConfig {
                    code: "online".into(),
                    name: "Cung cấp dịch vụ công trực tuyến".into(),
                    indicators: vec![
                        indicator("online", "Hồ sơ nộp trực tuyến", Source::Online, 10.0, 0.5),
                        indicator(
                            "full_online",
                            "Hồ sơ trực tuyến toàn trình",
                            Source::FullOnline,
                            6.0,
                            0.5,
                        ),
                        indicator(
                            "online_payment",
                            "Thanh toán trực tuyến",
                            Source::OnlinePayment,
                            6.0,
                            0.5,
                        ),
                    ],
                },
                GroupConfig {
                    code: "satisfaction".into(),
                    name: "Mức độ hài lòng".into(),
                    indicators: vec![indicator(
                        "satisfaction",
                        "Người dân, doanh nghiệp hài lòng",
                        Source::Satisfaction,
                        18.0,
                        0.9,
                    )],
                },
            ],
            bands: vec![
                Band {
                    from: 90.0,
                    name: "Xuất sắc".into(),
                },
                Band {
                    from: 80.0,
                    name: "Tốt".into(),
                },
                Band {
                    from: 65.0,
                    name: "Khá".into(),
                },
                Band {
                    from: 50.0,
                    name: "Trung bình".into(),
                },
                Band {
                    from: 0.0,
                    name: "Yếu".into(),
                },
            ],
        }
    }
}

impl IndexConfig {
    /// Refuses a configuration that cannot score: no group, an indicator without points or
    /// with a threshold outside (0, 1], bands not from highest to lowest.
    pub fn validate(&self) -> Result<(), String> {
        if self.groups.is_empty() {
            return Err("evaluation: no group".into());
        }
        for g in &self.groups {
            for i in &g.indicators {
                let valid =
                    i.max.is_finite() && i.max > 0.0 && i.threshold > 0.0 && i.threshold <= 1.0;
                if !valid {
                    return Err(format!(
                        "evaluation: indicator {} needs max > 0 and 0 < threshold <= 1",
                        i.code
                    ));
                }
            }
        }
        if self.bands.windows(2).any(|w| w[0].from <= w[1].from) {
            return Err("evaluation: bands go from the highest score down".into());
        }
        Ok(())
    }

    pub fn max(&self) -> f64 {
        self.groups
            .iter()
            .flat_map(|g| &g.indicators)
            .map(|i| i.max)
            .sum()
    }

    /// Scores one unit or agency from its figures.
    pub fn score(&self, f: &Figures, published: Rate) -> Evaluation {
        let groups: Vec<GroupScore> = self
            .groups
            .iter()
            .map(|g| {
                let indicators: Vec<IndicatorScore> = g
                    .indicators
                    .iter()
                    .map(|i| {
                        let rate = i.source.rate(f, published);
                        // Nothing to measure (no dossier of that kind): full points.
                        let score = match rate.value {
                            None => i.max,
                            Some(v) if v >= i.threshold => i.max,
                            Some(v) => v * i.max / i.threshold,
                        };
                        IndicatorScore {
                            code: i.code.clone(),
                            name: i.name.clone(),
                            rate,
                            threshold: i.threshold,
                            max: i.max,
                            score: round2(score),
                            applicable: rate.value.is_some(),
                        }
                    })
                    .collect();
                GroupScore {
                    code: g.code.clone(),
                    name: g.name.clone(),
                    max: g.indicators.iter().map(|i| i.max).sum(),
                    score: round2(indicators.iter().map(|i| i.score).sum()),
                    indicators,
                }
            })
            .collect();
        let score = round2(groups.iter().map(|g| g.score).sum());
        Evaluation {
            score,
            max: self.max(),
            rank: self
                .bands
                .iter()
                .find(|b| score >= b.from)
                .map(|b| b.name.clone())
                .unwrap_or_default(),
            groups,
        }
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// One indicator's score and the data behind it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IndicatorScore {
    pub code: String,
    pub name: String,
    pub rate: Rate,
    pub threshold: f64,
    pub max: f64,
    pub score: f64,
    /// False when there was nothing to measure (full points given).
    pub applicable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GroupScore {
    pub code: String,
    pub name: String,
    pub max: f64,
    pub score: f64,
    pub indicators: Vec<IndicatorScore>,
}

/// The index of one unit or agency.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Evaluation {
    pub score: f64,
    pub max: f64,
    /// The band the score falls in (Xuất sắc, Tốt, Khá, Trung bình, Yếu).
    pub rank: String,
    pub groups: Vec<GroupScore>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::stats::Tally;

    #[test]
    fn the_default_adds_up_to_100_and_scores_below_a_threshold_in_proportion() {
        let c = IndexConfig::default();
        c.validate().unwrap();
        assert_eq!(c.max(), 100.0);
        let t = Tally {
            new: [30, 70, 0],
            early: 50,
            on_time: 10,
            late: 40,
            digitised: 100,
            very_satisfied: 9,
            unsatisfied: 1,
            ..Tally::default()
        };
        let e = c.score(&t.figures(), Rate::of(90, 100));
        let ind = |code: &str| {
            e.groups
                .iter()
                .flat_map(|g| &g.indicators)
                .find(|i| i.code == code)
                .unwrap()
                .clone()
        };
        // On time 60 % of a threshold of 80 %: 20 × 0.6 ÷ 0.8 = 15.
        assert_eq!(ind("on_time").score, 15.0);
        // Online 30 % of 50 %: 10 × 0.3 ÷ 0.5 = 6.
        assert_eq!(ind("online").score, 6.0);
        // Satisfaction 90 % reaches its threshold.
        assert_eq!(ind("satisfaction").score, 18.0);
        // Published 90 % of 100 %: 8.1.
        assert_eq!(ind("published_procedures").score, 8.1);
        // No fee to pay: nothing to measure, full points, marked.
        assert!(!ind("online_payment").applicable);
        assert_eq!(ind("online_payment").score, 6.0);
        let total: f64 = e.groups.iter().map(|g| g.score).sum();
        assert!((e.score - total).abs() < 0.01);
        assert!(e.score < 90.0 && !e.rank.is_empty());
    }

    #[test]
    fn a_bad_configuration_is_refused() {
        let mut c = IndexConfig::default();
        c.groups[0].indicators[0].threshold = 0.0;
        assert!(c.validate().is_err());
        let mut c = IndexConfig::default();
        c.bands.reverse();
        assert!(c.validate().is_err());
    }
}
