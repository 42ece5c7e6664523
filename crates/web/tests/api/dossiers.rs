//! Dossiers over HTTP: intake on every channel, filing rules, every action from every status,
//! deadlines, concurrency, idempotency, queues, inter-agency cases, tracking, the audit chain.

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use motcua_domain::auth::Role;
use motcua_domain::catalogue::{CatalogueFormat, parse_catalogue};
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::Action;
use motcua_domain::units::{Agency, ReferenceFiles, UnitGraph};
use motcua_store::ChangeBy;
use motcua_web::testing::{Req, TestApp, TestResponse};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

pub(super) const A: &str = "000.01.31.H58"; // UBND phường Minh Xuân (02215)
pub(super) const B: &str = "000.02.31.H58"; // UBND phường Hà Giang 1 (00694)
const P: &str = "000.00.20.H58"; // provincial public-service centre (08)
pub(super) const S: &str = "000.00.11.H58"; // Sở Tư pháp (08), not a one-stop point
const H: &str = "000.01.31.H26"; // a Hà Nội ward (00004)

/// A procedure of 5 working days at commune level, not non-territorial (đăng ký lại khai sinh).
pub(super) const RE_BIRTH: &str = "1.004884";
/// Birth registration: commune level, non-territorial, same day.
const BIRTH: &str = "1.001193";
/// Identity card for under-14s: province level only.
const ID_CARD: &str = "1.012549";

