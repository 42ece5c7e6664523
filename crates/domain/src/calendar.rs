//! The working-day calendar: weekends, public holidays (solar and lunar), the government's
//! yearly decisions (Tết span, swapped days, make-up Saturdays, compensatory days) and office
//! hours; and from them, deadlines (docs/domain.md §Working time and deadlines).
//!
//! A year's days off come from an explicit table when one exists (shipped official data, or an
//! admin's edit), otherwise from the computed rules of the Labour Code 2019.

use crate::lunar::{self, LunarDate};
use crate::{Error, Errors};
use chrono::{
    DateTime, Datelike, Days, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc, Weekday,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// What a dated calendar entry is. Every key but `makeup_workday` is a day off.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKey {
    NewYear,
    Tet,
    HungKings,
    Reunification,
    LabourDay,
    NationalDay,
    CultureDay,
    /// A day off given for a holiday that fell on a weekend.
    Compensatory,
    /// A working day given off in a swap (worked back on a `makeup_workday`).
    SwapOff,
    /// A Saturday or Sunday that is worked.
    MakeupWorkday,
}

impl HolidayKey {
    pub fn is_day_off(self) -> bool {
        self != HolidayKey::MakeupWorkday
    }

    /// The key's default Vietnamese name.
    pub fn default_name(self) -> &'static str {
        match self {
            HolidayKey::NewYear => "Tết Dương lịch",
            HolidayKey::Tet => "Tết Nguyên đán",
            HolidayKey::HungKings => "Giỗ Tổ Hùng Vương",
            HolidayKey::Reunification => "Ngày Chiến thắng",
            HolidayKey::LabourDay => "Ngày Quốc tế Lao động",
            HolidayKey::NationalDay => "Quốc khánh",
            HolidayKey::CultureDay => "Ngày Văn hóa Việt Nam",
            HolidayKey::Compensatory => "Nghỉ bù",
            HolidayKey::SwapOff => "Nghỉ hoán đổi",
            HolidayKey::MakeupWorkday => "Làm bù",
        }
    }

    /// Holidays of the Labour Code that earn a compensatory day when they fall on a weekend.
    fn is_public_holiday(self) -> bool {
        !matches!(
            self,
            HolidayKey::Compensatory | HolidayKey::SwapOff | HolidayKey::MakeupWorkday
        )
    }
}

/// One dated entry of a year's table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarEntry {
    #[schema(value_type = String, format = Date, example = "2025-01-29")]
    pub date: NaiveDate,
    pub key: HolidayKey,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The explicit table of one year: it replaces the computed rules for that year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YearTable {
    pub year: i32,
    /// Where the table comes from (an official announcement, an admin's edit).
    pub source: String,
    pub entries: Vec<CalendarEntry>,
}

impl YearTable {
    /// Checks the table: every date in its year, one entry a date, make-up days on weekends,
    /// names present. Normalises names to NFC and sorts entries by date.
    pub fn validate(mut self) -> Result<Self, Error> {
        let mut errs = Errors::new();
        if !(1900..=2100).contains(&self.year) {
            errs.add(
                "year",
                "Năm phải trong khoảng 1900–2100",
                "year must be within 1900–2100",
            );
        }
        let mut seen = BTreeSet::new();
        for (i, e) in self.entries.iter_mut().enumerate() {
            let f = format!("entries[{i}]");
            e.name = crate::text::clean(&e.name);
            if e.name.is_empty() {
                e.name = e.key.default_name().to_owned();
            }
            if e.date.year() != self.year {
                errs.add(
                    format!("{f}.date"),
                    format!("Ngày {} không thuộc năm {}", e.date, self.year),
                    format!("date {} is not in year {}", e.date, self.year),
                );
            }
            if !seen.insert(e.date) {
                errs.add(
                    format!("{f}.date"),
                    format!("Ngày {} xuất hiện hai lần", e.date),
                    format!("date {} appears twice", e.date),
                );
            }
            if e.key == HolidayKey::MakeupWorkday && !is_weekend(e.date) {
                errs.add(
                    format!("{f}.key"),
                    format!("Ngày làm bù {} phải là thứ Bảy hoặc Chủ nhật", e.date),
                    format!("make-up workday {} must be a Saturday or Sunday", e.date),
                );
            }
        }
        self.source = crate::text::clean(&self.source);
        errs.into_result()?;
        self.entries.sort_by_key(|e| e.date);
        Ok(self)
    }
}

