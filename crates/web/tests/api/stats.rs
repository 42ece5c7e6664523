//! Statistics over HTTP (docs/domain.md §Statistics): a small history built by hand — early,
//! on time, late, paused and paid online, extended, withdrawn, refused, transferred (counted
//! once), refused at intake (never counted), filed in a ward merged on 1 July 2025 — and every
//! figure of the report checked as of several instants, grouped and filtered, under the
//! successors and as the units were; then a rebuild from the events gives the same numbers.

use super::dossiers::{A, Ctx, RE_BIRTH, S, counter, reference_data, setup, vn};
use axum::http::StatusCode;
use motcua_domain::calendar::WorkCalendar;
use motcua_domain::catalogue::Channel;
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{Applicant, ApplicantKind, Dossier, Intake, SubmittedComponent};
use motcua_domain::units::{Agency, ReferenceFiles, UnitGraph};
use motcua_store::{ChangeBy, no_jobs};
use motcua_web::testing::TestApp;
use serde_json::{Value, json};

/// The agency of a ward abolished on 1 July 2025 (Phường Tân Quang, 02206, merged wholly into
/// Phường Minh Xuân, 02215).
const OLD: &str = "000.03.31.H58";
/// Temporary residence registration: fully online, with a fee, 3 working days.
const TEMP_RESIDENCE: &str = "1.004194";

/// The merge of Phường Tân Quang into Phường Minh Xuân (a real line of the mapping) and the
/// agency of the old ward.
async fn merged_ward(app: &TestApp) {
    let by = ChangeBy::new("system", app.now());
    let mapping = reference_data("admin_units_2025_mapping.csv");
    let mut lines = mapping.lines();
    let header = lines.next().unwrap();
    let line = lines
        .find(|l| l.starts_with("02215,") && l.contains(",02206,"))
        .unwrap();
    let graph = UnitGraph::from_reference(&ReferenceFiles {
        provinces: &reference_data("admin_units_2025_provinces.csv"),
        communes: &reference_data("admin_units_2025_communes.csv"),
        province_mapping: &reference_data("admin_units_2025_province_mapping.csv"),
        commune_mapping: &format!("{header}\n{line}\n"),
    })
    .unwrap()
    .only_provinces(&["08"]);
    app.store().import_units(&graph, &by).await.unwrap();
    app.store()
        .upsert_agency(
            Agency {
                code: AgencyCode::parse(OLD).unwrap(),
                name: "Ủy ban nhân dân phường Tân Quang".into(),
                parent_code: None,
                unit_code: Some("02206".into()),
                one_stop_point: true,
                provenance: None,
            },
            &by,
        )
        .await
        .unwrap();
}

/// A counter dossier received at the old ward's agency (as its own system received it).
async fn received_at_old_ward(app: &TestApp, at: chrono::DateTime<chrono::Utc>) -> String {
    let s = app.store();
    let procedure = s.procedure(RE_BIRTH).await.unwrap();
    let process = s.process_for(RE_BIRTH).await.unwrap();
    let agency = AgencyCode::parse(OLD).unwrap();
    let cal = WorkCalendar::official().unwrap();
    let (d, change) = Dossier::new(
        Intake {
            procedure,
            process,
            channel: Channel::Counter,
            receiving_agency: agency.clone(),
            competent_agency: agency,
            applicant: Applicant {
                kind: ApplicantKind::Person,
                id_number: "008190004321".into(),
                name: "Trần Thị Bình".into(),
                phone: None,
                email: None,
                address: None,
                unit_code: Some("02206".into()),
            },
            components: vec![
                SubmittedComponent {
                    index: 0,
                    originals: 1,
                    copies: 0,
                    from_warehouse: false,
                    warehouse_code: None,
                },
                SubmittedComponent {
                    index: 1,
                    originals: 0,
                    copies: 1,
                    from_warehouse: false,
                    warehouse_code: None,
                },
            ],
            postal_tracking: None,
            owner_id: None,
            delivery: None,
        },
        String::new(),
        at,
        &cal,
    )
    .unwrap();
    let (stored, _) = s
        .create_dossier(d, change, "tiepnhan.tanquang", at, &cal, None, &no_jobs)
        .await
        .unwrap();
    stored.dossier.code
}