pub(super) fn reference_data(name: &str) -> String {
    let p = format!("{}/../motcua/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

pub(super) fn vn(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - chrono::Duration::hours(7)
}

pub(super) struct Ctx<'a> {
    pub app: &'a TestApp,
    pub tokens: HashMap<&'static str, String>,
}

pub(super) async fn setup(app: &TestApp) -> Ctx<'_> {
    let s = app.store();
    let by = ChangeBy::new("system", app.now());
    let graph = UnitGraph::from_reference(&ReferenceFiles {
        provinces: &reference_data("admin_units_2025_provinces.csv"),
        communes: &reference_data("admin_units_2025_communes.csv"),
        province_mapping: &reference_data("admin_units_2025_province_mapping.csv"),
        commune_mapping: "new_code,new_name,new_province_code,old_code,old_name,old_district_code,old_district_name,old_province_code,old_province_name,change_note,source_old_province_label\n",
    })
    .unwrap()
    .only_provinces(&["08", "01"]);
    s.import_units(&graph, &by).await.unwrap();
    for (code, name, unit, one_stop) in [
        (A, "Ủy ban nhân dân phường Minh Xuân", "02215", true),
        (B, "Ủy ban nhân dân phường Hà Giang 1", "00694", true),
        (
            P,
            "Trung tâm Phục vụ hành chính công tỉnh Tuyên Quang",
            "08",
            true,
        ),
        (S, "Sở Tư pháp tỉnh Tuyên Quang", "08", false),
        (H, "Ủy ban nhân dân phường Ba Đình", "00004", true),
    ] {
        s.upsert_agency(
            Agency {
                code: AgencyCode::parse(code).unwrap(),
                name: name.into(),
                parent_code: None,
                unit_code: Some(unit.into()),
                one_stop_point: one_stop,
                provenance: None,
            },
            &by,
        )
        .await
        .unwrap();
    }
    let data = std::fs::read(format!(
        "{}/../motcua/data/demo_procedures.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    s.import_procedures(parse_catalogue(CatalogueFormat::Json, &data).unwrap(), &by)
        .await
        .unwrap();
    let mut tokens = HashMap::new();
    for (u, role, agency) in [
        ("tiepnhan.a", Role::Reception, Some(A)),
        ("chuyenvien.a", Role::Specialist, Some(A)),
        ("lanhdao.a", Role::Leader, Some(A)),
        ("tiepnhan.b", Role::Reception, Some(B)),
        ("chuyenvien.s", Role::Specialist, Some(S)),
        ("lanhdao.s", Role::Leader, Some(S)),
        ("buudien", Role::Postal, Some(P)),
        ("congdan", Role::Citizen, None),
        ("congdan2", Role::Citizen, None),
        ("ioc", Role::Viewer, None),
        ("quantri", Role::Admin, None),
    ] {
        app.add_user(u, role, agency).await;
        tokens.insert(u, app.token(u).await);
    }
    app.clock.set(vn(2025, 1, 24, 9, 0));
    Ctx { app, tokens }
}

fn applicant(unit: &str) -> Value {
    json!({"kind": "person", "id_number": "008190001234", "name": "Nguyễn Văn An",
           "phone": "0912 345 678", "email": "an@example.vn", "unit_code": unit})
}

pub(super) fn counter(procedure: &str) -> Value {
    json!({"procedure_code": procedure, "channel": "counter", "applicant": applicant("02215"),
           "components": [{"index": 0, "originals": 1}, {"index": 1, "copies": 1}]})
}

pub(super) fn online(procedure: &str, agency: &str) -> Value {
    json!({"procedure_code": procedure, "channel": "online", "agency": agency,
           "applicant": applicant("02215"),
           "components": [{"index": 0, "originals": 1}, {"index": 1, "from_warehouse": true}]})
}

impl Ctx<'_> {
    /// Sends `req` as `user`.
    pub(super) async fn send(&self, user: &str, req: Req<'_>) -> TestResponse {
        req.bearer(&self.tokens[user]).send().await
    }

    pub(super) async fn file(&self, user: &str, body: &Value) -> TestResponse {
        self.send(user, self.app.post("/api/v1/dossiers").json(body))
            .await
    }

    /// Files and expects success; returns the code.
    pub(super) async fn filed(&self, user: &str, body: &Value) -> String {
        let r = self.file(user, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["code"].as_str().unwrap().to_owned()
    }

    pub(super) async fn act(&self, user: &str, code: &str, action: Value) -> TestResponse {
        let req = self
            .app
            .post(&format!("/api/v1/dossiers/{code}/actions"))
            .json(&action);
        self.send(user, req).await
    }

    pub(super) async fn ok(&self, user: &str, code: &str, action: Value) -> Value {
        let r = self.act(user, code, action.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{action} → {}", r.body);
        r.body
    }

    pub(super) async fn get(&self, user: &str, path: &str) -> TestResponse {
        self.send(user, self.app.get(path)).await
    }
}

fn local(v: &Value) -> String {
    let t = DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    t.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap())
        .to_rfc3339()
}

pub(super) async fn intake_on_24_january(app: &TestApp) {
    let c = setup(app).await;
    let r = c.file("tiepnhan.a", &counter(RE_BIRTH)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.header("etag"), Some("\"v1\""));
    let d = r.body;
    assert_eq!(d["code"], "000.01.31.H58-250124-0001");
    assert_eq!(d["status"], "received");
    assert_eq!(d["portal_status"], 2);
    assert_eq!(local(&d["due_at"]), "2025-02-07T17:00:00+07:00");
    assert_eq!(d["components"][1]["copies"], 1);
    let second = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    assert_eq!(second, "000.01.31.H58-250124-0002");

    // Online: submitted until a one-stop officer accepts it.
    let r = c.file("congdan", &online(RE_BIRTH, A)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "submitted");
    assert!(r.body.get("due_at").is_none());
    let code = r.body["code"].as_str().unwrap().to_owned();
    // After the cut-off on Friday: counts from Monday; the Tết break then takes a week.
    app.clock.set(vn(2025, 1, 24, 16, 0));
    let d = c.ok("tiepnhan.a", &code, json!({"action": "accept"})).await;
    assert_eq!(local(&d["due_at"]), "2025-02-10T17:00:00+07:00");

    // Postal: needs the postal tracking number; received by the postal agent for a point.
    let mut postal = counter(RE_BIRTH);
    postal["channel"] = json!("postal");
    postal["agency"] = json!(A);
    let r = c.file("buudien", &postal).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "postal_tracking");
    postal["postal_tracking"] = json!("EL123456789VN");
    let r = c.file("buudien", &postal).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["postal_tracking"], "EL123456789VN");

    // Channel by role.
    assert_eq!(
        c.file("congdan", &counter(RE_BIRTH)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.file("chuyenvien.a", &counter(RE_BIRTH)).await.status,
        StatusCode::FORBIDDEN
    );
    // A counter officer cannot receive for another agency.
    let mut other = counter(RE_BIRTH);
    other["agency"] = json!(B);
    assert_eq!(
        c.file("tiepnhan.a", &other).await.status,
        StatusCode::FORBIDDEN
    );
    // Incomplete at the counter: every missing component named.
    let mut incomplete = counter(RE_BIRTH);
    incomplete["components"] = json!([{"index": 0, "originals": 1}]);
    let r = c.file("tiepnhan.a", &incomplete).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("Bản sao giấy tờ"),
        "{}",
        r.body
    );
    // Bad applicant: every field reported at once.
    let mut bad = counter(RE_BIRTH);
    bad["applicant"]["id_number"] = json!("12345");
    bad["applicant"]["email"] = json!("khong-hop-le");
    let r = c.file("tiepnhan.a", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["applicant.id_number", "applicant.email"]);
    let r = c
        .file("tiepnhan.a", &json!({"procedure_code": RE_BIRTH, "channel": "counter", "applicant": applicant("02215"), "extra": 1}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Public tracking: status, appointment and steps, nothing personal.
    let (s, t) = super::get(app, "/api/v1/tracking/000.01.31.H58-250124-0001").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(t["status"], "received");
    assert_eq!(
        t["receiving_agency_name"],
        "Ủy ban nhân dân phường Minh Xuân"
    );
    assert_eq!(t["history"][0]["step"], "Tiếp nhận hồ sơ");
    let text = t.to_string();
    for personal in [
        "Nguyễn Văn An",
        "008190001234",
        "0912",
        "an@example.vn",
        "tiepnhan.a",
    ] {
        assert!(
            !text.contains(personal),
            "tracking leaks {personal}: {text}"
        );
    }
    assert_eq!(
        t["history"][0]["agency_name"],
        "Ủy ban nhân dân phường Minh Xuân"
    );
    let (s, _) = super::get(app, "/api/v1/tracking/%20000.01.31.h58-250124-0001").await;
    assert_eq!(s, StatusCode::OK, "typed in lower case, with a space");
    let (s, _) = super::get(app, "/api/v1/tracking/000.01.31.H58-250124-9999").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Reading a dossier needs to be its owner or an officer of an agency holding it.
    assert_eq!(
        c.get("tiepnhan.b", "/api/v1/dossiers/000.01.31.H58-250124-0001")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get("congdan", &format!("/api/v1/dossiers/{code}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        c.get("congdan2", &format!("/api/v1/dossiers/{code}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

pub(super) async fn filing_place_rules(app: &TestApp) {
    let c = setup(app).await;
    // Not non-territorial: the applicant of Minh Xuân files at Hà Giang 1 → refused.
    let mut wrong = counter(RE_BIRTH);
    wrong["agency"] = json!(B);
    let r = c.file("tiepnhan.b", &wrong).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "agency");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("không phi địa giới")
    );
    // A province-level procedure at a commune → refused.
    let r = c.file("tiepnhan.a", &counter(ID_CARD)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["detail_en"]
            .as_str()
            .unwrap()
            .contains("not non-territorial")
    );
    // A non-territorial one at any point of the province, routed to the applicant's commune.
    let mut birth = counter(BIRTH);
    birth["components"] = json!([{"index": 0, "originals": 1}, {"index": 1, "originals": 1}, {"index": 2, "copies": 1}]);
    let r = c.file("tiepnhan.b", &birth).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["receiving_agency"], B);
    assert_eq!(r.body["competent_agency"], A);
    let code = r.body["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with(B));
    let d = c
        .ok("tiepnhan.b", &code, json!({"action": "forward"}))
        .await;
    assert_eq!(d["current_agency"], A);
    assert_eq!(
        c.get("chuyenvien.a", "/api/v1/dossiers?agency=000.01.31.H58")
            .await
            .body["items"][0]["code"],
        code
    );
    // …but not in another province.
    let mut hanoi = json!({"procedure_code": BIRTH, "channel": "online", "agency": H,
        "applicant": applicant("02215"), "components": birth["components"]});
    let r = c.file("congdan", &hanoi).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    hanoi["agency"] = json!(S);
    let r = c.file("congdan", &hanoi).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["detail_en"]
            .as_str()
            .unwrap()
            .contains("not a one-stop point")
    );
    hanoi["agency"] = json!("000.99.99.H99");
    assert_eq!(
        c.file("congdan", &hanoi).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

/// The state each test dossier is driven into, and how.
async fn dossier_in(c: &Ctx<'_>, status: &str) -> String {
    let processing = async || {
        let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
        c.ok("tiepnhan.a", &code, json!({"action": "forward"}))
            .await;
        code
    };
    match status {
        "submitted" => c.filed("congdan", &online(RE_BIRTH, A)).await,
        "received" => c.filed("tiepnhan.a", &counter(RE_BIRTH)).await,
        "rejected" => {
            let code = c.filed("congdan", &online(RE_BIRTH, A)).await;
            c.ok(
                "tiepnhan.a",
                &code,
                json!({"action": "refuse", "reasons": ["Sai thủ tục"]}),
            )
            .await;
            code
        }
        "processing" => processing().await,
        "awaiting_supplement" => {
            let code = processing().await;
            c.ok(
                "chuyenvien.a",
                &code,
                json!({"action": "request_supplement",
                "missing": [{"item": "Tờ khai", "reason": "Thiếu chữ ký"}]}),
            )
            .await;
            code
        }
        "awaiting_payment" => {
            let code = processing().await;
            c.ok(
                "chuyenvien.a",
                &code,
                json!({"action": "pause", "reason": "Chờ nộp lệ phí"}),
            )
            .await;
            code
        }
        "withdrawal_requested" => {
            let code = processing().await;
            c.ok(
                "tiepnhan.a",
                &code,
                json!({"action": "withdraw", "reason": "Đơn xin rút"}),
            )
            .await;
            code
        }
        "stopped" => {
            let code = processing().await;
            c.ok(
                "lanhdao.a",
                &code,
                json!({"action": "refuse", "reasons": ["Không đủ điều kiện"]}),
            )
            .await;
            code
        }
        "resolved" | "returned" => {
            let code = processing().await;
            c.ok("chuyenvien.a", &code, json!({"action": "forward"}))
                .await;
            c.ok("lanhdao.a", &code, json!({"action": "approve"})).await;
            if status == "returned" {
                c.ok(
                    "tiepnhan.a",
                    &code,
                    json!({"action": "return_result", "method": "electronic"}),
                )
                .await;
            }
            code
        }
        other => panic!("no recipe for {other}"),
    }
}

pub(super) async fn every_action_from_every_status(app: &TestApp) {
    let c = setup(app).await;
    let allowed: HashMap<&str, &[&str]> = HashMap::from([
        (
            "submitted",
            &["accept", "request_supplement", "refuse", "withdraw"][..],
        ),
        (
            "received",
            &[
                "assign",
                "forward",
                "request_supplement",
                "extend",
                "refuse",
                "withdraw",
            ][..],
        ),
        ("rejected", &[][..]),
        (
            "processing",
            &[
                "assign",
                "forward",
                "transfer",
                "request_supplement",
                "pause",
                "extend",
                "refuse",
                "withdraw",
            ][..],
        ),
        (
            "awaiting_supplement",
            &[
                "assign",
                "supplement_received",
                "extend",
                "refuse",
                "withdraw",
            ][..],
        ),
        (
            "awaiting_payment",
            &["assign", "resume", "extend", "refuse", "withdraw"][..],
        ),
        ("withdrawal_requested", &["confirm_withdrawal"][..]),
        ("stopped", &[][..]),
        ("resolved", &["return_result"][..]),
        ("returned", &[][..]),
    ]);
    let today = NaiveDate::from_ymd_opt(2025, 1, 24).unwrap();
    let actions = Action::examples(&AgencyCode::parse(S).unwrap(), "chuyenvien.a", today);
    let names: HashSet<&str> = actions.iter().map(|a| a.name()).collect();
    assert_eq!(names.len(), 15, "every action is walked");
    for status in motcua_domain::dossier::Status::ALL {
        let st = status.as_str();
        for a in &actions {
            let code = dossier_in(&c, st).await;
            // An actor entitled to the action, so that a refusal can only be the status's.
            let actor = match a.name() {
                "accept" | "return_result" | "mark_collected" | "withdraw" => "tiepnhan.a",
                "refuse" if st == "submitted" => "tiepnhan.a",
                _ => "lanhdao.a",
            };
            let r = c.act(actor, &code, serde_json::to_value(a).unwrap()).await;
            let expect_ok = allowed[st].contains(&a.name());
            if expect_ok {
                assert_eq!(r.status, StatusCode::OK, "{st} + {}: {}", a.name(), r.body);
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::CONFLICT,
                    "{st} + {}: {}",
                    a.name(),
                    r.body
                );
                assert_eq!(r.body["type"], "/problems/invalid-transition");
                // Nothing changed.
                let after = c
                    .get("lanhdao.a", &format!("/api/v1/dossiers/{code}"))
                    .await;
                assert_eq!(after.body["status"], st);
            }
        }
    }
    // Wrong role or agency: 403, whatever the status.
    let code = dossier_in(&c, "processing").await;
    for (user, action) in [
        ("tiepnhan.b", json!({"action": "forward"})),
        ("congdan", json!({"action": "approve"})),
        ("quantri", json!({"action": "forward"})),
        ("chuyenvien.a", json!({"action": "accept"})),
        (
            "chuyenvien.s",
            json!({"action": "refuse", "reasons": ["x"]}),
        ),
    ] {
        let r = c.act(user, &code, action.clone()).await;
        assert!(
            r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND,
            "{user} {action}: {} {}",
            r.status,
            r.body
        );
    }
    let r = c
        .act(
            "lanhdao.a",
            &code,
            json!({"action": "assign", "assignee": "tiepnhan.b"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = c.act("lanhdao.a", &code, json!({"action": "fly"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

pub(super) async fn deadlines_and_overdue(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.ok("tiepnhan.a", &code, json!({"action": "forward"}))
        .await;
    app.clock.set(vn(2025, 2, 3, 9, 0));
    c.ok("chuyenvien.a", &code, json!({"action": "request_supplement",
        "missing": [{"item": "Bản sao giấy tờ có thông tin khai sinh", "reason": "Bản chụp không rõ"}]})).await;
    // Stopped before the appointment: not overdue, however long the wait.
    app.clock.set(vn(2025, 3, 3, 9, 0));
    let q = c.get("lanhdao.a", "/api/v1/dossiers?overdue=true").await;
    assert_eq!(q.body["items"].as_array().unwrap().len(), 0, "{}", q.body);
    app.clock.set(vn(2025, 2, 5, 9, 0));
    // Counter dossiers have no owner account: the officer records the supplement.
    let d = c
        .ok(
            "tiepnhan.a",
            &code,
            json!({"action": "supplement_received"}),
        )
        .await;
    // Two office days added back: Friday 7 → Tuesday 11 February, 17:00.
    assert_eq!(local(&d["due_at"]), "2025-02-11T17:00:00+07:00");
    assert_eq!(local(&d["original_due_at"]), "2025-02-07T17:00:00+07:00");
    let q = c
        .get(
            "lanhdao.a",
            "/api/v1/dossiers?overdue=true&as_of=2025-02-11T10:01:00Z",
        )
        .await;
    assert_eq!(q.body["items"][0]["code"], code, "{}", q.body);
    let q = c
        .get(
            "lanhdao.a",
            "/api/v1/dossiers?overdue=false&as_of=2025-02-11T09:59:00Z&status=processing",
        )
        .await;
    assert_eq!(q.body["items"][0]["code"], code);

    // Supplement requested after the appointment: overdue while waiting (measured up to the request).
    app.clock.set(vn(2025, 1, 24, 9, 0));
    let late = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.ok("tiepnhan.a", &late, json!({"action": "forward"}))
        .await;
    app.clock.set(vn(2025, 2, 10, 9, 0));
    let d = c
        .ok(
            "chuyenvien.a",
            &late,
            json!({"action": "request_supplement",
        "missing": [{"item": "Tờ khai", "reason": "Thiếu chữ ký"}]}),
        )
        .await;
    assert_eq!(d["overdue"], true);
    let q = c
        .get(
            "lanhdao.a",
            "/api/v1/dossiers?overdue=true&status=awaiting_supplement&as_of=2026-01-01T00:00:00Z",
        )
        .await;
    let codes: Vec<&str> = q.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, [late.as_str()]);

    // Completion classes: early (a day before), late (after the appointment).
    app.clock.set(vn(2025, 1, 24, 9, 0));
    let early = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.ok("tiepnhan.a", &early, json!({"action": "forward"}))
        .await;
    c.ok("chuyenvien.a", &early, json!({"action": "forward"}))
        .await;
    app.clock.set(vn(2025, 2, 6, 16, 0));
    let d = c
        .ok("lanhdao.a", &early, json!({"action": "approve"}))
        .await;
    assert_eq!(d["timeliness"], "early");
    assert_eq!(d["status"], "resolved");
    let (_, t) = super::get(app, &format!("/api/v1/tracking/{early}")).await;
    assert_eq!(t["timeliness"], "early");
    app.clock.set(vn(2025, 2, 12, 9, 0));
    let d = c
        .ok(
            "lanhdao.a",
            &late,
            json!({"action": "refuse", "reasons": ["Quá hạn bổ sung"]}),
        )
        .await;
    assert_eq!(d["status"], "stopped");
    assert_eq!(d["timeliness"], "late");

    // An extension replaces the appointment, once, with its apology slip in the history.
    app.clock.set(vn(2025, 1, 24, 9, 0));
    let ext = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let d = c
        .ok(
            "lanhdao.a",
            &ext,
            json!({"action": "extend", "reason": "Cần xác minh", "new_due_date": "2025-02-14"}),
        )
        .await;
    assert_eq!(local(&d["due_at"]), "2025-02-14T17:00:00+07:00");
    let r = c
        .act(
            "lanhdao.a",
            &ext,
            json!({"action": "extend", "reason": "Lần nữa", "new_due_date": "2025-02-20"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let h = c
        .get("lanhdao.a", &format!("/api/v1/dossiers/{ext}/history"))
        .await;
    assert_eq!(h.body[1]["action"], "extend");
    assert_eq!(h.body[1]["data"]["reason"], "Cần xác minh");
    assert_eq!(h.body[1]["actor"], "lanhdao.a");
}

pub(super) async fn concurrent_actions_one_wins(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let d = c
        .ok("tiepnhan.a", &code, json!({"action": "forward"}))
        .await;
    assert_eq!(d["version"], 2);
    let send = |user: &'static str, action: Value| {
        let req = c
            .app
            .post(&format!("/api/v1/dossiers/{code}/actions"))
            .header("if-match", "\"v2\"")
            .json(&action);
        c.send(user, req)
    };
    // Two officers act on the same version at the same moment: exactly one wins.
    let (a, b) = tokio::join!(
        send("chuyenvien.a", json!({"action": "forward"})),
        send(
            "lanhdao.a",
            json!({"action": "request_supplement", "missing": [{"item": "Tờ khai", "reason": "Thiếu"}]})
        ),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::PRECONDITION_FAILED],
        "{} {}",
        a.body,
        b.body
    );
    let loser = if a.status == StatusCode::OK { b } else { a };
    assert_eq!(loser.body["type"], "/problems/stale");
    let d = c
        .get("lanhdao.a", &format!("/api/v1/dossiers/{code}"))
        .await;
    assert_eq!(d.body["version"], 3);
    assert_eq!(d.header("etag"), Some("\"v3\""));
    let h = c
        .get("lanhdao.a", &format!("/api/v1/dossiers/{code}/history"))
        .await;
    assert_eq!(
        h.body.as_array().unwrap().len(),
        3,
        "exactly one of the two was recorded"
    );
    let r = c
        .send(
            "lanhdao.a",
            c.app
                .post(&format!("/api/v1/dossiers/{code}/actions"))
                .header("if-match", "garbage")
                .json(&json!({"action": "forward"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

pub(super) async fn idempotent_intake(app: &TestApp) {
    let c = setup(app).await;
    let post = |key: &'static str, body: Value| {
        let req = c
            .app
            .post("/api/v1/dossiers")
            .header("idempotency-key", key)
            .json(&body);
        c.send("tiepnhan.a", req)
    };
    let first = post("k-1", counter(RE_BIRTH)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = post("k-1", counter(RE_BIRTH)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["code"], first.body["code"]);
    let mut other = counter(RE_BIRTH);
    other["applicant"]["name"] = json!("Trần Thị Bình");
    assert_eq!(post("k-1", other).await.status, StatusCode::CONFLICT);
    // Two retries racing each other: one dossier.
    let (a, b) = tokio::join!(
        post("k-2", counter(RE_BIRTH)),
        post("k-2", counter(RE_BIRTH))
    );
    assert!(
        a.status.is_success() && b.status.is_success(),
        "{} {}",
        a.body,
        b.body
    );
    assert_eq!(a.body["code"], b.body["code"]);
    let all = c.get("lanhdao.a", "/api/v1/dossiers").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
}

pub(super) async fn work_queues(app: &TestApp) {
    let c = setup(app).await;
    let mut codes = Vec::new();
    for i in 0..7u32 {
        app.clock.set(vn(2025, 2, 3 + i, 9, 0));
        codes.push(c.filed("tiepnhan.a", &counter(RE_BIRTH)).await);
    }
    let mine = c.filed("congdan", &online(RE_BIRTH, A)).await;
    c.ok(
        "lanhdao.a",
        &codes[0],
        json!({"action": "assign", "assignee": "chuyenvien.a"}),
    )
    .await;
    // Sorted by appointment, paginated.
    let p1 = c
        .get("lanhdao.a", "/api/v1/dossiers?status=received&limit=3")
        .await;
    let got: Vec<&str> = p1.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        codes[..3].iter().map(String::as_str).collect::<Vec<_>>()
    );
    let cursor = p1.body["next_cursor"].as_str().unwrap();
    let p2 = c
        .get(
            "lanhdao.a",
            &format!(
                "/api/v1/dossiers?status=received&limit=3&cursor={}",
                urlencode(cursor)
            ),
        )
        .await;
    assert_eq!(p2.body["items"][0]["code"], codes[3], "{}", p2.body);
    let due = c
        .get(
            "lanhdao.a",
            "/api/v1/dossiers?due_before=2025-02-12T10:00:00Z",
        )
        .await;
    assert_eq!(
        due.body["items"].as_array().unwrap().len(),
        2,
        "{}",
        due.body
    );
    let by_applicant = c
        .get("tiepnhan.a", "/api/v1/dossiers?applicant_id=008190001234")
        .await;
    assert_eq!(by_applicant.body["items"].as_array().unwrap().len(), 8);
    let none = c
        .get("tiepnhan.a", "/api/v1/dossiers?applicant_id=008190009999")
        .await;
    assert_eq!(none.body["items"].as_array().unwrap().len(), 0);
    let assigned = c.get("chuyenvien.a", "/api/v1/dossiers?assignee=me").await;
    assert_eq!(assigned.body["items"][0]["code"], codes[0]);
    assert_eq!(assigned.body["items"].as_array().unwrap().len(), 1);
    // Citizens see their own; officers their agency's; another agency's is refused.
    let own = c.get("congdan", "/api/v1/dossiers").await;
    assert_eq!(own.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(own.body["items"][0]["code"], mine);
    assert_eq!(
        c.get("congdan2", "/api/v1/dossiers").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        c.get("tiepnhan.b", "/api/v1/dossiers").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        c.get("tiepnhan.b", "/api/v1/dossiers?agency=000.01.31.H58")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.get("ioc", "/api/v1/dossiers?limit=500").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    assert_eq!(
        c.get("ioc", "/api/v1/dossiers?status=bogus").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        c.get("ioc", "/api/v1/dossiers?cursor=nope").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B")
        .replace(':', "%3A")
        .replace('|', "%7C")
}

/// The names of a dossier's history entries, as `user` reads them.
async fn history_actions(c: &Ctx<'_>, user: &str, code: &str) -> Vec<String> {
    c.get(user, &format!("/api/v1/dossiers/{code}/history"))
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

pub(super) async fn inter_agency_transfer(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.ok("tiepnhan.a", &code, json!({"action": "forward"}))
        .await;
    c.ok(
        "chuyenvien.a",
        &code,
        json!({"action": "transfer", "agency": S, "note": "Xin ý kiến Sở Tư pháp"}),
    )
    .await;
    let parent = c
        .get("chuyenvien.a", &format!("/api/v1/dossiers/{code}"))
        .await
        .body;
    let child = parent["open_children"][0].as_str().unwrap().to_owned();
    assert!(child.starts_with(S), "{child}");
    // The parent waits for the child.
    let r = c
        .act("chuyenvien.a", &code, json!({"action": "forward"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body["detail"].as_str().unwrap().contains(&child));
    let d = c
        .get("chuyenvien.s", &format!("/api/v1/dossiers/{child}"))
        .await
        .body;
    assert_eq!(d["parent_code"], code);
    assert_eq!(d["current_agency"], S);
    c.ok("chuyenvien.s", &child, json!({"action": "forward"}))
        .await;
    let d = c
        .ok("lanhdao.s", &child, json!({"action": "approve"}))
        .await;
    assert_eq!(d["status"], "resolved");
    // A child answers to its parent, never to the applicant.
    let r = c
        .act(
            "tiepnhan.a",
            &child,
            json!({"action": "return_result", "method": "paper"}),
        )
        .await;
    assert_ne!(r.status, StatusCode::OK);
    let parent = c
        .get("chuyenvien.a", &format!("/api/v1/dossiers/{code}"))
        .await
        .body;
    assert!(parent.get("open_children").is_none(), "{parent}");
    c.ok("chuyenvien.a", &code, json!({"action": "forward"}))
        .await;
    c.ok("lanhdao.a", &code, json!({"action": "approve"})).await;
    c.ok(
        "tiepnhan.a",
        &code,
        json!({"action": "return_result", "method": "paper"}),
    )
    .await;
    let d = c
        .ok("tiepnhan.a", &code, json!({"action": "mark_collected"}))
        .await;
    assert_eq!(d["status"], "returned");
    assert_eq!(
        history_actions(&c, "chuyenvien.a", &code).await,
        [
            "receive",
            "forward",
            "transfer",
            "child_opened",
            "child_resolved",
            "forward",
            "approve",
            "return_result",
            "mark_collected"
        ]
    );
    // The child records its own creation; the parent records opening it (docs/domain.md).
    assert_eq!(
        history_actions(&c, "chuyenvien.s", &child).await,
        ["child_created", "forward", "approve"]
    );
    // The audit chain holds every record of both.
    app.store().seal_audit().await.unwrap();
    let report = app.store().verify_audit().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    for (c, n) in [(&code, 9), (&child, 3)] {
        let trail = app.store().audit_trail("dossier", c).await.unwrap();
        assert_eq!(
            trail.len(),
            n,
            "parent 9 records, child 3 (created, forward, approve)"
        );
        assert!(trail.iter().all(|e| e.seq.is_some() && e.hash.is_some()));
    }
}

pub(super) async fn processes_are_editable(app: &TestApp) {
    let c = setup(app).await;
    let path = format!("/api/v1/procedures/{RE_BIRTH}/process");
    let (s, p) = super::get(app, &path).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(p["steps"].as_array().unwrap().len(), 4);
    let short = json!({"steps": [
        {"key": "reception", "name": "Tiếp nhận", "role": "reception", "agency": "receiving", "share": 10},
        {"key": "processing", "name": "Xử lý và quyết định", "role": "specialist", "agency": "competent", "share": 90, "decides": true}
    ]});
    let put = |user: &'static str, body: Value| {
        let req = c.app.put(&path).json(&body);
        c.send(user, req)
    };
    assert_eq!(
        put("lanhdao.a", short.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let mut bad = short.clone();
    bad["steps"][1]["share"] = json!(50);
    bad["steps"][1]["decides"] = json!(false);
    let r = put("quantri", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 2, "{}", r.body);
    assert_eq!(put("quantri", short).await.status, StatusCode::OK);
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.ok("tiepnhan.a", &code, json!({"action": "forward"}))
        .await;
    let d = c
        .ok("chuyenvien.a", &code, json!({"action": "approve"}))
        .await;
    assert_eq!(d["status"], "resolved");
    let trail = app.store().audit_trail("process", RE_BIRTH).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].actor, "quantri");

    // An online applicant answers a supplement request from their own account.
    let own = c.filed("congdan", &online(RE_BIRTH, A)).await;
    c.ok(
        "tiepnhan.a",
        &own,
        json!({"action": "request_supplement",
        "missing": [{"item": "Tờ khai", "reason": "Thiếu chữ ký"}]}),
    )
    .await;
    assert_eq!(
        c.act("congdan2", &own, json!({"action": "supplement_received"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let d = c
        .ok("congdan", &own, json!({"action": "supplement_received"}))
        .await;
    assert_eq!(d["status"], "submitted");
}

motcua_store::on_both!(
    crate::start =>
    intake_on_24_january,
    filing_place_rules,
    every_action_from_every_status,
    deadlines_and_overdue,
    concurrent_actions_one_wins,
    idempotent_intake,
    work_queues,
    inter_agency_transfer,
    processes_are_editable,
);