/// Rules that change by law and must stay data (docs/domain.md marks them "verify").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HolidayRules {
    /// First year in which 24 November (Vietnam Culture Day) is a day off.
    pub culture_day_from: Option<i32>,
}

impl Default for HolidayRules {
    fn default() -> Self {
        Self {
            culture_day_from: Some(2026),
        }
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The entries the Labour Code's rules give for `year` when no table exists for it.
/// Lunar holidays are left out for years the lunar calendar does not cover.
pub fn computed_entries(year: i32, rules: &HolidayRules) -> Vec<CalendarEntry> {
    let mut days: Vec<(NaiveDate, HolidayKey)> = Vec::new();
    let mut push = |d: Option<NaiveDate>, k| {
        if let Some(d) = d {
            days.push((d, k));
        }
    };
    push(ymd(year, 1, 1), HolidayKey::NewYear);
    if let Ok(ny) = lunar::lunar_new_year(year) {
        // Tết: the last day of the old year and the first four days of the new one.
        for off in -1..=3i64 {
            push(
                ny.checked_add_signed(chrono::Duration::days(off)),
                HolidayKey::Tet,
            );
        }
    }
    if let Ok(hk) = lunar::to_solar(LunarDate {
        year,
        month: 3,
        day: 10,
        leap: false,
    }) {
        push(Some(hk), HolidayKey::HungKings);
    }
    push(ymd(year, 4, 30), HolidayKey::Reunification);
    push(ymd(year, 5, 1), HolidayKey::LabourDay);
    push(ymd(year, 9, 2), HolidayKey::NationalDay);
    // National Day's adjacent day: 1 September, or 3 September when the 2nd is a Monday
    // or a Sunday (so that the break joins a weekend).
    let adjacent = match ymd(year, 9, 2).map(|d| d.weekday()) {
        Some(Weekday::Mon | Weekday::Sun) => ymd(year, 9, 3),
        _ => ymd(year, 9, 1),
    };
    push(adjacent, HolidayKey::NationalDay);
    if rules.culture_day_from.is_some_and(|y| year >= y) {
        push(ymd(year, 11, 24), HolidayKey::CultureDay);
    }
    days.sort();
    let taken: BTreeSet<NaiveDate> = days.iter().map(|(d, _)| *d).collect();
    let mut comp: BTreeSet<NaiveDate> = BTreeSet::new();
    for (d, k) in &days {
        if k.is_public_holiday() && is_weekend(*d) {
            let mut c = *d;
            while let Some(n) = c.succ_opt() {
                c = n;
                if !is_weekend(c) && !taken.contains(&c) && !comp.contains(&c) {
                    comp.insert(c);
                    break;
                }
            }
        }
    }
    let mut out: Vec<CalendarEntry> = days
        .into_iter()
        .map(|(date, key)| CalendarEntry {
            date,
            key,
            name: key.default_name().to_owned(),
            note: None,
        })
        .chain(comp.into_iter().map(|date| CalendarEntry {
            date,
            key: HolidayKey::Compensatory,
            name: HolidayKey::Compensatory.default_name().to_owned(),
            note: None,
        }))
        .filter(|e| e.date.year() == year)
        .collect();
    out.sort_by_key(|e| e.date);
    out
}

/// The official tables shipped with motcua (2024–2026), from the government's announcements.
pub fn official_tables() -> Result<Vec<YearTable>, Error> {
    let tables: Vec<YearTable> = serde_json::from_str(include_str!("official_calendar.json"))
        .map_err(|e| {
            Error::field(
                "official_calendar.json",
                format!("Dữ liệu lịch kèm theo bị lỗi: {e}"),
                format!("shipped calendar data is invalid: {e}"),
            )
        })?;
    tables.into_iter().map(YearTable::validate).collect()
}

/// Office hours of the province: sessions of a working day, the intake cut-off, time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OfficeHours {
    /// Working sessions of a day, in order, e.g. 07:30–11:30 and 13:00–17:00.
    #[schema(value_type = Vec<Vec<String>>)]
    pub sessions: Vec<(NaiveTime, NaiveTime)>,
    /// A dossier received at or after this time counts from the next working day.
    #[schema(value_type = String, example = "15:00:00")]
    pub cutoff: NaiveTime,
    /// Offset of local time from UTC, in minutes (Vietnam: 420).
    pub utc_offset_minutes: i32,
}

impl Default for OfficeHours {
    fn default() -> Self {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
        Self {
            sessions: vec![(t(7, 30), t(11, 30)), (t(13, 0), t(17, 0))],
            cutoff: t(15, 0),
            utc_offset_minutes: 7 * 60,
        }
    }
}

impl OfficeHours {
    /// Office minutes in one working day.
    pub fn minutes_per_day(&self) -> i64 {
        self.sessions
            .iter()
            .map(|(a, b)| (*b - *a).num_minutes())
            .sum()
    }

