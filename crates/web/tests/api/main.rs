//! The HTTP API, through the whole router in process, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::StatusCode;
use motcua_domain::auth::Role;
use motcua_domain::codes::AgencyCode;
use motcua_domain::units::Agency;
use motcua_store::{Backend, ChangeBy, NewUser};
use motcua_web::testing::{TEST_PASSWORD as PASSWORD, TestApp};
use serde_json::{Value, json};

mod daily;
mod dossiers;
mod files;
mod hardening;
mod openapi;
mod signatures;
mod slips;
mod stats;
mod ui;

/// The test application with this suite's own set-up: the agency 000.00.11.H58 (Sở Tư pháp),
/// an administrator `admin` and a specialist `chuyenvien` of that agency.
async fn start(backend: Backend) -> TestApp {
    let app = TestApp::start(backend).await;
    seed(&app).await;
    app
}

/// [`start`], also listening on a local port (for a real HTTP client).
async fn start_tcp(backend: Backend) -> TestApp {
    let app = TestApp::start_tcp(backend).await;
    seed(&app).await;
    app
}

async fn seed(app: &TestApp) {
    // The set-up is recorded as the system's, at the test clock.
    let by = ChangeBy::new("system", app.now());
    let s = app.store();
    s.upsert_agency(
        Agency {
            code: AgencyCode::parse("000.00.11.H58").unwrap(),
            name: "Sở Tư pháp".into(),
            parent_code: None,
            unit_code: None,
            one_stop_point: false,
            provenance: None,
        },
        &by,
    )
    .await
    .unwrap();
    for (u, role, agency) in [
        ("admin", Role::Admin, None),
        ("chuyenvien", Role::Specialist, Some("000.00.11.H58")),
    ] {
        s.create_user(
            NewUser {
                username: u.into(),
                full_name: String::new(),
                password: PASSWORD.into(),
                role,
                agency_code: agency.map(|a| AgencyCode::parse(a).unwrap()),
            },
            &by,
        )
        .await
        .unwrap();
    }
}

/// A token from the login endpoint (valid for the application's 8 hours).
async fn login(app: &TestApp, user: &str) -> String {
    login_with(app, user, PASSWORD).await
}

async fn login_with(app: &TestApp, user: &str, password: &str) -> String {
    let r = app
        .post("/api/v1/auth/token")
        .json(&json!({"username": user, "password": password}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["access_token"].as_str().unwrap().to_owned()
}

/// [`start`] with a configured public base URL (the tracking links of receipts and slips).
async fn start_public(backend: Backend) -> TestApp {
    start(backend).await.with_state(|s| {
        s.public_base_url = "https://dichvucong.tuyenquang.gov.vn".into();
    })
}

/// GET without credentials: the status and the JSON body (`null` if none).
async fn get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = app.get(path).send().await;
    (r.status, r.body)
}

motcua_store::on_both!(
    crate::start =>
    calendar_endpoints,
    calendar_year_edit_changes_deadlines,
    catalogue_write_needs_admin,
    catalogue_import_reports_bad_rows,
    tokens_expire,
    bad_input_is_problem_json,
    service_endpoints,
);

fn procedure(code: &str, name: &str) -> Value {
    json!({
        "code": code, "name": name, "field": "Hộ tịch", "levels": ["commune"],
        "online_level": "full", "time_limit": {"value": 3, "unit": "working_days"},
        "components": [{"name": "Tờ khai", "originals": 1, "copies": 0}]
    })
}

async fn calendar_endpoints(app: &TestApp) {
    let (s, v) = get(app, "/api/v1/calendar/lunar?date=2026-02-17").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v,
        json!({"solar": "2026-02-17", "lunar": {"year": 2026, "month": 1, "day": 1, "leap": false}})
    );
    let (_, v) = get(app, "/api/v1/calendar/lunar?from=2025-01-28&to=2025-01-30").await;
    assert_eq!(v.as_array().unwrap().len(), 3);
    let (s, v) = get(app, "/api/v1/calendar/lunar?date=1899-12-31").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["detail_en"]
            .as_str()
            .unwrap()
            .contains("outside the supported range")
    );

    let (_, v) = get(app, "/api/v1/calendar/holidays?year=2025").await;
    let keys: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    for k in [
        "new_year",
        "tet",
        "hung_kings",
        "reunification",
        "labour_day",
        "national_day",
        "compensatory",
        "makeup_workday",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    let (_, v) = get(app, "/api/v1/calendar/holidays?year=2026").await;
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|e| e["key"] == "culture_day" && e["date"] == "2026-11-24")
    );

    let (s, v) = get(
        app,
        "/api/v1/calendar/due?start=2025-01-24T09:00:00%2B07:00&working_days=5",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["due"], "2025-02-07T17:00:00+07:00");
    let (s, _) = get(
        app,
        "/api/v1/calendar/due?start=2025-01-24T09:00:00%2B07:00&working_days=5&working_hours=2",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, v) = get(app, "/api/v1/calendar/working-days?from=2025-01-24T09:00:00%2B07:00&to=2025-02-07T17:00:00%2B07:00").await;
    assert_eq!(v["working_days"], 5);
}

