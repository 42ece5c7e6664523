//! Statistics (docs/domain.md §Statistics): what one dossier contributes to the figures, folded
//! from its typed events, and the report's figures and rates built from summed counts.
//!
//! A counted dossier is one an applicant filed (an inter-agency child case is never counted:
//! its parent is) that was received. Its [`Facts`] are a fold of its events; its
//! [`Attributes`] (digitised, reused, electronic result, paid online) come from the
//! digitisation and signing records. [`contributions`] turns both into counts per calendar
//! month (local time, UTC+7), so that a store can keep monthly sums up to date by adding the
//! difference between a dossier's old and new contributions, and recompute them from scratch.

use crate::catalogue::Channel;
use crate::dossier::{DossierEvent, Satisfaction, Timeliness};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Vietnam's offset: months and days of the figures are local.
const VN: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(o) => o,
    None => panic!("UTC+7 is a valid offset"),
};

fn vn() -> FixedOffset {
    VN
}

/// An instant in Vietnam's local time.
pub fn local_time(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&vn())
}

/// The local calendar day of an instant.
pub fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&vn()).date_naive()
}

/// The month of an instant as `yyyymm` (local time).
pub fn month_of(at: DateTime<Utc>) -> i32 {
    let d = local_day(at);
    d.year() * 100 + i32::try_from(d.month()).unwrap_or(1)
}

/// The first day of a `yyyymm` month.
pub fn month_first_day(month: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(month / 100, u32::try_from(month % 100).ok()?, 1)
}

/// The month after a `yyyymm` month.
pub fn next_month(month: i32) -> i32 {
    if month % 100 >= 12 {
        (month / 100 + 1) * 100 + 1
    } else {
        month + 1
    }
}

/// The instant a local day starts (00:00 at UTC+7).
pub fn day_start(day: NaiveDate) -> DateTime<Utc> {
    match vn().from_local_datetime(&day.and_time(chrono::NaiveTime::MIN)) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        _ => day.and_time(chrono::NaiveTime::MIN).and_utc(),
    }
}

/// The instant a `yyyymm` month starts.
pub fn month_start(month: i32) -> Option<DateTime<Utc>> {
    month_first_day(month).map(day_start)
}

/// How a counted dossier ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Early,
    OnTime,
    Late,
    /// Refused during processing (notice of stopping).
    Refused,
    /// Withdrawn by the applicant (or otherwise stopped).
    Withdrawn,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Early => "early",
            Outcome::OnTime => "on_time",
            Outcome::Late => "late",
            Outcome::Refused => "refused",
            Outcome::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [
            Outcome::Early,
            Outcome::OnTime,
            Outcome::Late,
            Outcome::Refused,
            Outcome::Withdrawn,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }

    /// Resolved (a result was decided), as opposed to refused or withdrawn.
    pub fn is_resolved(self) -> bool {
        matches!(self, Outcome::Early | Outcome::OnTime | Outcome::Late)
    }

    fn measure(self) -> Measure {
        match self {
            Outcome::Early => Measure::Early,
            Outcome::OnTime => Measure::OnTime,
            Outcome::Late => Measure::Late,
            Outcome::Refused => Measure::Refused,
            Outcome::Withdrawn => Measure::Withdrawn,
        }
    }
}

/// The times of one dossier that the figures read, folded from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// When it was received (never, if refused at intake or withdrawn before).
    pub received_at: Option<DateTime<Utc>>,
    /// The current appointment.
    pub due_at: Option<DateTime<Utc>>,
    /// Since when the deadline clock is stopped (awaiting a supplement, or a payment that
    /// stops the clock).
    pub waiting_since: Option<DateTime<Utc>>,
    /// The instant it became overdue (its appointment then): once passed, it never moves. While
    /// it lies ahead, it follows the appointment; `None` while the clock is stopped before the
    /// appointment, or when the dossier ended in time.
    pub overdue_since: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    /// When a supplement was first requested.
    pub first_supplement_at: Option<DateTime<Utc>>,
    /// Paid its fees online.
    pub paid_online: bool,
    /// The applicant's rating, and when it was given.
    pub rating: Option<Satisfaction>,
    pub rated_at: Option<DateTime<Utc>>,
}