    pub fn validate(self) -> Result<Self, Error> {
        let mut errs = Errors::new();
        if self.sessions.is_empty() {
            errs.add(
                "sessions",
                "Phải có ít nhất một buổi làm việc",
                "at least one working session is required",
            );
        }
        let mut prev_end = NaiveTime::MIN;
        for (i, (s, e)) in self.sessions.iter().enumerate() {
            if s >= e || (i > 0 && *s < prev_end) {
                errs.add(
                    format!("sessions[{i}]"),
                    "Các buổi làm việc phải theo thứ tự và không chồng lấn",
                    "working sessions must be in order and must not overlap",
                );
            }
            prev_end = *e;
        }
        if !(-12 * 60..=14 * 60).contains(&self.utc_offset_minutes) {
            errs.add(
                "utc_offset_minutes",
                "Độ lệch múi giờ không hợp lệ",
                "invalid UTC offset",
            );
        }
        errs.into_result()?;
        Ok(self)
    }

    pub fn offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.utc_offset_minutes * 60)
            .or_else(|| FixedOffset::east_opt(7 * 3600))
            .unwrap_or(FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()))
    }

    fn close(&self) -> NaiveTime {
        self.sessions.last().map_or(NaiveTime::MIN, |s| s.1)
    }
}

/// Unit of a procedure's time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    WorkingDays,
    CalendarDays,
    WorkingHours,
    SameDay,
    /// Calendar months (a few catalogue entries say "N tháng").
    Months,
}

/// A procedure's (or a step's) time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeLimit {
    pub value: u32,
    pub unit: TimeUnit,
}

impl TimeLimit {
    pub fn working_days(n: u32) -> Self {
        Self {
            value: n,
            unit: TimeUnit::WorkingDays,
        }
    }

    /// The one limit given among working days, working hours and calendar days (as asked for
    /// by the `due` command and endpoint); `None` unless exactly one is given.
    pub fn one_of(
        working_days: Option<u32>,
        working_hours: Option<u32>,
        calendar_days: Option<u32>,
    ) -> Option<Self> {
        let (value, unit) = match (working_days, working_hours, calendar_days) {
            (Some(n), None, None) => (n, TimeUnit::WorkingDays),
            (None, Some(n), None) => (n, TimeUnit::WorkingHours),
            (None, None, Some(n)) => (n, TimeUnit::CalendarDays),
            _ => return None,
        };
        Some(Self { value, unit })
    }
}

const FIRST_CACHED_YEAR: i32 = 1900;
const LAST_CACHED_YEAR: i32 = 2100;
/// A loop over days gives up after this many (an admin could, in theory, mark whole years off).
const MAX_DAYS_SCANNED: u32 = 40_000;

/// The working calendar: which days are worked, and deadlines on them.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    rules: HolidayRules,
    tables: BTreeMap<i32, YearTable>,
    hours: OfficeHours,
    /// Working-day flags by day of year, built on first use for each year.
    cache: Vec<OnceLock<Vec<bool>>>,
}

