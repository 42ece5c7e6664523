//! Statistics reports (docs/domain.md §Statistics): the figures of a period, as of an instant,
//! filtered and grouped by unit, agency, level, procedure, field, channel or month, from the
//! sums the store keeps as dossiers change. Units abolished or merged in the 2025
//! reorganisation are reported under their successors unless asked "as they were".

use crate::{Result, Service, ServiceError};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use motcua_domain::auth::Role;
use motcua_domain::catalogue::Channel;
use motcua_domain::dossier::Actor;
use motcua_domain::policy::Permission;
use motcua_domain::stats::{Figures, Measure, ProcedureClass, Tally, channel_index, day_start};
use motcua_store::stats::{KeyFigures, StatFilter, StatGrain, StatKey};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// What a report's groups are made by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The administrative unit of the competent agency (its successor, unless `units=as_they_were`).
    Unit,
    /// The competent agency.
    Agency,
    /// The unit's level: province, commune (district: history only).
    Level,
    Procedure,
    /// The procedure's field (lĩnh vực).
    Field,
    Channel,
    /// Calendar months of the period.
    Month,
}

impl GroupBy {
    pub const ALL: [GroupBy; 7] = [
        GroupBy::Unit,
        GroupBy::Agency,
        GroupBy::Level,
        GroupBy::Procedure,
        GroupBy::Field,
        GroupBy::Channel,
        GroupBy::Month,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Unit => "unit",
            GroupBy::Agency => "agency",
            GroupBy::Level => "level",
            GroupBy::Procedure => "procedure",
            GroupBy::Field => "field",
            GroupBy::Channel => "channel",
            GroupBy::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// Column headings (Vietnamese, English).
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            GroupBy::Unit => ("Đơn vị hành chính", "Administrative unit"),
            GroupBy::Agency => ("Cơ quan", "Agency"),
            GroupBy::Level => ("Cấp", "Level"),
            GroupBy::Procedure => ("Thủ tục", "Procedure"),
            GroupBy::Field => ("Lĩnh vực", "Field"),
            GroupBy::Channel => ("Kênh nộp", "Channel"),
            GroupBy::Month => ("Tháng", "Month"),
        }
    }
}

/// How units changed by the 2025 reorganisation are reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitsMode {
    /// Under the units that succeeded them (the default).
    #[default]
    Successors,
    /// As they were when the dossiers were handled.
    AsTheyWere,
}

/// A report's question.
#[derive(Debug, Clone, Default)]
pub struct StatsQuery {
    /// The period's first day (local).
    pub from: Option<NaiveDate>,
    /// The day after the period (the period is `[from, to)`).
    pub to: Option<NaiveDate>,
    /// The instant the figures are read at (default: now, or the end of the period if earlier).
    pub as_of: Option<DateTime<Utc>>,
    pub unit: Option<String>,
    pub agency: Option<String>,
    pub level: Option<String>,
    pub procedure: Option<String>,
    pub field: Option<String>,
    pub channel: Option<Channel>,
    pub group_by: Vec<GroupBy>,
    pub units: UnitsMode,
}

/// One group of a report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StatGroup {
    /// The group's codes by dimension (`{"agency": "000.00.01.H29"}`).
    pub key: BTreeMap<String, String>,
    /// The group's names by dimension.
    pub names: BTreeMap<String, String>,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A report: the period, the instant, the total and the groups.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StatsReport {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    /// The day after the period.
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// The instant the figures were read at.
    pub as_of: DateTime<Utc>,
    /// The period's figures end here: the end of `to`'s eve, or `as_of` if earlier.
    pub end: DateTime<Utc>,
    pub units: UnitsMode,
    pub group_by: Vec<GroupBy>,
    pub total: Figures,
    pub groups: Vec<StatGroup>,
}

/// What a key is, for grouping and for the rates that depend on the procedure.
#[derive(Debug, Clone, Default)]
struct Dims {
    agency_name: String,
    unit: Option<(String, String)>,
    level: Option<String>,
    procedure_name: String,
    field: (String, String),
    full_online: bool,
    with_fees: bool,
    result_document: bool,
}

