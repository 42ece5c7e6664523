//! Statistics kept as dossiers change (docs/domain.md §Statistics): one row of facts per
//! counted dossier and monthly sums per (month, agency, procedure, channel), both written in the
//! transaction of the change that moves them. A report adds up whole months from the sums and
//! reads the facts for the parts of months at its edges; [`Store::stat_rebuild`] recomputes
//! everything from the dossiers' events and must give the same numbers.

use crate::{Result, Store, on_db, on_writer};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::{Dossier, DossierEvent, EventRecord};
use motcua_domain::stats::{
    Attributes, Counts, Facts, Measure, ProcedureClass, contributions, delta, month_of,
    month_start, next_month,
};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::LazyLock;

/// What the sums are kept by (besides the month).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatKey {
    /// The competent agency (the one that decides).
    pub agency: String,
    pub procedure: String,
    /// `online`, `counter` or `postal`.
    pub channel: String,
}

/// The stored facts of one counted dossier.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FactsRow {
    pub key: StatKey,
    pub components: i64,
    pub facts: Facts,
    pub attrs: Attributes,
}

impl FactsRow {
    /// The key and component count of a dossier (its facts start empty).
    pub(crate) fn of(d: &Dossier) -> FactsRow {
        FactsRow {
            key: StatKey {
                agency: d.competent_agency.as_str().to_owned(),
                procedure: d.procedure_code.as_str().to_owned(),
                channel: crate::catalogue::enum_text(&d.channel),
            },
            components: i64::try_from(d.components.iter().filter(|c| c.submitted).count())
                .unwrap_or(i64::MAX),
            facts: Facts::default(),
            attrs: Attributes::default(),
        }
    }
}

pub(crate) const FACTS_COLUMNS: &str = "agency_code, procedure_code, channel, components, received_at, due_at, \
     waiting_since, overdue_since, ended_at, outcome, first_supplement_at, paid_online, digitised, \
     reused, result_digitised, result_electronic, rating, rated_at";

/// Reads a row of [`FACTS_COLUMNS`].
macro_rules! facts_of_row {
    ($r:expr) => {{
        use sqlx::Row;
        let r = $r;
        let components: i32 = r.try_get(3usize)?;
        let outcome: Option<String> = r.try_get(9usize)?;
        let rating: Option<String> = r.try_get(16usize)?;
        $crate::stats::FactsRow {
            key: $crate::stats::StatKey {
                agency: r.try_get(0usize)?,
                procedure: r.try_get(1usize)?,
                channel: r.try_get(2usize)?,
            },
            components: i64::from(components),
            facts: motcua_domain::stats::Facts {
                received_at: r.try_get(4usize)?,
                due_at: r.try_get(5usize)?,
                waiting_since: r.try_get(6usize)?,
                overdue_since: r.try_get(7usize)?,
                ended_at: r.try_get(8usize)?,
                outcome: outcome
                    .as_deref()
                    .and_then(motcua_domain::stats::Outcome::parse),
                first_supplement_at: r.try_get(10usize)?,
                paid_online: r.try_get(11usize)?,
                rating: rating
                    .as_deref()
                    .and_then(motcua_domain::dossier::Satisfaction::parse),
                rated_at: r.try_get(17usize)?,
            },
            attrs: motcua_domain::stats::Attributes {
                digitised: r.try_get(12usize)?,
                reused: r.try_get(13usize)?,
                result_digitised: r.try_get(14usize)?,
                result_electronic: r.try_get(15usize)?,
            },
        }
    }};
}
pub(crate) use facts_of_row;

/// The shard of the tables of sums a dossier's changes add to, on the connection `_c`
/// (FNV-1a of its code; see [`crate::Dialect::SUM_SHARDS`]).
pub(crate) fn shard_of<C: crate::Dialect>(_c: &C, code: &str) -> i32 {
    if C::SUM_SHARDS <= 1 {
        return 0;
    }
    let h = code.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    i32::try_from(h % C::SUM_SHARDS).unwrap_or(0)
}

/// The two ends of an upsert adding differences to a table of sums (`table`, by `period`: a
/// month, or a year, keyed by `key_col`, in shards): `INSERT INTO … (columns) `, and the
/// conflict clause that adds each measure to the row already there.
fn sum_upsert((table, period, key_col): (&str, &str, &str)) -> (String, String) {
    let cols: Vec<&str> = Measure::ALL.iter().map(|m| m.column()).collect();
    let sets: Vec<String> = cols
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect();
    (
        format!(
            "INSERT INTO {table} ({period}, agency_code, {key_col}, channel, shard, {}) ",
            cols.join(", ")
        ),
        format!(
            " ON CONFLICT ({period}, agency_code, {key_col}, channel, shard) DO UPDATE SET {}",
            sets.join(", ")
        ),
    )
}

/// The upsert of one period's difference into a table of sums (see [`sum_upsert`]), whose key
/// is `key` (an expression of the procedure code `$3`), into shard `$5`.
fn add_sql(table: (&str, &str, &str), key: &str, period: &str) -> String {
    let (head, tail) = sum_upsert(table);
    let params: Vec<String> = (6..6 + Measure::ALL.len())
        .map(|i| format!("${i}"))
        .collect();
    // `WHERE true`: SQLite reads `ON CONFLICT` after a bare `SELECT … FROM` as a join clause.
    format!(
        "{head}SELECT {period}, $2, {key}, $4, $5, {} WHERE true{tail}",
        params.join(", ")
    )
}

/// The class of the procedure `$3` in the catalogue (none: 0).
const CLASS_OF: &str = "COALESCE((SELECT stat_class FROM procedures WHERE code = $3), 0)";

/// The upserts of a month's difference: per procedure, per class by month, per class by
/// year (the year bound in the month's place).
static ADD: LazyLock<[(String, bool); 3]> = LazyLock::new(|| {
    let [monthly, monthly_class, yearly_class] = SUM_TABLES;
    [
        (add_sql(monthly, "$3", "$1"), false),
        (add_sql(monthly_class, CLASS_OF, "$1"), false),
        (add_sql(yearly_class, CLASS_OF, "$1"), true),
    ]
});

/// The same three upserts as one PostgreSQL statement (data-modifying `WITH`, each part run
/// once and to completion, rows locked in the same order), the month bound once and the
/// year computed from it: one round trip instead of three for every change of a dossier.
static ADD_AT_ONCE: LazyLock<[(String, bool); 1]> = LazyLock::new(|| {
    let [monthly, monthly_class, yearly_class] = SUM_TABLES;
    [(
        format!(
            "WITH by_procedure AS ({}), by_class AS ({}) {}",
            add_sql(monthly, "$3", "$1"),
            add_sql(monthly_class, CLASS_OF, "$1"),
            add_sql(yearly_class, CLASS_OF, "$1 / 100"),
        ),
        false,
    )]
});

/// The tables of sums (name, period column, key column), in [`SumTable`]'s order.
const SUM_TABLES: [(&str, &str, &str); 3] = [
    ("stat_monthly", "month", "procedure_code"),
    ("stat_monthly_class", "month", "class"),
    ("stat_yearly_class", "year", "class"),
];

/// Recomputes the sums per class from the sums per procedure and the catalogue's classes,
/// then the years from the months.
static RECLASS: LazyLock<[String; 2]> = LazyLock::new(|| {
    let cols: Vec<&str> = Measure::ALL.iter().map(|m| m.column()).collect();
    let sums: Vec<String> = cols.iter().map(|c| format!("SUM(m.{c})")).collect();
    [
        format!(
            "INSERT INTO stat_monthly_class (month, agency_code, class, channel, {}) \
             SELECT m.month, m.agency_code, COALESCE(p.stat_class, 0), m.channel, {} \
             FROM stat_monthly m LEFT JOIN procedures p ON p.code = m.procedure_code \
             GROUP BY m.month, m.agency_code, COALESCE(p.stat_class, 0), m.channel",
            cols.join(", "),
            sums.join(", ")
        ),
        format!(
            "INSERT INTO stat_yearly_class (year, agency_code, class, channel, {}) \
             SELECT m.month / 100, m.agency_code, m.class, m.channel, {} \
             FROM stat_monthly_class m GROUP BY m.month / 100, m.agency_code, m.class, m.channel",
            cols.join(", "),
            sums.join(", ")
        ),
    ]
});

