//! The job queue and outbox on SQLite and PostgreSQL: a job enqueued with a change that rolls
//! back never runs; 1,000 jobs over 4 workers each run exactly once; an expired lease is taken
//! over; backoff, dead-lettering, retry and discard; ordering per key; reference data fresh
//! on every instance. (A worker process killed with `kill -9` is in crates/motcua/tests.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use motcua_domain::calendar::{CalendarEntry, HolidayKey, WorkCalendar, YearTable};
use motcua_domain::clock::FixedClock;
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{Action, Actor};
use motcua_service::jobs::{Runner, RunnerConfig};
use motcua_store::testing::TestDb;
use motcua_store::{NewJob, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

motcua_store::on_both!(motcua_store::testing::TestDb::start =>
    outbox_jobs_commit_and_roll_back_with_their_change,
    a_thousand_jobs_over_four_workers_run_once_each,
    an_expired_lease_is_taken_over,
    failures_back_off_then_die_and_can_be_retried_or_discarded,
    jobs_of_one_key_run_one_at_a_time_in_order,
    reference_edits_reach_every_instance,
    the_sealer_runs_while_every_worker_is_busy,
);

mod common;
use common::{counter_dossier, service, t0};

fn job(kind: &str, n: usize, at: DateTime<Utc>) -> NewJob {
    NewJob::new(kind, &serde_json::json!({ "n": n }), at)
}

async fn outbox_jobs_commit_and_roll_back_with_their_change(db: &TestDb) {
    let store: &Store = db;
    let cal = WorkCalendar::official().unwrap();
    let at = t0();
    let (d, change) = counter_dossier(at);
    let (stored, _) = store
        .create_dossier(d, change, "tiepnhan", at, &cal, None, &|_, _, _| {
            vec![job("test.outbox", 1, at)]
        })
        .await
        .unwrap();
    let code = stored.dossier.code.clone();
    let actor = Actor::system("test");
    let assign = Action::Assign {
        assignee: "chuyenvien".into(),
        note: None,
    };
    // A stale If-Match: the action and its job roll back together.
    let r = store
        .act(
            &code,
            &assign,
            &actor,
            Some(7),
            at,
            &cal,
            &|_| Ok(()),
            &|_, _, _| vec![job("test.outbox", 2, at)],
        )
        .await;
    assert!(matches!(r, Err(StoreError::Stale { current: 1 })), "{r:?}");
    // A refusal by the caller's guard (the policy): same.
    let r = store
        .act(
            &code,
            &assign,
            &actor,
            None,
            at,
            &cal,
            &|_| {
                Err(motcua_domain::dossier::Refusal::Forbidden(
                    motcua_domain::Msg::new("không", "no"),
                ))
            },
            &|_, _, _| vec![job("test.outbox", 3, at)],
        )
        .await;
    assert!(matches!(r, Err(StoreError::Refused(_))), "{r:?}");
    // A state the machine refuses (approve at the reception step): same.
    let r = store
        .act(
            &code,
            &Action::Approve { note: None },
            &actor,
            None,
            at,
            &cal,
            &|_| Ok(()),
            &|_, _, _| vec![job("test.outbox", 4, at)],
        )
        .await;
    assert!(r.is_err());
    // A committed action brings its job.
    store
        .act(
            &code,
            &assign,
            &actor,
            Some(1),
            at,
            &cal,
            &|_| Ok(()),
            &|_, _, _| vec![job("test.outbox", 5, at)],
        )
        .await
        .unwrap();

    let clock = Arc::new(FixedClock::new(at));
    let svc = service(store, clock).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut runner = Runner::new(svc, RunnerConfig::new("w", 2));
    runner.without_recurring();
    let s2 = seen.clone();
    runner.register("test.outbox", 2, move |_svc, job| {
        let seen = s2.clone();
        async move {
            let p: serde_json::Value = serde_json::from_str(&job.payload).unwrap();
            seen.lock().unwrap().push(p["n"].as_u64().unwrap());
            Ok(())
        }
    });
    assert_eq!(runner.run_pending().await.unwrap(), 2);
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, vec![1, 5], "only the jobs of committed changes ran");
    assert_eq!(runner.run_pending().await.unwrap(), 0, "and only once");
}

