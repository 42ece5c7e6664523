//! Files of dossiers over HTTP (issue 12, item 1), on SQLite and PostgreSQL: the type from the
//! bytes, limits checked before decoding, content-addressed storage written before the row,
//! reads only for those who may read the dossier, and bad files leave nothing behind.

use super::dossiers::{A, RE_BIRTH, counter, online, setup};
use axum::http::StatusCode;
use chrono::TimeZone;
use motcua_web::testing::{TestApp, TestResponse};

/// A PNG of `w`×`h` as far as its header says (a 1×1 image's data).
fn png(w: u32, h: u32) -> Vec<u8> {
    let mut b = vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
        0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    b[16..20].copy_from_slice(&w.to_be_bytes());
    b[20..24].copy_from_slice(&h.to_be_bytes());
    b
}

/// A well-formed PDF of these objects (numbered from 1; the first is the catalogue), with a
/// correct cross-reference table.
fn pdf_of(objects: &[String]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A PDF of `pages` empty A4 pages.
fn pdf(pages: usize) -> Vec<u8> {
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!(
            "<< /Type /Pages /Count {pages} /Kids [{}] >>",
            (0..pages)
                .map(|i| format!("{} 0 R", i + 3))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    ];
    for _ in 0..pages {
        objects.push("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_owned());
    }
    pdf_of(&objects)
}

/// A one-page PDF whose text layer says `text` (ASCII, Helvetica).
fn pdf_with_text(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 18 Tf 72 720 Td ({text}) Tj ET");
    pdf_of(&[
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Count 1 /Kids [3 0 R] >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
    ])
}

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let p = format!("{}/../../fixtures/ocr/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    code: &str,
    query: &str,
    bytes: &[u8],
) -> TestResponse {
    app.post(&format!("/api/v1/dossiers/{code}/files?{query}"))
        .bearer(token)
        .body(bytes.to_vec(), "application/octet-stream")
        .send()
        .await
}

/// Every blob file under the test's object folder.
/// Blobs in the object store (the folder or S3).
async fn blobs_stored(app: &TestApp) -> u64 {
    app.svc.blobs().unwrap().count().await.unwrap()
}

/// What an upload leaves: blobs on disk, file rows of the dossier, and their audit records.
async fn rows(app: &TestApp, code: &str) -> (u64, usize) {
    let files = app.store().dossier_files(code).await.unwrap().len();
    (blobs_stored(app).await, files)
}

pub(crate) async fn files_are_checked_stored_and_served(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let officer = c.tokens["tiepnhan.a"].clone();
    // A scan of the declaration, named as the officer's scanner names it.
    let image = png(2480, 3508);
    let r = upload(
        app,
        &officer,
        &code,
        "component=0&name=to%20khai.png",
        &image,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/files/{id}").as_str())
    );
    assert_eq!(r.body["kind"], "png");
    assert_eq!(r.body["pages"], 1);
    assert_eq!(r.body["component_index"], 0);
    assert_eq!(r.body["uploaded_by"], "tiepnhan.a");
    let sha = r.body["sha256"].as_str().unwrap().to_owned();
    // Served as what it is, to be saved, never run.
    let r = app
        .get(&format!("/api/v1/files/{id}"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .starts_with("attachment; filename=\"to khai.png\""),
    );
    assert_eq!(r.bytes, image, "the same bytes back");
    // The same content again: a second file, one stored copy.
    let before = blobs_stored(app).await;
    let r = upload(
        app,
        &officer,
        &code,
        "component=1&name=ban%20sao.png",
        &image,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["sha256"], sha.as_str());
    assert_eq!(blobs_stored(app).await, before, "deduplicated by content");
    // A PDF: pages counted by the PDF reader.
    let r = upload(app, &officer, &code, "component=1&name=scan.pdf", &pdf(3)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        (r.body["kind"].as_str(), r.body["pages"].as_i64()),
        (Some("pdf"), Some(3))
    );
    let list = app
        .get(&format!("/api/v1/dossiers/{code}/files"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(list.body.as_array().unwrap().len(), 3);
    // Nobody else reads it: another agency, another citizen, the operations centre.
    for who in ["tiepnhan.b", "congdan", "ioc"] {
        let r = app
            .get(&format!("/api/v1/files/{id}"))
            .bearer(&c.tokens[who])
            .send()
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}");
        let r = upload(app, &c.tokens[who], &code, "component=0", &image).await;
        assert!(
            matches!(r.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{who}: {}",
            r.status
        );
    }
    let r = app.get(&format!("/api/v1/files/{id}")).send().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A component that does not exist.
    let r = upload(app, &officer, &code, "component=9", &image).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "component");

    // The applicant sends files while the dossier waits for acceptance, not after.
    let own = c.filed("congdan", &online(RE_BIRTH, A)).await;
    let citizen = c.tokens["congdan"].clone();
    let r = upload(
        app,
        &citizen,
        &own,
        "component=0&name=a.png",
        &png(800, 600),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    c.ok("tiepnhan.a", &own, serde_json::json!({"action": "accept"}))
        .await;
    let r = upload(
        app,
        &citizen,
        &own,
        "component=0&name=b.png",
        &png(800, 601),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

pub(crate) async fn bad_files_leave_nothing_behind(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let officer = c.tokens["tiepnhan.a"].clone();
    let start = rows(app, &code).await;
    let good = pdf(1);
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend([0u8; 60]);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "empty",
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unusable-file",
        ),
        (
            "html named .pdf",
            b"<html><body>not a pdf</body></html>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            "zip",
            zip,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            "truncated pdf",
            good[..good.len() / 2].to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unusable-file",
        ),
        (
            "pdf with a broken body",
            b"%PDF-1.4\ngarbage garbage garbage\n%%EOF\n".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unusable-file",
        ),
        (
            "50,000-megapixel image",
            png(223_607, 223_607),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unusable-file",
        ),
        (
            "cut-off image",
            png(100, 100)[..40].to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unusable-file",
        ),
    ];
    for (what, bytes, status, kind) in cases {
        let r = upload(app, &officer, &code, "component=0&name=x.pdf", &bytes).await;
        assert_eq!(r.status, status, "{what}: {}", r.text);
        assert_eq!(r.body["type"], format!("/problems/{kind}"), "{what}");
        assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(
            rows(app, &code).await,
            start,
            "{what} left something behind"
        );
    }
    // Over the configured size.
    app.svc.set_file_limits(motcua_domain::files::FileLimits {
        max_bytes: 1024,
        ..Default::default()
    });
    let r = upload(app, &officer, &code, "component=0", &pdf(40)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert_eq!(r.body["type"], "/problems/file-too-large");
    // Over the page limit (counted by the PDF reader).
    app.svc.set_file_limits(motcua_domain::files::FileLimits {
        max_pages: 2,
        ..Default::default()
    });
    let r = upload(app, &officer, &code, "component=0", &pdf(3)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(rows(app, &code).await, start, "nothing kept");
    let r = app
        .get(&format!("/api/v1/dossiers/{code}/files"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.body, serde_json::json!([]));
}

/// Item 2: an uploaded scan is read by the real tesseract in a background job; a PDF's text
/// layer is read, not recognised; the text comes back with its words' boxes.
pub(crate) async fn uploaded_files_are_read(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let officer = c.tokens["tiepnhan.a"].clone();
    let r = upload(
        app,
        &officer,
        &code,
        "component=0&name=cccd.png",
        &fixture("id_front.png"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.body["ocr_status"], "pending",
        "the counter does not wait for OCR"
    );
    let scan = r.body["id"].as_i64().unwrap();
    let r = upload(
        app,
        &officer,
        &code,
        "component=1&name=gcn.pdf",
        &pdf_with_text("GIAY CHUNG NHAN so 123456"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let layer = r.body["id"].as_i64().unwrap();
    // A multi-page TIFF (Group 4, as archive scanners make them): every page is read.
    let r = upload(
        app,
        &officer,
        &code,
        "component=1&name=scan.tif",
        &fixture("archive_scan.tif"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["kind"], "tiff");
    assert_eq!(r.body["pages"], 2);
    let tiff = r.body["id"].as_i64().unwrap();
    assert!(app.run_pending_jobs().await >= 3);
    let r = app
        .get(&format!("/api/v1/files/{tiff}/pages"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let pages = r.body["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2, "{}", r.text);
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(p["page"], i + 1);
        let text = p["text"].as_str().unwrap();
        assert!(text.contains("KHAI SINH"), "page {}: {text}", i + 1);
    }
    let r = app
        .get(&format!("/api/v1/files/{scan}/pages"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["file"]["ocr_status"], "done");
    let page = &r.body["pages"][0];
    assert_eq!(page["method"], "tesseract");
    let text = page["text"].as_str().unwrap();
    for want in [
        "008195009999",
        "BÍCH NGỌC",
        "21/03/1995",
        "Tuyên Quang",
        "CĂN CƯỚC CÔNG DÂN",
    ] {
        assert!(text.contains(want), "{want} not in {text}");
    }
    assert!(page["confidence"].as_f64().unwrap() > 0.5);
    let word = page["words"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["text"] == "008195009999")
        .expect("the ID number as one word");
    assert!(word["width"].as_u64().unwrap() > 100 && word["confidence"].as_f64().unwrap() > 0.5);
    let r = app
        .get(&format!("/api/v1/files/{layer}/pages"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.body["pages"][0]["method"], "text_layer");
    assert!(
        r.body["pages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("GIAY CHUNG NHAN so 123456")
    );
    // Not for others.
    let r = app
        .get(&format!("/api/v1/files/{scan}/pages"))
        .bearer(&c.tokens["tiepnhan.b"])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Item 6: the text is searchable without diacritics, only by those who may read it.
    let r = app
        .get("/api/v1/files/search?q=tan+trao+tuyen")
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body[0]["file_id"], scan);
    assert!(r.body[0]["snippet"].as_str().unwrap().contains("Tân Trào"));
    let r = app
        .get("/api/v1/files/search?q=T%C3%82N+TR%C3%80O")
        .bearer(&c.tokens["tiepnhan.b"])
        .send()
        .await;
    assert_eq!(
        r.body,
        serde_json::json!([]),
        "another agency finds nothing"
    );
    let r = app
        .get("/api/v1/files/search?q=+")
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an empty search"
    );
    let r = app
        .get("/api/v1/files/search?q=tan+trao")
        .bearer(&c.tokens["ioc"])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Item 3: the card's fields, from the front (marks included) and the back's
    // machine-readable zone (check digits agree: certain).
    let r = app
        .get(&format!("/api/v1/files/{scan}/fields?kind=id_card"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let f = &r.body["fields"];
    assert_eq!(f["id_number"]["value"], "008195009999");
    assert_eq!(f["id_number"]["valid"], true);
    assert_eq!(f["full_name"]["value"], "TRẦN THỊ BÍCH NGỌC");
    assert_eq!(f["date_of_birth"]["value"], "1995-03-21");
    assert_eq!(f["sex"]["value"], "Nữ");
    assert_eq!(f["expiry"]["value"], "2035-03-21");
    assert!(f["full_name"]["bounds"]["width"].as_u64().unwrap() > 200);
    let r = upload(
        app,
        &officer,
        &code,
        "component=0&name=mat-sau.png",
        &fixture("id_back.png"),
    )
    .await;
    let back = r.body["id"].as_i64().unwrap();
    let r = app
        .get(&format!("/api/v1/files/{back}/fields?kind=id_card"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "not read yet: {}", r.text);
    app.run_pending_jobs().await;
    let r = app
        .get(&format!("/api/v1/files/{back}/fields?kind=id_card"))
        .bearer(&officer)
        .send()
        .await;
    let f = &r.body["fields"];
    assert_eq!(f["id_number"]["value"], "008195009999");
    assert_eq!(
        f["id_number"]["confidence"], 1.0,
        "certain from the check digits"
    );
    assert_eq!(f["date_of_birth"]["value"], "1995-03-21");
    assert_eq!(f["date_of_birth"]["confidence"], 1.0);
}

macro_rules! file_tests {
    ($($name:ident),* $(,)?) => {
        motcua_store::on_both!(crate::start => $($name),*);

        /// The same tests with the contents in S3: a local S3-protocol server
        /// (`MOTCUA_TEST_S3_ENDPOINT`; `scripts/test.sh` starts moto), a prefix of its own per
        /// test in the bucket `motcua-test`, on SQLite.
        mod s3 {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = super::start_on_s3().await;
                super::$name(&app).await;
                app.finish().await;
            })*
        }
    };
}

file_tests!(
    resumable_uploads_continue_where_they_stopped,
    files_are_checked_stored_and_served,
    bad_files_leave_nothing_behind,
    uploaded_files_are_read,
    confirmed_copies_are_reused,
    pages_upload_and_digitise,
);

/// A test application whose file contents go to S3.
async fn start_on_s3() -> TestApp {
    let endpoint = std::env::var("MOTCUA_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "the S3 file tests need a local S3-protocol server: run scripts/test.sh (it starts \
             moto), or start one and set MOTCUA_TEST_S3_ENDPOINT=http://127.0.0.1:PORT"
        )
    });
    const BUCKET: &str = "motcua-test";
    // Creating a bucket that exists is a no-op on moto (the store itself never creates one).
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/{BUCKET}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("S3 server at {endpoint}: {e}"));
    assert!(
        r.status().is_success() || r.status() == reqwest::StatusCode::CONFLICT,
        "creating the test bucket: {}",
        r.status()
    );
    let app = crate::start(motcua_store::Backend::Sqlite).await;
    let prefix = format!(
        "t{}-{}",
        std::process::id(),
        app.db
            .objects_dir()
            .parent()
            .and_then(|p| p.file_name())
            .unwrap_or_default()
            .to_string_lossy()
    );
    let s3 = motcua_s3::S3Blobs::new(&motcua_s3::S3Config {
        bucket: BUCKET.into(),
        endpoint,
        region: "us-east-1".into(),
        access_key_id: "motcua".into(),
        secret_access_key: "motcua-secret".into(),
        prefix,
        allow_http: true,
    })
    .unwrap();
    assert_eq!(
        motcua_store::BlobStore::count(&s3).await.unwrap(),
        0,
        "a fresh prefix"
    );
    app.svc.set_blobs(std::sync::Arc::new(s3));
    app
}

/// Items 4, 5 and 9: a confirmed copy gets a digitisation result code and joins the applicant's
/// warehouse; the applicant's next dossier takes it by reference (no upload, no paper), and the
/// digitisation and the reuse are counted.
pub(crate) async fn confirmed_copies_are_reused(app: &TestApp) {
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
    app.run_pending_jobs().await;
    let confirm = serde_json::json!({
        "document_kind": "id_card",
        "fields": {"id_number": "008195009999", "full_name": "TRẦN THỊ BÍCH NGỌC", "expiry": "2035-03-21"},
    });
    // Only officers of the dossier's agencies confirm.
    for who in ["congdan", "tiepnhan.b"] {
        let r = app
            .post(&format!("/api/v1/files/{file}/confirm"))
            .bearer(&c.tokens[who])
            .json(&confirm)
            .send()
            .await;
        assert!(
            matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{who}: {}",
            r.status
        );
    }
    let r = app
        .post(&format!("/api/v1/files/{file}/confirm"))
        .bearer(&officer)
        .json(&confirm)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let doc = r.body["code"].as_str().unwrap().to_owned();
    assert!(motcua_domain::digitisation::is_result_code(&doc), "{doc}");
    assert!(doc.starts_with(&format!("KQS-{A}-250124-")), "{doc}");
    assert_eq!(r.body["signed"], false, "scan only until signed");
    assert_eq!(r.body["applicant_id"], applicant);
    assert_eq!(r.body["valid_until"], "2035-03-21");
    assert_eq!(r.body["name"], "Bản sao giấy tờ có thông tin khai sinh");
    let again = app
        .post(&format!("/api/v1/files/{file}/confirm"))
        .bearer(&officer)
        .json(&confirm)
        .send()
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // Item 6: the confirmed fields are searchable (without diacritics), ahead of page text,
    // and by the document's code; not by another agency.
    let r = app
        .get("/api/v1/files/search?q=tran+thi+bich+ngoc+008195009999")
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body[0]["document_code"], doc.as_str(), "{}", r.text);
    assert_eq!(r.body[0]["file_id"], file);
    assert!(r.body[0].get("page").is_none());
    assert!(
        r.body[0]["snippet"]
            .as_str()
            .unwrap()
            .contains("TRẦN THỊ BÍCH NGỌC"),
        "{}",
        r.text
    );
    let r = app
        .get(&format!("/api/v1/files/search?q={}", doc.to_lowercase()))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(r.body[0]["document_code"], doc.as_str());
    let r = app
        .get("/api/v1/files/search?q=bich+ngoc")
        .bearer(&c.tokens["tiepnhan.b"])
        .send()
        .await;
    assert_eq!(
        r.body,
        serde_json::json!([]),
        "another agency finds nothing"
    );
    // The citizen sees it in their own warehouse and downloads it.
    let r = app.get("/api/v1/warehouse").bearer(&citizen).send().await;
    assert_eq!(r.body[0]["code"], doc.as_str());
    let r = app
        .get(&format!("/api/v1/warehouse/{doc}/file"))
        .bearer(&citizen)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.bytes, fixture("id_front.png"));
    let r = app.get("/api/v1/warehouse").bearer(&officer).send().await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "an officer has no warehouse of their own to browse"
    );
    // …and on their warehouse page, scan only until signed, with a download link.
    use super::daily::{page, post};
    let r = page(app, applicant, "/kho-du-lieu").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for want in [
        doc.as_str(),
        "Bản sao giấy tờ có thông tin khai sinh",
        "Bản chụp, chưa ký số",
        "Còn giá trị đến 21/03/2035",
        &format!("/kho-du-lieu/{doc}/tep"),
        &code,
    ] {
        assert!(r.text.contains(want), "{want} not on the warehouse page");
    }
    let r = page(app, applicant, &format!("/kho-du-lieu/{doc}/tep")).await;
    assert_eq!(r.bytes, fixture("id_front.png"));
    assert_eq!(
        page(app, "tiepnhan.a", "/kho-du-lieu").await.status,
        StatusCode::FORBIDDEN
    );
    // Filing online, the form offers the copy for the component it stands for, ticked.
    let form = page(app, applicant, &format!("/nop/{RE_BIRTH}")).await.text;
    assert!(
        form.contains(&format!(r#"id="w1" name="w1" value="{doc}" checked"#)),
        "the reuse suggestion is not offered: {form}"
    );
    assert!(
        !form.contains(r#"id="w0""#),
        "nothing to reuse for the first component"
    );
    let r = post(
        app,
        applicant,
        &format!("/nop/{RE_BIRTH}"),
        &[
            ("agency", A),
            ("id_number", applicant),
            ("name", "Nguyễn Văn An"),
            ("unit", "02215"),
            ("c0", "1"),
            ("w1", doc.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let filed = r.headers["location"].to_str().unwrap();
    let web_code = filed
        .trim_start_matches("/ho-so/")
        .trim_end_matches("?moi=1")
        .to_owned();
    let d = app.store().dossier(&web_code).await.unwrap().dossier;
    assert_eq!(
        d.components[1].warehouse_code.as_deref(),
        Some(doc.as_str()),
        "the form's reuse is recorded with the document's code"
    );
    // The second dossier takes the copy by reference: no upload, no paper.
    let mut second = online(RE_BIRTH, A);
    second["components"] =
        serde_json::json!([{"index": 0, "copies": 1}, {"index": 1, "from_warehouse": true}]);
    let r = app
        .post("/api/v1/dossiers")
        .bearer(&citizen)
        .json(&second)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["components"][1]["warehouse_code"], doc.as_str());
    let code2 = r.body["code"].as_str().unwrap().to_owned();
    // The officer handling it sees the applicant's warehouse and the file, only through it.
    let r = app
        .get(&format!("/api/v1/dossiers/{code2}/warehouse"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.body[0]["code"], doc.as_str(), "{}", r.text);
    let r = app
        .get(&format!("/api/v1/warehouse/{doc}/file?dossier={code2}"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .get(&format!("/api/v1/warehouse/{doc}/file"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .get(&format!("/api/v1/dossiers/{code2}/warehouse"))
        .bearer(&c.tokens["tiepnhan.b"])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A code that is not the applicant's, or a document no longer valid, cannot be taken.
    let mut wrong = second.clone();
    wrong["components"][1]["warehouse_code"] =
        serde_json::json!(motcua_domain::digitisation::result_code(
            &motcua_domain::codes::AgencyCode::parse(A).unwrap(),
            chrono::NaiveDate::from_ymd_opt(2025, 1, 24).unwrap(),
            99
        ));
    let r = app
        .post("/api/v1/dossiers")
        .bearer(&citizen)
        .json(&wrong)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    app.clock
        .set(chrono::Utc.with_ymd_and_hms(2035, 3, 23, 2, 0, 0).unwrap());
    let citizen = app.token(applicant).await;
    let mut named = second.clone();
    named["components"][1]["warehouse_code"] = serde_json::json!(doc);
    let r = app
        .post("/api/v1/dossiers")
        .bearer(&citizen)
        .json(&named)
        .send()
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "expired: {}",
        r.text
    );
    // Without a code, an expired copy is not taken: the claim stays one on another source.
    let r = app
        .post("/api/v1/dossiers")
        .bearer(&citizen)
        .json(&second)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.body["components"][1].get("warehouse_code").is_none());
    // Counted: one component digitised, two reuses (the web form's and the API's), in the
    // period.
    let ioc = app.token("ioc").await;
    let r = app
        .get("/api/v1/stats/digitisation?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z")
        .bearer(&ioc)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body,
        serde_json::json!({"component_digitised": 1, "result_digitised": 0, "reused": 2, "signed": 0})
    );
}

/// Item 8: the dossier page takes a file with a plain multipart form (no JavaScript), lists
/// each component's files and their state, and the digitisation view shows the text beside
/// the fields read from it, low-confidence ones marked, to confirm with the keyboard.
pub(crate) async fn pages_upload_and_digitise(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let (cookie, csrf) = super::daily::web(app, "tiepnhan.a").await;
    let page = app
        .get(&format!("/ho-so/{code}"))
        .header("cookie", &cookie)
        .send()
        .await;
    assert!(
        page.text.contains("enctype=\"multipart/form-data\""),
        "an upload form"
    );
    let boundary = "----motcuatest";
    let mut body = Vec::new();
    for (name, value) in [("_csrf", csrf.as_str()), ("component", "1")] {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cccd mặt trước.png\"\r\nContent-Type: image/png\r\n\r\n")
            .as_bytes(),
    );
    body.extend(fixture("id_front.png"));
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let send = |body: Vec<u8>| {
        app.post(&format!("/ho-so/{code}/tep"))
            .header("cookie", &cookie)
            .body(body, &format!("multipart/form-data; boundary={boundary}"))
            .send()
    };
    // Without the form's token: refused.
    let forged = String::from_utf8_lossy(&body)
        .replace(&csrf, "x")
        .into_bytes();
    let r = send(forged).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(body).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let files = app.store().dossier_files(&code).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].name, "cccd mặt trước.png");
    let id = files[0].id;
    let page = app
        .get(&format!("/ho-so/{code}"))
        .header("cookie", &cookie)
        .send()
        .await
        .text;
    assert!(page.contains(&format!("data-file=\"{id}\"")) && page.contains("đang đọc"));
    app.run_pending_jobs().await;
    let view = app
        .get(&format!("/ho-so/{code}/tep/{id}/so-hoa"))
        .header("cookie", &cookie)
        .send()
        .await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.text);
    assert!(view.text.contains(&format!("<img src=\"/tep/{id}\"")));
    assert!(
        view.text
            .contains("name=\"f:id_number\" value=\"008195009999\"")
    );
    assert!(view.text.contains("value=\"TRẦN THỊ BÍCH NGỌC\""));
    // The sex is read with a low confidence on this card: marked for a second look.
    assert!(
        view.text
            .contains("id=\"f-sex\" name=\"f:sex\" value=\"Nữ\" class=\"low\""),
        "{}",
        view.text
    );
    let fields = [
        ("_csrf", csrf.as_str()),
        ("kind", "id_card"),
        ("f:id_number", "008195009999"),
        ("f:full_name", "TRẦN THỊ BÍCH NGỌC"),
        ("f:date_of_birth", "1995-03-21"),
        ("f:expiry", "2035-03-21"),
    ];
    let r = app
        .post(&format!("/ho-so/{code}/tep/{id}/so-hoa"))
        .header("cookie", &cookie)
        .body(
            serde_urlencoded::to_string(fields).unwrap(),
            "application/x-www-form-urlencoded",
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = app
        .get(&format!("/ho-so/{code}"))
        .header("cookie", &cookie)
        .send()
        .await
        .text;
    assert!(
        page.contains("đã số hóa") && page.contains("KQS-"),
        "{page}"
    );
    // The file itself, through the session.
    let r = app
        .get(&format!("/tep/{id}"))
        .header("cookie", &cookie)
        .send()
        .await;
    assert_eq!(r.bytes, fixture("id_front.png"));
    // The next dossier at the counter: the copy is offered instead of paper, and taken.
    let doc = app.store().documents_of_dossier(&code).await.unwrap()[0]
        .code
        .clone();
    let form = app
        .get(&format!(
            "/mot-cua?thu_tuc={RE_BIRTH}&id_number=008190001234"
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .text;
    assert!(
        form.contains(&format!("name=\"w1\" value=\"{doc}\"")),
        "{form}"
    );
    app.clock.advance(chrono::Duration::minutes(16));
    let fields = [
        ("_csrf", csrf.as_str()),
        ("thu_tuc", RE_BIRTH),
        ("kind", "person"),
        ("id_number", "008190001234"),
        ("name", "Nguyễn Văn An"),
        ("unit", "02215"),
        ("delivery", "paper"),
        ("c0", "1"),
        ("w1", doc.as_str()),
    ];
    let post = |fields: Vec<(&str, &str)>| {
        app.post("/mot-cua/tiep-nhan")
            .header("cookie", &cookie)
            .body(
                serde_urlencoded::to_string(fields).unwrap(),
                "application/x-www-form-urlencoded",
            )
            .send()
    };
    let r = post(fields.to_vec()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let second = r
        .header("location")
        .unwrap()
        .trim_start_matches("/ho-so/")
        .trim_end_matches("/bien-nhan")
        .to_owned();
    let d = app.store().dossier(&second).await.unwrap().dossier;
    assert_eq!(
        d.components[1].warehouse_code.as_deref(),
        Some(doc.as_str())
    );
    assert_eq!(
        (d.components[1].originals, d.components[1].copies),
        (0, 0),
        "no paper"
    );
    // Again a minute later: the duplicate question keeps the choice of the copy.
    let r = post(fields.to_vec()).await;
    assert!(r.text.contains("id=\"duplicate\""), "{}", r.text);
    assert!(
        r.text
            .contains(&format!("name=\"w1\" value=\"{doc}\" checked")),
        "{}",
        r.text
    );
    let mut again = fields.to_vec();
    again.push(("duplicate_ok", "1"));
    let r = post(again).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
}

async fn chunk(app: &TestApp, token: &str, id: &str, offset: usize, bytes: &[u8]) -> TestResponse {
    app.patch(&format!("/api/v1/uploads/{id}"))
        .bearer(token)
        .header("upload-offset", &offset.to_string())
        .body(bytes.to_vec(), "application/offset+octet-stream")
        .send()
        .await
}

/// Item 1: a file sent in chunks over a slow link continues after a dropped connection from
/// the offset the server acknowledged; the last chunk stores it like a one-shot upload; a bad
/// file sent in chunks leaves nothing behind; an upload is its sender's alone.
pub(crate) async fn resumable_uploads_continue_where_they_stopped(app: &TestApp) {
    let c = setup(app).await;
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let officer = c.tokens["tiepnhan.a"].clone();
    let scan = fixture("id_front.png");
    let start = rows(app, &code).await;
    let r = app
        .post(&format!("/api/v1/dossiers/{code}/uploads"))
        .bearer(&officer)
        .json(&serde_json::json!({"component": 0, "name": "cccd.png", "size": scan.len()}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["offset"], 0);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        format!("/api/v1/uploads/{id}")
    );
    let third = scan.len() / 3;
    let r = chunk(app, &officer, &id, 0, &scan[..third]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["upload"]["offset"], third);
    assert_eq!(
        r.headers["upload-offset"].to_str().unwrap(),
        third.to_string()
    );
    // The connection dropped and the client is unsure: a chunk at the wrong offset is refused…
    let r = chunk(app, &officer, &id, 0, &scan[..third]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    // …it asks where the server is (HEAD as well as GET) and goes on from there.
    let r = app
        .get(&format!("/api/v1/uploads/{id}"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["offset"], third);
    assert_eq!(
        r.headers["upload-length"].to_str().unwrap(),
        scan.len().to_string()
    );
    // Nobody else sees or feeds it.
    let citizen = c.tokens["congdan"].clone();
    let r = app
        .get(&format!("/api/v1/uploads/{id}"))
        .bearer(&citizen)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = chunk(app, &citizen, &id, third, &scan[third..]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // More than announced is refused; nothing was appended.
    let mut extra = scan[third..].to_vec();
    extra.push(0);
    let r = chunk(app, &officer, &id, third, &extra).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(
        rows(app, &code).await,
        start,
        "nothing stored before the last byte"
    );
    let r = chunk(app, &officer, &id, third, &scan[third..2 * third]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = chunk(app, &officer, &id, 2 * third, &scan[2 * third..]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["file"]["kind"], "png");
    assert_eq!(r.body["file"]["name"], "cccd.png");
    assert_eq!(r.body["file"]["component_index"], 0);
    let file = r.body["file"]["id"].as_i64().unwrap();
    assert_eq!(r.body["upload"]["file_id"], file);
    // The last answer was lost: asking again gives the same file, and so does resending.
    let r = app
        .get(&format!("/api/v1/uploads/{id}"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.body["file_id"], file);
    let r = chunk(app, &officer, &id, 2 * third, &scan[2 * third..]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["file"]["id"], file);
    let r = app
        .get(&format!("/api/v1/files/{file}"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.bytes, scan, "the bytes arrived whole and in order");
    assert_eq!(
        app.store().dossier_files(&code).await.unwrap().len(),
        start.1 + 1
    );

    // An upload whose file was stored but not yet recorded as the upload's when the server
    // stopped (here: the same content already on the component) completes with that file,
    // not a second one.
    let again = app
        .post(&format!("/api/v1/dossiers/{code}/uploads"))
        .bearer(&officer)
        .json(&serde_json::json!({"component": 0, "name": "cccd-2.png", "size": scan.len()}))
        .send()
        .await;
    let again = again.body["id"].as_str().unwrap().to_owned();
    let r = chunk(app, &officer, &again, 0, &scan).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.body["file"]["id"], file,
        "the file already stored, not a copy"
    );
    assert_eq!(
        app.store().dossier_files(&code).await.unwrap().len(),
        start.1 + 1
    );

    // The size limit is checked when the upload begins; an empty file is refused.
    for (size, status) in [
        (31 * 1024 * 1024, StatusCode::PAYLOAD_TOO_LARGE),
        (0, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let r = app
            .post(&format!("/api/v1/dossiers/{code}/uploads"))
            .bearer(&officer)
            .json(&serde_json::json!({"component": 0, "name": "x.pdf", "size": size}))
            .send()
            .await;
        assert_eq!(r.status, status, "{size}: {}", r.text);
    }
    // A zip sent in chunks: refused at the last byte, and nothing is left.
    let before = rows(app, &code).await;
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend([7u8; 5000]);
    let r = app
        .post(&format!("/api/v1/dossiers/{code}/uploads"))
        .bearer(&officer)
        .json(&serde_json::json!({"component": 1, "name": "a.pdf", "size": zip.len()}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        chunk(app, &officer, &id, 0, &zip[..2500]).await.status,
        StatusCode::OK
    );
    let r = chunk(app, &officer, &id, 2500, &zip[2500..]).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text);
    let r = app
        .get(&format!("/api/v1/uploads/{id}"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "the refused upload is gone"
    );
    assert_eq!(rows(app, &code).await, before);
    let staging = app.db.objects_dir().parent().unwrap().join("uploads");
    let left: Vec<_> = std::fs::read_dir(&staging).unwrap().flatten().collect();
    assert!(left.is_empty(), "staging files left: {left:?}");

    // An upload begun more than a day ago is purged with its bytes.
    let r = app
        .post(&format!("/api/v1/dossiers/{code}/uploads"))
        .bearer(&officer)
        .json(&serde_json::json!({"component": 1, "name": "b.png", "size": 1000}))
        .send()
        .await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        chunk(app, &officer, &id, 0, &scan[..500]).await.status,
        StatusCode::OK
    );
    app.clock.advance(chrono::Duration::hours(25));
    assert_eq!(
        app.svc.purge_uploads().await.unwrap(),
        3,
        "the unfinished one and the two finished"
    );
    let r = app
        .get(&format!("/api/v1/uploads/{id}"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0);
}