impl Ctx<'_> {
    async fn at(&self, y: i32, m: u32, d: u32, h: u32, min: u32) {
        self.app.clock.set(vn(y, m, d, h, min));
    }

    /// Forwards a received dossier to the leader's deciding step and approves it.
    async fn approve(&self, code: &str) {
        self.ok("tiepnhan.a", code, json!({"action": "forward"}))
            .await;
        self.ok("chuyenvien.a", code, json!({"action": "forward"}))
            .await;
        let d = self
            .ok("lanhdao.a", code, json!({"action": "approve"}))
            .await;
        assert_eq!(d["status"], "resolved", "{d}");
    }

    async fn stats(&self, user: &str, query: &str) -> Value {
        let r = self.get(user, &format!("/api/v1/stats?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
        r.body
    }
}

/// The figures a report gives, in the order of §Statistics.
fn figures(f: &Value) -> [i64; 13] {
    let n = |p: &str| f.pointer(p).and_then(Value::as_i64).unwrap_or(-1);
    [
        n("/carried_over"),
        n("/new/online"),
        n("/new/counter"),
        n("/new/postal"),
        n("/received"),
        n("/resolved/early"),
        n("/resolved/on_time"),
        n("/resolved/late"),
        n("/refused"),
        n("/withdrawn"),
        n("/in_progress/not_due"),
        n("/in_progress/overdue"),
        n("/supplements_requested"),
    ]
}

fn rate(f: &Value, name: &str) -> (i64, i64) {
    let r = &f["rates"][name];
    (
        r["numerator"].as_i64().unwrap(),
        r["denominator"].as_i64().unwrap(),
    )
}

/// The history of June 2025 at Phường Minh Xuân (and at the old Phường Tân Quang).
async fn june_history(c: &Ctx<'_>) -> Vec<String> {
    // D8: received on Friday 30 May (before the period), approved early on 3 June.
    c.at(2025, 5, 30, 9, 0).await;
    let d8 = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    // D1: received Monday 2 June 09:00 (due 9 June), approved early on 4 June.
    c.at(2025, 6, 2, 9, 0).await;
    let d1 = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    // D2: filed online 2 June 10:00, accepted 10:30 (due 5 June), paused for the fee and paid
    // online, approved on its appointment's day: on time.
    c.at(2025, 6, 2, 10, 0).await;
    let mut body = counter(TEMP_RESIDENCE);
    body["channel"] = json!("online");
    body["agency"] = json!(A);
    body["components"] = json!([{"index": 0, "copies": 1}, {"index": 1, "copies": 1}]);
    let d2 = c.filed("congdan", &body).await;
    c.at(2025, 6, 2, 10, 30).await;
    c.ok("tiepnhan.a", &d2, json!({"action": "accept"})).await;
    // D9: filed online and refused at intake: never received, never counted.
    let d9 = c.filed("congdan", &body).await;
    c.ok(
        "tiepnhan.a",
        &d9,
        json!({"action": "refuse", "reasons": ["Không đúng thẩm quyền"]}),
    )
    .await;
    // D3: received 2 June 11:00 (due 9 June); supplement requested on 4 June, received on 16
    // June (due moves 8 working days, to 19 June); approved late on 25 June.
    c.at(2025, 6, 2, 11, 0).await;
    let d3 = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    // D4: received 3 June 09:00 (due 10 June), extended on 9 June to 20 June, withdrawn on 2
    // July.
    c.at(2025, 6, 3, 8, 0).await;
    c.ok("tiepnhan.a", &d8, json!({"action": "forward"})).await;
    c.ok("chuyenvien.a", &d8, json!({"action": "forward"}))
        .await;
    c.at(2025, 6, 3, 8, 30).await;
    c.ok("lanhdao.a", &d8, json!({"action": "approve"})).await;
    c.at(2025, 6, 3, 9, 0).await;
    let d4 = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.ok("tiepnhan.a", &d2, json!({"action": "forward"})).await;
    c.ok("chuyenvien.a", &d2, json!({"action": "forward"}))
        .await;
    c.ok(
        "lanhdao.a",
        &d2,
        json!({"action": "pause", "reason": "Chờ nộp lệ phí"}),
    )
    .await;
    c.at(2025, 6, 3, 9, 5).await;
    c.ok(
        "lanhdao.a",
        &d2,
        json!({"action": "resume", "paid_online": true}),
    )
    .await;
    // D5: received 3 June 10:00, sent to the Department of Justice as an inter-agency child
    // case, which resolves it; the case itself is approved early on 6 June.
    c.at(2025, 6, 3, 10, 0).await;
    let d5 = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.ok("tiepnhan.a", &d5, json!({"action": "forward"})).await;
    c.ok(
        "chuyenvien.a",
        &d5,
        json!({"action": "transfer", "agency": S, "note": "Xin ý kiến"}),
    )
    .await;
    let child = c
        .get("chuyenvien.a", &format!("/api/v1/dossiers/{d5}"))
        .await
        .body["open_children"][0]
        .as_str()
        .unwrap()
        .to_owned();
    c.at(2025, 6, 4, 9, 0).await;
    c.ok(
        "chuyenvien.a",
        &d3,
        json!({"action": "request_supplement", "missing": [{"item": "Tờ khai", "reason": "Thiếu chữ ký"}]}),
    )
    .await;
    c.at(2025, 6, 4, 10, 0).await;
    c.approve(&d1).await;
    // D6: received 4 June, refused during processing on 5 June.
    let d6 = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.ok("tiepnhan.a", &d6, json!({"action": "forward"})).await;
    c.at(2025, 6, 5, 9, 0).await;
    c.ok(
        "lanhdao.a",
        &d6,
        json!({"action": "refuse", "reasons": ["Giấy tờ giả mạo"]}),
    )
    .await;
    // D7: received 5 June at the old ward (due 12 June), still open.
    let d7 = received_at_old_ward(c.app, vn(2025, 6, 5, 9, 0)).await;
    // D2's five minutes of waiting for the fee moved its appointment past the 5th's closing,
    // to 07:35 on the 6th; approved at 07:33 that day, it is on time.
    c.at(2025, 6, 6, 7, 33).await;
    let d = c
        .get("lanhdao.a", &format!("/api/v1/dossiers/{d2}"))
        .await
        .body;
    assert_eq!(d["due_at"], "2025-06-06T00:35:00Z", "{d}");
    c.ok("lanhdao.a", &d2, json!({"action": "approve"})).await;
    c.at(2025, 6, 6, 9, 0).await;
    c.ok("chuyenvien.s", &child, json!({"action": "forward"}))
        .await;
    c.ok("lanhdao.s", &child, json!({"action": "approve"}))
        .await;
    c.ok("chuyenvien.a", &d5, json!({"action": "forward"}))
        .await;
    c.ok("lanhdao.a", &d5, json!({"action": "approve"})).await;
    c.at(2025, 6, 9, 9, 0).await;
    c.ok(
        "lanhdao.a",
        &d4,
        json!({"action": "extend", "reason": "Chờ xác minh", "new_due_date": "2025-06-20"}),
    )
    .await;
    c.at(2025, 6, 16, 9, 0).await;
    c.ok(
        "chuyenvien.a",
        &d3,
        json!({"action": "supplement_received"}),
    )
    .await;
    let due = c
        .get("chuyenvien.a", &format!("/api/v1/dossiers/{d3}"))
        .await
        .body["due_at"]
        .clone();
    assert_eq!(due, "2025-06-19T10:00:00Z", "8 working days added back");
    c.at(2025, 6, 25, 9, 0).await;
    c.approve(&d3).await;
    c.at(2025, 7, 2, 9, 0).await;
    c.ok(
        "tiepnhan.a",
        &d4,
        json!({"action": "withdraw", "reason": "Không có nhu cầu nữa"}),
    )
    .await;
    c.ok("lanhdao.a", &d4, json!({"action": "confirm_withdrawal"}))
        .await;
    vec![d1, d2, d3, d4, d5, d6, d7, d8, d9, child]
}

pub(super) async fn report_of_a_hand_built_history(app: &TestApp) {
    let c = setup(app).await;
    merged_ward(app).await;
    let codes = june_history(&c).await;
    let june = "from=2025-06-01&to=2025-07-01";
    //                      carried, new o/c/p, received, early, on time, late, refused,
    //                      withdrawn, not due, overdue, supplements
    for (as_of, want) in [
        // 10 June, noon: D3 waits for its supplement (clock stopped before its appointment),
        // D4 was extended, D7 is due on the 12th.
        (
            "2025-06-10T05:00:00Z",
            [1, 1, 6, 0, 8, 3, 1, 0, 1, 0, 3, 0, 1],
        ),
        // 20 June, noon: D3's appointment moved to the 19th and passed; D7's passed; D4's
        // (the 20th, 17:00) not yet.
        (
            "2025-06-20T05:00:00Z",
            [1, 1, 6, 0, 8, 3, 1, 0, 1, 0, 1, 2, 1],
        ),
        // The end of June: D3 approved late; D4 and D7 overdue.
        (
            "2025-06-30T17:00:00Z",
            [1, 1, 6, 0, 8, 3, 1, 1, 1, 0, 0, 2, 1],
        ),
    ] {
        let r = c.stats("ioc", &format!("{june}&as_of={as_of}")).await;
        assert_eq!(figures(&r["total"]), want, "as of {as_of}: {}", r["total"]);
    }
    // Read later (as of now, 2 July), June's figures are the same: as_of cannot reach past
    // the period's end.
    let r = c.stats("ioc", june).await;
    let total = &r["total"];
    assert_eq!(figures(total), [1, 1, 6, 0, 8, 3, 1, 1, 1, 0, 0, 2, 1]);
    assert_eq!(total["received"], 8, "the child case is not counted twice");
    assert_eq!(rate(total, "online"), (1, 7));
    assert_eq!(rate(total, "full_online"), (1, 7));
    assert_eq!(rate(total, "on_time"), (4, 5));
    assert_eq!(
        rate(total, "online_payment"),
        (1, 1),
        "D2 paid its fee online"
    );
    assert_eq!(rate(total, "reuse"), (0, 7));
    assert_eq!(
        rate(total, "digitised_components"),
        (1, 7),
        "the online dossier is electronic; the counter ones are not digitised yet"
    );
    assert_eq!(total["rates"]["on_time"]["value"], 0.8);
    // July: D4 and D7 carried over; D4 withdrawn; D7 still overdue.
    let r = c
        .stats(
            "ioc",
            "from=2025-07-01&to=2025-08-01&as_of=2025-07-31T17:00:00Z",
        )
        .await;
    assert_eq!(
        figures(&r["total"]),
        [2, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 1, 0]
    );
    // June and July by month: the months add up, the stocks are the first's and the last's.
    let r = c
        .stats(
            "ioc",
            "from=2025-06-01&to=2025-08-01&as_of=2025-07-31T17:00:00Z&group_by=month",
        )
        .await;
    let months: Vec<&str> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"]["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, ["2025-06", "2025-07"]);
    assert_eq!(
        figures(&r["groups"][0]),
        [1, 1, 6, 0, 8, 3, 1, 1, 1, 0, 0, 2, 1]
    );
    assert_eq!(
        figures(&r["total"]),
        [1, 1, 6, 0, 8, 3, 1, 1, 1, 1, 0, 1, 1]
    );

    // Under the successors (the default) the old ward's dossier counts under Phường Minh
    // Xuân; as they were, under Phường Tân Quang. The totals agree.
    let r = c.stats("ioc", &format!("{june}&group_by=unit")).await;
    let groups = r["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{r}");
    assert_eq!(groups[0]["key"]["unit"], "02215");
    assert_eq!(groups[0]["names"]["unit"], "Phường Minh Xuân");
    assert_eq!(groups[0]["received"], 8);
    let was = c
        .stats("ioc", &format!("{june}&group_by=unit&units=as_they_were"))
        .await;
    let groups = was["groups"].as_array().unwrap();
    let units: Vec<(&str, i64)> = groups
        .iter()
        .map(|g| {
            (
                g["key"]["unit"].as_str().unwrap(),
                g["received"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(units, [("02206", 1), ("02215", 7)]);
    assert_eq!(groups[0]["names"]["unit"], "Phường Tân Quang");
    assert_eq!(was["total"], r["total"], "totals agree both ways");
    let r = c
        .stats(
            "ioc",
            &format!("{june}&unit=02206&units=as_they_were&group_by=agency"),
        )
        .await;
    assert_eq!(r["total"]["received"], 1);
    assert_eq!(r["groups"][0]["key"]["agency"], OLD);
    assert_eq!(
        c.stats("ioc", &format!("{june}&unit=02206")).await["total"]["received"],
        0,
        "under the successors, the old ward is no group of its own"
    );
    // By agency and by level: the Department of Justice, which handled the child case, has no
    // figure of its own.
    let r = c
        .stats("ioc", &format!("{june}&group_by=agency,level"))
        .await;
    let agencies: Vec<(&str, &str)> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"]["agency"].as_str().unwrap(),
                g["key"]["level"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(agencies, [(A, "commune"), (OLD, "commune")]);
    // By channel and by procedure; filtered by channel and by field.
    let r = c.stats("ioc", &format!("{june}&group_by=channel")).await;
    assert_eq!(r["groups"].as_array().unwrap().len(), 2);
    let r = c.stats("ioc", &format!("{june}&channel=online")).await;
    assert_eq!(figures(&r["total"])[..5], [0, 1, 0, 0, 1]);
    let r = c
        .stats(
            "ioc",
            &format!("{june}&group_by=procedure&field=H%E1%BB%99%20t%E1%BB%8Bch"),
        )
        .await;
    assert_eq!(r["groups"].as_array().unwrap().len(), 1);
    assert_eq!(r["groups"][0]["key"]["procedure"], RE_BIRTH);
    assert_eq!(r["total"]["received"], 7);

    // The figure opens as its list: the dossiers received at Minh Xuân in June.
    let r = c
        .get(
            "ioc",
            &format!("/api/v1/dossiers?agency={A}&received_from=2025-06-01T00:00:00%2B07:00&received_to=2025-07-01T00:00:00%2B07:00&limit=100"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Who may read: the operations centre and administrators everything; a leader their own
    // agency; nobody else.
    let r = c.stats("lanhdao.a", june).await;
    assert_eq!(r["total"]["received"], 7);
    let r = c
        .get("lanhdao.a", &format!("/api/v1/stats?{june}&agency={OLD}"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for user in ["tiepnhan.a", "congdan"] {
        let r = c.get(user, &format!("/api/v1/stats?{june}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
    }
    // Bad questions get a clear answer.
    for (q, field) in [
        ("from=2025-07-01&to=2025-06-01", "to"),
        ("from=2025-06-01&to=2025-07-01&group_by=colour", "group_by"),
        ("from=2025-06-01&to=2025-07-01&level=hamlet", "level"),
        (
            "from=2025-06-01&to=2025-07-01&as_of=2025-05-01T00:00:00Z",
            "as_of",
        ),
    ] {
        let r = c.get("ioc", &format!("/api/v1/stats?{q}")).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{q}: {}",
            r.body
        );
        assert!(r.body.to_string().contains(field), "{q}: {}", r.body);
    }

    // Satisfaction: D2's applicant rates it on the portal, D1's at the counter's device; both
    // count in July (when given), under the agency; once per dossier, only once resolved.
    let [d1, d2, d3, _, _, _, d7, ..] = &codes[..] else {
        unreachable!()
    };
    let rating = |user: &'static str, code: &str, body: Value| {
        let req = app
            .post(&format!("/api/v1/dossiers/{code}/rating"))
            .json(&body);
        c.send(user, req)
    };
    let r = rating(
        "congdan",
        d2,
        json!({"level": "very_satisfied", "comment": "Nhanh, gọn"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["rating"]["channel"], "portal");
    let r = rating("tiepnhan.a", d1, json!({"level": "unsatisfied"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["rating"]["channel"], "counter");
    let r = rating("congdan", d2, json!({"level": "satisfied"})).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "once per dossier: {}",
        r.body
    );
    let r = rating("congdan", d3, json!({"level": "satisfied"})).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "not the citizen's dossier: {}",
        r.body
    );
    let r = rating("tiepnhan.a", d7, json!({"level": "satisfied"})).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "not this agency's: {}",
        r.body
    );
    let r = rating("ioc", d2, json!({"level": "satisfied"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = rating("tiepnhan.a", d1, json!({"level": "delighted"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let july = c
        .stats(
            "ioc",
            "from=2025-07-01&to=2025-08-01&as_of=2025-07-31T17:00:00Z&group_by=agency",
        )
        .await;
    assert_eq!(
        july["total"]["satisfaction"],
        json!({"very_satisfied": 1, "satisfied": 0, "unsatisfied": 1})
    );
    assert_eq!(rate(&july["total"], "satisfaction"), (1, 2));
    assert_eq!(july["groups"][0]["key"]["agency"], A);
    assert_eq!(july["groups"][0]["satisfaction"]["very_satisfied"], 1);
    let before_rating = c
        .stats(
            "ioc",
            "from=2025-07-01&to=2025-08-01&as_of=2025-07-02T01:59:00Z",
        )
        .await;
    assert_eq!(
        before_rating["total"]["satisfaction"],
        json!({"very_satisfied": 0, "satisfied": 0, "unsatisfied": 0}),
        "as of before the ratings"
    );

    // A rebuild from the events gives the same sums and the same reports.
    let before = app.store().stat_monthly_rows().await.unwrap();
    let report_before = c.stats("ioc", &format!("{june}&group_by=agency")).await;
    let rebuilt = app.svc.rebuild_stats().await.unwrap();
    assert_eq!(rebuilt.counted, 8, "D1–D8 were received; D9 never was");
    assert_eq!(rebuilt.dossiers, 9, "the child case is not among them");
    assert_eq!(app.store().stat_monthly_rows().await.unwrap(), before);
    assert_eq!(
        c.stats("ioc", &format!("{june}&group_by=agency")).await,
        report_before
    );
    assert_eq!(
        c.stats(
            "ioc",
            "from=2025-07-01&to=2025-08-01&as_of=2025-07-31T17:00:00Z&group_by=agency"
        )
        .await,
        july
    );
    assert_eq!(codes.len(), 10);
}

motcua_store::on_both!(crate::start => report_of_a_hand_built_history, dashboards_and_exports);

/// The cells of the first sheet of an XLSX file: (reference, text), shared strings resolved.
fn xlsx_cells(bytes: &[u8]) -> Vec<(String, String)> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        if let Ok(mut f) = zip.by_name(name) {
            f.read_to_string(&mut s).unwrap();
        }
        s
    };
    let shared = read("xl/sharedStrings.xml");
    let sheet = read("xl/worksheets/sheet1.xml");
    let strings: Vec<String> = shared
        .split("<si>")
        .skip(1)
        .map(|si| {
            si.split("<t")
                .skip(1)
                .filter_map(|t| t.split_once('>').and_then(|(_, r)| r.split_once("</t>")))
                .map(|(text, _)| text.replace("&amp;", "&"))
                .collect()
        })
        .collect();
    let mut cells = Vec::new();
    for c in sheet.split("<c ").skip(1) {
        let r = c.split("r=\"").nth(1).unwrap().split('"').next().unwrap();
        let shared_string = c.split('>').next().unwrap().contains("t=\"s\"");
        let v = c
            .split("<v>")
            .nth(1)
            .map(|v| v.split("</v>").next().unwrap().to_owned());
        if let Some(v) = v {
            let text = if shared_string {
                strings[v.parse::<usize>().unwrap()].clone()
            } else {
                v
            };
            cells.push((r.to_owned(), text));
        }
    }
    cells
}

pub(super) async fn dashboards_and_exports(app: &TestApp) {
    let c = setup(app).await;
    merged_ward(app).await;
    june_history(&c).await;
    // Two more at Minh Xuân: received 23 June (due 30 June: overdue on 2 July) and 25 June
    // (due 2 July, 17:00: due within a working day on 2 July, 09:00).
    c.at(2025, 6, 23, 9, 0).await;
    let late = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.at(2025, 6, 25, 9, 0).await;
    let due_soon = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.ok("tiepnhan.a", &due_soon, json!({"action": "forward"}))
        .await;
    c.at(2025, 7, 2, 9, 0).await;

    // The officer's counters: the API and the page, each counter a link to its list.
    let r = c.get("tiepnhan.a", "/api/v1/stats/counters").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // D7 is the old ward's, not Minh Xuân's; D1–D6 and D8 ended (five resolved, to return).
    assert_eq!(
        (
            &r.body["in_progress"],
            &r.body["overdue"],
            &r.body["due_soon"],
            &r.body["to_return"],
            &r.body["waiting"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(5), &json!(0)),
        "{}",
        r.body
    );
    let overdue = super::daily::page(app, "chuyenvien.a", "/xu-ly?loc=overdue").await;
    assert!(overdue.text.contains(&late) && !overdue.text.contains(&due_soon));
    let r = c.get("ioc", "/api/v1/stats/counters").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let page = super::daily::page(app, "chuyenvien.a", "/tong-quan").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("href=\"/xu-ly?loc=soon\""),
        "{}",
        page.text
    );
    let list = super::daily::page(app, "chuyenvien.a", "/xu-ly?loc=soon").await;
    assert!(
        list.text.contains(&due_soon) && !list.text.contains(&late),
        "the counter opens its list"
    );
    let queue = super::daily::page(app, "chuyenvien.a", "/xu-ly").await;
    assert!(
        queue.text.contains("id=\"counters\""),
        "the work queue shows them too"
    );

    // The operations centre: figures and codes, never a name or an identifier.
    let ioc = super::daily::page(app, "ioc", "/ioc?tu=2025-06-01&den=2025-06-30").await;
    assert_eq!(ioc.status, StatusCode::OK, "{}", ioc.text);
    for personal in [
        "Nguyễn Văn An",
        "008190001234",
        "Trần Thị Bình",
        "0912 345 678",
        "an@example.vn",
    ] {
        assert!(!ioc.text.contains(personal), "{personal} on the IOC page");
    }
    assert!(ioc.text.contains("<svg"), "charts drawn on the server");
    assert!(!ioc.text.contains("chart.js"), "no chart JavaScript");
    assert!(ioc.text.contains("hx-trigger=\"every 60s\""));
    assert!(ioc.text.contains("Phường Minh Xuân"));
    let overdue = &ioc.text[ioc.text.find("id=\"overdue-list\"").unwrap()..];
    assert!(
        overdue.contains("000.03.31.H58-250605-0001"),
        "D7 is listed, by its code"
    );
    // Nobody else sees it.
    let r = super::daily::page(app, "tiepnhan.a", "/ioc").await;
    assert_ne!(r.status, StatusCode::OK);

    // The evaluation index: every indicator's score with its threshold and data, ranked.
    let r = c
        .get("ioc", "/api/v1/stats/index?from=2025-06-01&to=2025-07-01")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rows = r.body["rows"].as_array().unwrap();
    let a = rows.iter().find(|row| row["code"] == A).unwrap();
    let indicator = |code: &str| {
        a["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["indicators"].as_array().unwrap())
            .find(|i| i["code"] == code)
            .unwrap()
            .clone()
    };
    // On time 4 of 5 (80 %) reaches its threshold: 20 points.
    assert_eq!(indicator("on_time")["score"], 20.0);
    assert_eq!(indicator("on_time")["rate"]["numerator"], 4);
    // Online 1 of 8 (12.5 %) against 50 %: 10 × 0.125 ÷ 0.5 = 2.5.
    assert_eq!(indicator("online")["score"], 2.5);
    assert_eq!(indicator("online")["threshold"], 0.5);
    // No rating in June: nothing to measure, full points, marked.
    assert_eq!(indicator("satisfaction")["applicable"], false);
    let sum: f64 = a["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["score"].as_f64().unwrap())
        .sum();
    assert!((a["score"].as_f64().unwrap() - sum).abs() < 0.01, "{a}");
    assert_eq!(r.body["config"]["groups"].as_array().unwrap().len(), 5);
    let scores: Vec<f64> = rows.iter().map(|r| r["score"].as_f64().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );
    let r = c
        .get(
            "ioc",
            "/api/v1/stats/index?from=2025-06-01&to=2025-07-01&by=unit",
        )
        .await;
    assert_eq!(r.body["rows"][0]["code"], "02215", "{}", r.body);
    let r = c.get("ioc", "/api/v1/stats/index?by=colour").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(ioc.text.contains("id=\"ranking\""));

    // Exports: XLSX with the same figures, CSV with a byte-order mark, the periodic form.
    let x = super::daily::page(app, "ioc", "/ioc/bao-cao.xlsx?tu=2025-06-01&den=2025-06-30").await;
    assert_eq!(x.status, StatusCode::OK);
    let cells = xlsx_cells(&x.bytes);
    let find = |text: &str| {
        cells
            .iter()
            .position(|(_, t)| t == text)
            .unwrap_or_else(|| panic!("{text} not in {cells:?}"))
    };
    let total = find("Tổng cộng");
    // Columns: agency code, name, carried over, new online, new counter, new postal, received
    // (June with the two dossiers of 23 and 25 June).
    let row: String = cells[total]
        .0
        .trim_start_matches(char::is_alphabetic)
        .to_owned();
    let at = |col: &str| {
        cells
            .iter()
            .find(|(r, _)| *r == format!("{col}{row}"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        [at("C"), at("D"), at("E"), at("F"), at("G")],
        ["1", "1", "8", "0", "10"].map(String::from),
        "{cells:?}"
    );
    let csv = super::daily::page(app, "ioc", "/ioc/bao-cao.csv?tu=2025-06-01&den=2025-06-30").await;
    assert!(
        csv.bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "UTF-8 with a byte-order mark"
    );
    assert!(csv.text.contains("Ủy ban nhân dân phường Minh Xuân"));
    let form = super::daily::page(
        app,
        "ioc",
        "/ioc/bieu-tong-hop.xlsx?tu=2025-06-01&den=2025-06-30",
    )
    .await;
    let cells = xlsx_cells(&form.bytes);
    assert!(cells.iter().any(|(_, t)| t == "Hộ tịch"), "{cells:?}");
    assert!(
        cells
            .iter()
            .any(|(_, t)| t == "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH")
    );
    // The API's export of the same report.
    let r = c
        .get(
            "ioc",
            "/api/v1/stats/export/csv?from=2025-06-01&to=2025-07-01&group_by=unit",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("Phường Minh Xuân"));
    let r = c
        .get(
            "ioc",
            "/api/v1/stats/export/pdf?from=2025-06-01&to=2025-07-01",
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
