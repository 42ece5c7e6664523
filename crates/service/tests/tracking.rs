//! Public tracking is served from memory and stays correct on every instance: a change made by
//! this instance, by another instance, or by another process (straight in the store) is seen
//! at once here, or within a second elsewhere; on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use motcua_domain::calendar::WorkCalendar;
use motcua_domain::clock::FixedClock;
use motcua_domain::dossier::{Action, Actor, MissingItem, Status};
use motcua_service::Service;
use motcua_store::testing::TestDb;
use motcua_store::{Store, no_jobs};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
use common::{counter_dossier, service, t0};

motcua_store::on_both!(motcua_store::testing::TestDb::start =>
    tracking_follows_every_change_on_every_instance,
);

async fn status_becomes(svc: &Service, code: &str, want: Status) {
    let t = Instant::now();
    loop {
        let v = svc.tracking(code).await.unwrap();
        if v.status == want {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{code} is still {:?}, not {want:?}",
            v.status
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn tracking_follows_every_change_on_every_instance(db: &TestDb) {
    let store: &Store = db;
    let clock = Arc::new(FixedClock::new(t0()));
    let a = service(store, clock.clone()).await;
    let b = service(store, clock.clone()).await;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let watchers = [
        tokio::spawn(motcua_service::tracking::watch_dossier_changes(
            a.clone(),
            stop.clone(),
        )),
        tokio::spawn(motcua_service::tracking::watch_dossier_changes(
            b.clone(),
            stop.clone(),
        )),
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;

    let cal = WorkCalendar::official().unwrap();
    let (d, change) = counter_dossier(t0());
    let (stored, _) = store
        .create_dossier(d, change, "tiepnhan", t0(), &cal, None, &no_jobs)
        .await
        .unwrap();
    let code = stored.dossier.code.clone();
    // Typed as on a receipt: lower case, spaces around.
    let first = a
        .tracking(&format!("  {}  ", code.to_lowercase()))
        .await
        .unwrap();
    assert_eq!(first.status, Status::Received);
    assert_eq!(first.history.len(), 1);
    assert_eq!(a.tracking_cache().len(), 1, "remembered");
    // The notice of that very version changes nothing: the view stays in memory.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(a.tracking_cache().len(), 1, "still remembered");

    // Another instance acts: this one sees it within a second.
    let system = b.acting(Actor::system("test"));
    let supplement = Action::RequestSupplement {
        missing: vec![MissingItem {
            item: "Tờ khai".into(),
            reason: "Thiếu chữ ký".into(),
        }],
        note: None,
    };
    b.act(&system, &code, &supplement, None).await.unwrap();
    status_becomes(&a, &code, Status::AwaitingSupplement).await;
    let v = a.tracking(&code).await.unwrap();
    assert_eq!(v.history.len(), 2);
    assert_eq!(v.history[1].action, "request_supplement");

    // This instance acts: seen at once, no waiting.
    a.act(
        &a.acting(Actor::system("test")),
        &code,
        &Action::SupplementReceived {
            note: None,
            components: Vec::new(),
        },
        None,
    )
    .await
    .unwrap();
    assert_eq!(a.tracking(&code).await.unwrap().status, Status::Received);

    // Another process writes straight to the store: seen within a second by both.
    store
        .act(
            &code,
            &Action::Forward { note: None },
            &Actor::system("cli"),
            None,
            t0(),
            &cal,
            &|_| Ok(()),
            &no_jobs,
        )
        .await
        .unwrap();
    status_becomes(&a, &code, Status::Processing).await;
    status_becomes(&b, &code, Status::Processing).await;

    // Overdue is computed at each answer, not remembered.
    assert!(!a.tracking(&code).await.unwrap().overdue);
    clock.advance(chrono::Duration::days(60));
    assert!(a.tracking(&code).await.unwrap().overdue);

    stop_tx.send(true).unwrap();
    for w in watchers {
        w.await.unwrap();
    }
}
