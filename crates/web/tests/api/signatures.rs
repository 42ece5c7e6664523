//! Issue 13, item 3: any PDF's signatures verified through `POST /api/v1/signatures/verify` and
//! the public verification page, with the trusted roots the server is configured with.

use super::dossiers::{A, B, RE_BIRTH, counter, setup};
use axum::http::StatusCode;
use motcua_sign::service::Signatures;
use motcua_sign::{LocalKey, TrustStore};
use motcua_web::testing::TestApp;
use std::sync::Arc;

motcua_store::on_both!(crate::start => signatures_are_verified_for_anyone, confirmed_copies_are_signed_by_their_officer, leaders_sign_results_from_their_queue, issued_slips_are_signed_and_kept, results_are_drafted_from_the_procedures_template, the_document_register_signs_delivers_and_counts);

/// A development PKI, and the service set to trust its root.
pub(crate) fn with_signatures(app: &TestApp) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // The outside verifiers judge certificates by the wall clock: the test PKI follows it.
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    motcua_sign::pki::write_dev_ca(dir.path(), "UBND phường Minh Xuân", now).unwrap();
    let mut trust = TrustStore::new();
    trust.add_file(&dir.path().join("ca.pem")).unwrap();
    app.svc.set_pdf_signatures(Arc::new(Signatures {
        trust,
        keys_dir: None,
        password: String::new(),
        remote_url: None,
        tsa: None,
        stamp: None,
        keys: Default::default(),
    }));
    dir
}

/// Development keys of an installation (a user and agencies), valid on the test's day, and the
/// service set to sign with them (with visible stamps laid out by `stamps` when given).
fn installation(
    app: &TestApp,
    (username, full_name, organisation): (&str, &str, &str),
    agencies: &[(String, String)],
    stamps: Option<Arc<motcua_pdf::TypstSlips>>,
) -> (tempfile::TempDir, TrustStore) {
    let pki = tempfile::tempdir().unwrap();
    motcua_sign::pki::write_dev_installation(
        pki.path(),
        &[motcua_sign::pki::DevUser {
            username: username.into(),
            full_name: full_name.into(),
            organisation: organisation.into(),
        }],
        agencies,
        app.now() - chrono::Duration::days(30),
    )
    .unwrap();
    let mut trust = TrustStore::new();
    trust.add_file(&pki.path().join("ca.pem")).unwrap();
    let stamp: Option<motcua_sign::service::StampRenderer> = stamps.map(|r| {
        Arc::new(move |n: &str, t: &str, why: &str| r.stamp(n, t, why))
            as motcua_sign::service::StampRenderer
    });
    app.svc.set_pdf_signatures(Arc::new(Signatures {
        trust: trust.clone(),
        keys_dir: Some(pki.path().to_owned()),
        password: motcua_sign::pki::DEV_PASSWORD.into(),
        remote_url: None,
        tsa: None,
        stamp,
        keys: Default::default(),
    }));
    (pki, trust)
}

