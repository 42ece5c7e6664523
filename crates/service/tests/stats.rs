//! The statistics' incremental sums equal a full recomputation from the events after any
//! random sequence of actions, on SQLite and PostgreSQL (seeded: a failure names its seed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use motcua_domain::calendar::WorkCalendar;
use motcua_domain::catalogue::{Channel, Procedure};
use motcua_domain::clock::FixedClock;
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{
    Action, Actor, Applicant, ApplicantKind, Dossier, Intake, SubmittedComponent,
};
use motcua_domain::process::Process;
use motcua_service::stats::{GroupBy, StatsQuery};
use motcua_store::stats::{KeyFigures, StatFilter, StatGrain, StatKey};
use motcua_store::testing::TestDb;
use motcua_store::{Store, no_jobs};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

mod common;
use common::service;

motcua_store::on_both!(motcua_store::testing::TestDb::start =>
    incremental_sums_equal_a_rebuild_after_random_actions,
);

fn procedure(full: bool, days: u32) -> Procedure {
    serde_json::from_value(serde_json::json!({
        "code": if full { "1.004194" } else { "1.004884" },
        "name": "Thủ tục thử", "field": "Hộ tịch", "levels": ["commune"],
        "online_level": if full { "full" } else { "partial" },
        "time_limit": {"value": days, "unit": "working_days"},
        "components": [{"name": "Tờ khai", "originals": 1, "copies": 0}]
    }))
    .unwrap()
}

fn intake(rng: &mut StdRng, agency: &AgencyCode) -> Intake {
    let channel = [Channel::Online, Channel::Counter, Channel::Postal][rng.random_range(0..3)];
    Intake {
        procedure: procedure(rng.random_bool(0.5), rng.random_range(1..8)),
        process: Process::default(),
        channel,
        receiving_agency: agency.clone(),
        competent_agency: agency.clone(),
        applicant: Applicant {
            kind: ApplicantKind::Person,
            id_number: "008190001234".into(),
            name: "Nguyễn Văn An".into(),
            phone: None,
            email: None,
            address: None,
            unit_code: None,
        },
        components: vec![SubmittedComponent {
            index: 0,
            originals: 1,
            copies: 0,
            from_warehouse: false,
            warehouse_code: None,
        }],
        postal_tracking: (channel == Channel::Postal).then(|| "EV123456789VN".into()),
        owner_id: None,
        delivery: None,
    }
}

/// Runs a random history; returns the instant of its last step.
async fn run(store: &Store, seed: u64) -> DateTime<Utc> {
    let mut rng = StdRng::seed_from_u64(seed);
    let cal = WorkCalendar::official().unwrap();
    let agencies = [
        AgencyCode::parse("000.01.31.H58").unwrap(),
        AgencyCode::parse("000.02.31.H58").unwrap(),
    ];
    let other = AgencyCode::parse("000.00.11.H58").unwrap();
    let mut at: DateTime<Utc> = Utc.with_ymd_and_hms(2025, 1, 20, 2, 0, 0).unwrap()
        + Duration::minutes(rng.random_range(0..60 * 24 * 30));
    let system = Actor::system("test");
    let mut codes: Vec<String> = Vec::new();
    for _ in 0..100 {
        at += Duration::minutes(rng.random_range(0..60 * 24 * 4));
        if codes.is_empty() || rng.random_bool(0.25) {
            let agency = &agencies[rng.random_range(0..2)];
            let (d, change) =
                Dossier::new(intake(&mut rng, agency), String::new(), at, &cal).unwrap();
            let (stored, _) = store
                .create_dossier(d, change, "test", at, &cal, None, &no_jobs)
                .await
                .unwrap();
            codes.push(stored.dossier.code);
            continue;
        }
        let code = codes[rng.random_range(0..codes.len())].clone();
        let d = store.dossier(&code).await.unwrap().dossier;
        // Also act on the inter-agency child cases, so that they end and tell their parent.
        let code = if !d.open_children.is_empty() && rng.random_bool(0.7) {
            d.open_children[0].clone()
        } else {
            code
        };
        let today = motcua_domain::stats::local_day(at);
        let mut actions = Action::examples(&other, "test", today);
        if let Some(Action::Resume { paid_online, .. }) = actions
            .iter_mut()
            .find(|a| matches!(a, Action::Resume { .. }))
        {
            *paid_online = rng.random_bool(0.5);
        }
        // Half the time a step along the main path, so that many dossiers end.
        let action = if rng.random_bool(0.5) {
            let main = ["accept", "forward", "approve"][rng.random_range(0..3)];
            actions.into_iter().find(|a| a.name() == main).unwrap()
        } else {
            actions.swap_remove(rng.random_range(0..actions.len()))
        };
        // Refused by the state machine: nothing changes, as for a user.
        let _ = store
            .act(
                &code,
                &action,
                &system,
                None,
                at,
                &cal,
                &|_| Ok(()),
                &no_jobs,
            )
            .await;
    }
    at
}