impl Facts {
    /// Folds one event, recorded at `at`.
    pub fn apply(&mut self, event: &DossierEvent, at: DateTime<Utc>) {
        if let DossierEvent::Rated { level, .. } = event {
            if self.rating.is_none() {
                self.rating = Some(*level);
                self.rated_at = Some(at);
            }
            return;
        }
        if self.ended_at.is_some() {
            // Returning or collecting the result changes no figure.
            return;
        }
        match event {
            DossierEvent::Received { due_at, .. } | DossierEvent::Accepted { due_at, .. } => {
                self.received_at = Some(at);
                self.due_at = *due_at;
            }
            DossierEvent::SupplementRequested { .. } => {
                if self.first_supplement_at.is_none() {
                    self.first_supplement_at = Some(at);
                }
                self.settle(at);
                self.waiting_since.get_or_insert(at);
            }
            DossierEvent::Paused { clock_stopped, .. } => {
                self.settle(at);
                if *clock_stopped {
                    self.waiting_since.get_or_insert(at);
                }
            }
            DossierEvent::SupplementReceived { due_at, .. } => {
                self.waiting_since = None;
                if due_at.is_some() {
                    self.due_at = *due_at;
                }
            }
            DossierEvent::Resumed {
                due_at,
                paid_online,
                ..
            } => {
                self.waiting_since = None;
                if due_at.is_some() {
                    self.due_at = *due_at;
                }
                self.paid_online |= *paid_online;
            }
            DossierEvent::Extended { new_due_at, .. } => self.due_at = Some(*new_due_at),
            DossierEvent::Refused { at_intake, .. }
                if !*at_intake && self.received_at.is_some() =>
            {
                self.end(at, Outcome::Refused);
            }
            DossierEvent::WithdrawalConfirmed {} if self.received_at.is_some() => {
                self.end(at, Outcome::Withdrawn);
            }
            DossierEvent::Approved { timeliness } if self.received_at.is_some() => {
                let t = timeliness.unwrap_or_else(|| self.timeliness_at(at));
                self.end(
                    at,
                    match t {
                        Timeliness::Early => Outcome::Early,
                        Timeliness::OnTime => Outcome::OnTime,
                        Timeliness::Late => Outcome::Late,
                    },
                );
            }
            _ => {}
        }
        self.settle(at);
    }

    fn end(&mut self, at: DateTime<Utc>, outcome: Outcome) {
        self.settle(at);
        self.ended_at = Some(at);
        self.outcome = Some(outcome);
    }

    /// The rule of §Statistics for an approval event that carries no class (old records).
    fn timeliness_at(&self, end: DateTime<Utc>) -> Timeliness {
        let end = self.waiting_since.unwrap_or(end);
        match self.due_at {
            None => Timeliness::OnTime,
            Some(due) if local_day(end) < local_day(due) => Timeliness::Early,
            Some(due) if end <= due => Timeliness::OnTime,
            Some(_) => Timeliness::Late,
        }
    }

    /// Re-derives `overdue_since` after a change at `at`: fixed once passed.
    fn settle(&mut self, at: DateTime<Utc>) {
        if self.overdue_since.is_some_and(|s| s < at) {
            return;
        }
        self.overdue_since = match (self.received_at, self.due_at) {
            (Some(_), Some(due)) => {
                // Measured up to the instant the clock stopped, or to the end.
                match self.waiting_since.or(self.ended_at) {
                    Some(until) => (until > due).then_some(due),
                    None => Some(due),
                }
            }
            _ => None,
        };
    }

    /// Open (received, not ended) at instant `t`.
    pub fn open_at(&self, t: DateTime<Utc>) -> bool {
        self.received_at.is_some_and(|r| r < t) && self.ended_at.is_none_or(|e| e >= t)
    }