/// Recomputes the sums per class inside a transaction (after a procedure's class changed).
macro_rules! reclass {
    ($tx:expr) => {{
        for table in ["stat_monthly_class", "stat_yearly_class"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                .execute(&mut *$tx)
                .await?;
        }
        for sql in $crate::stats::reclass_sql() {
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .execute(&mut *$tx)
                .await?;
        }
    }};
}
pub(crate) use reclass;

pub(crate) fn reclass_sql() -> &'static [String; 2] {
    &RECLASS
}

/// The differences a change makes to the monthly sums: `old`'s contributions taken away,
/// `new`'s added (under their own keys).
pub(crate) fn changes(
    old: Option<&FactsRow>,
    new: Option<&FactsRow>,
) -> Vec<(StatKey, i32, Counts)> {
    let contrib = |r: Option<&FactsRow>| {
        r.map(|r| contributions(&r.facts, &r.attrs))
            .unwrap_or_default()
    };
    match (old, new) {
        (Some(o), Some(n)) if o.key == n.key => delta(&contrib(old), &contrib(new))
            .into_iter()
            .map(|(m, c)| (n.key.clone(), m, c))
            .collect(),
        _ => {
            let mut out: Vec<(StatKey, i32, Counts)> = Vec::new();
            if let Some(o) = old {
                out.extend(
                    delta(&contrib(old), &[])
                        .into_iter()
                        .map(|(m, c)| (o.key.clone(), m, c)),
                );
            }
            if let Some(n) = new {
                out.extend(
                    delta(&[], &contrib(new))
                        .into_iter()
                        .map(|(m, c)| (n.key.clone(), m, c)),
                );
            }
            out
        }
    }
}

/// Adds `(key, month, counts)` differences to the monthly sums (per procedure and per class)
/// inside a transaction: one upsert per table and difference into shard `$shard` when they are
/// few (a dossier's change), else multi-row upserts of the differences summed per row into
/// shard 0 (an import, a rebuild).
macro_rules! add_to_months {
    ($tx:expr, $changes:expr, $shard:expr) => {{
        let shard: i32 = $shard;
        let changes: Vec<($crate::stats::StatKey, i32, motcua_domain::stats::Counts)> =
            $changes.into_iter().collect();
        if changes.len() <= $crate::stats::FEW_CHANGES {
            for (key, month, counts) in changes {
                for (sql, by_year) in $crate::stats::add_sqls(&$tx) {
                    let mut q = sqlx::query(sql.as_str())
                        .bind(if *by_year { month / 100 } else { month })
                        .bind(&key.agency)
                        .bind(&key.procedure)
                        .bind(&key.channel)
                        .bind(shard);
                    for n in counts.0 {
                        q = q.bind(n);
                    }
                    q.execute(&mut *$tx).await?;
                }
            }
        } else {
            let mut codes: Vec<&str> = changes.iter().map(|c| c.0.procedure.as_str()).collect();
            codes.sort_unstable();
            codes.dedup();
            let mut classes = std::collections::HashMap::new();
            for chunk in codes.chunks(10_000) {
                let mut b = sqlx::QueryBuilder::new(
                    "SELECT code, CAST(COALESCE(stat_class, 0) AS BIGINT) FROM procedures WHERE code IN (",
                );
                let mut s = b.separated(", ");
                for c in chunk {
                    s.push_bind(*c);
                }
                b.push(")");
                let rows: Vec<(String, i64)> = b
                    .build_query_as()
                    .persistent(false)
                    .fetch_all(&mut *$tx)
                    .await?;
                classes.extend(rows);
            }
            for (table, rows) in $crate::stats::sum_rows(&changes, &classes) {
                let (head, tail) = $crate::stats::sum_upserts(table);
                $crate::insert_rows!($tx, head.as_str(), &rows, $crate::stats::SUM_CHUNK, tail.as_str(), |v, r| {
                    v.push_bind(r.period).push_bind(r.agency);
                    match r.key {
                        $crate::stats::SumKey::Procedure(code) => v.push_bind(code),
                        $crate::stats::SumKey::Class(class) => v.push_bind(class),
                    };
                    v.push_bind(r.channel).push_bind(0i32);
                    for n in r.counts.0 {
                        v.push_bind(n);
                    }
                });
            }
        }
    }};
}
pub(crate) use add_to_months;

/// Up to this many differences are added one upsert each.
pub(crate) const FEW_CHANGES: usize = 8;

/// The rows of a multi-row upsert of sums (23 values each).
pub(crate) const SUM_CHUNK: usize = 1400;

/// The key of a row of sums besides its period, agency and channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum SumKey<'a> {
    Procedure(&'a str),
    Class(i64),
}

/// A row of differences to add to a table of sums.
pub(crate) struct SumRow<'a> {
    pub period: i32,
    pub agency: &'a str,
    pub key: SumKey<'a>,
    pub channel: &'a str,
    pub counts: Counts,
}

/// A row of sums' period, agency, key and channel.
type SumRowKey<'a> = (i32, &'a str, SumKey<'a>, &'a str);

/// The tables of sums, in the order their rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SumTable {
    Monthly,
    MonthlyClass,
    YearlyClass,
}

/// The two ends of the multi-row upsert into `table` (see [`sum_upsert`]).
pub(crate) fn sum_upserts(table: SumTable) -> &'static (String, String) {
    static UPSERTS: LazyLock<[(String, String); 3]> = LazyLock::new(|| SUM_TABLES.map(sum_upsert));
    &UPSERTS[table as usize]
}

/// The differences `changes` as rows of each table of sums: per procedure and month, and
/// summed per class (`classes`: each procedure's; one not there is class 0, as in
/// [`CLASS_OF`]) by month and by year; each table's rows in key order, so that concurrent
/// writers lock rows in one order.
pub(crate) fn sum_rows<'a>(
    changes: &'a [(StatKey, i32, Counts)],
    classes: &std::collections::HashMap<String, i64>,
) -> [(SumTable, Vec<SumRow<'a>>); 3] {
    use std::collections::BTreeMap;
    let mut tables: [BTreeMap<SumRowKey<'a>, Counts>; 3] = Default::default();
    for (key, month, counts) in changes {
        let class = SumKey::Class(classes.get(&key.procedure).copied().unwrap_or(0));
        for (i, (period, k)) in [
            (*month, SumKey::Procedure(key.procedure.as_str())),
            (*month, class),
            (*month / 100, class),
        ]
        .into_iter()
        .enumerate()
        {
            tables[i]
                .entry((period, key.agency.as_str(), k, key.channel.as_str()))
                .or_default()
                .add_all(counts, 1);
        }
    }
    let [monthly, monthly_class, yearly_class] = tables;
    let rows = |t: BTreeMap<SumRowKey<'a>, Counts>| {
        t.into_iter()
            .map(|((period, agency, key, channel), counts)| SumRow {
                period,
                agency,
                key,
                channel,
                counts,
            })
            .collect::<Vec<_>>()
    };
    [
        (SumTable::Monthly, rows(monthly)),
        (SumTable::MonthlyClass, rows(monthly_class)),
        (SumTable::YearlyClass, rows(yearly_class)),
    ]
}

/// The upserts of a month's difference, each with whether it takes the year.
pub(crate) fn add_sqls<C: crate::Dialect>(_c: &C) -> &'static [(String, bool)] {
    if C::WRITABLE_WITH {
        &ADD_AT_ONCE[..]
    } else {
        &ADD[..]
    }
}