async fn signatures_are_verified_for_anyone(app: &TestApp) {
    app.svc
        .set_slip_renderer(Arc::new(motcua_pdf::TypstSlips::new()));
    let pki = with_signatures(app);
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let receipt = app
        .get(&format!("/api/v1/dossiers/{code}/slips/receipt"))
        .bearer(&c.tokens["tiepnhan.a"])
        .send()
        .await
        .bytes;
    let leader = LocalKey::from_file(&pki.path().join("leader.p12"), "motcua").unwrap();
    let opts = motcua_sign::SignOptions::new(
        app.now()
            .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap()),
    );
    // Signed on the test's day (the day before Tết 2025), before the certificate was issued:
    // verification says so.
    let early = motcua_sign::sign_pdf(&receipt, &leader, &opts)
        .await
        .unwrap();
    let verify = |pdf: Vec<u8>| {
        app.post("/api/v1/signatures/verify")
            .body(pdf, "application/pdf")
            .send()
    };
    let r = verify(early).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["valid"], false);
    assert!(
        r.body["signatures"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not yet valid"),
        "{}",
        r.body
    );

    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap());
    let signed = motcua_sign::sign_pdf(&receipt, &leader, &motcua_sign::SignOptions::new(now))
        .await
        .unwrap();
    let r = verify(signed.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["valid"], true, "{}", r.body);
    let sig = &r.body["signatures"][0];
    assert_eq!(sig["signer"], "Trần Văn Hùng");
    assert_eq!(sig["intact"], true);
    assert_eq!(sig["trusted"], true);
    assert_eq!(sig["covers_whole_document"], true);
    assert_eq!(sig["reason_vi"], "chữ ký hợp lệ");

    // One byte changed in the signed range.
    let mut tampered = signed.clone();
    let at = tampered.windows(7).position(|w| w == b"stream\n").unwrap() + 30;
    tampered[at] ^= 0x20;
    let r = verify(tampered).await;
    assert_eq!(r.body["valid"], false);
    assert_eq!(r.body["signatures"][0]["intact"], false);

    // A PDF without signatures, and a file that is no PDF.
    let r = verify(receipt.clone()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["valid"], false);
    assert_eq!(r.body["signatures"].as_array().unwrap().len(), 0);
    let r = verify(b"not a pdf".to_vec()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("không phải là tài liệu PDF"), "{}", r.text);

    // The public page: a form, then the verdict in Vietnamese.
    let page = app.get("/xac-thuc-chu-ky").send().await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("enctype=\"multipart/form-data\""));
    let nonce = "0123456789abcdef0123456789abcdef";
    let csrf = motcua_web::ui::csrf_token(&app.state.csrf_key[..], None, nonce);
    let boundary = "----motcuaverify";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ket-qua.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend(&signed);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = app
        .post("/xac-thuc-chu-ky")
        .header(
            "cookie",
            &format!("__Host-motcua_csrf={nonce}; motcua_csrf={nonce}"),
        )
        .body(body, &format!("multipart/form-data; boundary={boundary}"))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Trần Văn Hùng"), "{}", r.text);
    assert!(r.text.contains("data-valid=\"true\""));
    assert!(r.text.contains("chữ ký hợp lệ"));
}

/// Item 4: a confirmed scan becomes an electronic copy signed by the officer who confirmed it
/// (the `copy.sign` job); the applicant's warehouse then serves the signed PDF.
async fn confirmed_copies_are_signed_by_their_officer(app: &TestApp) {
    use super::files::{fixture, upload};
    app.svc
        .set_slip_renderer(Arc::new(motcua_pdf::TypstSlips::new()));
    let c = setup(app).await;
    let applicant = "008190001234";
    app.add_user(applicant, motcua_domain::auth::Role::Citizen, None)
        .await;
    let citizen = app.token(applicant).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let officer = c.tokens["tiepnhan.a"].clone();
    let r = upload(
        app,
        &officer,
        &code,
        "component=1&name=trich-luc.png",
        &fixture("id_front.png"),
    )
    .await;
    let file = r.body["id"].as_i64().unwrap();
    // Keys of the installation, valid on the test's day.
    let (_pki, trust) = installation(
        app,
        ("tiepnhan.a", "Nguyễn Thị Lan", "UBND phường A"),
        &[],
        None,
    );
    app.run_pending_jobs().await;
    let r = app
        .post(&format!("/api/v1/files/{file}/confirm"))
        .bearer(&officer)
        .json(&serde_json::json!({"document_kind": "id_card", "fields": {"id_number": "008195009999"}}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["signed"], false, "scan only until the job signs it");
    let doc = r.body["code"].as_str().unwrap().to_owned();
    app.run_pending_jobs().await;
    let stored = app.store().document(&doc).await.unwrap();
    assert!(stored.signed, "signed by the job");
    assert_eq!(stored.signed_by.as_deref(), Some("tiepnhan.a"));
    let r = app
        .get(&format!("/api/v1/warehouse/{doc}/file"))
        .bearer(&citizen)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.bytes.starts_with(b"%PDF-"), "the signed copy is a PDF");
    let reports = motcua_sign::verify_pdf(&r.bytes, &trust, app.now()).unwrap();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].valid, "{:?}", reports[0]);
    assert_eq!(reports[0].signer, "Nguyễn Thị Lan");
    assert!(reports[0].purpose.contains(&doc));
    // Counted once as signed, and shown as signed.
    app.run_pending_jobs().await;
    let ioc = app.token("ioc").await;
    let r = app
        .get("/api/v1/stats/digitisation?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z")
        .bearer(&ioc)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["signed"], 1, "{}", r.text);
    assert_eq!(r.body["component_digitised"], 1);
    let page = super::daily::page(app, applicant, "/kho-du-lieu")
        .await
        .text;
    assert!(page.contains("Bản điện tử có chữ ký số"));
}