    /// Open and past its appointment at instant `t`.
    pub fn overdue_at(&self, t: DateTime<Utc>) -> bool {
        self.open_at(t) && self.overdue_since.is_some_and(|s| s < t)
    }
}

/// What the digitisation and signing records say of a counted dossier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    /// Every component it was received with is electronic: filed online, digitised or taken
    /// from the applicant's warehouse.
    pub digitised: bool,
    /// At least one component was taken from the warehouse.
    pub reused: bool,
    /// Its result was digitised (scanned and confirmed).
    pub result_digitised: bool,
    /// Its result was issued electronically (signed).
    pub result_electronic: bool,
}

impl Attributes {
    /// The attributes from the counts of a dossier's records: components digitised or reused
    /// (distinct indexes), reuse records, result digitisations and signed results.
    pub fn from_counts(
        online: bool,
        components: i64,
        electronic_components: i64,
        reused: i64,
        results_digitised: i64,
        results_signed: i64,
    ) -> Attributes {
        Attributes {
            digitised: online || electronic_components >= components,
            reused: reused > 0,
            result_digitised: results_digitised > 0,
            result_electronic: results_signed > 0,
        }
    }
}

/// The counted measures, in the order of the aggregate table's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    /// Received in the month.
    Received,
    Early,
    OnTime,
    Late,
    Refused,
    Withdrawn,
    /// Became overdue in the month.
    OverdueBegan,
    /// Ended in the month while overdue.
    OverdueEnded,
    /// Open at the month's first instant (ended dossiers only; open ones are counted live).
    OpenAtStart,
    /// Overdue at the month's first instant (ended dossiers only).
    OverdueAtStart,
    /// A supplement was first requested in the month.
    Supplements,
    /// Received in the month with every component electronic.
    Digitised,
    /// Received in the month with a reused component.
    Reused,
    /// Received in the month and paid online.
    PaidOnline,
    /// Resolved in the month with a digitised result.
    ResultDigitised,
    /// Resolved in the month with an electronic result.
    ResultElectronic,
    /// Rated in the month, by level.
    VerySatisfied,
    Satisfied,
    Unsatisfied,
}

impl Measure {
    pub const ALL: [Measure; 19] = [
        Measure::Received,
        Measure::Early,
        Measure::OnTime,
        Measure::Late,
        Measure::Refused,
        Measure::Withdrawn,
        Measure::OverdueBegan,
        Measure::OverdueEnded,
        Measure::OpenAtStart,
        Measure::OverdueAtStart,
        Measure::Supplements,
        Measure::Digitised,
        Measure::Reused,
        Measure::PaidOnline,
        Measure::ResultDigitised,
        Measure::ResultElectronic,
        Measure::VerySatisfied,
        Measure::Satisfied,
        Measure::Unsatisfied,
    ];

    /// The aggregate table's column.
    pub fn column(self) -> &'static str {
        match self {
            Measure::Received => "received",
            Measure::Early => "early",
            Measure::OnTime => "on_time",
            Measure::Late => "late",
            Measure::Refused => "refused",
            Measure::Withdrawn => "withdrawn",
            Measure::OverdueBegan => "overdue_began",
            Measure::OverdueEnded => "overdue_ended",
            Measure::OpenAtStart => "open_at_start",
            Measure::OverdueAtStart => "overdue_at_start",
            Measure::Supplements => "supplements",
            Measure::Digitised => "digitised",
            Measure::Reused => "reused",
            Measure::PaidOnline => "paid_online",
            Measure::ResultDigitised => "result_digitised",
            Measure::ResultElectronic => "result_electronic",
            Measure::VerySatisfied => "very_satisfied",
            Measure::Satisfied => "satisfied",
            Measure::Unsatisfied => "unsatisfied",
        }
    }

    fn index(self) -> usize {
        Measure::ALL.iter().position(|m| *m == self).unwrap_or(0)
    }
}