async fn a_thousand_jobs_over_four_workers_run_once_each(db: &TestDb) {
    let store: &Store = db;
    let at = t0();
    for n in 0..1000 {
        store.enqueue(&job("test.count", n, at), at).await.unwrap();
    }
    let clock = Arc::new(FixedClock::new(at));
    let svc = service(store, clock).await;
    let runs = Arc::new(Mutex::new(HashMap::<i64, u32>::new()));
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for w in 0..4 {
        let mut cfg = RunnerConfig::new(format!("worker-{w}"), 4);
        cfg.idle_poll = std::time::Duration::from_millis(20);
        let mut runner = Runner::new(svc.clone(), cfg);
        runner.without_recurring();
        let runs = runs.clone();
        runner.register("test.count", 4, move |_svc, job| {
            let runs = runs.clone();
            async move {
                *runs.lock().unwrap().entry(job.id).or_default() += 1;
                Ok(())
            }
        });
        tasks.push(tokio::spawn(runner.run(stop.clone())));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let stats = store.job_stats(at).await.unwrap();
        let k = stats.iter().find(|k| k.kind == "test.count").unwrap();
        if k.done == 1000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not done in time: {k:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop_tx.send(true).unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 1000, "every job ran");
    let twice: Vec<_> = runs.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "jobs that ran more than once: {twice:?}");
    let workers: std::collections::HashSet<String> = store
        .jobs(Some("done"), Some("test.count"), 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.attempts.to_string())
        .collect();
    assert_eq!(workers, ["1".to_owned()].into(), "each in one attempt");
}

async fn an_expired_lease_is_taken_over(db: &TestDb) {
    let store: &Store = db;
    let at = t0();
    store.enqueue(&job("test.lease", 1, at), at).await.unwrap();
    let kinds = vec!["test.lease".to_owned()];
    let a = store
        .claim_jobs(&kinds, 10, "a", at, Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(a.len(), 1);
    // While the lease holds, nobody else gets it.
    let b = store
        .claim_jobs(
            &kinds,
            10,
            "b",
            at + Duration::seconds(29),
            Duration::seconds(30),
        )
        .await
        .unwrap();
    assert!(b.is_empty());
    // Worker a renews once, then dies: after the lease, b takes it over (attempt 2).
    assert!(
        store
            .renew_job(a[0].id, "a", at + Duration::seconds(40))
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_jobs(
                &kinds,
                10,
                "b",
                at + Duration::seconds(39),
                Duration::seconds(30)
            )
            .await
            .unwrap()
            .is_empty()
    );
    let b = store
        .claim_jobs(
            &kinds,
            10,
            "b",
            at + Duration::seconds(41),
            Duration::seconds(30),
        )
        .await
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].attempts, 2);
    assert_eq!(b[0].locked_by.as_deref(), Some("b"));
    // The dead worker's late answer no longer counts; the new holder's does.
    let later = at + Duration::seconds(42);
    assert!(!store.finish_job(a[0].id, "a", later).await.unwrap());
    assert!(!store.renew_job(a[0].id, "a", later).await.unwrap());
    assert!(store.finish_job(b[0].id, "b", later).await.unwrap());
    assert_eq!(store.job(b[0].id).await.unwrap().state, "done");
}

