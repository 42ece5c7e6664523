//! Issue 13, item 3: any PDF's signatures verified through `POST /api/v1/signatures/verify` and
//! the public verification page, with the trusted roots the server is configured with.

use super::dossiers::{RE_BIRTH, counter, setup};
use axum::http::StatusCode;
use motcua_sign::service::Signatures;
use motcua_sign::{LocalKey, TrustStore};
use motcua_web::testing::TestApp;
use std::sync::Arc;

motcua_store::on_both!(crate::start => signatures_are_verified_for_anyone);

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
    }));
    dir
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