/// Counts of every [`Measure`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts(pub [i64; 19]);

impl Counts {
    pub fn get(&self, m: Measure) -> i64 {
        self.0[m.index()]
    }

    pub fn add(&mut self, m: Measure, n: i64) {
        self.0[m.index()] += n;
    }

    pub fn add_all(&mut self, other: &Counts, sign: i64) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a += sign * b;
        }
    }

    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|n| *n == 0)
    }
}

/// What one counted dossier adds to each month, merged by month.
pub fn contributions(f: &Facts, a: &Attributes) -> Vec<(i32, Counts)> {
    let mut out: Vec<(i32, Counts)> = Vec::new();
    let mut add = |at: DateTime<Utc>, m: Measure| {
        let month = month_of(at);
        match out.iter_mut().find(|(k, _)| *k == month) {
            Some((_, c)) => c.add(m, 1),
            None => {
                let mut c = Counts::default();
                c.add(m, 1);
                out.push((month, c));
            }
        }
    };
    let Some(received) = f.received_at else {
        return Vec::new();
    };
    add(received, Measure::Received);
    if a.digitised {
        add(received, Measure::Digitised);
    }
    if a.reused {
        add(received, Measure::Reused);
    }
    if f.paid_online {
        add(received, Measure::PaidOnline);
    }
    if let Some(s) = f.first_supplement_at {
        add(s, Measure::Supplements);
    }
    if let (Some(level), Some(t)) = (f.rating, f.rated_at) {
        add(
            t,
            match level {
                Satisfaction::VerySatisfied => Measure::VerySatisfied,
                Satisfaction::Satisfied => Measure::Satisfied,
                Satisfaction::Unsatisfied => Measure::Unsatisfied,
            },
        );
    }
    if let Some(s) = f.overdue_since {
        add(s, Measure::OverdueBegan);
    }
    if let (Some(end), Some(outcome)) = (f.ended_at, f.outcome) {
        add(end, outcome.measure());
        if outcome.is_resolved() {
            if a.result_digitised {
                add(end, Measure::ResultDigitised);
            }
            if a.result_electronic {
                add(end, Measure::ResultElectronic);
            }
        }
        if let Some(s) = f.overdue_since {
            add(end, Measure::OverdueEnded);
            for_month_starts(s, end, |t| add(t, Measure::OverdueAtStart));
        }
        for_month_starts(received, end, |t| add(t, Measure::OpenAtStart));
    }
    out
}

/// Calls `f` with each month's first instant `t` such that `from < t <= to`.
fn for_month_starts(from: DateTime<Utc>, to: DateTime<Utc>, mut f: impl FnMut(DateTime<Utc>)) {
    let mut m = next_month(month_of(from));
    while let Some(t) = month_start(m) {
        if t > to {
            break;
        }
        if t > from {
            f(t);
        }
        m = next_month(m);
    }
}

/// The difference `new − old` of two dossiers' contributions, by month, without empty months.
pub fn delta(old: &[(i32, Counts)], new: &[(i32, Counts)]) -> Vec<(i32, Counts)> {
    let mut out: Vec<(i32, Counts)> = Vec::new();
    for (sign, side) in [(-1, old), (1, new)] {
        for (month, c) in side {
            match out.iter_mut().find(|(k, _)| k == month) {
                Some((_, acc)) => acc.add_all(c, sign),
                None => {
                    let mut acc = Counts::default();
                    acc.add_all(c, sign);
                    out.push((*month, acc));
                }
            }
        }
    }
    out.retain(|(_, c)| !c.is_zero());
    out
}

/// What of a procedure the rates depend on, as bits: its class. Reports that neither filter
/// nor group by procedure or field read sums kept per class instead of per procedure (a few
/// rows per agency instead of thousands).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcedureClass(pub u8);