/// Reads a dossier's stored facts inside a transaction.
macro_rules! load_facts {
    ($tx:expr, $code:expr) => {{
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM stat_facts WHERE dossier_code = $1",
            $crate::stats::FACTS_COLUMNS
        )))
        .bind($code)
        .fetch_optional(&mut *$tx)
        .await?;
        match row {
            Some(r) => Some($crate::stats::facts_of_row!(r)),
            None => None,
        }
    }};
}
pub(crate) use load_facts;

/// The rows of a multi-row write of facts (19 values each).
pub(crate) const FACTS_CHUNK: usize = 1500;

/// Inserts or replaces the facts `$rows` (a slice of `(dossier code, &FactsRow)`).
macro_rules! upsert_facts {
    ($tx:expr, $rows:expr) => {{
        let rows: &[(&str, &$crate::stats::FactsRow)] = $rows;
        $crate::insert_rows!(
            $tx,
            format!(
                "INSERT INTO stat_facts (dossier_code, {}) ",
                $crate::stats::FACTS_COLUMNS
            ),
            rows,
            $crate::stats::FACTS_CHUNK,
            " ON CONFLICT (dossier_code) DO UPDATE SET \
             agency_code = excluded.agency_code, procedure_code = excluded.procedure_code, \
             channel = excluded.channel, components = excluded.components, received_at = excluded.received_at, \
             due_at = excluded.due_at, waiting_since = excluded.waiting_since, \
             overdue_since = excluded.overdue_since, ended_at = excluded.ended_at, outcome = excluded.outcome, \
             first_supplement_at = excluded.first_supplement_at, paid_online = excluded.paid_online, \
             digitised = excluded.digitised, reused = excluded.reused, \
             result_digitised = excluded.result_digitised, result_electronic = excluded.result_electronic, \
             rating = excluded.rating, rated_at = excluded.rated_at",
            |v, row| {
                let (code, r) = *row;
                v.push_bind(code)
                    .push_bind(&r.key.agency)
                    .push_bind(&r.key.procedure)
                    .push_bind(&r.key.channel)
                    .push_bind(i32::try_from(r.components).unwrap_or(i32::MAX))
                    .push_bind(r.facts.received_at)
                    .push_bind(r.facts.due_at)
                    .push_bind(r.facts.waiting_since)
                    .push_bind(r.facts.overdue_since)
                    .push_bind(r.facts.ended_at)
                    .push_bind(r.facts.outcome.map(|o| o.as_str()))
                    .push_bind(r.facts.first_supplement_at)
                    .push_bind(r.facts.paid_online)
                    .push_bind(r.attrs.digitised)
                    .push_bind(r.attrs.reused)
                    .push_bind(r.attrs.result_digitised)
                    .push_bind(r.attrs.result_electronic)
                    .push_bind(r.facts.rating.map(|l| l.as_str()))
                    .push_bind(r.facts.rated_at);
            }
        )
    }};
}
pub(crate) use upsert_facts;

/// Inserts or replaces the facts `$r` of the dossier `$code`.
macro_rules! write_facts {
    ($tx:expr, $code:expr, $r:expr) => {{
        let code: &str = $code;
        let r: &$crate::stats::FactsRow = $r;
        $crate::stats::upsert_facts!($tx, &[(code, r)]);
    }};
}
pub(crate) use write_facts;

/// What the digitisation and signing records say of a dossier, read inside a transaction.
macro_rules! attributes_of {
    ($tx:expr, $code:expr, $online:expr, $components:expr) => {{
        let (components, reused, results): (i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(DISTINCT CASE WHEN kind IN ('component_digitised', 'reused') THEN component_index END), \
             COALESCE(SUM(CASE WHEN kind = 'reused' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN kind = 'result_digitised' THEN 1 ELSE 0 END), 0) \
             FROM digitisation_events WHERE dossier_code = $1",
        )
        .bind($code)
        .fetch_one(&mut *$tx)
        .await?;
        let signed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM result_signatures WHERE dossier_code = $1 AND state = 'signed'",
        )
        .bind($code)
        .fetch_one(&mut *$tx)
        .await?;
        motcua_domain::stats::Attributes::from_counts(
            $online,
            $components,
            components,
            reused,
            results,
            signed,
        )
    }};
}
pub(crate) use attributes_of;

/// Folds the events of a change into a counted dossier's facts and moves the sums, inside the
/// change's transaction. Child cases are not counted (their parent is).
macro_rules! refresh_stats {
    ($tx:expr, $d:expr, $events:expr) => {{
        let d: &motcua_domain::dossier::Dossier = $d;
        if d.parent_code.is_none() {
            let old = $crate::stats::load_facts!($tx, &d.code);
            let mut new = $crate::stats::FactsRow::of(d);
            if let Some(o) = &old {
                new.facts = o.facts.clone();
            }
            for (event, at) in $events {
                new.facts.apply(event, at);
            }
            // The records behind the attributes change only with their own writes (which
            // move the figures themselves, `touch_stats!`): an action needs them re-read only
            // when the components they are measured against changed.
            new.attrs = match &old {
                Some(o) if o.components == new.components && o.key.channel == new.key.channel => {
                    o.attrs
                }
                _ => $crate::stats::attributes_of!(
                    $tx,
                    &d.code,
                    new.key.channel == "online",
                    new.components
                ),
            };
            if old.as_ref() != Some(&new) {
                $crate::stats::write_facts!($tx, &d.code, &new);
                $crate::stats::add_to_months!(
                    $tx,
                    $crate::stats::changes(old.as_ref(), Some(&new)),
                    $crate::stats::shard_of(&$tx, &d.code)
                );
            }
        }
    }};
}
pub(crate) use refresh_stats;

/// Counts a dossier just stored by its first change, inside that change's transaction, with
/// no read: a new code has no facts yet, no result and no signature, and its only
/// digitisation records are the reuses of warehouse documents written beside it (one per
/// component taken from the warehouse). The same figures as [`refresh_stats!`] with three
/// round trips fewer on every intake (the statistics property test compares both with a
/// rebuild).
macro_rules! count_new_dossier {
    ($tx:expr, $d:expr, $event:expr, $at:expr) => {{
        let d: &motcua_domain::dossier::Dossier = $d;
        if d.parent_code.is_none() {
            let mut new = $crate::stats::FactsRow::of(d);
            new.facts.apply($event, $at);
            let reused: Vec<Option<i32>> = d
                .components
                .iter()
                .filter(|c| c.warehouse_code.is_some())
                .map(|c| i32::try_from(c.index).ok())
                .collect();
            let distinct = reused
                .iter()
                .flatten()
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            new.attrs = motcua_domain::stats::Attributes::from_counts(
                new.key.channel == "online",
                new.components,
                i64::try_from(distinct).unwrap_or(i64::MAX),
                i64::try_from(reused.len()).unwrap_or(i64::MAX),
                0,
                0,
            );
            $crate::stats::write_facts!($tx, &d.code, &new);
            $crate::stats::add_to_months!(
                $tx,
                $crate::stats::changes(None, Some(&new)),
                $crate::stats::shard_of(&$tx, &d.code)
            );
        }
    }};
}
pub(crate) use count_new_dossier;

