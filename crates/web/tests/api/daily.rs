//! Issue 11's daily-path findings (items 11–16), each with its regression test, on SQLite and
//! PostgreSQL: pages and forms through the whole router, as the browser sends them.

use super::dossiers::{A, RE_BIRTH, counter, online, setup};
use axum::http::StatusCode;
use motcua_web::testing::{TestApp, TestResponse};
use serde_json::json;

/// A signed-in web session of `user` (its cookie) and the form token that goes with it.
pub(super) async fn web(app: &TestApp, user: &str) -> (String, String) {
    let u = app.store().user_by_name(user).await.unwrap().unwrap();
    let (token, _) = app
        .store()
        .issue_session(&u, app.now(), app.state.session_idle, app.state.session_max)
        .await
        .unwrap();
    let csrf = motcua_web::ui::csrf_token(&app.state.csrf_key[..], Some(&token), "");
    (format!("motcua_session={token}"), csrf)
}

pub(super) async fn page(app: &TestApp, user: &str, path: &str) -> TestResponse {
    let (cookie, _) = web(app, user).await;
    app.get(path).header("cookie", &cookie).send().await
}

/// Posts a form as `user`, with the session's anti-forgery token.
pub(super) async fn post(
    app: &TestApp,
    user: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> TestResponse {
    let (cookie, csrf) = web(app, user).await;
    let mut all = vec![("_csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    app.post(path)
        .header("cookie", &cookie)
        .body(
            serde_urlencoded::to_string(&all).unwrap(),
            "application/x-www-form-urlencoded",
        )
        .send()
        .await
}

fn location(r: &TestResponse) -> &str {
    r.header("location").unwrap_or_default()
}

/// The part of a page from the element with `id` on.
fn from_id<'a>(html: &'a str, id: &str) -> &'a str {
    let i = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    &html[i..]
}

/// Item 11: An incomplete online dossier is accepted once the officer ticks what was received;
/// a supplement records what was handed in; an unavailable action says why.
pub(crate) async fn components_are_recorded_when_received(app: &TestApp) {
    let c = setup(app).await;
    // Filed online without the second (required) component.
    let mut body = online(RE_BIRTH, A);
    body["components"] = json!([{"index": 0, "copies": 1}]);
    let code = c.filed("congdan", &body).await;
    // The API names what is missing instead of hiding the action …
    let r = c
        .act("tiepnhan.a", &code, json!({"action": "accept"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("Bản sao giấy tờ có thông tin khai sinh"),
        "{}",
        r.body
    );
    // … and the page offers the accept form with that component to tick, with the catalogue's
    // numbers (0 originals, 1 copy).
    let html = page(app, "tiepnhan.a", &format!("/ho-so/{code}"))
        .await
        .text;
    let main = from_id(&html, "main-action");
    assert!(main.contains("name=\"action\" value=\"accept\""), "{main}");
    assert!(main.contains("id=\"c1\""), "{main}");
    assert!(
        main.contains("id=\"s1\" name=\"s1\" min=\"0\" max=\"99\" value=\"1\""),
        "{main}"
    );
    let r = post(
        app,
        "tiepnhan.a",
        &format!("/ho-so/{code}/hanh-dong"),
        &[
            ("action", "accept"),
            ("version", "1"),
            ("c1", "1"),
            ("o1", "1"),
            ("s1", "2"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(location(&r), format!("/ho-so/{code}/bien-nhan"));
    let d = c
        .get("tiepnhan.a", &format!("/api/v1/dossiers/{code}"))
        .await
        .body;
    assert_eq!(d["status"], "received");
    assert_eq!(d["components"][1]["submitted"], true);
    assert_eq!(d["components"][1]["originals"], 1);
    assert_eq!(d["components"][1]["copies"], 2);
    let h = c
        .get("tiepnhan.a", &format!("/api/v1/dossiers/{code}/history"))
        .await
        .body;
    let accepted = h
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "accept")
        .expect("the accept record");
    assert_eq!(accepted["data"]["components"][0]["index"], 1, "{accepted}");
    let receipt = page(app, "tiepnhan.a", &format!("/ho-so/{code}/bien-nhan"))
        .await
        .text;
    assert!(receipt.contains("Bản sao giấy tờ có thông tin khai sinh — 1 bản chính, 2 bản sao"));

    // A supplement during processing: the officer records the corrected declaration.
    c.ok("tiepnhan.a", &code, json!({"action": "forward"}))
        .await;
    c.ok(
        "chuyenvien.a",
        &code,
        json!({"action": "request_supplement", "missing": [{"item": "Tờ khai đăng ký lại khai sinh", "reason": "Thiếu chữ ký"}]}),
    )
    .await;
    let html = page(app, "chuyenvien.a", &format!("/ho-so/{code}"))
        .await
        .text;
    let main = from_id(&html, "main-action");
    assert!(main.contains("value=\"supplement_received\""), "{main}");
    let r = post(
        app,
        "chuyenvien.a",
        &format!("/ho-so/{code}/hanh-dong"),
        &[
            ("action", "supplement_received"),
            ("c0", "1"),
            ("o0", "2"),
            ("s0", "0"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let d = c
        .get("chuyenvien.a", &format!("/api/v1/dossiers/{code}"))
        .await
        .body;
    assert_eq!(d["status"], "processing");
    assert_eq!(d["components"][0]["originals"], 2);
    // The page names what the specialist cannot do yet, and why.
    let html = page(app, "chuyenvien.a", &format!("/ho-so/{code}"))
        .await
        .text;
    let blocked = from_id(&html, "blocked");
    assert!(
        blocked.contains("Phê duyệt") && blocked.contains("Chỉ phê duyệt ở bước"),
        "{blocked}"
    );
    // A recording that makes no sense is refused with the field named.
    let r = c
        .act(
            "chuyenvien.a",
            &code,
            json!({"action": "request_supplement", "missing": [{"item": "x", "reason": "y"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c
        .act(
            "chuyenvien.a",
            &code,
            json!({"action": "supplement_received", "components": [{"index": 7, "copies": 1}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "components[0].index");
}

/// Item 12: The search box finds a dossier by code (typed or scanned), ID or name without
/// diacritics; receipts and slips carry the full public tracking URL and its QR code.
pub(crate) async fn one_step_search_and_tracking_qr(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    // Every officer page has the box.
    let html = page(app, "chuyenvien.a", "/xu-ly").await.text;
    assert!(html.contains("action=\"/tim-kiem\"") && html.contains("id=\"find\""));
    // A scanned tracking URL (a USB scanner types it and Enter), in another letter case.
    let scanned = format!(
        "https://dichvucong.tuyenquang.gov.vn/tra-cuu?ma={}",
        code.to_lowercase()
    );
    let r = page(
        app,
        "tiepnhan.a",
        &format!(
            "/tim-kiem?q={}",
            motcua_web::ui::urlencode(&scanned).replace('&', "%26")
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(location(&r), format!("/ho-so/{code}"));
    // The code as typed.
    let r = page(app, "chuyenvien.a", &format!("/tim-kiem?q=+{code}+")).await;
    assert_eq!(location(&r), format!("/ho-so/{code}"));
    // The ID number, and the name without diacritics in any order.
    for q in ["008190001234", "nguyen+van+an", "an+nguyen", "NGUYỄN+AN"] {
        let r = page(app, "tiepnhan.a", &format!("/tim-kiem?q={q}")).await;
        assert_eq!(r.status, StatusCode::OK, "{q}");
        assert!(r.text.contains(&code), "{q}: {}", r.text);
    }
    let r = page(app, "tiepnhan.a", "/tim-kiem?q=tran+thi+binh").await;
    assert!(!r.text.contains(&code));
    // Another agency's officer does not find it; a postal agent may not look people up.
    let r = page(app, "tiepnhan.b", &format!("/tim-kiem?q={code}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text.contains(&format!("/ho-so/{code}\"")), "{}", r.text);
    let r = page(app, "tiepnhan.b", "/tim-kiem?q=nguyen+van+an").await;
    assert!(!r.text.contains(&code));
    let r = page(app, "buudien", "/tim-kiem?q=nguyen+van+an").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Item 12: Receipts and slips carry the full public tracking URL (the configured public base
/// URL) as text and as a QR code of exactly that text.
pub(crate) async fn receipts_carry_the_tracking_qr(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let receipt = page(app, "tiepnhan.a", &format!("/ho-so/{code}/bien-nhan"))
        .await
        .text;
    let url = format!("https://dichvucong.tuyenquang.gov.vn/tra-cuu?ma={code}");
    assert!(receipt.contains(&format!("href=\"{url}\"")), "{receipt}");
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .unwrap()
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(132, 132)
        .quiet_zone(true)
        .build();
    assert!(receipt.contains(&qr), "the receipt's QR code encodes {url}");
    // The control slip too.
    let slip = page(app, "tiepnhan.a", &format!("/ho-so/{code}/phieu/kiem-soat"))
        .await
        .text;
    assert!(slip.contains(&qr));
}

/// Item 13: The page leads with the role's main action, names the next step and who has it,
/// folds the rest away, and confirms before refusing or stopping.
pub(crate) async fn dossier_page_leads_with_the_main_action(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let main_then_others = |html: &str, action: &str| {
        let main = html.find("id=\"main-action\"").expect("a main action");
        let others = html.find("id=\"other-actions\"").unwrap_or(usize::MAX);
        assert!(main < others, "the main action comes first");
        let form = &html[main..others.min(html.len())];
        assert!(
            form.contains(&format!("name=\"action\" value=\"{action}\"")),
            "{action} leads: {form}"
        );
    };
    // At reception: forward leads for the counter officer; the next step names who handles it.
    let html = page(app, "tiepnhan.a", &format!("/ho-so/{code}"))
        .await
        .text;
    main_then_others(&html, "forward");
    let next = from_id(&html, "next");
    assert!(
        next.contains("Tiếp nhận hồ sơ") && next.contains("chưa phân công"),
        "{next}"
    );
    assert!(
        next.contains("Sau đó") && next.contains("Thẩm định, xử lý hồ sơ"),
        "{next}"
    );
    // Withdrawal is folded away in a <details> (works without JavaScript).
    let others = from_id(&html, "other-actions");
    assert!(html.contains("<details class=\"more noprint\" id=\"other-actions\""));
    assert!(others.contains("value=\"withdraw\""));
    c.ok("tiepnhan.a", &code, json!({"action": "forward"}))
        .await;
    c.ok(
        "chuyenvien.a",
        &code,
        json!({"action": "assign", "assignee": "chuyenvien.a"}),
    )
    .await;
    // The specialist: forward.
    let html = page(app, "chuyenvien.a", &format!("/ho-so/{code}"))
        .await
        .text;
    main_then_others(&html, "forward");
    assert!(from_id(&html, "next").contains("Chuyên viên xử lý"));
    c.ok("chuyenvien.a", &code, json!({"action": "forward"}))
        .await;
    // The leader: approve; refusing is folded away.
    let html = page(app, "lanhdao.a", &format!("/ho-so/{code}")).await.text;
    main_then_others(&html, "approve");
    assert!(from_id(&html, "other-actions").contains("value=\"refuse\""));
    // Refusing asks first; nothing changes until it is confirmed.
    let reasons = [("action", "refuse"), ("reasons", "Không đủ điều kiện")];
    let r = post(
        app,
        "lanhdao.a",
        &format!("/ho-so/{code}/hanh-dong"),
        &reasons,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("id=\"confirm-yes\"") && r.text.contains("Không đủ điều kiện"));
    assert!(r.text.contains("name=\"confirmed\" value=\"1\""));
    let d = c
        .get("lanhdao.a", &format!("/api/v1/dossiers/{code}"))
        .await
        .body;
    assert_eq!(d["status"], "processing", "not refused before confirmation");
    let mut confirmed = reasons.to_vec();
    confirmed.push(("confirmed", "1"));
    let r = post(
        app,
        "lanhdao.a",
        &format!("/ho-so/{code}/hanh-dong"),
        &confirmed,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let d = c
        .get("lanhdao.a", &format!("/api/v1/dossiers/{code}"))
        .await
        .body;
    assert_eq!(d["status"], "stopped");
    // Nothing left to do: the page says so, and who had it last.
    let html = page(app, "chuyenvien.a", &format!("/ho-so/{code}"))
        .await
        .text;
    assert!(html.contains("id=\"no-action\""));
    assert!(from_id(&html, "next").contains("Hồ sơ đã kết thúc"));
}

/// Item 14: The counter form: the catalogue's counts, kept after an error; the commune by
/// name; the result delivery recorded; a second filing within minutes asks first.
pub(crate) async fn counter_form_for_a_working_day(app: &TestApp) {
    let c = setup(app).await;
    let form = page(app, "tiepnhan.a", &format!("/mot-cua?thu_tuc={RE_BIRTH}"))
        .await
        .text;
    // Declaration: 1 original; copy of the birth record: 1 copy.
    assert!(form.contains("id=\"o0\" name=\"o0\" min=\"0\" max=\"99\" value=\"1\""));
    assert!(form.contains("id=\"s1\" name=\"s1\" min=\"0\" max=\"99\" value=\"1\""));
    // The communes of the officer's province, by name.
    assert!(
        form.contains("<option value=\"Phường Minh Xuân (02215)\">"),
        "{form}"
    );
    assert!(form.contains("name=\"delivery\" value=\"paper\" checked"));
    let fields = |id: &'static str, unit: &'static str| {
        vec![
            ("thu_tuc", RE_BIRTH),
            ("kind", "person"),
            ("id_number", id),
            ("name", "Nguyễn Văn An"),
            ("unit", unit),
            ("delivery", "postal"),
            ("c0", "1"),
            ("o0", "1"),
            ("c1", "1"),
            ("o1", "0"),
            ("s1", "3"),
        ]
    };
    // An error: what was typed and counted comes back.
    let r = post(
        app,
        "tiepnhan.a",
        "/mot-cua/tiep-nhan",
        &fields("123", "minh xuan"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text
            .contains("id=\"s1\" name=\"s1\" min=\"0\" max=\"99\" value=\"3\"")
    );
    assert!(r.text.contains("id=\"c1\" name=\"c1\" value=\"1\" checked"));
    assert!(r.text.contains("value=\"minh xuan\""));
    assert!(
        r.text
            .contains("name=\"delivery\" value=\"postal\" checked")
    );
    assert!(
        r.text.contains("Hồ sơ chưa được tiếp nhận"),
        "the heading says what failed"
    );
    // A commune that does not exist is named.
    let r = post(
        app,
        "tiepnhan.a",
        "/mot-cua/tiep-nhan",
        &fields("008190001234", "Xã Không Có"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("Không tìm thấy xã, phường «Xã Không Có»"));
    // The commune typed without diacritics; delivery by post.
    let r = post(
        app,
        "tiepnhan.a",
        "/mot-cua/tiep-nhan",
        &fields("008190001234", "minh xuan"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let first = location(&r)
        .trim_start_matches("/ho-so/")
        .trim_end_matches("/bien-nhan")
        .to_owned();
    let d = c
        .get("tiepnhan.a", &format!("/api/v1/dossiers/{first}"))
        .await
        .body;
    assert_eq!(d["applicant"]["unit_code"], "02215");
    assert_eq!(d["requested_delivery"], "postal");
    assert_eq!(d["components"][1]["copies"], 3);
    let html = page(app, "tiepnhan.a", &format!("/ho-so/{first}"))
        .await
        .text;
    assert!(from_id(&html, "delivery").contains("qua bưu chính"));
    // The same applicant and procedure again minutes later: asked, not filed.
    app.clock.advance(chrono::Duration::minutes(3));
    let r = post(
        app,
        "tiepnhan.a",
        "/mot-cua/tiep-nhan",
        &fields("008190001234", "Phường Minh Xuân (02215)"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(from_id(&r.text, "duplicate").contains(&first));
    assert!(r.text.contains("name=\"duplicate_ok\" value=\"1\""));
    let listed = c
        .get("tiepnhan.a", "/api/v1/dossiers?applicant_id=008190001234")
        .await
        .body;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "no silent duplicate"
    );
    let mut again = fields("008190001234", "02215");
    again.push(("duplicate_ok", "1"));
    let r = post(app, "tiepnhan.a", "/mot-cua/tiep-nhan", &again).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "confirmed: a second dossier"
    );
    // Another procedure for the same applicant is not a duplicate.
    let mut other = fields("008190001234", "02215");
    other[0] = ("thu_tuc", "1.001193");
    other.push(("c2", "1"));
    let r = post(app, "tiepnhan.a", "/mot-cua/tiep-nhan", &other).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
}

/// Item 15: The citizen's path: only the places that may receive the procedure, back to the
/// form after registering, phrase matches first, a list for phones, headings that say what
/// failed, the citizen's own words.
pub(crate) async fn the_citizens_path(app: &TestApp) {
    let c = setup(app).await;
    let form = page(app, "congdan", &format!("/nop/{RE_BIRTH}")).await.text;
    let select = from_id(&form, "agency");
    assert!(select.contains(&format!("value=\"{A}\"")));
    assert!(
        !select.contains("value=\"000.00.20.H58\""),
        "a province centre does not receive a commune procedure"
    );
    let form = page(app, "congdan", "/nop/1.012549").await.text;
    let select = from_id(&form, "agency");
    assert!(
        select.contains("value=\"000.00.20.H58\"") && !select.contains(&format!("value=\"{A}\""))
    );
    // Not signed in: login, then registration, keep the form to come back to.
    let r = app.get(&format!("/nop/{RE_BIRTH}")).send().await;
    assert_eq!(location(&r), format!("/dang-nhap?next=/nop/{RE_BIRTH}"));
    let login = app
        .get(&format!("/dang-nhap?next=/nop/{RE_BIRTH}"))
        .send()
        .await
        .text;
    assert!(
        login.contains(&format!("href=\"/dang-ky?next=/nop/{RE_BIRTH}\"")),
        "{login}"
    );
    let reg = app
        .get(&format!("/dang-ky?next=/nop/{RE_BIRTH}"))
        .send()
        .await;
    assert!(
        reg.text
            .contains(&format!("name=\"next\" value=\"/nop/{RE_BIRTH}\""))
    );
    let nonce = reg
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .unwrap();
    let csrf = motcua_web::ui::csrf_token(
        &app.state.csrf_key[..],
        None,
        nonce.split_once('=').unwrap().1,
    );
    let r = app
        .post("/dang-ky")
        .header("cookie", &nonce)
        .body(
            serde_urlencoded::to_string([
                ("_csrf", csrf.as_str()),
                ("next", &format!("/nop/{RE_BIRTH}")),
                ("id_number", "008195009999"),
                ("name", "Trần Thị Bình"),
                ("phone", "0987654321"),
                ("password", "mot-mat-khau-rieng"),
            ])
            .unwrap(),
            "application/x-www-form-urlencoded",
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(location(&r), format!("/nop/{RE_BIRTH}"));
    // A failed filing says so in its heading, in the citizen's words.
    let r = post(
        app,
        "congdan",
        &format!("/nop/{RE_BIRTH}"),
        &[
            ("agency", A),
            ("name", "Nguyễn Văn An"),
            ("id_number", "1"),
            ("unit", "02215"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text
            .contains("<h2 class=\"failed\">Hồ sơ của bạn chưa được nộp"),
        "{}",
        r.text
    );
    // My dossiers: a list that reads on a phone, no wide table.
    let code = c.filed("congdan", &online(RE_BIRTH, A)).await;
    let mine = page(app, "congdan", "/ho-so").await.text;
    assert!(from_id(&mine, "my-dossiers").contains(&code));
    assert!(!mine.contains("<table"));
    let own = page(app, "congdan", &format!("/ho-so/{code}")).await.text;
    assert!(own.contains("Quá trình giải quyết hồ sơ") && !own.contains(">Thao tác<"));
    // Search: the phrase as typed first, words in any order after it.
    let admin = &c.tokens["quantri"];
    for (code, name) in [
        ("2.000001", "Cấp lại giấy phép kinh doanh rượu"),
        ("2.000002", "Giấy phép kinh doanh rượu: cấp lại"),
    ] {
        let mut p = super::procedure(code, name);
        p["levels"] = json!(["province"]);
        let r = app
            .put(&format!("/api/v1/procedures/{code}"))
            .bearer(admin)
            .json(&p)
            .send()
            .await;
        assert!(r.status.is_success(), "{}", r.text);
    }
    let r = app
        .get("/api/v1/procedures?q=giay+phep+kinh+doanh+ruou+cap+lai")
        .send()
        .await;
    let codes: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["2.000002", "2.000001"], "the exact phrase first");
    let r = app
        .get("/api/v1/procedures?q=ruou+kinh+doanh&limit=1")
        .send()
        .await;
    assert_eq!(r.body["items"][0]["code"], "2.000001", "words in any order");
    let next = r.body["next_cursor"].as_str().unwrap().to_owned();
    let r = app
        .get(&format!(
            "/api/v1/procedures?q=ruou+kinh+doanh&limit=1&cursor={next}"
        ))
        .send()
        .await;
    assert_eq!(
        r.body["items"][0]["code"], "2.000002",
        "and the next page follows"
    );
}

/// Item 16: Province user administration: search and pages, edit name, role and agency,
/// reset a password that must be changed at the next login, Vietnamese role names.
pub(crate) async fn province_user_administration(app: &TestApp) {
    let c = setup(app).await;
    let list = page(app, "quantri", "/quan-tri/nguoi-dung?q=tiepnhan")
        .await
        .text;
    assert!(list.contains("tiepnhan.a") && list.contains("tiepnhan.b"));
    assert!(!list.contains("chuyenvien.a"));
    assert!(
        list.contains("Cán bộ tiếp nhận (một cửa)"),
        "roles in Vietnamese"
    );
    let list = page(app, "quantri", "/quan-tri/nguoi-dung?role=leader")
        .await
        .text;
    assert!(list.contains("lanhdao.a") && !list.contains("tiepnhan.a"));
    // Pages, a username at a time.
    let q = motcua_store::UserQuery {
        limit: Some(2),
        ..Default::default()
    };
    let first = app.store().user_page(&q).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let second = app
        .store()
        .user_page(&motcua_store::UserQuery {
            cursor: first.next_cursor.clone(),
            ..q
        })
        .await
        .unwrap();
    assert!(second.items[0].username > first.items[1].username);
    // Not for other roles.
    let r = page(app, "tiepnhan.a", "/quan-tri/nguoi-dung").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Edit: name, role and agency; the account's sessions end.
    let old = c.tokens["chuyenvien.a"].clone();
    let r = post(
        app,
        "quantri",
        "/quan-tri/nguoi-dung/chuyenvien.a",
        &[
            ("full_name", "Lê Văn Cường"),
            ("role", "leader"),
            ("agency_code", A),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let u = app
        .store()
        .user_by_name("chuyenvien.a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.full_name.as_str(), u.role.as_str()),
        ("Lê Văn Cường", "leader")
    );
    let r = app.get("/api/v1/dossiers").bearer(&old).send().await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a changed role logs out"
    );
    let r = post(
        app,
        "quantri",
        "/quan-tri/nguoi-dung/chuyenvien.a",
        &[
            ("full_name", "Lê Văn Cường"),
            ("role", "specialist"),
            ("agency_code", ""),
        ],
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an officer needs an agency"
    );
    // Reset: a temporary password, shown once; the user must change it before anything else.
    let r = post(
        app,
        "quantri",
        "/quan-tri/nguoi-dung/tiepnhan.b/mat-khau",
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let temp = from_id(&r.text, "temp-password");
    let temp = temp[temp.find('>').unwrap() + 1..temp.find('<').unwrap()].to_owned();
    assert_eq!(temp.len(), 12);
    let r = app
        .post("/api/v1/auth/token")
        .json(&json!({"username": "tiepnhan.b", "password": super::PASSWORD}))
        .send()
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let token = super::login_with(app, "tiepnhan.b", &temp).await;
    let r = app.get("/api/v1/dossiers").bearer(&token).send().await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["type"], "/problems/password-change-required");
    let r = page(app, "tiepnhan.b", "/mot-cua").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/doi-mat-khau?next=/mot-cua");
    let r = post(
        app,
        "tiepnhan.b",
        "/doi-mat-khau",
        &[
            ("current_password", &temp),
            ("password", "12345678"),
            ("password_again", "12345678"),
            ("next", "/mot-cua"),
        ],
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a common password is refused"
    );
    let r = post(
        app,
        "tiepnhan.b",
        "/doi-mat-khau",
        &[
            ("current_password", &temp),
            ("password", "mot-cua-ha-giang-1"),
            ("password_again", "mot-cua-ha-giang-1"),
            ("next", "/mot-cua"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(location(&r), "/mot-cua");
    assert_eq!(
        page(app, "tiepnhan.b", "/mot-cua").await.status,
        StatusCode::OK
    );
    // Every change is in the audit chain, by the administrator.
    let trail = app.store().audit_trail("user", "tiepnhan.b").await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["create", "password_reset", "password_changed"]);
    assert_eq!(trail[1].actor, "quantri");
}

/// The administrator's jobs view and `/metrics` show how far the audit sealer is behind.
async fn the_jobs_view_shows_the_sealer_backlog(app: &TestApp) {
    let _c = setup(app).await;
    let (cookie, _) = web(app, "quantri").await;
    let store = app.store();
    store.seal_audit().await.unwrap();
    let r = app
        .get("/quan-tri/tac-vu")
        .header("cookie", &cookie)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text
            .contains("Mọi bản ghi nhật ký đã được niêm phong vào chuỗi."),
        "{}",
        r.text
    );
    for i in 0..3 {
        store
            .record_audit(&motcua_store::audit::AuditRecord {
                at: app.now(),
                actor: "quantri".into(),
                entity: "user",
                entity_key: format!("test{i}"),
                action: "probe".into(),
                before: None,
                after: None,
                data: "{}".into(),
            })
            .await
            .unwrap();
    }
    let waiting = store.seal_backlog().await.unwrap().unsealed;
    assert!(waiting >= 3, "{waiting}");
    let r = app
        .get("/quan-tri/tac-vu")
        .header("cookie", &cookie)
        .send()
        .await;
    assert!(
        r.text.contains(&format!(
            "Bản ghi chờ niêm phong: <strong>{waiting}</strong>"
        )),
        "{}",
        r.text
    );
    // Published every few seconds by every instance (`publish_queue_metrics`).
    app.state.publish_seal_backlog().await;
    let metrics = app.get("/metrics").send().await.text;
    assert!(metrics.contains("motcua_audit_unsealed "), "{metrics}");
    assert!(
        metrics.contains("motcua_audit_unsealed_oldest_seconds "),
        "{metrics}"
    );
    // An officer does not see the queue.
    assert_eq!(
        page(app, "tiepnhan.a", "/quan-tri/tac-vu").await.status,
        StatusCode::FORBIDDEN
    );
}

motcua_store::on_both!(
    crate::start =>
    components_are_recorded_when_received,
    one_step_search_and_tracking_qr,
    dossier_page_leads_with_the_main_action,
    counter_form_for_a_working_day,
    the_citizens_path,
    province_user_administration,
    the_jobs_view_shows_the_sealer_backlog,
);

mod public {
    use super::receipts_carry_the_tracking_qr;
    motcua_store::on_both!(
        crate::start_public =>
        receipts_carry_the_tracking_qr,
    );
}
