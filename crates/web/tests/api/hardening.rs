//! Issue 11's security findings, each with its regression test, on SQLite and PostgreSQL.

use super::dossiers::{A, RE_BIRTH, counter, setup};
use super::{PASSWORD, login};
use axum::http::StatusCode;
use motcua_web::testing::TestApp;
use serde_json::json;

/// Item 1: The IOC viewer sees codes and figures, never personal data; a postal agent looks nobody up.
pub(crate) async fn personal_data_only_where_the_work_needs_it(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    // The viewer: the list has the code, not the applicant.
    let r = c.get("ioc", "/api/v1/dossiers").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let item = &r.body["items"][0];
    assert_eq!(item["code"], code.as_str());
    let text = r.text.clone();
    for personal in [
        "Nguyễn Văn An",
        "008190001234",
        "0912 345 678",
        "an@example.vn",
    ] {
        assert!(
            !text.contains(personal),
            "{personal} shown to the viewer: {text}"
        );
    }
    // Nor the dossier itself, its history, or a search by ID number.
    assert_eq!(
        c.get("ioc", &format!("/api/v1/dossiers/{code}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get("ioc", &format!("/api/v1/dossiers/{code}/history"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get("ioc", "/api/v1/dossiers?applicant_id=008190001234")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // A postal agent typing the ID at the counter page learns nothing about the applicant.
    let token = &c.tokens["buudien"];
    let r = app
        .get("/mot-cua?thu_tuc=1.004884&id_number=008190001234")
        .header("cookie", &format!("motcua_session={token}"))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for personal in [
        "Nguyễn Văn An",
        "0912 345 678",
        "an@example.vn",
        code.as_str(),
    ] {
        assert!(
            !r.text.contains(personal),
            "{personal} shown to a postal agent"
        );
    }
    assert_eq!(
        c.get("buudien", "/api/v1/dossiers?applicant_id=008190001234")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The counter officer of the receiving agency still finds the applicant.
    let token = &c.tokens["tiepnhan.a"];
    let r = app
        .get("/mot-cua?thu_tuc=1.004884&id_number=008190001234")
        .header("cookie", &format!("motcua_session={token}"))
        .send()
        .await;
    assert!(
        r.text.contains("Nguyễn Văn An") && r.text.contains(&code),
        "{}",
        r.text
    );
}

/// Item 2: Calendar queries are bounded; 6. bad input is a 4xx, never a 500.
pub(crate) async fn bad_input_is_a_client_error(app: &TestApp) {
    let c = setup(app).await;
    let token = &c.tokens["tiepnhan.a"];
    for (path, status) in [
        (
            "/api/v1/calendar/working-days?from=1925-01-01T00:00:00%2B07:00&to=2025-01-01T00:00:00%2B07:00",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/calendar/working-days?from=1800-01-01T00:00:00%2B07:00&to=1800-01-02T00:00:00%2B07:00",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/api/v1/tracking/x%00y", StatusCode::BAD_REQUEST),
        ("/api/v1/units?q=a%00b", StatusCode::BAD_REQUEST),
        (
            "/api/v1/dossiers?applicant_id=0%00",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/dossiers?procedure_code=%00",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = app.get(path).bearer(token).send().await;
        assert_eq!(r.status, status, "{path}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    // A thousand words: answered (at most ten words are searched), never a 500.
    let words = (0..1000)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join("+");
    for base in ["/api/v1/units", "/api/v1/agencies", "/api/v1/procedures"] {
        let r = app.get(&format!("{base}?q={words}")).send().await;
        assert!(r.status.is_client_error(), "{base}: {}", r.status);
        let r = app
            .get(&format!(
                "{base}?q={}",
                "a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p+q+r+s+t+u+v"
            ))
            .send()
            .await;
        assert_eq!(r.status, StatusCode::OK, "{base}: {}", r.text);
    }
    // A NUL in JSON (a username, an assignee).
    let r = app
        .post("/api/v1/auth/token")
        .json(&json!({"username": "a\u{0}b", "password": "x"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let r = c
        .act(
            "tiepnhan.a",
            &code,
            json!({"action": "assign", "assignee": "x\u{0}y"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    // Free text has its documented maximum.
    let long = "ghi chú ".repeat(300);
    let r = c
        .act(
            "chuyenvien.a",
            &code,
            json!({"action": "forward", "note": long}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["errors"][0]["field"], "note");
    let items: Vec<_> = (0..9000)
        .map(|i| json!({"item": format!("Giấy tờ {i}"), "reason": "thiếu"}))
        .collect();
    let r = c
        .act(
            "chuyenvien.a",
            &code,
            json!({"action": "request_supplement", "missing": items}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["errors"][0]["field"], "missing");
}

/// Item 3: Redirects stay on the site.
pub(crate) async fn redirects_stay_on_the_site(app: &TestApp) {
    for next in [
        "/%09/other-host/x",
        "//other-host/x",
        "/%0a",
        "/%5C%5Cother-host",
        "https://x.example/",
    ] {
        let r = app.get(&format!("/ngon-ngu?l=en&next={next}")).send().await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(r.header("location"), Some("/"), "{next}");
        let r = app.get(&format!("/dang-nhap?next={next}")).send().await;
        assert_eq!(r.status, StatusCode::OK, "{next}");
        assert!(r.text.contains("name=\"next\" value=\"\""), "{next}");
    }
    let r = app
        .get("/ngon-ngu?l=en&next=/tra-cuu%3Fma%3D1")
        .send()
        .await;
    assert_eq!(r.header("location"), Some("/tra-cuu?ma=1"));
}

/// Item 4: Login throttling: slowed, then locked, every failure and lock audited with the address;
/// an administrator unlocks; common passwords are refused.
pub(crate) async fn login_is_throttled_and_audited(app: &TestApp) {
    let try_login = |password: &'static str| {
        app.post("/api/v1/auth/token")
            .json(&json!({"username": "chuyenvien", "password": password}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            try_login("sai-mat-khau").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Right away again: slowed down, even with the right password.
    let r = try_login(PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(r.header("retry-after").is_some());
    // Ten failures, each after the wait: locked for 15 minutes.
    let mut failures = 3;
    while failures < 10 {
        app.clock.advance(chrono::Duration::seconds(31));
        assert_eq!(
            try_login("sai-mat-khau").await.status,
            StatusCode::UNAUTHORIZED
        );
        failures += 1;
    }
    app.clock.advance(chrono::Duration::minutes(5));
    let r = try_login(PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(
        r.body["detail"].as_str().unwrap().contains("khoá"),
        "{}",
        r.body
    );
    // Audited: each failure and the lock, with the address.
    let trail = app
        .store()
        .audit_trail("login", "chuyenvien")
        .await
        .unwrap();
    assert_eq!(
        trail.iter().filter(|e| e.action == "login_failed").count(),
        10
    );
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.action == "login_locked_account")
            .count(),
        1
    );
    assert!(trail.iter().all(|e| e.data.contains("\"address\"")));
    // The administrator unlocks it; the right password works again.
    let admin = login(app, "admin").await;
    let r = app
        .post("/api/v1/users/chuyenvien/unlock")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["unlocked"], true);
    assert_eq!(try_login(PASSWORD).await.status, StatusCode::OK);
    // Common passwords are refused when an account is made.
    let r = app
        .post("/api/v1/users")
        .bearer(&admin)
        .json(&json!({"username": "moi", "password": "Password@123", "role": "admin"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
}

/// Item 8: Personal data is never cached; HSTS with secure cookies.
pub(crate) async fn personal_data_is_not_cached(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let r = c
        .get("tiepnhan.a", &format!("/api/v1/dossiers/{code}"))
        .await;
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r.header("strict-transport-security").is_some());
    let token = &c.tokens["tiepnhan.a"];
    let r = app
        .get(&format!("/ho-so/{code}"))
        .header("cookie", &format!("motcua_session={token}"))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let r = app.get("/static/site.css").send().await;
    assert!(r.header("cache-control").unwrap().contains("max-age"));
}

/// Item 9: `audit verify` finds a row written into the audit log without the key, and a dossier
/// changed in the database behind the workflow's back.
pub(crate) async fn audit_verify_finds_forgery_and_direct_changes(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let store = app.store();
    store.seal_audit().await.unwrap();
    let r = store.verify_audit().await.unwrap();
    assert!(r.is_intact(), "{r:?}");
    assert!(r.dossiers_checked >= 1);
    // A record inserted directly: named, before and after the sealer chains it.
    store
        .execute_unchecked(&format!(
            "INSERT INTO audit_log (at, actor, entity, entity_key, action, data) VALUES \
             ('2025-01-24T02:30:00+00:00', 'ke-gian', 'dossier', '{code}', 'approve', '{{}}')"
        ))
        .await
        .unwrap();
    let r = store.verify_audit().await.unwrap();
    assert_eq!(r.forged.len(), 1, "{r:?}");
    store.seal_audit().await.unwrap();
    let r = store.verify_audit().await.unwrap();
    assert!(!r.is_intact());
    assert_eq!(r.forged.len(), 1, "{r:?}");
    assert!(r.forged[0].reason.contains("authentication code"), "{r:?}");
    // A status changed in the row: the replay of its history disagrees, and says how.
    store
        .execute_unchecked(&format!(
            "UPDATE dossiers SET status = 'resolved' WHERE code = '{code}'"
        ))
        .await
        .unwrap();
    let r = store.verify_audit().await.unwrap();
    let m = r
        .dossier_mismatches
        .iter()
        .find(|m| m.code == code)
        .expect("the changed dossier is named");
    assert!(
        m.differences
            .iter()
            .any(|d| d.contains("status") && d.contains("resolved")),
        "{m:?}"
    );
}

/// A web session of `username`, opened now with the application's idle and absolute limits.
async fn new_session(app: &TestApp, username: &str) -> String {
    let user = app.store().user_by_name(username).await.unwrap().unwrap();
    let (token, _) = app
        .store()
        .issue_session(
            &user,
            app.now(),
            app.state.session_idle,
            app.state.session_max,
        )
        .await
        .unwrap();
    token
}

/// Item 10: Sessions end after 30 minutes idle, are renewed by activity, and a form posted after
/// the end comes back after login with what was typed.
pub(crate) async fn sessions_fit_a_working_day(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let session = new_session(app, "chuyenvien.a").await;
    let cookie = format!("motcua_session={session}");
    let page = |path: String| app.get(&path).header("cookie", &cookie).send();
    // Active all day: each request moves the idle expiry on.
    for _ in 0..10 {
        app.clock.advance(chrono::Duration::minutes(20));
        let r = page(format!("/ho-so/{code}")).await;
        assert_eq!(r.status, StatusCode::OK, "renewed by activity");
    }
    // Away for 31 minutes: the session has ended.
    app.clock.advance(chrono::Duration::minutes(31));
    let r = page("/xu-ly".into()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // A form posted now: the login page, keeping what was typed.
    let csrf = motcua_web::ui::csrf_token(&app.state.csrf_key[..], Some(&session), "");
    let r = app
        .post(&format!("/ho-so/{code}/hanh-dong"))
        .header("cookie", &cookie)
        .body(
            format!("_csrf={csrf}&action=forward&version=1&note=Ghi+ch%C3%BA+c%E1%BB%A7a+t%C3%B4i"),
            "application/x-www-form-urlencoded",
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert!(r.text.contains("Ghi chú của tôi"), "{}", r.text);
    assert!(r.text.contains("name=\"r_to\""));
    // The absolute limit: 12 hours after login, however active.
    let s2 = new_session(app, "chuyenvien.a").await;
    for _ in 0..40 {
        app.clock.advance(chrono::Duration::minutes(20));
        app.svc.touch_session(&s2).await.unwrap();
    }
    assert!(
        app.store()
            .user_by_token(&s2, app.now())
            .await
            .unwrap()
            .is_none()
    );
}

/// Item 5: A client that never finishes its headers is disconnected; 2. `/healthz` answers while
/// public endpoints are flooded (bounded, loopback only).
pub(crate) async fn slow_clients_and_floods_do_not_starve_the_server(app: &TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.url("").trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert_eq!(
        closed,
        Ok(true),
        "the header-read timeout closes the connection"
    );

    let http = reqwest::Client::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flood = Vec::new();
    for i in 0..32 {
        let (http, stop) = (http.clone(), stop.clone());
        let url = if i % 2 == 0 {
            app.url("/api/v1/calendar/working-days?from=2016-01-01T00:00:00%2B07:00&to=2025-12-31T00:00:00%2B07:00")
        } else {
            app.url("/api/v1/procedures?q=dang+ky+khai+sinh")
        };
        flood.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 2000 {
                let _ = http.get(&url).send().await;
                n += 1;
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut times = Vec::new();
    for _ in 0..30 {
        let t = std::time::Instant::now();
        let r = http.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        times.push(t.elapsed());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for f in flood {
        let _ = f.await;
    }
    times.sort();
    let median = times[times.len() / 2];
    eprintln!(
        "healthz under flood: median {median:?}, max {:?}",
        times[times.len() - 1]
    );
    assert!(
        median < std::time::Duration::from_millis(50),
        "healthz median {median:?} under flood"
    );
}

/// The anonymous rate limit answers 429 with Retry-After, per address, and never limits
/// `/healthz` or signed-in callers.
pub(crate) async fn anonymous_callers_are_rate_limited(app: &TestApp) {
    let _ = A;
    let app_limited = TestApp::start(app.store().backend()).await.with_state(|s| {
        s.edge.anonymous_per_second = 1.0;
        s.edge.anonymous_burst = 5.0;
    });
    let mut limited = 0;
    for _ in 0..10 {
        let r = app_limited.get("/api/v1/procedures").send().await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.header("retry-after").is_some());
            limited += 1;
        }
    }
    assert!(limited >= 4, "{limited}");
    assert_eq!(
        app_limited.get("/healthz").send().await.status,
        StatusCode::OK
    );
    app_limited
        .add_user("quantri2", motcua_domain::auth::Role::Admin, None)
        .await;
    let token = app_limited.token("quantri2").await;
    let r = app_limited
        .get("/api/v1/procedures")
        .bearer(&token)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app_limited.finish().await;
}

motcua_store::on_both!(
    crate::start =>
    personal_data_only_where_the_work_needs_it,
    bad_input_is_a_client_error,
    redirects_stay_on_the_site,
    login_is_throttled_and_audited,
    personal_data_is_not_cached,
    audit_verify_finds_forgery_and_direct_changes,
    sessions_fit_a_working_day,
    anonymous_callers_are_rate_limited,
);

mod tcp {
    use super::slow_clients_and_floods_do_not_starve_the_server;
    motcua_store::on_both!(
        crate::start_tcp =>
        slow_clients_and_floods_do_not_starve_the_server,
    );
}