/// Re-reads a counted dossier's digitisation and signing records (after one of them changed)
/// and moves the sums, inside that change's transaction.
macro_rules! touch_stats {
    ($tx:expr, $code:expr) => {{
        let code: &str = $code;
        if let Some(old) = $crate::stats::load_facts!($tx, code) {
            let mut new = old.clone();
            new.attrs = $crate::stats::attributes_of!(
                $tx,
                code,
                new.key.channel == "online",
                new.components
            );
            if new != old {
                $crate::stats::write_facts!($tx, code, &new);
                $crate::stats::add_to_months!(
                    $tx,
                    $crate::stats::changes(Some(&old), Some(&new)),
                    $crate::stats::shard_of(&$tx, code)
                );
            }
        }
    }};
}
pub(crate) use touch_stats;

/// Which dossiers a report counts: by competent agency, procedure and channel (`None`: all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatFilter {
    pub agencies: Option<Vec<String>>,
    pub procedures: Option<Vec<String>>,
    pub channel: Option<String>,
    /// What the keys' `procedure` holds.
    pub grain: StatGrain,
}

/// What a report's keys hold besides the agency and the channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatGrain {
    /// The procedure's code.
    #[default]
    Procedure,
    /// The procedure's class (`ProcedureClass` bits, in decimal): for reports that neither
    /// filter nor group by procedure or field, read from the sums per class.
    Class,
    /// The class, and no agency (the keys' agency is empty): for reports that moreover
    /// neither group by agency, unit or level nor filter by unit or level (the sums are
    /// added up across agencies by the database).
    ClassOnly,
}

/// How the rows of a report's queries become its keys.
struct Keying {
    filter: StatFilter,
    /// The monthly sums are read per class (`stat_monthly_class`).
    coarse: bool,
    /// Procedure code → class, for the rows read per procedure when the keys are classes.
    classes: Option<HashMap<String, String>>,
    /// The keys keep the agency (not with [`StatGrain::ClassOnly`]).
    agency: bool,
}

impl StatFilter {
    /// `AND …` conditions, with their parameters numbered from `first`.
    fn sql(&self, first: usize) -> (String, Vec<String>) {
        let mut sql = String::new();
        let mut binds = Vec::new();
        let mut n = first;
        let mut list = |col: &str, values: &[String], sql: &mut String, binds: &mut Vec<String>| {
            if values.is_empty() {
                sql.push_str(" AND 1 = 0");
                return;
            }
            let ps: Vec<String> = values
                .iter()
                .map(|v| {
                    binds.push(v.clone());
                    n += 1;
                    format!("${}", n - 1)
                })
                .collect();
            sql.push_str(&format!(" AND {col} IN ({})", ps.join(", ")));
        };
        if let Some(a) = &self.agencies {
            list("agency_code", a, &mut sql, &mut binds);
        }
        if let Some(p) = &self.procedures {
            list("procedure_code", p, &mut sql, &mut binds);
        }
        if let Some(c) = &self.channel {
            list("channel", std::slice::from_ref(c), &mut sql, &mut binds);
        }
        (sql, binds)
    }
}

/// The figures of one key for a period, before the rates: open at its start, what happened in
/// it, and what was overdue at its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyFigures {
    pub carried_over: i64,
    /// The flows of the period (received, outcomes, supplements, attributes).
    pub flows: Counts,
    /// Open and overdue at the end.
    pub overdue: i64,
}

/// What a rebuild recomputed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RebuildReport {
    pub dossiers: u64,
    pub counted: u64,
    pub months: u64,
}

type Sums = HashMap<StatKey, Counts>;

/// The rows of a statistics query as a single text value (see [`packed`]): every value a
/// database hands over costs a copy and a hand-off between threads (SQLite), so thousands of
/// rows of twenty-two values come back as one.
macro_rules! read_packed {
    ($text:expr, $sums:expr, $measures:expr, $sign:expr, $rekey:expr) => {{
        let text: Option<String> = $text;
        let rekey: Option<&Keying> = $rekey;
        for row in text
            .as_deref()
            .unwrap_or("")
            .split(';')
            .filter(|r| !r.is_empty())
        {
            let (mut key, counts) = $crate::stats::unpack(row)?;
            if let Some(k) = rekey {
                k.rekey(&mut key);
            }
            let c = $sums.entry(key).or_default();
            for (m, n) in $measures.iter().zip(counts) {
                c.add(*m, $sign * n);
            }
        }
    }};
}

/// Rewrites `SELECT k1, k2, k3, e1, e2, … FROM …` (the key's three text parts: agency,
/// procedure or class, channel) to select one text value: its rows `k1|k2|k3|n1,n2,…` joined
/// by `;` with the string aggregate `agg` (read back by [`unpack`]).
fn packed(sql: &str, agg: &str) -> String {
    let Some(rest) = sql.strip_prefix("SELECT ") else {
        return sql.to_owned();
    };
    let mut exprs = Vec::new();
    let (mut depth, mut start, mut end) = (0i32, 0usize, rest.len());
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                exprs.push(rest[start..i].trim());
                start = i + 1;
            }
            ' ' if depth == 0 && rest[i..].starts_with(" FROM ") => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    exprs.push(rest[start..end].trim());
    if exprs.len() < 4 {
        return sql.to_owned();
    }
    let values: Vec<String> = exprs[3..]
        .iter()
        .map(|e| format!("CAST(COALESCE({e}, 0) AS TEXT)"))
        .collect();
    format!(
        "SELECT {agg}(packed_row, ';') FROM (SELECT {} || '|' || {} || '|' || {} || '|' || {} \
         AS packed_row{}) AS packed_rows",
        exprs[0],
        exprs[1],
        exprs[2],
        values.join(" || ',' || "),
        &rest[end..]
    )
}

/// The key and the counts of a [`packed`] row.
pub(crate) fn unpack(text: &str) -> Result<(StatKey, Vec<i64>)> {
    let bad = || {
        crate::StoreError::Db(sqlx::Error::Decode(
            format!("not a packed statistics row: {text}").into(),
        ))
    };
    let mut parts = text.splitn(4, '|');
    let (Some(agency), Some(procedure), Some(channel), Some(counts)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let counts = counts
        .split(',')
        .map(|n| n.parse::<i64>().map_err(|_| bad()))
        .collect::<Result<Vec<i64>>>()?;
    Ok((
        StatKey {
            agency: agency.to_owned(),
            procedure: procedure.to_owned(),
            channel: channel.to_owned(),
        },
        counts,
    ))
}

/// The string aggregate of the store's database.
fn string_agg(store: &Store) -> &'static str {
    match store.db {
        crate::Db::Sqlite(_) => "group_concat",
        crate::Db::Postgres(_) => "string_agg",
    }
}

const GROUP: &str = "GROUP BY agency_code, procedure_code, channel";
const KEY: &str = "agency_code, procedure_code, channel";

impl Keying {
    /// The sums' table by `period`, the key it is read with and what it is grouped by.
    fn sums(&self, period: Period) -> (&'static str, &'static str, &'static str) {
        let table = match (period, self.coarse) {
            (Period::Month, false) => return ("stat_monthly", KEY, KEY),
            (Period::Month, true) => "stat_monthly_class",
            (Period::Year, _) => "stat_yearly_class",
        };
        if self.agency {
            (
                table,
                "agency_code, CAST(class AS TEXT), channel",
                "agency_code, class, channel",
            )
        } else {
            (table, "'', CAST(class AS TEXT), channel", "class, channel")
        }
    }

    /// The rekeying of rows read from the sums (none when they are read per class).
    fn sums_rekey(&self) -> Option<&Keying> {
        if self.coarse { None } else { Some(self) }
    }

    /// A key read per procedure (and agency) as the report keys it.
    fn rekey(&self, key: &mut StatKey) {
        if let Some(classes) = &self.classes {
            key.procedure = classes
                .get(&key.procedure)
                .cloned()
                .unwrap_or_else(|| "0".to_owned());
        }
        if !self.agency {
            key.agency.clear();
        }
    }
}

