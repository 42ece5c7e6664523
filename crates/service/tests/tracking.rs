//! Public tracking is served from memory and stays correct on every instance: a change made by
//! this instance, by another instance, or by another process (straight in the store) is seen
//! at once here, or within a second elsewhere; on SQLite and PostgreSQL. And the officers'
//! lookup by applicant name, which reads a trigram index kept in step with every write.
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
    names_are_found_through_their_index_as_they_change,
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

    // A view not in memory is made from one read of the dossier and its trail: the same as
    // the two reads apart, in the trail's order.
    let (row, trail) = store.dossier_with_trail(&code).await.unwrap();
    assert_eq!(row, store.dossier(&code).await.unwrap());
    assert_eq!(trail, store.audit_trail("dossier", &code).await.unwrap());
    assert_eq!(trail.len(), 4, "{trail:?}");
    let fresh = service(store, clock.clone()).await;
    let cold = fresh.tracking(&code).await.unwrap();
    let warm = a.tracking(&code).await.unwrap();
    assert_eq!(
        serde_json::to_value(&cold.history).unwrap(),
        serde_json::to_value(&warm.history).unwrap()
    );
    assert_eq!(cold.history.len(), 4);
    assert!(matches!(
        store.dossier_with_trail("000.00.00.H00-250128-9999").await,
        Err(motcua_store::StoreError::NotFound(_))
    ));

    stop_tx.send(true).unwrap();
    for w in watchers {
        w.await.unwrap();
    }
}

/// The codes of the dossiers whose applicant name holds every word of `name`.
async fn named(store: &Store, name: &str) -> Vec<String> {
    let q = motcua_store::DossierQuery {
        applicant_name: Some(name.into()),
        ..Default::default()
    };
    let mut codes: Vec<String> = store
        .dossiers(&q)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|d| d.dossier.code)
        .collect();
    codes.sort();
    codes
}

async fn names_are_found_through_their_index_as_they_change(db: &TestDb) {
    let store: &Store = db;
    let cal = WorkCalendar::official().unwrap();
    let mut codes = Vec::new();
    for name in ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Anh", "Phạm An"] {
        let (mut d, change) = counter_dossier(t0());
        d.applicant.name = name.into();
        let (stored, _) = store
            .create_dossier(d, change, "tiepnhan", t0(), &cal, None, &no_jobs)
            .await
            .unwrap();
        codes.push(stored.dossier.code);
    }
    let [an, binh, anh, pham] = [0, 1, 2, 3].map(|i| codes[i].clone());
    let mut both = vec![an.clone(), anh.clone()];
    both.sort();
    assert_eq!(named(store, "van").await, both);
    assert_eq!(named(store, "nguyen an").await, vec![an.clone()]);
    assert_eq!(
        named(store, "BÌNH trần").await,
        vec![binh.clone()],
        "any order, any case"
    );
    assert_eq!(named(store, "uyễ").await, vec![an.clone()], "inside a word");
    // Words too short for a trigram are still found, on the row ("tran" holds "an").
    let mut all = codes.clone();
    all.sort();
    assert_eq!(named(store, "an").await, all);
    assert_eq!(named(store, "pham an").await, vec![pham.clone()]);
    assert!(named(store, "hoang").await.is_empty());

    // Rows written before the folded name existed are found once it is filled in (the
    // index follows the column both ways).
    db.execute_unchecked("UPDATE dossiers SET applicant_folded = NULL")
        .await
        .unwrap();
    assert!(named(store, "binh").await.is_empty());
    assert_eq!(store.fill_folded_names().await.unwrap(), 4);
    assert_eq!(named(store, "tran thi binh").await, vec![binh]);
    assert_eq!(named(store, "van").await, both);
    if db.schema().is_none() {
        // SQLite: FTS5 checks its index against the table it indexes.
        db.execute_unchecked(
            "INSERT INTO dossier_names (dossier_names) VALUES ('integrity-check')",
        )
        .await
        .unwrap();
    }
}