/// Items 4 and 5: the leader's signing queue — a result seen before signing, signed by the
/// leader (visible stamp) and sealed by the agency as a job, put in the applicant's warehouse
/// and counted; another refused with a reason.
async fn leaders_sign_results_from_their_queue(app: &TestApp) {
    use super::files::upload;
    use serde_json::json;
    let renderer = Arc::new(motcua_pdf::TypstSlips::new());
    app.svc.set_slip_renderer(renderer.clone());
    let c = setup(app).await;
    let (_pki, trust) = installation(
        app,
        (
            "lanhdao.a",
            "Trần Văn Hùng",
            "Ủy ban nhân dân phường Minh Xuân",
        ),
        &[(A.to_owned(), "Ủy ban nhân dân phường Minh Xuân".to_owned())],
        Some(renderer.clone()),
    );
    // Two dossiers at the leader's deciding step, each with a result.
    let mut results = Vec::new();
    for _ in 0..2 {
        let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
        c.ok("tiepnhan.a", &code, json!({"action": "forward"}))
            .await;
        c.ok("chuyenvien.a", &code, json!({"action": "forward"}))
            .await;
        let pdf = app
            .get(&format!("/api/v1/dossiers/{code}/slips/control"))
            .bearer(&c.tokens["chuyenvien.a"])
            .send()
            .await
            .bytes;
        let r = upload(
            app,
            &c.tokens["chuyenvien.a"],
            &code,
            "name=ket-qua.pdf",
            &pdf,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        results.push((code, r.body["id"].as_i64().unwrap()));
    }
    let leader = c.tokens["lanhdao.a"].clone();
    let queue = |token: String| app.get("/api/v1/signing/queue").bearer(&token).send();
    let r = queue(leader.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body.as_array().unwrap().len(), 2, "{}", r.text);
    assert!(
        r.body
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["state"] == "unsigned")
    );
    assert_eq!(
        queue(c.tokens["chuyenvien.a"].clone()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post("/api/v1/signing/sign")
            .bearer(&c.tokens["chuyenvien.a"])
            .json(&json!({"files": [results[0].1]}))
            .send()
            .await
            .status,
        StatusCode::FORBIDDEN,
        "only the leader signs"
    );

    // Sign the first; asking twice queues it once.
    let sign = |files: serde_json::Value| {
        app.post("/api/v1/signing/sign")
            .bearer(&leader)
            .json(&json!({ "files": files }))
            .send()
    };
    let r = sign(json!([results[0].1])).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["queued"], 1);
    assert_eq!(sign(json!([results[0].1])).await.body["queued"], 0);
    app.run_pending_jobs().await;
    let r = queue(leader.clone()).await;
    let first = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["file"]["id"] == results[0].1)
        .unwrap()
        .clone();
    assert_eq!(first["state"], "signed", "{}", r.text);
    let doc = first["document_code"].as_str().unwrap().to_owned();

    // The applicant downloads it from their warehouse: the leader's signature, then the seal.
    let applicant = counter(RE_BIRTH)["applicant"]["id_number"]
        .as_str()
        .unwrap()
        .to_owned();
    app.add_user(&applicant, motcua_domain::auth::Role::Citizen, None)
        .await;
    let citizen = app.token(&applicant).await;
    let r = app
        .get(&format!("/api/v1/warehouse/{doc}/file"))
        .bearer(&citizen)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let reports = motcua_sign::verify_pdf(&r.bytes, &trust, app.now()).unwrap();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports.iter().all(|r| r.valid), "{reports:?}");
    assert_eq!(reports[0].signer, "Trần Văn Hùng");
    assert_eq!(reports[1].signer, "Ủy ban nhân dân phường Minh Xuân");
    assert!(reports[1].covers_whole_document);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ket-qua.pdf");
    std::fs::write(&file, &r.bytes).unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("Ký bởi: Trần Văn Hùng"),
        "the visible stamp"
    );
    let sig = std::process::Command::new("pdfsig")
        .arg(&file)
        .output()
        .unwrap();
    let sig = String::from_utf8_lossy(&sig.stdout);
    assert_eq!(sig.matches("Signature is Valid.").count(), 2, "{sig}");
    // Counted as an electronic result, digitised and signed.
    let ioc = app.token("ioc").await;
    let r = app
        .get("/api/v1/stats/digitisation?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z")
        .bearer(&ioc)
        .send()
        .await;
    assert_eq!(r.body["result_digitised"], 1, "{}", r.text);
    assert_eq!(r.body["signed"], 1);

    // The second is refused, with a reason (required).
    let refuse = |reason: &str| {
        app.post(&format!("/api/v1/signing/results/{}/refuse", results[1].1))
            .bearer(&leader)
            .json(&json!({ "reason": reason }))
            .send()
    };
    assert_eq!(refuse(" ").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refuse("Sai họ tên người được cấp").await.status,
        StatusCode::NO_CONTENT
    );
    let r = queue(leader.clone()).await;
    let second = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["file"]["id"] == results[1].1)
        .unwrap()
        .clone();
    assert_eq!(second["state"], "refused");
    assert_eq!(second["reason"], "Sai họ tên người được cấp");

    // The page: both results, their states, the refusal's reason; the officer may not see it.
    let page = super::daily::page(app, "lanhdao.a", "/ky-so").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for want in [
        results[0].0.as_str(),
        results[1].0.as_str(),
        "Đã ký và đóng dấu",
        "Từ chối ký",
        "Sai họ tên người được cấp",
        &doc,
    ] {
        assert!(page.text.contains(want), "{want} not on the page");
    }
    assert_eq!(
        super::daily::page(app, "chuyenvien.a", "/ky-so")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// Item 4: every slip a workflow step issues is rendered, signed by the officer who issued it
/// and kept with the dossier (the `slip.sign` job); an officer without a certificate leaves
/// it unsigned and nothing is kept.
async fn issued_slips_are_signed_and_kept(app: &TestApp) {
    use serde_json::json;
    app.svc
        .set_slip_renderer(Arc::new(motcua_pdf::TypstSlips::new()));
    let c = setup(app).await;
    let (_pki, trust) = installation(
        app,
        (
            "tiepnhan.a",
            "Nguyễn Thị Lan",
            "Ủy ban nhân dân phường Minh Xuân",
        ),
        &[],
        None,
    );
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.ok("tiepnhan.a", &code, json!({"action": "forward"}))
        .await;
    c.ok(
        "chuyenvien.a",
        &code,
        json!({"action": "request_supplement", "missing": [{"item": "Bản sao giấy khai sinh", "reason": "Bản chụp mờ"}]}),
    )
    .await;
    app.run_pending_jobs().await;
    app.run_pending_jobs().await;
    let token = c.tokens["tiepnhan.a"].clone();
    let r = app
        .get(&format!("/api/v1/dossiers/{code}/signed-slips"))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let kept = r.body.as_array().unwrap();
    assert_eq!(
        kept.len(),
        1,
        "the receipt; the specialist has no key: {}",
        r.text
    );
    assert_eq!(kept[0]["kind"], "receipt");
    assert_eq!(kept[0]["signer"], "tiepnhan.a");
    let id = kept[0]["id"].as_i64().unwrap();
    let pdf = app
        .get(&format!("/api/v1/dossiers/{code}/signed-slips/{id}"))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    let reports = motcua_sign::verify_pdf(&pdf.bytes, &trust, app.now()).unwrap();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].valid, "{:?}", reports[0]);
    assert_eq!(reports[0].signer, "Nguyễn Thị Lan");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("receipt.pdf");
    std::fs::write(&file, &pdf.bytes).unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&text.stdout).contains(&code),
        "the receipt of this dossier"
    );
    // Run again: kept once.
    app.run_pending_jobs().await;
    assert_eq!(app.store().kept_slips(&code).await.unwrap().len(), 1);
    // Another agency's officer sees nothing; the dossier page links the kept slip.
    let other = app
        .get(&format!("/api/v1/dossiers/{code}/signed-slips"))
        .bearer(&c.tokens["tiepnhan.b"])
        .send()
        .await;
    assert!(
        matches!(other.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{}",
        other.status
    );
    let page = super::daily::page(app, "tiepnhan.a", &format!("/ho-so/{code}")).await;
    assert!(
        page.text
            .contains(&format!("/ho-so/{code}/phieu-da-ky/{id}")),
        "the page links the kept slip"
    );
    let got = super::daily::page(
        app,
        "tiepnhan.a",
        &format!("/ho-so/{code}/phieu-da-ky/{id}"),
    )
    .await;
    assert_eq!(got.bytes, pdf.bytes);
}