impl Store {
    /// The figures of each key for the period `[from, end)`.
    pub async fn stat_figures(
        &self,
        from: DateTime<Utc>,
        end: DateTime<Utc>,
        filter: &StatFilter,
    ) -> Result<Vec<(StatKey, KeyFigures)>> {
        let mut v = self
            .stat_figures_with(&[(from, end.max(from))], filter, true)
            .await?;
        Ok(v.pop().unwrap_or_default())
    }

    /// The figures of each key for consecutive periods (`cuts`, each `[a, b)` starting where
    /// the one before ended), reading the stocks once: open and overdue at the first period's
    /// start, then carried from each period into the next by its flows (open at the end = open
    /// at the start + received − ended; overdue likewise with the dossiers that became overdue
    /// and the overdue ones that ended).
    pub async fn stat_figures_cuts(
        &self,
        cuts: &[(DateTime<Utc>, DateTime<Utc>)],
        filter: &StatFilter,
    ) -> Result<Vec<Vec<(StatKey, KeyFigures)>>> {
        self.stat_figures_with(cuts, filter, true).await
    }

    /// [`Store::stat_figures_cuts`], with `month_rows: false` reading every part of a month
    /// from the facts (never as a month's row less the rest): the same numbers, for checking
    /// the shortcut.
    pub async fn stat_figures_with(
        &self,
        cuts: &[(DateTime<Utc>, DateTime<Utc>)],
        filter: &StatFilter,
        month_rows: bool,
    ) -> Result<Vec<Vec<(StatKey, KeyFigures)>>> {
        let Some(&(from, _)) = cuts.first() else {
            return Ok(Vec::new());
        };
        let m_from = month_of(from);
        let Some(ms_from) = month_start(m_from) else {
            return Ok(vec![Vec::new(); cuts.len()]);
        };
        let parts = if month_rows {
            MonthParts::Rows {
                latest: self.stat_latest().await?,
            }
        } else {
            MonthParts::Scanned
        };
        let k = self.keying(filter).await?;
        // (open, overdue) of each key at the start of the next period.
        let mut stock: HashMap<StatKey, (i64, i64)> = HashMap::new();
        for (key, s) in self.stat_open_at(m_from, &k).await? {
            stock.insert(key, s);
        }
        // The part of `from`'s month before it.
        for (key, c) in self.stat_sums(ms_from, from, parts, &k).await? {
            carry(stock.entry(key).or_default(), &c);
        }
        let mut out = Vec::with_capacity(cuts.len());
        let mut cur = from;
        for &(a, b) in cuts {
            // Consecutive by contract; a gap would break the carried stocks.
            let a = a.max(cur);
            let b = b.max(a);
            let flows = self.stat_sums(a, b, parts, &k).await?;
            let mut figures: HashMap<StatKey, KeyFigures> = stock
                .iter()
                .map(|(k, s)| {
                    (
                        k.clone(),
                        KeyFigures {
                            carried_over: s.0,
                            ..KeyFigures::default()
                        },
                    )
                })
                .collect();
            for (key, c) in flows {
                carry(stock.entry(key.clone()).or_default(), &c);
                figures.entry(key).or_default().flows = c;
            }
            for (key, s) in &stock {
                figures.entry(key.clone()).or_default().overdue = s.1;
            }
            let mut v: Vec<(StatKey, KeyFigures)> = figures
                .into_iter()
                .filter(|(_, f)| *f != KeyFigures::default())
                .collect();
            v.sort_by(|x, y| x.0.cmp(&y.0));
            out.push(v);
            cur = b;
        }
        Ok(out)
    }

    /// How the rows of a report with `filter` become its keys: per class of procedure, from
    /// the sums per class unless the report is limited to some procedures.
    async fn keying(&self, filter: &StatFilter) -> Result<Keying> {
        if filter.grain == StatGrain::Procedure {
            return Ok(Keying {
                filter: filter.clone(),
                coarse: false,
                classes: None,
                agency: true,
            });
        }
        let rows: Vec<(String, Option<i32>)> = on_db!(self, p => {
            sqlx::query_as("SELECT code, stat_class FROM procedures").fetch_all(p).await?
        });
        Ok(Keying {
            filter: filter.clone(),
            coarse: filter.procedures.is_none(),
            agency: filter.grain != StatGrain::ClassOnly,
            classes: Some(
                rows.into_iter()
                    .map(|(code, class)| (code, class.unwrap_or(0).to_string()))
                    .collect(),
            ),
        })
    }