impl ProcedureClass {
    /// Fully online: its online dossiers count toward the full-online rate.
    pub const FULL_ONLINE: u8 = 1;
    /// Charges fees: its dossiers count in the online-payment rate.
    pub const WITH_FEES: u8 = 2;
    /// Its result is a document: digitised and electronic results are counted.
    pub const RESULT_DOCUMENT: u8 = 4;

    /// The class of a procedure of the catalogue.
    pub fn of(p: &crate::catalogue::Procedure) -> ProcedureClass {
        let mut bits = 0;
        if p.online_level == crate::catalogue::OnlineLevel::Full {
            bits |= Self::FULL_ONLINE;
        }
        if p.fees.iter().any(|f| f.amount > 0) {
            bits |= Self::WITH_FEES;
        }
        if p.result_is_document {
            bits |= Self::RESULT_DOCUMENT;
        }
        ProcedureClass(bits)
    }

    pub fn full_online(self) -> bool {
        self.0 & Self::FULL_ONLINE != 0
    }
    pub fn with_fees(self) -> bool {
        self.0 & Self::WITH_FEES != 0
    }
    pub fn result_document(self) -> bool {
        self.0 & Self::RESULT_DOCUMENT != 0
    }
}

/// The channel's index in [`Tally::new`].
pub fn channel_index(c: Channel) -> usize {
    match c {
        Channel::Online => 0,
        Channel::Counter => 1,
        Channel::Postal => 2,
    }
}

/// Summed counts behind one group of a report: what the store adds up, before the rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub carried_over: i64,
    /// Received in the period, by channel (online, counter, postal).
    pub new: [i64; 3],
    pub early: i64,
    pub on_time: i64,
    pub late: i64,
    pub refused: i64,
    pub withdrawn: i64,
    /// Open and overdue at the end of the period.
    pub overdue: i64,
    pub supplements: i64,
    /// New online dossiers of procedures that are fully online.
    pub new_full_online: i64,
    pub digitised: i64,
    pub reused: i64,
    /// New dossiers of procedures with fees, and those of them paid online.
    pub new_with_fees: i64,
    pub paid_online: i64,
    /// Resolved dossiers of procedures whose result is a document, and those with a
    /// digitised / electronic result.
    pub resolved_documents: i64,
    pub result_digitised: i64,
    pub result_electronic: i64,
    /// Ratings given in the period, by level.
    pub very_satisfied: i64,
    pub satisfied: i64,
    pub unsatisfied: i64,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.carried_over += o.carried_over;
        for i in 0..3 {
            self.new[i] += o.new[i];
        }
        self.early += o.early;
        self.on_time += o.on_time;
        self.late += o.late;
        self.refused += o.refused;
        self.withdrawn += o.withdrawn;
        self.overdue += o.overdue;
        self.supplements += o.supplements;
        self.new_full_online += o.new_full_online;
        self.digitised += o.digitised;
        self.reused += o.reused;
        self.new_with_fees += o.new_with_fees;
        self.paid_online += o.paid_online;
        self.resolved_documents += o.resolved_documents;
        self.result_digitised += o.result_digitised;
        self.result_electronic += o.result_electronic;
        self.very_satisfied += o.very_satisfied;
        self.satisfied += o.satisfied;
        self.unsatisfied += o.unsatisfied;
    }

    pub fn new_total(&self) -> i64 {
        self.new.iter().sum()
    }

    pub fn resolved(&self) -> i64 {
        self.early + self.on_time + self.late
    }

    /// The report's figures and rates.
    pub fn figures(&self) -> Figures {
        let new = self.new_total();
        let received = self.carried_over + new;
        let resolved = self.resolved();
        let in_progress = received - resolved - self.refused - self.withdrawn;
        Figures {
            carried_over: self.carried_over,
            new: ByChannel {
                online: self.new[0],
                counter: self.new[1],
                postal: self.new[2],
            },
            received,
            resolved: Resolved {
                total: resolved,
                early: self.early,
                on_time: self.on_time,
                late: self.late,
            },
            refused: self.refused,
            withdrawn: self.withdrawn,
            in_progress: InProgress {
                total: in_progress,
                not_due: in_progress - self.overdue,
                overdue: self.overdue,
            },
            supplements_requested: self.supplements,
            satisfaction: Ratings {
                very_satisfied: self.very_satisfied,
                satisfied: self.satisfied,
                unsatisfied: self.unsatisfied,
            },
            rates: Rates {
                online: Rate::of(self.new[0], new),
                full_online: Rate::of(self.new_full_online, new),
                on_time: Rate::of(self.early + self.on_time, resolved),
                digitised_components: Rate::of(self.digitised, new),
                digitised_results: Rate::of(self.result_digitised, self.resolved_documents),
                electronic_results: Rate::of(self.result_electronic, self.resolved_documents),
                reuse: Rate::of(self.reused, new),
                online_payment: Rate::of(self.paid_online, self.new_with_fees),
                satisfaction: Rate::of(
                    self.very_satisfied + self.satisfied,
                    self.very_satisfied + self.satisfied + self.unsatisfied,
                ),
            },
        }
    }
}