/// Item 1: a result document template per procedure, edited by an administrator; the
/// specialist drafts the result from it, filled with the dossier's values, and it waits in the
/// leader's signing queue.
async fn results_are_drafted_from_the_procedures_template(app: &TestApp) {
    use serde_json::json;
    app.svc
        .set_slip_renderer(Arc::new(motcua_pdf::TypstSlips::new()));
    let c = setup(app).await;
    let admin = app.token("admin").await;
    let path = format!("/api/v1/procedures/{RE_BIRTH}/result-template");
    let r = app.get(&path).bearer(&admin).send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["custom"], false);
    assert!(
        r.body["placeholders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "ho_ten")
    );
    let template = json!({
        "title": "GIẤY XÁC NHẬN ĐĂNG KÝ LẠI KHAI SINH",
        "body": "Xác nhận ông/bà {ho_ten}, số định danh {so_dinh_danh},\nđã được đăng ký lại khai sinh.\n\nHồ sơ số {ma_ho_so}, {ngay}.",
        "signer_title": "Chủ tịch"
    });
    let put =
        |token: String, body: serde_json::Value| app.put(&path).bearer(&token).json(&body).send();
    assert_eq!(
        put(c.tokens["chuyenvien.a"].clone(), template.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let mut bad = template.clone();
    bad["body"] = json!("Ông/bà {ten_khong_co}");
    let r = put(admin.clone(), bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("ten_khong_co"));
    let r = put(admin.clone(), template).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        app.get(&path).bearer(&admin).send().await.body["custom"],
        true
    );

    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.ok("tiepnhan.a", &code, json!({"action": "forward"}))
        .await;
    let draft = |who: &str| {
        app.post(&format!("/api/v1/dossiers/{code}/result-draft"))
            .bearer(&c.tokens[who])
            .send()
    };
    assert!(matches!(
        draft("tiepnhan.b").await.status,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    let r = draft("chuyenvien.a").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["purpose"], "result");
    let id = r.body["id"].as_i64().unwrap();
    let pdf = app
        .get(&format!("/api/v1/files/{id}"))
        .bearer(&c.tokens["chuyenvien.a"])
        .send()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ket-qua.pdf");
    std::fs::write(&file, &pdf.bytes).unwrap();
    if let Ok(dir) = std::env::var("SLIP_ARTIFACTS") {
        let _ = std::fs::write(format!("{dir}/result-draft.pdf"), &pdf.bytes);
    }
    let text = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    let applicant = counter(RE_BIRTH)["applicant"].clone();
    for want in [
        "GIẤY XÁC NHẬN ĐĂNG KÝ LẠI KHAI SINH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        applicant["name"].as_str().unwrap(),
        applicant["id_number"].as_str().unwrap(),
        code.as_str(),
        "CHỦ TỊCH",
    ] {
        assert!(
            text.contains(want),
            "{want} not in the drafted result:\n{text}"
        );
    }
    // The leader finds it in the signing queue once the dossier reaches them.
    c.ok("chuyenvien.a", &code, json!({"action": "forward"}))
        .await;
    let q = app
        .get("/api/v1/signing/queue")
        .bearer(&c.tokens["lanhdao.a"])
        .send()
        .await;
    assert!(
        q.body
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["file"]["id"] == id),
        "{}",
        q.text
    );
}

/// Item 6: the official-document register — an incoming document entered with its
/// verification; an outgoing one signed by the leader and sealed, then delivered to the
/// recipient agency's incoming book and verified there; searchable without diacritics;
/// counted per period.
async fn the_document_register_signs_delivers_and_counts(app: &TestApp) {
    let c = setup(app).await;
    let renderer = Arc::new(motcua_pdf::TypstSlips::new());
    app.svc.set_slip_renderer(renderer.clone());
    let (_pki, _trust) = installation(
        app,
        (
            "lanhdao.a",
            "Trần Văn Hùng",
            "Ủy ban nhân dân phường Minh Xuân",
        ),
        &[(A.to_owned(), "Ủy ban nhân dân phường Minh Xuân".to_owned())],
        Some(renderer.clone()),
    );
    let pdf = motcua_pdf::stamp("Văn bản", "28/01/2025", "Báo cáo").unwrap();
    let officer = c.tokens["tiepnhan.a"].clone();
    let post = |path: String, token: String, body: Vec<u8>| {
        app.post(&path)
            .bearer(&token)
            .body(body, "application/pdf")
            .send()
    };
    // Incoming, from outside motcua: entered with the next number, verified (no signature).
    let r = post(
        "/api/v1/documents/incoming?subject=C%C3%B4ng%20v%C4%83n%20v%E1%BB%81%20l%E1%BB%8Bch%20ti%E1%BA%BFp%20d%C3%A2n&issuer=S%E1%BB%9F%20N%E1%BB%99i%20v%E1%BB%A5&symbol=125%2FSNV-VP&issued_on=2025-01-20".into(),
        officer.clone(),
        pdf.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["direction"], "in");
    assert_eq!(r.body["number"], 1);
    assert_eq!(r.body["symbol"], "125/SNV-VP");
    assert_eq!(r.body["verification"], "[]");
    // Outgoing to ward B, signed by the leader: refused for a signer who is not a leader.
    let out = |signer: &str| {
        post(
            format!(
                "/api/v1/documents/outgoing?subject=B%C3%A1o%20c%C3%A1o%20t%C3%ACnh%20h%C3%ACnh%20ti%E1%BA%BFp%20nh%E1%BA%ADn&recipient=UBND%20ph%C6%B0%E1%BB%9Dng%20H%C3%A0%20Giang%201&recipient_agency={B}&symbol=UBND-VP&signer={signer}"
            ),
            officer.clone(),
            pdf.clone(),
        )
    };
    assert_eq!(
        out("chuyenvien.a").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = out("lanhdao.a").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["state"], "signing");
    assert_eq!(r.body["symbol"], "1/UBND-VP");
    let id = r.body["id"].as_i64().unwrap();
    app.run_pending_jobs().await;
    let r = app
        .get(&format!("/api/v1/documents/{id}"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.body["state"], "sent", "{}", r.text);
    // Delivered to B's incoming book, verified on arrival: the leader and the seal, valid.
    let b = c.tokens["tiepnhan.b"].clone();
    let r = app
        .get("/api/v1/documents?direction=in")
        .bearer(&b)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let got = &r.body[0];
    assert_eq!(got["symbol"], "1/UBND-VP");
    assert_eq!(got["source_id"], id);
    assert_eq!(got["other_agency_code"], A);
    let reports: serde_json::Value =
        serde_json::from_str(got["verification"].as_str().unwrap()).unwrap();
    assert_eq!(reports.as_array().unwrap().len(), 2, "{reports}");
    assert!(
        reports
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["valid"] == true),
        "{reports}"
    );
    assert_eq!(reports[0]["signer"], "Trần Văn Hùng");
    let delivered = got["id"].as_i64().unwrap();
    let f = app
        .get(&format!("/api/v1/documents/{delivered}/file"))
        .bearer(&b)
        .send()
        .await;
    assert_eq!(f.status, StatusCode::OK);
    assert!(f.bytes.len() > pdf.len(), "the signed copy");
    // Another agency's book is not readable.
    assert_eq!(
        app.get(&format!("/api/v1/documents/{id}"))
            .bearer(&b)
            .send()
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Searched without diacritics; counted per period.
    let r = app
        .get("/api/v1/documents?q=bao+cao+tinh+hinh")
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(r.body[0]["id"], id);
    let r = app
        .get("/api/v1/documents?q=lich+tiep+dan&direction=in")
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.text);
    let r = app
        .get("/api/v1/documents/counts?from=2025-01-01&to=2025-01-31")
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(
        r.body,
        serde_json::json!({"incoming": 1, "outgoing": 1, "outgoing_signed": 1}),
        "{}",
        r.text
    );
    let r = app
        .get("/api/v1/documents/counts?from=2025-01-01&to=2025-01-31")
        .bearer(&b)
        .send()
        .await;
    assert_eq!(r.body["incoming"], 1);
    assert_eq!(
        app.get("/api/v1/documents")
            .bearer(&c.tokens["congdan"])
            .send()
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The pages: the books with the month's counts, the verification in words.
    let page = super::daily::page(app, "tiepnhan.a", "/van-ban?q=bao+cao").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("1/UBND-VP") && !page.text.contains("125/SNV-VP"),
        "searched"
    );
    // Entering an incoming document with the page's form (a multipart upload).
    let (cookie, csrf) = super::daily::web(app, "tiepnhan.b").await;
    let boundary = "----motcuadocs";
    let mut body = Vec::new();
    for (name, value) in [
        ("_csrf", csrf.as_str()),
        ("symbol", "7/STP-HCTP"),
        ("issued_on", "2025-01-22"),
        ("issuer", "Sở Tư pháp"),
        ("subject", "Hướng dẫn đăng ký hộ tịch"),
    ] {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hd.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes());
    body.extend(&pdf);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = app
        .post("/van-ban/den")
        .header("cookie", &cookie)
        .body(body, &format!("multipart/form-data; boundary={boundary}"))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = app
        .get("/api/v1/documents?q=huong+dan+ho+tich")
        .bearer(&b)
        .send()
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(r.body[0]["number"], 2, "the second in B's incoming book");
    let page = super::daily::page(app, "tiepnhan.b", "/van-ban?so=in").await;
    assert!(
        page.text
            .contains("Chữ ký số hợp lệ (Trần Văn Hùng, Ủy ban nhân dân phường Minh Xuân)"),
        "{}",
        page.text
    );
}