    /// The latest instant any figure but "became overdue" was recorded at (receipt, end,
    /// supplement request, rating); `None` with no facts. Only an appointment lies ahead.
    async fn stat_latest(&self) -> Result<Option<DateTime<Utc>>> {
        // One query per column: a lone MAX is an index lookup; several in one query scan.
        let mut latest: Option<DateTime<Utc>> = None;
        for col in ["received_at", "ended_at", "first_supplement_at", "rated_at"] {
            // `IS NOT NULL`: the index of ends holds only those.
            let sql = format!("SELECT MAX({col}) FROM stat_facts WHERE {col} IS NOT NULL");
            let t: Option<DateTime<Utc>> = on_db!(self, p => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str())).fetch_one(p).await?
            });
            latest = latest.max(t);
        }
        Ok(latest)
    }

    /// Open and overdue dossiers of each key at the first instant of `month`.
    async fn stat_open_at(&self, month: i32, k: &Keying) -> Result<Vec<(StatKey, (i64, i64))>> {
        let Some(start) = month_start(month) else {
            return Ok(Vec::new());
        };
        let mut sums = Sums::new();
        let measures = [Measure::OpenAtStart, Measure::OverdueAtStart];
        let (cond, binds) = k.filter.sql(2);
        let agg = string_agg(self);
        let (table, key, group) = k.sums(Period::Month);
        let monthly = format!(
            "SELECT {key}, SUM(open_at_start), SUM(overdue_at_start) \
             FROM {table} WHERE month = $1{cond} GROUP BY {group}"
        );
        let live = format!(
            "SELECT agency_code, procedure_code, channel, COUNT(*), \
             SUM(CASE WHEN overdue_since < $1 THEN 1 ELSE 0 END) \
             FROM stat_facts WHERE ended_at IS NULL AND received_at < $1{cond} {GROUP}"
        );
        on_db!(self, p => {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(packed(&monthly, agg))).bind(month);
            for b in &binds {
                q = q.bind(b);
            }
            read_packed!(q.fetch_one(p).await?, sums, measures, 1, k.sums_rekey());
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(packed(&live, agg))).bind(start);
            for b in &binds {
                q = q.bind(b);
            }
            read_packed!(q.fetch_one(p).await?, sums, measures, 1, Some(k));
        });
        Ok(sums
            .into_iter()
            .map(|(k, c)| {
                (
                    k,
                    (c.get(Measure::OpenAtStart), c.get(Measure::OverdueAtStart)),
                )
            })
            .collect())
    }

    /// The flows of each key in `[a, b)`: whole months from the sums, a part of a month from the
    /// facts — or, when the rest of that month is shorter, as the month's row less the rest
    /// read from the facts (see [`MonthParts`]).
    async fn stat_sums(
        &self,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
        parts: MonthParts,
        k: &Keying,
    ) -> Result<Sums> {
        let mut sums = Sums::new();
        let mut whole: Option<(i32, i32)> = None;
        let mut cur = a;
        while cur < b {
            let m = month_of(cur);
            let (Some(ms), Some(me)) = (month_start(m), month_start(next_month(m))) else {
                break;
            };
            let seg_end = me.min(b);
            if cur == ms && seg_end == me {
                whole = Some(whole.map_or((m, m), |(first, _)| (first, m)));
                cur = seg_end;
                continue;
            }
            let MonthParts::Rows { latest } = parts else {
                self.stat_facts_query(cur, seg_end, k, &mut sums, false, 1)
                    .await?;
                cur = seg_end;
                continue;
            };
            // Only appointments lie at or after `seg_end`.
            let quiet_after = latest.is_none_or(|t| t < seg_end);
            let direct = seg_end - cur;
            let rest = (cur - ms)
                + if quiet_after {
                    chrono::Duration::zero()
                } else {
                    me - seg_end
                };
            if rest >= direct {
                self.stat_facts_query(cur, seg_end, k, &mut sums, false, 1)
                    .await?;
            } else {
                let mut month = Sums::new();
                self.stat_period_sums(Period::Month, m, m, k, &mut month, 1)
                    .await?;
                for (key, mut c) in month {
                    // The stocks are read apart ([`Store::stat_open_at`]).
                    for stock in [Measure::OpenAtStart, Measure::OverdueAtStart] {
                        let n = c.get(stock);
                        c.add(stock, -n);
                    }
                    sums.entry(key).or_default().add_all(&c, 1);
                }
                if cur > ms {
                    self.stat_facts_query(ms, cur, k, &mut sums, false, -1)
                        .await?;
                }
                if seg_end < me {
                    self.stat_facts_query(seg_end, me, k, &mut sums, quiet_after, -1)
                        .await?;
                }
            }
            cur = seg_end;
        }
        if let Some((first, last)) = whole {
            self.stat_whole_months(first, last, k, &mut sums).await?;
        }
        Ok(sums)
    }

    /// The sums of the whole months `first..=last`, added to `sums`. Read per class, a year
    /// covered for seven months or more is its year's row less the months left out (fewer rows
    /// than the months it covers).
    async fn stat_whole_months(
        &self,
        first: i32,
        last: i32,
        k: &Keying,
        sums: &mut Sums,
    ) -> Result<()> {
        if !k.coarse {
            return self
                .stat_period_sums(Period::Month, first, last, k, sums, 1)
                .await;
        }
        let mut full_years: Option<(i32, i32)> = None;
        for year in first / 100..=last / 100 {
            let (jan, dec) = (year * 100 + 1, year * 100 + 12);
            let (a, b) = (first.max(jan), last.min(dec));
            let covered = b - a + 1;
            if covered == 12 {
                full_years = Some(full_years.map_or((year, year), |(f, _)| (f, year)));
            } else if covered >= 7 {
                self.stat_period_sums(Period::Year, year, year, k, sums, 1)
                    .await?;
                if a > jan {
                    self.stat_period_sums(Period::Month, jan, a - 1, k, sums, -1)
                        .await?;
                }
                if b < dec {
                    self.stat_period_sums(Period::Month, b + 1, dec, k, sums, -1)
                        .await?;
                }
            } else {
                self.stat_period_sums(Period::Month, a, b, k, sums, 1)
                    .await?;
            }
        }
        if let Some((f, l)) = full_years {
            self.stat_period_sums(Period::Year, f, l, k, sums, 1)
                .await?;
        }
        Ok(())
    }

    /// The sums of the months (or, per class, the years) `first..=last`, added to `sums` with
    /// `sign` (one period: its rows as they are, without SQL's sums, which cost more than
    /// reading the rows).
    async fn stat_period_sums(
        &self,
        period: Period,
        first: i32,
        last: i32,
        k: &Keying,
        sums: &mut Sums,
        sign: i64,
    ) -> Result<()> {
        let (cond, binds) = k.filter.sql(3);
        // Across agencies the database adds the rows up even for one period (the shards of
        // one key are added up as they are read).
        let summed = first != last || !k.agency;
        let cols: Vec<String> = Measure::ALL
            .iter()
            .map(|m| {
                if summed {
                    format!("SUM({})", m.column())
                } else {
                    m.column().to_owned()
                }
            })
            .collect();
        let (table, key, group_key) = k.sums(period);
        let unit = match period {
            Period::Month => "month",
            Period::Year => "year",
        };
        let group = if summed {
            format!("GROUP BY {group_key}")
        } else {
            String::new()
        };
        let agg = string_agg(self);
        let sql = format!(
            "SELECT {key}, {} FROM {table} \
             WHERE {unit} >= $1 AND {unit} <= $2{cond} {group}",
            cols.join(", ")
        );
        on_db!(self, p => {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(packed(&sql, agg))).bind(first).bind(last);
            for b in &binds {
                q = q.bind(b);
            }
            read_packed!(q.fetch_one(p).await?, *sums, Measure::ALL, sign, k.sums_rekey());
        });
        Ok(())
    }

    /// The flows of `[a, b)` from the facts, added to `sums` with `sign`: all of them, or
    /// (`only_began`) only the dossiers that became overdue — in `[a, b)` after everything but
    /// appointments was recorded, so only open dossiers can.
    async fn stat_facts_query(
        &self,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
        k: &Keying,
        sums: &mut Sums,
        only_began: bool,
        sign: i64,
    ) -> Result<()> {
        let agg = string_agg(self);
        let (cond, binds) = k.filter.sql(3);
        let received = [
            Measure::Received,
            Measure::Digitised,
            Measure::Reused,
            Measure::PaidOnline,
        ];
        let received_sql = format!(
            "SELECT agency_code, procedure_code, channel, COUNT(*), \
             SUM(CASE WHEN digitised THEN 1 ELSE 0 END), SUM(CASE WHEN reused THEN 1 ELSE 0 END), \
             SUM(CASE WHEN paid_online THEN 1 ELSE 0 END) \
             FROM stat_facts WHERE received_at >= $1 AND received_at < $2{cond} {GROUP}"
        );
        let ended = [
            Measure::Early,
            Measure::OnTime,
            Measure::Late,
            Measure::Refused,
            Measure::Withdrawn,
            Measure::OverdueEnded,
            Measure::ResultDigitised,
            Measure::ResultElectronic,
        ];
        let resolved = "outcome IN ('early', 'on_time', 'late')";
        let ended_sql = format!(
            "SELECT agency_code, procedure_code, channel, \
             SUM(CASE WHEN outcome = 'early' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN outcome = 'on_time' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN outcome = 'late' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN outcome = 'refused' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN outcome = 'withdrawn' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN overdue_since IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN result_digitised AND {resolved} THEN 1 ELSE 0 END), \
             SUM(CASE WHEN result_electronic AND {resolved} THEN 1 ELSE 0 END) \
             FROM stat_facts WHERE ended_at >= $1 AND ended_at < $2{cond} {GROUP}"
        );
        // Appointments still ahead belong to open dossiers only (an ended one became overdue,
        // if ever, before it ended): read from the open dossiers' index.
        let ahead = if only_began {
            " AND ended_at IS NULL"
        } else {
            ""
        };
        let began_sql = format!(
            "SELECT agency_code, procedure_code, channel, COUNT(*) FROM stat_facts \
             WHERE overdue_since >= $1 AND overdue_since < $2 AND received_at IS NOT NULL{ahead}{cond} {GROUP}"
        );
        let supplement_sql = format!(
            "SELECT agency_code, procedure_code, channel, COUNT(*) FROM stat_facts \
             WHERE first_supplement_at >= $1 AND first_supplement_at < $2 AND received_at IS NOT NULL{cond} {GROUP}"
        );
        let rated_sql = format!(
            "SELECT agency_code, procedure_code, channel, \
             SUM(CASE WHEN rating = 'very_satisfied' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN rating = 'satisfied' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN rating = 'unsatisfied' THEN 1 ELSE 0 END) FROM stat_facts \
             WHERE rated_at >= $1 AND rated_at < $2 AND received_at IS NOT NULL{cond} {GROUP}"
        );
        let queries: [(&str, &[Measure]); 5] = [
            (&received_sql, &received),
            (&ended_sql, &ended),
            (&began_sql, &[Measure::OverdueBegan]),
            (&supplement_sql, &[Measure::Supplements]),
            (
                &rated_sql,
                &[
                    Measure::VerySatisfied,
                    Measure::Satisfied,
                    Measure::Unsatisfied,
                ],
            ),
        ];
        for (sql, measures) in queries {
            if only_began && measures != [Measure::OverdueBegan] {
                continue;
            }
            on_db!(self, p => {
                let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(packed(sql, agg))).bind(a).bind(b);
                for v in &binds {
                    q = q.bind(v);
                }
                read_packed!(q.fetch_one(p).await?, *sums, measures, sign, Some(k));
            });
        }
        Ok(())
    }

    /// The monthly sums as stored, every key and month (for comparing with a rebuild).
    pub async fn stat_monthly_rows(&self) -> Result<Vec<(i32, StatKey, Counts)>> {
        self.monthly_rows("stat_monthly", "month", "procedure_code")
            .await
    }

    async fn monthly_rows(
        &self,
        table: &str,
        period: &str,
        key: &str,
    ) -> Result<Vec<(i32, StatKey, Counts)>> {
        let cols: Vec<&str> = Measure::ALL.iter().map(|m| m.column()).collect();
        let sums: Vec<String> = cols.iter().map(|c| format!("SUM({c})")).collect();
        let sql = format!(
            "SELECT agency_code, {key}, channel, {period}, {} FROM {table} \
             GROUP BY {period}, agency_code, {key}, channel \
             ORDER BY {period}, agency_code, {key}, channel",
            sums.join(", ")
        );
        let mut out = Vec::new();
        on_db!(self, p => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?;
            for r in rows {
                let key = StatKey {
                    agency: r.try_get(0usize)?,
                    procedure: r.try_get(1usize)?,
                    channel: r.try_get(2usize)?,
                };
                let month: i32 = r.try_get(3usize)?;
                let mut c = Counts::default();
                for (i, m) in Measure::ALL.iter().enumerate() {
                    let n: i64 = r.try_get(4 + i)?;
                    c.add(*m, n);
                }
                if !c.is_zero() {
                    out.push((month, key, c));
                }
            }
        });
        Ok(out)
    }

    /// Recomputes the facts and the monthly sums from every dossier's events (and its
    /// digitisation and signing records), in one transaction that holds the statistics tables
    /// (changes wait for it; reports too, on PostgreSQL).
    pub async fn stat_rebuild(&self, at: DateTime<Utc>) -> Result<RebuildReport> {
        const BATCH: usize = 500;
        if self.meta(crate::dossiers::LEAN_HISTORY).await?.is_some() {
            return Err(crate::StoreError::Conflict(motcua_domain::Msg::new(
                "Cơ sở dữ liệu chứa lịch sử rút gọn (không lưu sự kiện của hồ sơ đã kết thúc): \
                 không thể tính lại số liệu từ sự kiện",
                "this database holds a lean history (the events of ended dossiers are not kept): \
                 the figures cannot be recomputed from the events",
            )));
        }
        let mut report = RebuildReport::default();
        let mut months: HashMap<(StatKey, i32), Counts> = HashMap::new();
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            if matches!(self.db, crate::Db::Postgres(_)) {
                sqlx::query("LOCK TABLE stat_facts, stat_monthly, stat_monthly_class, stat_yearly_class IN ACCESS EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM stat_facts").execute(&mut *tx).await?;
            sqlx::query("DELETE FROM stat_monthly").execute(&mut *tx).await?;
            sqlx::query("DELETE FROM stat_monthly_class").execute(&mut *tx).await?;
            sqlx::query("DELETE FROM stat_yearly_class").execute(&mut *tx).await?;
            let mut after = String::new();
            loop {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT code, data FROM dossiers WHERE code > $1 AND parent_code IS NULL ORDER BY code LIMIT $2",
                )
                .bind(&after)
                .bind(i64::try_from(BATCH).unwrap_or(500))
                .fetch_all(&mut *tx)
                .await?;
                let Some(last) = rows.last() else { break };
                after = last.0.clone();
                let params: Vec<String> = (1..=rows.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "SELECT entity_key, action, data, before, at FROM audit_log \
                     WHERE entity = 'dossier' AND entity_key IN ({}) ORDER BY id",
                    params.join(", ")
                );
                let mut q = sqlx::query_as::<_, (String, String, String, Option<String>, DateTime<Utc>)>(sqlx::AssertSqlSafe(sql.as_str()));
                for (code, _) in &rows {
                    q = q.bind(code);
                }
                let mut events: HashMap<String, Vec<(DossierEvent, DateTime<Utc>)>> = HashMap::new();
                for (code, action, data, before, at) in q.fetch_all(&mut *tx).await? {
                    let record = EventRecord::from_stored(&action, &data, before.as_deref())?;
                    events.entry(code).or_default().push((record.event, at));
                }
                for (code, data) in &rows {
                    report.dossiers += 1;
                    let d: Dossier = serde_json::from_str(data)
                        .map_err(|e| crate::StoreError::Db(sqlx::Error::Decode(Box::new(e))))?;
                    let mut row = FactsRow::of(&d);
                    for (event, at) in events.remove(code).unwrap_or_default() {
                        row.facts.apply(&event, at);
                    }
                    row.attrs = attributes_of!(tx, code.as_str(), row.key.channel == "online", row.components);
                    write_facts!(tx, code.as_str(), &row);
                    if row.facts.received_at.is_some() {
                        report.counted += 1;
                    }
                    for (key, month, c) in changes(None, Some(&row)) {
                        months.entry((key, month)).or_default().add_all(&c, 1);
                    }
                }
            }
            report.months = u64::try_from(months.len()).unwrap_or(u64::MAX);
            let mut sorted: Vec<_> = months.into_iter().collect();
            sorted.sort_by(|a, b| (a.0.1, &a.0.0).cmp(&(b.0.1, &b.0.0)));
            add_to_months!(tx, sorted.into_iter().map(|((k, m), c)| (k, m, c)), 0);
            sqlx::query(
                "INSERT INTO stat_built (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            )
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(report)
    }
}