/// A group's codes by dimension, in the order asked.
type GroupKey = Vec<(String, String)>;

/// The longest period one report covers.
const MAX_YEARS: i64 = 50;

impl Service {
    /// The figures of a period. Administrators and the operations centre see the province; a
    /// leader sees their own agency.
    pub async fn stats(&self, actor: &Actor, q: &StatsQuery) -> Result<StatsReport> {
        self.authorize(actor, Permission::ReadStatistics)?;
        let mut q = q.clone();
        if actor.role == Some(Role::Leader) {
            let own = actor.agency.as_ref().map(|a| a.as_str().to_owned());
            if q.agency.is_some() && q.agency != own {
                return Err(ServiceError::Forbidden(motcua_domain::Msg::new(
                    "Lãnh đạo chỉ xem được số liệu của cơ quan mình",
                    "a leader sees only their own agency's figures",
                )));
            }
            q.agency = own;
        }
        self.report(&q).await
    }

    /// The figures of a period, without asking who wants them (the command line, jobs).
    pub async fn report(&self, q: &StatsQuery) -> Result<StatsReport> {
        let mut r = self.reports(q, std::slice::from_ref(&q.group_by)).await?;
        r.pop().ok_or_else(|| {
            ServiceError::Storage(motcua_store::StoreError::Invalid(
                motcua_domain::Error::field("group_by", "Không có báo cáo", "no report"),
            ))
        })
    }