async fn calendar_year_edit_changes_deadlines(app: &TestApp) {
    let admin = app.token("admin").await;
    let due = || {
        get(
            app,
            "/api/v1/calendar/due?start=2025-03-03T09:00:00%2B07:00&working_days=1",
        )
    };
    assert_eq!(due().await.1["due"], "2025-03-04T17:00:00+07:00");
    let (_, mut table) = get(app, "/api/v1/calendar/years/2025").await;
    table["entries"]
        .as_array_mut()
        .unwrap()
        .push(json!({"date": "2025-03-04", "key": "swap_off", "name": "Nghỉ đột xuất (thử)"}));
    let body = json!({"source": "Sửa thử", "entries": table["entries"]});
    let specialist = app.token("chuyenvien").await;
    let r = app
        .put("/api/v1/calendar/years/2025")
        .bearer(&specialist)
        .json(&body)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .put("/api/v1/calendar/years/2025")
        .bearer(&admin)
        .json(&body)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(due().await.1["due"], "2025-03-05T17:00:00+07:00");
    // A make-up workday on a weekday is refused with the field named.
    let bad = json!({"source": "x", "entries": [{"date": "2025-03-05", "key": "makeup_workday", "name": "x"}]});
    let r = app
        .put("/api/v1/calendar/years/2025")
        .bearer(&admin)
        .json(&bad)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "entries[0].key");
}

async fn catalogue_write_needs_admin(app: &TestApp) {
    let p = procedure("1.001193", "Thủ tục đăng ký khai sinh");
    let put = |token: Option<String>| {
        let mut r = app.put("/api/v1/procedures/1.001193").json(&p);
        if let Some(t) = token {
            r = r.bearer(&t);
        }
        r.send()
    };
    assert_eq!(put(None).await.status, StatusCode::UNAUTHORIZED);
    let specialist = app.token("chuyenvien").await;
    let r = put(Some(specialist)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let admin = app.token("admin").await;
    assert_eq!(put(Some(admin.clone())).await.status, StatusCode::CREATED);
    assert_eq!(put(Some(admin)).await.status, StatusCode::OK);

    let (s, v) = get(app, "/api/v1/procedures?q=dang%20ky%20khai%20sinh").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["items"][0]["code"], "1.001193");
    let (_, v) = get(app, "/api/v1/procedures?q=%C4%90%C4%82NG%20K%C3%9D").await; // "ĐĂNG KÝ"
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    let (s, _) = get(app, "/api/v1/procedures/1.001193").await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = get(app, "/api/v1/procedures/1.999999").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(v["detail"].as_str().unwrap().contains("Không tìm thấy"));
    let (s, _) = get(app, "/api/v1/procedures?include_unpublished=true").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn catalogue_import_reports_bad_rows(app: &TestApp) {
    let admin = app.token("admin").await;
    let csv = "code,name,field,level,implementing_agency,decision_no,procedure_type,submission_modes,processing_time_parsed,fee_parsed\n\
               1.004222,Đăng ký thường trú,Cư trú,Cấp xã,,,,Trực tiếp;Trực tuyến,7 Ngày làm việc,\"10,000 Việt Nam Đồng\"\n\
               1.00419,Đăng ký tạm trú,Cư trú,Cấp xã,,,,Trực tiếp,3 Ngày làm việc,\n";
    let r = app
        .post("/api/v1/procedures/import")
        .bearer(&admin)
        .body(csv, "text/csv")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["rows"][0]["line"], 3);
    let (_, list) = get(app, "/api/v1/procedures").await;
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "a bad file imports nothing"
    );
    let good = csv.replace("1.00419,", "1.004194,");
    let r = app
        .post("/api/v1/procedures/import")
        .bearer(&admin)
        .body(good, "text/csv")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!({"inserted": 2, "updated": 0}));
}