async fn incremental_sums_equal_a_rebuild_after_random_actions(db: &TestDb) {
    let store: &Store = db;
    let clock = std::sync::Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2025, 12, 31, 10, 0, 0).unwrap(),
    ));
    let svc = service(store, clock).await;
    let seeds: u64 = std::env::var("MOTCUA_TEST_STATS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let query = |group_by: Vec<GroupBy>| StatsQuery {
        from: chrono::NaiveDate::from_ymd_opt(2025, 1, 1),
        to: chrono::NaiveDate::from_ymd_opt(2026, 1, 1),
        as_of: Some(Utc.with_ymd_and_hms(2025, 6, 17, 3, 30, 0).unwrap()),
        group_by,
        ..StatsQuery::default()
    };
    // The two procedures in the catalogue, so that their classes differ (one fully online;
    // the other's fees come and go between seeds, moving its rows from class to class).
    let by = motcua_service::Acting::new(
        Actor::system("test"),
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
    );
    svc.put_procedure(&by, procedure(true, 5)).await.unwrap();
    let mut ended = 0;
    let mut last = DateTime::<Utc>::MIN_UTC;
    for seed in 0..seeds {
        let mut partial = procedure(false, 5);
        if seed % 2 == 1 {
            partial.fees = vec![
                serde_json::from_value(serde_json::json!({"name": "Lệ phí", "amount": 8000}))
                    .unwrap(),
            ];
        }
        // Half-way through the history on the first seeds, at its start on the others.
        if seed >= 2 {
            svc.put_procedure(&by, partial.clone()).await.unwrap();
        }
        last = last.max(run(store, seed).await);
        if seed < 2 {
            svc.put_procedure(&by, partial).await.unwrap();
        }
        check_classes(store, seed).await;
        // Month by month with the stocks carried from one month into the next, and this month
        // (up to just after the last change) from its row of sums, equal each month read
        // alone with every partial month scanned from the facts.
        let filter = motcua_store::stats::StatFilter::default();
        let scanned = |a, b| {
            let filter = filter.clone();
            async move {
                let mut v = store
                    .stat_figures_with(&[(a, b)], &filter, false)
                    .await
                    .unwrap();
                v.pop().unwrap()
            }
        };
        let start = motcua_domain::stats::month_start(202501).unwrap();
        let end = last + Duration::minutes(1);
        let mut cuts = Vec::new();
        let mut m = 202501;
        while let Some(a) = motcua_domain::stats::month_start(m).filter(|a| *a < end) {
            let b = motcua_domain::stats::month_start(motcua_domain::stats::next_month(m))
                .unwrap()
                .min(end);
            cuts.push((a, b));
            m = motcua_domain::stats::next_month(m);
        }
        let carried = store.stat_figures_cuts(&cuts, &filter).await.unwrap();
        // Keyed by class (from the sums per class) = keyed by procedure, merged by class.
        let by_class = store
            .stat_figures_cuts(
                &cuts,
                &StatFilter {
                    grain: StatGrain::Class,
                    ..filter.clone()
                },
            )
            .await
            .unwrap();
        let class_only = store
            .stat_figures_cuts(
                &cuts,
                &StatFilter {
                    grain: StatGrain::ClassOnly,
                    ..filter.clone()
                },
            )
            .await
            .unwrap();
        for ((fine, coarse), total) in carried.iter().zip(&by_class).zip(&class_only) {
            assert_eq!(
                &merged_by_class(store, fine, true).await,
                coarse,
                "seed {seed}: by class"
            );
            assert_eq!(
                &merged_by_class(store, fine, false).await,
                total,
                "seed {seed}: by class across agencies"
            );
        }
        for ((a, b), figures) in cuts.iter().zip(&carried) {
            assert_eq!(
                figures,
                &scanned(*a, *b).await,
                "seed {seed}: the month from {a}"
            );
        }
        assert_eq!(
            store.stat_figures(start, end, &filter).await.unwrap(),
            scanned(start, end).await,
            "seed {seed}: the whole period"
        );
        // Periods cut inside months: a part of a month is read as its month's row less the
        // rest where the rest is shorter (both sides of a window; a start late in a month).
        let at = |m: u32, d: u32| Utc.with_ymd_and_hms(2025, m, d, 3, 15, 0).unwrap();
        let mut windows = vec![
            (at(3, 20), end),
            (at(4, 3), at(4, 25)),
            (at(5, 28), at(6, 2)),
            (at(2, 1), at(2, 27)),
        ];
        // Every month from its tenth day to its last: read as the month's row less both ends.
        for (a, b) in &cuts {
            if *b - *a > Duration::days(20) {
                windows.push((*a + Duration::days(9), *b - Duration::hours(20)));
            }
        }
        // … and keyed by class, where most of a year is the year's row less the rest.
        windows.push((start, end));
        windows.push((at(1, 1), at(12, 31)));
        windows.push((motcua_domain::stats::month_start(202502).unwrap(), end));
        for (a, b) in windows {
            let fine = store.stat_figures(a, b, &filter).await.unwrap();
            assert_eq!(fine, scanned(a, b).await, "seed {seed}: {a} to {b}");
            for (grain, agency) in [(StatGrain::Class, true), (StatGrain::ClassOnly, false)] {
                let class = StatFilter {
                    grain,
                    ..filter.clone()
                };
                assert_eq!(
                    store.stat_figures(a, b, &class).await.unwrap(),
                    merged_by_class(store, &fine, agency).await,
                    "seed {seed}: {a} to {b} by {grain:?}"
                );
            }
        }
        let incremental = store.stat_monthly_rows().await.unwrap();
        let monthly = svc
            .report(&query(vec![GroupBy::Month, GroupBy::Channel]))
            .await
            .unwrap();
        let whole = svc.report(&query(vec![])).await.unwrap();
        // A report without procedures reads the sums per class (and without agencies, added
        // up across them): its total is the total of the report grouped by procedure (read
        // per procedure) and of the one grouped by agency.
        for by in [GroupBy::Procedure, GroupBy::Agency] {
            assert_eq!(
                svc.report(&query(vec![by])).await.unwrap().total,
                whole.total,
                "seed {seed}: by class and by {by:?}"
            );
        }
        let classes = store.stat_class_rows().await.unwrap();
        svc.rebuild_stats().await.unwrap();
        assert_eq!(
            store.stat_class_rows().await.unwrap(),
            classes,
            "seed {seed}: the sums per class differ from a rebuild"
        );
        assert_eq!(
            store.stat_monthly_rows().await.unwrap(),
            incremental,
            "seed {seed}: the sums kept as dossiers changed differ from a rebuild"
        );
        assert_eq!(
            svc.report(&query(vec![GroupBy::Month, GroupBy::Channel]))
                .await
                .unwrap(),
            monthly,
            "seed {seed}"
        );
        assert_eq!(
            svc.report(&query(vec![])).await.unwrap(),
            whole,
            "seed {seed}"
        );
        // The balance of §Statistics holds.
        let t = whole.total;
        assert_eq!(
            t.received,
            t.resolved.total + t.refused + t.withdrawn + t.in_progress.total,
            "seed {seed}: {t:?}"
        );
        assert!(
            t.in_progress.overdue >= 0 && t.in_progress.not_due >= 0,
            "seed {seed}: {t:?}"
        );
        assert!(
            !incremental.is_empty(),
            "seed {seed}: something was counted"
        );
        ended += t.resolved.total + t.refused + t.withdrawn;
    }
    assert!(ended > 0, "the random histories end some dossiers");
}