    /// One period's figures grouped several ways, read from the store once per kind of
    /// period cut (whole, or by month): `q.group_by` is ignored, `groupings` give the groups.
    pub async fn reports(
        &self,
        q: &StatsQuery,
        groupings: &[Vec<GroupBy>],
    ) -> Result<Vec<StatsReport>> {
        let now = self.now();
        let today = motcua_domain::stats::local_day(now);
        let from = q.from.unwrap_or_else(|| {
            NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today)
        });
        let to = q.to.unwrap_or_else(|| today.succ_opt().unwrap_or(today));
        if to <= from {
            return Err(ServiceError::invalid(
                "to",
                "Ngày kết thúc kỳ phải sau ngày bắt đầu",
                "the period must end after it starts",
            ));
        }
        if (to - from).num_days() > MAX_YEARS * 366 {
            return Err(ServiceError::invalid(
                "from",
                format!("Một báo cáo bao quát tối đa {MAX_YEARS} năm"),
                format!("a report covers at most {MAX_YEARS} years"),
            ));
        }
        let start = day_start(from);
        let period_end = day_start(to);
        let as_of = q.as_of.unwrap_or(now.min(period_end));
        if as_of < start {
            return Err(ServiceError::invalid(
                "as_of",
                "Thời điểm tính số liệu phải sau đầu kỳ",
                "as_of must not be before the period starts",
            ));
        }
        let end = period_end.min(as_of);
        // Without a procedure or a field to filter or group by, the keys are classes of
        // procedure (the rates need nothing else of one), read from the sums per class.
        let by_procedure = q.procedure.is_some()
            || q.field.is_some()
            || groupings
                .iter()
                .flatten()
                .any(|g| matches!(g, GroupBy::Procedure | GroupBy::Field));
        // Nor an agency, a unit or a level to group by or a unit or level to filter by: the
        // database adds the agencies up.
        let by_agency = q.unit.is_some()
            || q.level.is_some()
            || groupings
                .iter()
                .flatten()
                .any(|g| matches!(g, GroupBy::Agency | GroupBy::Unit | GroupBy::Level));
        let filter = StatFilter {
            agencies: q.agency.clone().map(|a| vec![a]),
            procedures: q.procedure.clone().map(|p| vec![p]),
            channel: q.channel.map(|c| channel_text(c).to_owned()),
            grain: if by_procedure {
                StatGrain::Procedure
            } else if by_agency {
                StatGrain::Class
            } else {
                StatGrain::ClassOnly
            },
        };
        // The store's figures per key, for the whole period and (if asked) month by month.
        let mut whole: Option<Segments> = None;
        let mut monthly: Option<Segments> = None;
        let mut dims: HashMap<StatKey, Dims> = HashMap::new();
        let mut parts = DimParts::default();
        for g in groupings {
            let by_month = g.contains(&GroupBy::Month);
            let slot = if by_month { &mut monthly } else { &mut whole };
            if slot.is_none() {
                let cuts = if by_month {
                    month_segments(start, end)
                } else {
                    vec![(start, end)]
                };
                let mut segs = Vec::new();
                let figures = self.store.stat_figures_cuts(&cuts, &filter).await?;
                for ((a, _), keys) in cuts.into_iter().zip(figures) {
                    for (key, _) in &keys {
                        if !dims.contains_key(key) {
                            let d = self.dims(key, q.units, filter.grain, &mut parts).await?;
                            dims.insert(key.clone(), d);
                        }
                    }
                    segs.push((a, keys));
                }
                *slot = Some(segs);
            }
        }
        let mut out = Vec::new();
        for g in groupings {
            let by_month = g.contains(&GroupBy::Month);
            let segs = if by_month { &monthly } else { &whole };
            let segs: &[Segment] = segs.as_deref().unwrap_or(&[]);
            out.push(assemble(q, g, segs, &dims, (from, to, as_of, end, start)));
        }
        Ok(out)
    }

    /// Builds the statistics of a database upgraded with dossiers in it, once (at start).
    pub async fn ensure_stats(&self) -> Result<Option<motcua_store::stats::RebuildReport>> {
        Ok(self.store.stat_ensure_built(self.now()).await?)
    }

    /// Recomputes the statistics from the dossiers' events (`motcua stats rebuild`).
    pub async fn rebuild_stats(&self) -> Result<motcua_store::stats::RebuildReport> {
        Ok(self.store.stat_rebuild(self.now()).await?)
    }

    /// What a key is, from its agency's and its procedure's parts (each looked up once per
    /// report: a report has thousands of keys but a few hundred agencies and procedures).
    async fn dims(
        &self,
        key: &StatKey,
        mode: UnitsMode,
        grain: StatGrain,
        parts: &mut DimParts,
    ) -> Result<Dims> {
        if !key.agency.is_empty() && !parts.agencies.contains_key(&key.agency) {
            let mut a = (key.agency.clone(), None, None);
            if let Ok((agency, _)) = self.refs.agency(&self.store, &key.agency).await {
                a.0 = agency.name;
                if let Some(u) = &agency.unit_code
                    && let Some((was, now)) = self.refs.lineage(&self.store, u).await?
                {
                    let unit = match mode {
                        UnitsMode::Successors => now,
                        UnitsMode::AsTheyWere => was,
                    };
                    a.2 = Some(unit.level.as_str().to_owned());
                    a.1 = Some((unit.code, unit.name));
                }
            }
            parts.agencies.insert(key.agency.clone(), a);
        }
        if grain != StatGrain::Procedure && !parts.procedures.contains_key(&key.procedure) {
            let class = ProcedureClass(key.procedure.parse().unwrap_or(0));
            let d = Dims {
                full_online: class.full_online(),
                with_fees: class.with_fees(),
                result_document: class.result_document(),
                ..Dims::default()
            };
            parts.procedures.insert(key.procedure.clone(), d);
        }
        if !parts.procedures.contains_key(&key.procedure) {
            let mut d = Dims {
                procedure_name: key.procedure.clone(),
                field: (String::new(), String::new()),
                ..Dims::default()
            };
            if let Ok((p, _)) = self.refs.procedure(&self.store, &key.procedure).await {
                d.procedure_name = p.name.clone();
                d.field = (
                    p.field_code.clone().unwrap_or_else(|| p.field.clone()),
                    p.field.clone(),
                );
                let class = ProcedureClass::of(&p);
                d.full_online = class.full_online();
                d.with_fees = class.with_fees();
                d.result_document = class.result_document();
            }
            parts.procedures.insert(key.procedure.clone(), d);
        }
        let mut d = parts
            .procedures
            .get(&key.procedure)
            .cloned()
            .unwrap_or_default();
        if let Some((name, unit, level)) = parts.agencies.get(&key.agency) {
            d.agency_name = name.clone();
            d.unit = unit.clone();
            d.level = level.clone();
        }
        Ok(d)
    }
}