async fn tokens_expire(app: &TestApp) {
    // A token of the login endpoint, which lasts the application's 8 hours.
    let token = login(app, "admin").await;
    let me = || app.get("/api/v1/auth/me").bearer(&token).send();
    assert_eq!(me().await.status, StatusCode::OK);
    app.clock
        .advance(chrono::Duration::hours(8) - chrono::Duration::seconds(1));
    assert_eq!(me().await.status, StatusCode::OK);
    app.clock.advance(chrono::Duration::seconds(1));
    let r = me().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    // Wrong password.
    let r = app
        .post("/api/v1/auth/token")
        .json(&json!({"username": "admin", "password": "sai"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A garbage token is refused even on a public endpoint.
    let r = app.get("/api/v1/procedures").bearer("garbage").send().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn bad_input_is_problem_json(app: &TestApp) {
    let admin = app.token("admin").await;
    let send = |body: &'static str| {
        app.put("/api/v1/procedures/1.001193")
            .bearer(&admin)
            .body(body, "application/json")
            .send()
    };
    let r = send("{not json").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let r = send(r#"{"code":"1.001193","name":"x","field":"y","levels":["commune"],"online_level":"full","colour":"red"}"#).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let v = r.body;
    assert!(v["detail_en"].as_str().unwrap().contains("colour"), "{v}");
    let r =
        send(r#"{"code":"1.001193","name":"  ","field":"y","levels":[],"online_level":"full"}"#)
            .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["name", "levels"]);
    let (s, _) = get(app, "/api/v1/procedures?limit=abc").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = get(app, "/api/v1/procedures?unknown=1").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = get(app, "/api/v1/nothing-here").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["type"], "/problems/not-found");
    // Users: a specialist needs an agency; duplicates conflict.
    let r = app
        .post("/api/v1/users")
        .bearer(&admin)
        .json(&json!({"username": "cv2", "password": "mat-khau-dai", "role": "specialist"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post("/api/v1/users")
        .bearer(&admin)
        .json(&json!({"username": "admin", "password": "mat-khau-dai", "role": "admin"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

async fn service_endpoints(app: &TestApp) {
    assert_eq!(get(app, "/healthz").await.0, StatusCode::OK);
    assert_eq!(get(app, "/readyz").await.0, StatusCode::OK);
    let (s, spec) = get(app, "/api/v1/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for p in [
        "/api/v1/calendar/due",
        "/api/v1/procedures",
        "/api/v1/procedures/{code}",
        "/api/v1/units",
        "/api/v1/agencies/{code}",
        "/api/v1/auth/token",
    ] {
        assert!(spec["paths"].get(p).is_some(), "{p} missing from the spec");
    }
    let r = app.get("/api/docs").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("swagger-ui-bundle.js"));
    let r = app.get("/api/docs/swagger-ui-bundle.js").send().await;
    assert_eq!(r.status, StatusCode::OK);
    let _ = get(app, "/api/v1/procedures").await;
    let metrics = app.get("/metrics").send().await.text;
    assert!(metrics.contains("motcua_http_requests_total"), "{metrics}");
    let r = app.get("/?q=khai+sinh").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("<html lang=\"vi\">"));
}