impl Store {
    /// Rebuilds the statistics once on a database that has never had them built (one
    /// upgraded with dossiers already in it); `None` when they were. Gives every procedure
    /// without one its class first (and then recomputes the sums per class).
    pub async fn stat_ensure_built(&self, at: DateTime<Utc>) -> Result<Option<RebuildReport>> {
        self.stat_classify().await?;
        let built: Option<(i32,)> = on_db!(self, p => {
            sqlx::query_as("SELECT id FROM stat_built WHERE id = 1")
                .fetch_optional(p)
                .await?
        });
        if built.is_some() {
            return Ok(None);
        }
        Ok(Some(self.stat_rebuild(at).await?))
    }

    /// Computes the class of the procedures that have none (an upgraded database) and then
    /// the sums per class; returns how many procedures it classed.
    pub async fn stat_classify(&self) -> Result<u64> {
        let missing: Vec<(String,)> = on_db!(self, p => {
            sqlx::query_as("SELECT code FROM procedures WHERE stat_class IS NULL")
                .fetch_all(p)
                .await?
        });
        if missing.is_empty() {
            return Ok(0);
        }
        let mut classes = Vec::with_capacity(missing.len());
        for (code,) in &missing {
            let p = self.procedure(code).await?;
            classes.push((code, i32::from(ProcedureClass::of(&p).0)));
        }
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            for (code, class) in &classes {
                sqlx::query("UPDATE procedures SET stat_class = $1 WHERE code = $2")
                    .bind(class)
                    .bind(code)
                    .execute(&mut *tx)
                    .await?;
            }
            reclass!(tx);
            tx.commit().await?;
        });
        Ok(u64::try_from(classes.len()).unwrap_or(u64::MAX))
    }

    /// The sums per class as stored, every key and month (for comparing with a recomputation).
    pub async fn stat_class_rows(&self) -> Result<Vec<(i32, StatKey, Counts)>> {
        self.monthly_rows("stat_monthly_class", "month", "CAST(class AS TEXT)")
            .await
    }

    /// The sums per class and year as stored (the year in the month's place).
    pub async fn stat_class_years(&self) -> Result<Vec<(i32, StatKey, Counts)>> {
        self.monthly_rows("stat_yearly_class", "year", "CAST(class AS TEXT)")
            .await
    }
}