/// The agencies' (name, unit, level) and the procedures' parts of a report's keys.
#[derive(Default)]
struct DimParts {
    agencies: HashMap<String, AgencyParts>,
    procedures: HashMap<String, Dims>,
}

type AgencyParts = (String, Option<(String, String)>, Option<String>);

/// One cut of a period and the store's figures per key in it.
type Segment = (DateTime<Utc>, Vec<(StatKey, KeyFigures)>);
type Segments = Vec<Segment>;

/// Groups the figures of each key as `group_by` asks.
fn assemble(
    q: &StatsQuery,
    group_by: &[GroupBy],
    segments: &[Segment],
    dims: &HashMap<StatKey, Dims>,
    (from, to, as_of, end, start): (
        NaiveDate,
        NaiveDate,
        DateTime<Utc>,
        DateTime<Utc>,
        DateTime<Utc>,
    ),
) -> StatsReport {
    let mut groups: BTreeMap<GroupKey, (BTreeMap<String, String>, Tally)> = BTreeMap::new();
    let mut total = Tally::default();
    let by_month = group_by.contains(&GroupBy::Month);
    for (a, keys) in segments {
        for (key, kf) in keys {
            let Some(d) = dims.get(key) else { continue };
            if !matches(q, key, d) {
                continue;
            }
            let t = tally(key, kf, d);
            total_add(&mut total, &t, by_month);
            let (gk, names) = group_key(group_by, key, d, *a);
            let entry = groups
                .entry(gk)
                .or_insert_with(|| (names, Tally::default()));
            entry.1.add(&t);
        }
    }
    if by_month {
        // Carried over is the first month's; overdue is the last month's.
        let month_sum = |label: String, f: fn(&Tally) -> i64| -> i64 {
            groups
                .iter()
                .filter(|(k, _)| k.iter().any(|(d, v)| d == "month" && *v == label))
                .map(|(_, (_, t))| f(t))
                .sum()
        };
        total.carried_over = month_sum(month_label(start), |t| t.carried_over);
        total.overdue = month_sum(month_label(last_instant(start, end)), |t| t.overdue);
    }
    StatsReport {
        from,
        to,
        as_of,
        end,
        units: q.units,
        group_by: group_by.to_vec(),
        total: total.figures(),
        groups: groups
            .into_iter()
            .filter(|_| !group_by.is_empty())
            .map(|(k, (names, t))| StatGroup {
                key: k.into_iter().collect(),
                names,
                figures: t.figures(),
            })
            .collect(),
    }
}

/// Whether a key passes the filters the store could not apply.
fn matches(q: &StatsQuery, _key: &StatKey, d: &Dims) -> bool {
    q.unit
        .as_ref()
        .is_none_or(|u| d.unit.as_ref().is_some_and(|(c, _)| c == u))
        && q.level.as_ref().is_none_or(|l| d.level.as_ref() == Some(l))
        && q.field
            .as_ref()
            .is_none_or(|f| d.field.0 == *f || d.field.1 == *f)
}