/// The class of each procedure in the catalogue, as text (the keys of a report by class).
async fn classes(store: &Store) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for code in ["1.004194", "1.004884"] {
        if let Ok(p) = store.procedure(code).await {
            out.insert(
                code.to_owned(),
                motcua_domain::stats::ProcedureClass::of(&p).0.to_string(),
            );
        }
    }
    out
}

/// Figures keyed by procedure, merged by class (and across agencies unless `agency`).
async fn merged_by_class(
    store: &Store,
    fine: &[(StatKey, KeyFigures)],
    agency: bool,
) -> Vec<(StatKey, KeyFigures)> {
    let classes = classes(store).await;
    let mut out: BTreeMap<StatKey, KeyFigures> = BTreeMap::new();
    for (k, f) in fine {
        let key = StatKey {
            agency: if agency {
                k.agency.clone()
            } else {
                String::new()
            },
            procedure: classes.get(&k.procedure).cloned().unwrap_or("0".into()),
            channel: k.channel.clone(),
        };
        let m = out.entry(key).or_default();
        m.carried_over += f.carried_over;
        m.flows.add_all(&f.flows, 1);
        m.overdue += f.overdue;
    }
    out.into_iter()
        .filter(|(_, f)| *f != KeyFigures::default())
        .collect()
}