async fn failures_back_off_then_die_and_can_be_retried_or_discarded(db: &TestDb) {
    let store: &Store = db;
    let at = t0();
    store
        .enqueue(&job("test.fail", 1, at).max_attempts(3), at)
        .await
        .unwrap();
    let clock = Arc::new(FixedClock::new(at));
    let svc = service(store, clock.clone()).await;
    let mut runner = Runner::new(svc.clone(), RunnerConfig::new("w", 1));
    runner.without_recurring();
    let tries = Arc::new(Mutex::new(0u32));
    let t2 = tries.clone();
    runner.register("test.fail", 1, move |_svc, _job| {
        let tries = t2.clone();
        async move {
            *tries.lock().unwrap() += 1;
            Err("the national database did not answer".to_owned())
        }
    });
    assert_eq!(runner.run_pending().await.unwrap(), 1);
    let j = store
        .jobs(None, Some("test.fail"), 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!((j.state.as_str(), j.attempts), ("queued", 1));
    assert_eq!(
        j.last_error.as_deref(),
        Some("the national database did not answer")
    );
    // First retry after 2 s ± 25 %.
    let wait = j.run_at - at;
    assert!(
        wait >= Duration::milliseconds(1500) && wait <= Duration::milliseconds(2500),
        "{wait}"
    );
    assert_eq!(runner.run_pending().await.unwrap(), 0, "not due yet");
    let stats = store.job_stats(at).await.unwrap();
    let k = stats.iter().find(|k| k.kind == "test.fail").unwrap();
    assert_eq!((k.queued, k.failed, k.dead), (1, 1, 0));
    assert_eq!(
        k.last_error.as_deref(),
        Some("the national database did not answer")
    );
    // Second attempt: the delay doubles.
    clock.set(j.run_at);
    assert_eq!(runner.run_pending().await.unwrap(), 1);
    let j2 = store.job(j.id).await.unwrap();
    let wait2 = j2.run_at - j.run_at;
    assert!(
        wait2 >= Duration::milliseconds(3000) && wait2 <= Duration::milliseconds(5000),
        "{wait2}"
    );
    // Third and last: dead.
    clock.set(j2.run_at);
    assert_eq!(runner.run_pending().await.unwrap(), 1);
    let dead = store.job(j.id).await.unwrap();
    assert_eq!((dead.state.as_str(), dead.attempts), ("dead", 3));
    assert_eq!(*tries.lock().unwrap(), 3);
    clock.set(j2.run_at + Duration::days(1));
    assert_eq!(
        runner.run_pending().await.unwrap(),
        0,
        "a dead job never runs by itself"
    );
    // An admin retries it: a new round of attempts.
    let admin = svc.acting(Actor::system("test-admin"));
    let again = svc.retry_job(&admin, j.id).await.unwrap();
    assert_eq!((again.state.as_str(), again.attempts), ("queued", 0));
    assert!(
        svc.retry_job(&admin, j.id).await.is_err(),
        "only a dead job is retried"
    );
    assert_eq!(runner.run_pending().await.unwrap(), 1);
    // … or discards it once dead.
    for _ in 0..2 {
        let now = store.job(j.id).await.unwrap().run_at;
        clock.set(now);
        runner.run_pending().await.unwrap();
    }
    assert_eq!(store.job(j.id).await.unwrap().state, "dead");
    svc.discard_job(&admin, j.id).await.unwrap();
    assert!(store.job(j.id).await.is_err());
    // Officers may not manage jobs.
    let officer = svc.acting(Actor {
        name: "chuyenvien".into(),
        user_id: Some(3),
        role: Some(motcua_domain::auth::Role::Specialist),
        agency: Some(AgencyCode::parse("000.01.31.H58").unwrap()),
    });
    assert!(svc.job_stats(&officer.actor).await.is_err());
}

async fn jobs_of_one_key_run_one_at_a_time_in_order(db: &TestDb) {
    let store: &Store = db;
    let at = t0();
    for n in 0..30 {
        let key = format!("dossier-{}", n % 3);
        store
            .enqueue(&job("test.ordered", n, at).ordered_by(key), at)
            .await
            .unwrap();
    }
    let clock = Arc::new(FixedClock::new(at));
    let svc = service(store, clock).await;
    // (key, n, started) in the order things happened, shared by all workers.
    let log = Arc::new(Mutex::new(Vec::<(String, u64, bool)>::new()));
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for w in 0..3 {
        let mut cfg = RunnerConfig::new(format!("w{w}"), 4);
        cfg.idle_poll = std::time::Duration::from_millis(10);
        let mut runner = Runner::new(svc.clone(), cfg);
        runner.without_recurring();
        let log = log.clone();
        runner.register("test.ordered", 4, move |_svc, job| {
            let log = log.clone();
            async move {
                let p: serde_json::Value = serde_json::from_str(&job.payload).unwrap();
                let key = job.ordering_key.clone().unwrap();
                let n = p["n"].as_u64().unwrap();
                log.lock().unwrap().push((key.clone(), n, true));
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                log.lock().unwrap().push((key, n, false));
                Ok(())
            }
        });
        tasks.push(tokio::spawn(runner.run(stop.clone())));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while log.lock().unwrap().len() < 60 {
        assert!(std::time::Instant::now() < deadline, "not done in time");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop_tx.send(true).unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let log = log.lock().unwrap();
    for key in ["dossier-0", "dossier-1", "dossier-2"] {
        let mine: Vec<&(String, u64, bool)> = log.iter().filter(|e| e.0 == key).collect();
        // Start, end, start, end…: never two of one key at once; numbers in enqueue order.
        for (i, pair) in mine.chunks(2).enumerate() {
            assert!(
                pair[0].2 && !pair[1].2,
                "{key}: overlapping runs in {mine:?}"
            );
            assert_eq!(pair[0].1, pair[1].1);
            assert_eq!(pair[0].1 % 3, key[8..].parse::<u64>().unwrap());
            if i > 0 {
                assert!(
                    pair[0].1 > mine[2 * i - 2].1,
                    "{key}: out of order: {mine:?}"
                );
            }
        }
        assert_eq!(mine.len(), 20);
    }
}

async fn reference_edits_reach_every_instance(db: &TestDb) {
    let store: &Store = db;
    let clock = Arc::new(FixedClock::new(t0()));
    // Two instances on one database.
    let one = service(store, clock.clone()).await;
    let two = service(store, clock.clone()).await;
    let start = Utc.with_ymd_and_hms(2025, 3, 3, 2, 0, 0).unwrap(); // Monday 09:00
    let limit = motcua_domain::calendar::TimeLimit::working_days(1);
    let before = two.calendar().due(start, limit);
    assert!(
        !two.refresh_if_changed().await.unwrap(),
        "nothing changed yet"
    );
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(motcua_service::jobs::watch_reference(two.clone(), stop));
    // An admin on instance one makes Tuesday 4 March 2025 a day off.
    let mut table = store
        .calendar_tables()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.year == 2025)
        .unwrap_or(YearTable {
            year: 2025,
            source: String::new(),
            entries: vec![],
        });
    table.entries.push(CalendarEntry {
        date: chrono::NaiveDate::from_ymd_opt(2025, 3, 4).unwrap(),
        key: HolidayKey::SwapOff,
        name: "Nghỉ đột xuất (thử)".into(),
        note: None,
    });
    one.put_calendar_year(&one.acting(Actor::system("test-admin")), table)
        .await
        .unwrap();
    assert_ne!(
        one.calendar().due(start, limit),
        before,
        "the editing instance at once"
    );
    // The other instance within a second (its watcher polls every 500 ms).
    let t = std::time::Instant::now();
    while two.calendar().due(start, limit) == before {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "instance two still uses the old table"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop_tx.send(true).unwrap();
    watcher.await.unwrap();
    assert_eq!(
        two.calendar().due(start, limit),
        one.calendar().due(start, limit)
    );
}

/// The audit sealer has a slot of its own: with the only shared worker held by a long job
/// (thousands of slips to sign, in production), the chain is still sealed.
async fn the_sealer_runs_while_every_worker_is_busy(db: &TestDb) {
    let store: &Store = db;
    let at = t0();
    // Queued before the sealer's first run: a single shared worker would take it first.
    store
        .enqueue(&job("test.block", 0, at - Duration::hours(1)), at)
        .await
        .unwrap();
    let svc = service(store, Arc::new(FixedClock::new(at))).await;
    for i in 0..25 {
        store
            .record_audit(&motcua_store::audit::AuditRecord {
                at,
                actor: "canbo".into(),
                entity: "user",
                entity_key: format!("u{i}"),
                action: "login".into(),
                before: None,
                after: None,
                data: "{}".into(),
            })
            .await
            .unwrap();
    }
    assert_eq!(store.seal_backlog().await.unwrap().unsealed, 25);
    let (release_tx, release) = tokio::sync::watch::channel(false);
    let (running_tx, mut running) = tokio::sync::watch::channel(false);
    let mut cfg = RunnerConfig::new("busy", 1);
    cfg.idle_poll = std::time::Duration::from_millis(20);
    let mut runner = Runner::new(svc.clone(), cfg);
    runner.register("test.block", 1, move |_svc, _job| {
        let (mut release, running_tx) = (release.clone(), running_tx.clone());
        async move {
            let _ = running_tx.send(true);
            let _ = release.wait_for(|r| *r).await;
            Ok(())
        }
    });
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(runner.run(stop));
    running.wait_for(|r| *r).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while store.seal_backlog().await.unwrap().unsealed > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the chain was not sealed while the shared worker was busy"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let stats = store.job_stats(at).await.unwrap();
    let block = stats.iter().find(|k| k.kind == "test.block").unwrap();
    assert_eq!(
        block.running, 1,
        "the long job was still running: {block:?}"
    );
    release_tx.send(true).unwrap();
    stop_tx.send(true).unwrap();
    task.await.unwrap();
    assert!(store.verify_audit().await.unwrap().is_intact());
}