fn tally(key: &StatKey, kf: &KeyFigures, d: &Dims) -> Tally {
    let c = &kf.flows;
    let received = c.get(Measure::Received);
    let mut t = Tally {
        carried_over: kf.carried_over,
        early: c.get(Measure::Early),
        on_time: c.get(Measure::OnTime),
        late: c.get(Measure::Late),
        refused: c.get(Measure::Refused),
        withdrawn: c.get(Measure::Withdrawn),
        overdue: kf.overdue,
        supplements: c.get(Measure::Supplements),
        digitised: c.get(Measure::Digitised),
        reused: c.get(Measure::Reused),
        very_satisfied: c.get(Measure::VerySatisfied),
        satisfied: c.get(Measure::Satisfied),
        unsatisfied: c.get(Measure::Unsatisfied),
        ..Tally::default()
    };
    let channel = match key.channel.as_str() {
        "online" => Channel::Online,
        "postal" => Channel::Postal,
        _ => Channel::Counter,
    };
    t.new[channel_index(channel)] = received;
    if channel == Channel::Online && d.full_online {
        t.new_full_online = received;
    }
    if d.with_fees {
        t.new_with_fees = received;
        t.paid_online = c.get(Measure::PaidOnline);
    }
    if d.result_document {
        t.resolved_documents = t.resolved();
        t.result_digitised = c.get(Measure::ResultDigitised);
        t.result_electronic = c.get(Measure::ResultElectronic);
    }
    t
}

/// Adds a month's (or the period's) tally to the total; by month, the stocks are set after.
fn total_add(total: &mut Tally, t: &Tally, by_month: bool) {
    let mut t = *t;
    if by_month {
        t.carried_over = 0;
        t.overdue = 0;
    }
    total.add(&t);
}

/// A channel as the store keeps it.
pub fn channel_text(c: Channel) -> &'static str {
    match c {
        Channel::Online => "online",
        Channel::Counter => "counter",
        Channel::Postal => "postal",
    }
}

fn month_label(t: DateTime<Utc>) -> String {
    let m = motcua_domain::stats::month_of(t);
    format!("{:04}-{:02}", m / 100, m % 100)
}

/// The last instant inside `[start, end)` (for naming its month).
fn last_instant(start: DateTime<Utc>, end: DateTime<Utc>) -> DateTime<Utc> {
    if end > start {
        end - chrono::Duration::nanoseconds(1)
    } else {
        start
    }
}

/// `[start, end)` cut at the first instant of every month.
fn month_segments(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    use motcua_domain::stats::{month_of, month_start, next_month};
    let mut out = Vec::new();
    let mut cur = start;
    while cur < end {
        let Some(next) = month_start(next_month(month_of(cur))) else {
            break;
        };
        let seg_end = next.min(end);
        out.push((cur, seg_end));
        cur = seg_end;
    }
    if out.is_empty() {
        out.push((start, end));
    }
    out
}

fn group_key(
    by: &[GroupBy],
    key: &StatKey,
    d: &Dims,
    segment: DateTime<Utc>,
) -> (GroupKey, BTreeMap<String, String>) {
    let mut k = Vec::new();
    let mut names = BTreeMap::new();
    for g in by {
        let (code, name) = match g {
            GroupBy::Unit => d
                .unit
                .clone()
                .unwrap_or_else(|| (String::new(), "(chưa gắn đơn vị)".to_owned())),
            GroupBy::Agency => (key.agency.clone(), d.agency_name.clone()),
            GroupBy::Level => {
                let l = d.level.clone().unwrap_or_default();
                let name = match l.as_str() {
                    "province" => "Cấp tỉnh",
                    "district" => "Cấp huyện (trước 01/7/2025)",
                    "commune" => "Cấp xã",
                    _ => "(chưa rõ cấp)",
                };
                (l, name.to_owned())
            }
            GroupBy::Procedure => (key.procedure.clone(), d.procedure_name.clone()),
            GroupBy::Field => d.field.clone(),
            GroupBy::Channel => {
                let name = match key.channel.as_str() {
                    "online" => "Trực tuyến",
                    "postal" => "Bưu chính công ích",
                    _ => "Trực tiếp",
                };
                (key.channel.clone(), name.to_owned())
            }
            GroupBy::Month => {
                let m = month_label(segment);
                (m.clone(), m)
            }
        };
        k.push((g.as_str().to_owned(), code));
        names.insert(g.as_str().to_owned(), name);
    }
    (k, names)
}