type Rows = Vec<((i32, StatKey), motcua_domain::stats::Counts)>;

/// Stored rows of sums by (period, key), in order.
fn by_key(rows: Vec<(i32, StatKey, motcua_domain::stats::Counts)>) -> Rows {
    let mut rows: Rows = rows.into_iter().map(|(p, k, c)| ((p, k), c)).collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// Rows added up by `(period, key)` after `regroup`, without the empty ones.
fn regrouped(rows: &Rows, regroup: impl Fn(i32, &StatKey) -> (i32, StatKey)) -> Rows {
    let mut out: BTreeMap<(i32, StatKey), motcua_domain::stats::Counts> = BTreeMap::new();
    for ((period, key), c) in rows {
        out.entry(regroup(*period, key)).or_default().add_all(c, 1);
    }
    out.into_iter().filter(|(_, c)| !c.is_zero()).collect()
}

/// The sums per class, kept as dossiers changed and as procedures changed class, equal the
/// sums per procedure added up by each procedure's class now; the years, their months.
async fn check_classes(store: &Store, seed: u64) {
    let classes = classes(store).await;
    let months = regrouped(
        &by_key(store.stat_monthly_rows().await.unwrap()),
        |month, k| {
            let procedure = classes.get(&k.procedure).cloned().unwrap_or("0".into());
            (
                month,
                StatKey {
                    procedure,
                    ..k.clone()
                },
            )
        },
    );
    assert_eq!(
        by_key(store.stat_class_rows().await.unwrap()),
        months,
        "seed {seed}: the sums per class"
    );
    assert_eq!(
        by_key(store.stat_class_years().await.unwrap()),
        regrouped(&months, |month, k| (month / 100, k.clone())),
        "seed {seed}: the sums per class and year"
    );
}
