//! Tokens are looked up once and then answered from memory, yet logging out, locking the
//! account and the token's expiry take effect at once; on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use motcua_domain::auth::Role;
use motcua_domain::clock::FixedClock;
use motcua_domain::dossier::Actor;
use motcua_store::testing::TestDb;
use motcua_store::{ChangeBy, NewUser, Store};
use std::sync::Arc;

mod common;
use common::{service, t0};

motcua_store::on_both!(motcua_store::testing::TestDb::start =>
    tokens_from_memory_stop_at_once,
);

async fn tokens_from_memory_stop_at_once(db: &TestDb) {
    let store: &Store = db;
    let clock = Arc::new(FixedClock::new(t0()));
    let svc = service(store, clock.clone()).await;
    let user = store
        .create_user(
            NewUser {
                username: "congdan".into(),
                full_name: String::new(),
                password: "mat-khau-thu-nghiem".into(),
                role: Role::Citizen,
                agency_code: None,
            },
            &ChangeBy::new("test", t0()),
        )
        .await
        .unwrap();
    let (a, _) = store
        .issue_token(&user, t0(), chrono::Duration::hours(8))
        .await
        .unwrap();
    let (b, _) = store
        .issue_token(&user, t0(), chrono::Duration::hours(8))
        .await
        .unwrap();
    assert_eq!(svc.user_by_token(&a).await.unwrap().unwrap().id, user.id);
    assert_eq!(
        svc.sessions_remembered(),
        1,
        "remembered after the first look-up"
    );
    assert!(svc.user_by_token("not-a-token").await.unwrap().is_none());
    // Expiry, by the injected clock, even from memory.
    clock.advance(chrono::Duration::hours(8));
    assert!(svc.user_by_token(&a).await.unwrap().is_none(), "expired");
    clock.set(t0());
    assert!(svc.user_by_token(&a).await.unwrap().is_some());
    // Logging out one token stops it at once, not the other.
    svc.revoke_token(&a).await.unwrap();
    assert!(svc.user_by_token(&a).await.unwrap().is_none(), "logged out");
    assert!(svc.user_by_token(&b).await.unwrap().is_some());
    // Locking the account stops every token at once.
    svc.set_user_locked(&svc.acting(Actor::system("test-admin")), "congdan", true)
        .await
        .unwrap();
    assert!(svc.user_by_token(&b).await.unwrap().is_none(), "locked");
}