impl Default for WorkCalendar {
    fn default() -> Self {
        Self::new(HolidayRules::default(), OfficeHours::default(), Vec::new())
    }
}

impl WorkCalendar {
    pub fn new(rules: HolidayRules, hours: OfficeHours, tables: Vec<YearTable>) -> Self {
        let n = (LAST_CACHED_YEAR - FIRST_CACHED_YEAR + 1) as usize;
        Self {
            rules,
            tables: tables.into_iter().map(|t| (t.year, t)).collect(),
            hours,
            cache: (0..n).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The calendar with the shipped official tables and default office hours.
    pub fn official() -> Result<Self, Error> {
        Ok(Self::new(
            HolidayRules::default(),
            OfficeHours::default(),
            official_tables()?,
        ))
    }

    pub fn hours(&self) -> &OfficeHours {
        &self.hours
    }

    /// The explicit table of `year`, if any.
    pub fn table(&self, year: i32) -> Option<&YearTable> {
        self.tables.get(&year)
    }

    /// The year's entries: its table's, or the computed ones.
    pub fn entries(&self, year: i32) -> Vec<CalendarEntry> {
        match self.tables.get(&year) {
            Some(t) => t.entries.clone(),
            None => computed_entries(year, &self.rules),
        }
    }

    fn build_year(&self, year: i32) -> Vec<bool> {
        let Some(jan1) = ymd(year, 1, 1) else {
            return Vec::new();
        };
        let len = jan1.leap_year() as usize + 365;
        let mut flags: Vec<bool> = (0..len as u64)
            .map(|i| {
                jan1.checked_add_days(Days::new(i))
                    .is_some_and(|d| !is_weekend(d))
            })
            .collect();
        for e in self.entries(year) {
            if let Some(f) = flags.get_mut(e.date.ordinal0() as usize) {
                *f = !e.key.is_day_off();
            }
        }
        flags
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        let y = d.year();
        let idx = d.ordinal0() as usize;
        if (FIRST_CACHED_YEAR..=LAST_CACHED_YEAR).contains(&y) {
            let flags =
                self.cache[(y - FIRST_CACHED_YEAR) as usize].get_or_init(|| self.build_year(y));
            flags.get(idx).copied().unwrap_or(false)
        } else {
            self.build_year(y).get(idx).copied().unwrap_or(false)
        }
    }

    /// The first working day strictly after `d`.
    pub fn next_working_day(&self, d: NaiveDate) -> NaiveDate {
        self.add_working_days(d, 1)
    }

    /// The `n`-th working day after `d` (the first day is not counted); `d` itself for 0.
    pub fn add_working_days(&self, d: NaiveDate, n: u32) -> NaiveDate {
        let mut day = d;
        let mut left = n;
        let mut scanned = 0;
        while left > 0 && scanned < MAX_DAYS_SCANNED {
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
            scanned += 1;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// The number of working days in (`from`, `to`]; negative when `to` is before `from`.
    /// Agrees with [`Self::add_working_days`]: `between(d, add(d, n)) == n`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (a, b, sign) = if to >= from {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut n = 0i64;
        let mut day = a;
        while day < b {
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
            if self.is_working_day(day) {
                n += 1;
            }
        }
        sign * n
    }

    /// Local (office) date and time of an instant (never panics at the ends of time).
    pub fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        let offset = chrono::Duration::seconds(i64::from(self.hours.offset().local_minus_utc()));
        t.naive_utc()
            .checked_add_signed(offset)
            .unwrap_or_else(|| t.naive_utc())
    }

    /// Whether deadlines can be computed around `t`: its date is within the calendar's range
    /// (1900-01-31 – 2100-12-31), with a year's margin for limits and extensions.
    pub fn supports(&self, t: DateTime<Utc>) -> bool {
        let (first, last) = crate::lunar::supported_range();
        let d = t.date_naive();
        d >= first && d.year() < last.year()
    }

    /// The UTC instant of a local date and time.
    pub fn instant(&self, d: NaiveDate, t: NaiveTime) -> DateTime<Utc> {
        let local = d.and_time(t);
        match self.hours.offset().from_local_datetime(&local) {
            chrono::LocalResult::Single(x) | chrono::LocalResult::Ambiguous(x, _) => {
                x.with_timezone(&Utc)
            }
            chrono::LocalResult::None => Utc.from_utc_datetime(&local),
        }
    }

    /// Close of office hours on `d`.
    pub fn close_of(&self, d: NaiveDate) -> DateTime<Utc> {
        self.instant(d, self.hours.close())
    }

    /// The day a dossier counts from: the day of receipt if it is a working day and the dossier
    /// came before the cut-off, otherwise the next working day.
    pub fn effective_receipt_day(&self, received: DateTime<Utc>) -> NaiveDate {
        let local = self.local(received);
        let day = local.date();
        if self.is_working_day(day) && local.time() < self.hours.cutoff {
            day
        } else {
            self.next_working_day(day)
        }
    }

    /// Adds `minutes` of office time to `start` (from the next opening time if `start` is
    /// outside office hours).
    pub fn add_working_minutes(&self, start: DateTime<Utc>, minutes: u64) -> DateTime<Utc> {
        let local = self.local(start);
        let mut day = local.date();
        let mut from = local.time();
        let mut left = minutes as i64;
        for _ in 0..MAX_DAYS_SCANNED {
            if self.is_working_day(day) {
                for (s, e) in &self.hours.sessions {
                    let seg = from.max(*s);
                    if seg >= *e {
                        continue;
                    }
                    let avail = (*e - seg).num_minutes();
                    if left <= avail {
                        return self.instant(day, seg) + chrono::Duration::minutes(left);
                    }
                    left -= avail;
                }
            }
            match day.succ_opt() {
                Some(n) => day = n,
                None => break,
            }
            from = NaiveTime::MIN;
        }
        self.instant(day, from)
    }

    /// Office minutes between two instants (0 if `b` is not after `a`).
    pub fn working_minutes_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        if b <= a {
            return 0;
        }
        let (la, lb) = (self.local(a), self.local(b));
        let mut total = 0;
        let mut day = la.date();
        while day <= lb.date() {
            if self.is_working_day(day) {
                for (s, e) in &self.hours.sessions {
                    let lo = if day == la.date() {
                        la.time().max(*s)
                    } else {
                        *s
                    };
                    let hi = if day == lb.date() {
                        lb.time().min(*e)
                    } else {
                        *e
                    };
                    if hi > lo {
                        total += (hi - lo).num_minutes();
                    }
                }
            }
            match day.succ_opt() {
                Some(n) => day = n,
                None => break,
            }
        }
        total
    }

    /// The due instant of a time limit for a dossier received at `received`.
    pub fn due(&self, received: DateTime<Utc>, limit: TimeLimit) -> DateTime<Utc> {
        let day = self.effective_receipt_day(received);
        let roll = |d: NaiveDate| {
            if self.is_working_day(d) {
                d
            } else {
                self.next_working_day(d)
            }
        };
        match limit.unit {
            TimeUnit::WorkingDays => self.close_of(self.add_working_days(day, limit.value)),
            TimeUnit::SameDay => self.close_of(day),
            TimeUnit::CalendarDays => {
                let d = day
                    .checked_add_days(Days::new(u64::from(limit.value)))
                    .unwrap_or(day);
                self.close_of(roll(d))
            }
            TimeUnit::Months => {
                let d = day
                    .checked_add_months(Months::new(limit.value))
                    .unwrap_or(day);
                self.close_of(roll(d))
            }
            TimeUnit::WorkingHours => {
                self.add_working_minutes(received, u64::from(limit.value) * 60)
            }
        }
    }

    /// `t` shown in the office's time zone.
    pub fn to_local_fixed(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&self.hours.offset())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cal() -> WorkCalendar {
        WorkCalendar::official().unwrap()
    }

    fn due_wd(c: &WorkCalendar, start: &str, n: u32) -> String {
        c.to_local_fixed(c.due(at(start), TimeLimit::working_days(n)))
            .to_rfc3339()
    }

    #[test]
    fn official_tables_parse() {
        let t = official_tables().unwrap();
        assert_eq!(
            t.iter().map(|t| t.year).collect::<Vec<_>>(),
            vec![2024, 2025, 2026]
        );
    }

    #[test]
    fn tet_2025_deadline() {
        let c = cal();
        // docs/domain.md's example: Friday 24 January 2025 09:00 + 5 working days.
        assert_eq!(
            due_wd(&c, "2025-01-24T09:00:00+07:00", 5),
            "2025-02-07T17:00:00+07:00"
        );
        // The day before Tết is itself a day off: counting starts on Monday 3 February.
        assert_eq!(
            due_wd(&c, "2025-01-28T10:00:00+07:00", 5),
            "2025-02-10T17:00:00+07:00"
        );
        for day in [27, 28, 29, 30, 31] {
            assert!(!c.is_working_day(d(2025, 1, day)), "{day}");
        }
        assert!(c.is_working_day(d(2025, 2, 3)));
    }

    #[test]
    fn tet_2026_deadline() {
        let c = cal();
        assert_eq!(
            due_wd(&c, "2026-02-13T14:00:00+07:00", 5),
            "2026-02-27T17:00:00+07:00"
        );
        // After the cut-off on Friday, counting starts the next working day (Monday 23).
        assert_eq!(
            due_wd(&c, "2026-02-13T15:30:00+07:00", 1),
            "2026-02-24T17:00:00+07:00"
        );
    }

    #[test]
    fn makeup_saturday_is_worked() {
        let c = cal();
        assert!(c.is_working_day(d(2025, 4, 26)));
        assert!(!c.is_working_day(d(2025, 4, 19)));
        assert_eq!(
            due_wd(&c, "2025-04-25T09:00:00+07:00", 1),
            "2025-04-26T17:00:00+07:00"
        );
        assert!(c.is_working_day(d(2026, 8, 22)));
        assert!(!c.is_working_day(d(2026, 8, 31)));
    }

    #[test]
    fn deadline_crosses_30_april_and_1_may() {
        let c = cal();
        // 30/4, 1/5 and the swapped Friday 2/5 are off; the weekend too.
        assert_eq!(
            due_wd(&c, "2025-04-29T10:00:00+07:00", 3),
            "2025-05-07T17:00:00+07:00"
        );
        // 2026: Thursday 30/4 and Friday 1/5.
        assert_eq!(
            due_wd(&c, "2026-04-29T10:00:00+07:00", 1),
            "2026-05-04T17:00:00+07:00"
        );
    }

    #[test]
    fn deadline_crosses_national_day() {
        let c = cal();
        assert_eq!(
            due_wd(&c, "2025-08-29T10:00:00+07:00", 2),
            "2025-09-04T17:00:00+07:00"
        );
        // 2026: Monday 31/8 swapped off, 1/9 and 2/9 National Day.
        assert_eq!(
            due_wd(&c, "2026-08-28T10:00:00+07:00", 1),
            "2026-09-03T17:00:00+07:00"
        );
    }

    #[test]
    fn hung_kings_2026_on_sunday_gives_monday() {
        let c = cal();
        assert!(!c.is_working_day(d(2026, 4, 27)));
        // The computed rules agree with the official table.
        let computed = computed_entries(2026, &HolidayRules::default());
        assert!(
            computed
                .iter()
                .any(|e| e.date == d(2026, 4, 27) && e.key == HolidayKey::Compensatory)
        );
    }

    #[test]
    fn computed_rules_for_a_year_without_table() {
        let c = cal();
        let e = c.entries(2027);
        // Tết 2027: lunar new year on 6 February 2027 (Saturday).
        assert!(
            e.iter()
                .any(|x| x.date == d(2027, 2, 6) && x.key == HolidayKey::Tet)
        );
        assert!(e.iter().any(|x| x.key == HolidayKey::Compensatory));
        assert!(
            e.iter()
                .any(|x| x.date == d(2027, 11, 24) && x.key == HolidayKey::CultureDay)
        );
        assert!(!c.is_working_day(d(2027, 2, 5)));
    }

    #[test]
    fn working_hours() {
        let c = cal();
        let h = |s, n| {
            c.to_local_fixed(c.due(
                at(s),
                TimeLimit {
                    value: n,
                    unit: TimeUnit::WorkingHours,
                },
            ))
            .to_rfc3339()
        };
        assert_eq!(
            h("2025-03-03T09:00:00+07:00", 4),
            "2025-03-03T14:30:00+07:00"
        );
        // Received at night: counts from the next opening (Tuesday 07:30).
        assert_eq!(
            h("2025-03-03T20:00:00+07:00", 8),
            "2025-03-04T17:00:00+07:00"
        );
        // Friday 16:00 + 2 h: Monday 08:30.
        assert_eq!(
            h("2025-03-07T16:00:00+07:00", 2),
            "2025-03-10T08:30:00+07:00"
        );
        assert_eq!(
            c.working_minutes_between(
                at("2025-03-07T16:00:00+07:00"),
                at("2025-03-10T08:30:00+07:00")
            ),
            120
        );
    }

    #[test]
    fn same_day_and_calendar_days() {
        let c = cal();
        let lim = |value, unit| TimeLimit { value, unit };
        let due = |s, l| c.to_local_fixed(c.due(at(s), l)).to_rfc3339();
        assert_eq!(
            due("2025-03-03T09:00:00+07:00", lim(0, TimeUnit::SameDay)),
            "2025-03-03T17:00:00+07:00"
        );
        assert_eq!(
            due("2025-03-03T16:00:00+07:00", lim(0, TimeUnit::SameDay)),
            "2025-03-04T17:00:00+07:00"
        );
        // 7 calendar days from Monday 3 March land on Monday 10 March.
        assert_eq!(
            due("2025-03-03T09:00:00+07:00", lim(7, TimeUnit::CalendarDays)),
            "2025-03-10T17:00:00+07:00"
        );
        // Landing on a Sunday rolls to Monday.
        assert_eq!(
            due("2025-03-03T09:00:00+07:00", lim(6, TimeUnit::CalendarDays)),
            "2025-03-10T17:00:00+07:00"
        );
    }

    #[test]
    fn table_validation() {
        let t = YearTable {
            year: 2025,
            source: "x".into(),
            entries: vec![
                CalendarEntry {
                    date: d(2025, 4, 28),
                    key: HolidayKey::MakeupWorkday,
                    name: "".into(),
                    note: None,
                },
                CalendarEntry {
                    date: d(2024, 4, 28),
                    key: HolidayKey::Tet,
                    name: "".into(),
                    note: None,
                },
            ],
        };
        let Err(Error::Invalid(errs)) = t.validate() else {
            panic!("accepted")
        };
        assert_eq!(errs.len(), 2);
    }

    proptest! {
        #[test]
        fn add_never_lands_on_a_day_off(days in 0u32..73_000, n in 1u32..80) {
            let c = cal();
            let start = d(1901, 1, 1) + Days::new(u64::from(days));
            let due = c.add_working_days(start, n);
            prop_assert!(c.is_working_day(due));
            prop_assert!(due > start);
        }

        #[test]
        fn counting_and_adding_agree(days in 0u32..73_000, n in 0u32..80) {
            let c = cal();
            let start = d(1901, 1, 1) + Days::new(u64::from(days));
            let due = c.add_working_days(start, n);
            prop_assert_eq!(c.working_days_between(start, due), i64::from(n));
            prop_assert_eq!(c.working_days_between(due, start), -i64::from(n));
        }

        #[test]
        fn hours_are_counted_back(mins in 0i64..(60 * 24 * 400), n in 0u64..(60 * 200)) {
            let c = cal();
            let start = at("2024-01-01T00:00:00+07:00") + chrono::Duration::minutes(mins);
            let due = c.add_working_minutes(start, n);
            prop_assert_eq!(c.working_minutes_between(start, due), n as i64);
        }
    }
}