/// A rate with what it is made of.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rate {
    pub numerator: i64,
    pub denominator: i64,
    /// numerator ÷ denominator, rounded to four decimals; `null` when the denominator is 0.
    pub value: Option<f64>,
}

impl Rate {
    pub fn of(numerator: i64, denominator: i64) -> Rate {
        let value = (denominator != 0).then(|| {
            #[allow(clippy::cast_precision_loss)]
            let v = numerator as f64 / denominator as f64;
            (v * 10_000.0).round() / 10_000.0
        });
        Rate {
            numerator,
            denominator,
            value,
        }
    }

    /// As a percentage with two decimals (`None` when undefined).
    pub fn percent(&self) -> Option<f64> {
        self.value.map(|v| (v * 10_000.0).round() / 100.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ByChannel {
    pub online: i64,
    pub counter: i64,
    pub postal: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resolved {
    pub total: i64,
    pub early: i64,
    pub on_time: i64,
    pub late: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InProgress {
    pub total: i64,
    pub not_due: i64,
    pub overdue: i64,
}

/// Every rate of §Statistics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rates {
    /// New online ÷ new.
    pub online: Rate,
    /// New online dossiers of fully online procedures ÷ new.
    pub full_online: Rate,
    /// (Early + on time) ÷ resolved.
    pub on_time: Rate,
    /// New dossiers with every component electronic ÷ new.
    pub digitised_components: Rate,
    /// Resolved with a digitised result ÷ resolved of procedures whose result is a document.
    pub digitised_results: Rate,
    /// Resolved with an electronic (signed) result ÷ resolved of procedures whose result is a
    /// document.
    pub electronic_results: Rate,
    /// New with a component taken from the warehouse ÷ new.
    pub reuse: Rate,
    /// New paid online ÷ new of procedures with fees.
    pub online_payment: Rate,
    /// Ratings "very satisfied" or "satisfied" ÷ ratings given in the period.
    pub satisfaction: Rate,
}

/// The applicants' ratings given in the period, by level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ratings {
    pub very_satisfied: i64,
    pub satisfied: i64,
    pub unsatisfied: i64,
}

/// The figures of one group of a report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figures {
    /// Open at the start of the period.
    pub carried_over: i64,
    /// Received in the period, by channel.
    pub new: ByChannel,
    /// Carried over + new.
    pub received: i64,
    pub resolved: Resolved,
    /// Refused during processing.
    pub refused: i64,
    /// Withdrawn (stopped at the applicant's request).
    pub withdrawn: i64,
    /// Open at the end of the period (`as_of` when earlier).
    pub in_progress: InProgress,
    /// Dossiers first asked for a supplement in the period.
    pub supplements_requested: i64,
    /// Ratings given in the period.
    pub satisfaction: Ratings,
    pub rates: Rates,
}

#[cfg(test)]
mod tests;