/// How the parts of months in a period are read.
#[derive(Debug, Clone, Copy)]
enum MonthParts {
    /// Each from the facts.
    Scanned,
    /// From the facts, or as the month's row less the rest where the rest is shorter.
    /// `latest`: everything but appointments was recorded before it, so the rest of a month
    /// after it holds only appointments still ahead, and this month up to now costs a count of
    /// the dossiers that became overdue, not a scan of the month's facts.
    Rows { latest: Option<DateTime<Utc>> },
}

/// The periods sums are kept by.
#[derive(Debug, Clone, Copy)]
enum Period {
    Month,
    /// Per class only.
    Year,
}

/// Moves (open, overdue) across a period by its flows: open + received − ended; overdue +
/// became overdue − ended while overdue.
fn carry(stock: &mut (i64, i64), c: &Counts) {
    stock.0 += c.get(Measure::Received) - ended(c);
    stock.1 += c.get(Measure::OverdueBegan) - c.get(Measure::OverdueEnded);
}

/// Ended in any way: resolved, refused or withdrawn.
fn ended(c: &Counts) -> i64 {
    c.get(Measure::Early)
        + c.get(Measure::OnTime)
        + c.get(Measure::Late)
        + c.get(Measure::Refused)
        + c.get(Measure::Withdrawn)
}

/// What waits for an agency now: its officers' counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AgencyCounters {
    /// Filed online or by post at this agency, waiting to be received.
    pub waiting: i64,
    /// Held by this agency, received and not finished.
    pub in_progress: i64,
    /// Of those, due within a working day (not overdue yet, clock running).
    pub due_soon: i64,
    /// Of those, past their appointment.
    pub overdue: i64,
    /// Of those, waiting for the applicant's supplement.
    pub awaiting_supplement: i64,
    /// Results of this agency waiting for the leader's signature.
    pub awaiting_signature: i64,
    /// Resolved, the result to hand back.
    pub to_return: i64,
}

impl Store {
    /// The counters of `agency` at `now`; "due soon" means due at or before `soon`.
    pub async fn agency_counters(
        &self,
        agency: &str,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> Result<AgencyCounters> {
        let open = "'received', 'processing', 'awaiting_supplement', 'awaiting_payment', 'withdrawal_requested'";
        let held = format!(
            "SELECT COALESCE(SUM(CASE WHEN status IN ({open}) THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status IN ({open}) AND paused_at IS NULL AND due_at >= $2 AND due_at <= $3 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status IN ({open}) AND due_at IS NOT NULL AND ((paused_at IS NULL AND due_at < $2) \
                 OR (paused_at IS NOT NULL AND paused_at > due_at)) THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'awaiting_supplement' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END), 0) \
             FROM dossiers WHERE current_agency = $1 AND status IN ({open}, 'resolved')"
        );
        on_db!(self, p => {
            let (in_progress, due_soon, overdue, awaiting_supplement, to_return): (i64, i64, i64, i64, i64) =
                sqlx::query_as(sqlx::AssertSqlSafe(held))
                    .bind(agency)
                    .bind(now)
                    .bind(soon)
                    .fetch_one(p)
                    .await?;
            let waiting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM dossiers WHERE status = 'submitted' AND receiving_agency = $1",
            )
            .bind(agency)
            .fetch_one(p)
            .await?;
            let awaiting_signature: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM result_signatures WHERE agency_code = $1 AND state IN ('queued', 'signing')",
            )
            .bind(agency)
            .fetch_one(p)
            .await?;
            Ok(AgencyCounters {
                waiting,
                in_progress,
                due_soon,
                overdue,
                awaiting_supplement,
                awaiting_signature,
                to_return,
            })
        })
    }
}

impl Store {
    /// What keeping the figures adds to one change, measured: for each of up to `n` counted
    /// dossiers, the statistics' share of a change (read the facts, re-read the records,
    /// write the facts, move the month) in a transaction that is rolled back. Returns the
    /// durations in milliseconds (a benchmark's probe; nothing is kept).
    pub async fn stat_refresh_probe(&self, n: i64) -> Result<Vec<f64>> {
        let codes: Vec<(String,)> = on_db!(self, p => {
            sqlx::query_as("SELECT dossier_code FROM stat_facts ORDER BY dossier_code DESC LIMIT $1")
                .bind(n)
                .fetch_all(p)
                .await?
        });
        let mut out = Vec::new();
        for (code,) in codes {
            let d = self.dossier(&code).await?.dossier;
            let mut events = Vec::new();
            for e in self.audit_trail("dossier", &code).await? {
                let r = EventRecord::from_stored(&e.action, &e.data, e.before.as_deref())?;
                events.push((r.event, e.at));
            }
            let t = std::time::Instant::now();
            on_writer!(self, p => {
                let mut tx = p.begin_with(self.begin_write()).await?;
                // As at its intake: the dossier's facts made anew and its months moved.
                sqlx::query("DELETE FROM stat_facts WHERE dossier_code = $1")
                    .bind(&code)
                    .execute(&mut *tx)
                    .await?;
                refresh_stats!(tx, &d, events.iter().map(|(e, at)| (e, *at)));
                tx.rollback().await?;
            });
            out.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_query_selects_one_value_read_back_as_the_key_and_counts() {
        let sql = packed(
            "SELECT agency_code, procedure_code, channel, COUNT(*), \
             SUM(CASE WHEN outcome IN ('early', 'on_time') THEN 1 ELSE 0 END) FROM stat_facts \
             WHERE x = 1 GROUP BY agency_code",
            "group_concat",
        );
        assert_eq!(
            sql,
            "SELECT group_concat(packed_row, ';') FROM (SELECT agency_code || '|' || \
             procedure_code || '|' || channel || '|' || CAST(COALESCE(COUNT(*), 0) AS TEXT) || \
             ',' || CAST(COALESCE(SUM(CASE WHEN outcome IN ('early', 'on_time') THEN 1 ELSE 0 \
             END), 0) AS TEXT) AS packed_row FROM stat_facts WHERE x = 1 GROUP BY agency_code) AS \
             packed_rows"
        );
        // Sums per class: the class as the key's middle part.
        assert_eq!(
            packed(
                "SELECT agency_code, CAST(class AS TEXT), channel, SUM(received) FROM \
                 stat_monthly_class GROUP BY agency_code, class, channel",
                "string_agg"
            ),
            "SELECT string_agg(packed_row, ';') FROM (SELECT agency_code || '|' || CAST(class AS \
             TEXT) || '|' || channel || '|' || CAST(COALESCE(SUM(received), 0) AS TEXT) AS \
             packed_row FROM stat_monthly_class GROUP BY agency_code, class, channel) AS packed_rows"
        );
        let (key, counts) = unpack("000.00.11.H58|1.004194|online|3,-2,0").unwrap();
        assert_eq!(
            key,
            StatKey {
                agency: "000.00.11.H58".into(),
                procedure: "1.004194".into(),
                channel: "online".into()
            }
        );
        assert_eq!(counts, vec![3, -2, 0]);
        assert!(unpack("000.00.11.H58|1.004194|online|3,x").is_err());
        assert!(unpack("000.00.11.H58|online").is_err());
    }
}
