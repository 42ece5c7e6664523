//! Issue 13, item 1: the receipt as PDF — the form of the set in force on the dossier's date,
//! Vietnamese text that extracts exactly as it reads (checked with poppler's `pdftotext`
//! against a snapshot), and a QR code that decodes (with `zbarimg`) to the tracking URL.

use super::dossiers::{RE_BIRTH, counter, setup};
use axum::http::StatusCode;
use chrono::TimeZone;
use motcua_web::testing::TestApp;
use std::process::Command;

motcua_store::on_both!(crate::start => receipt_pdf_reads_and_scans, the_dossier_register_lists_a_period);

fn tool(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The text of a PDF (layout kept) and its page size.
fn pdf_text(pdf: &[u8]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let text = tool(
        Command::new("pdftotext")
            .args(["-layout", "-enc", "UTF-8"])
            .arg(&path)
            .arg("-"),
    );
    let info = tool(Command::new("pdfinfo").arg(&path));
    let size = info
        .lines()
        .find_map(|l| l.strip_prefix("Page size:"))
        .unwrap_or_default()
        .trim()
        .to_owned();
    (text, size)
}

/// The text of a PDF (layout kept), its page size, and what its QR codes say.
fn read_pdf(pdf: &[u8]) -> (String, String, String) {
    let (text, size) = pdf_text(pdf);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slip.pdf");
    std::fs::write(&path, pdf).unwrap();
    tool(
        Command::new("pdftoppm")
            .args(["-r", "300", "-png", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&path)
            .arg(dir.path().join("page")),
    );
    let qr = tool(
        Command::new("zbarimg")
            .args(["--quiet", "--raw"])
            .arg(dir.path().join("page.png")),
    );
    (text, size, qr.trim().to_owned())
}

async fn receipt_pdf_reads_and_scans(app: &TestApp) {
    app.svc
        .set_slip_renderer(std::sync::Arc::new(motcua_pdf::TypstSlips::new()));
    let c = setup(app).await;
    // 24 January 2025: Circular 01/2018 (form 01, A5).
    let code = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let r = app
        .get(&format!("/api/v1/dossiers/{code}/slips/receipt"))
        .bearer(&c.tokens["tiepnhan.a"])
        .header("host", "dichvucong.example.vn")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers["content-type"], "application/pdf");
    if let Ok(dir) = std::env::var("SLIP_ARTIFACTS") {
        let _ = std::fs::write(format!("{dir}/receipt-a5.pdf"), &r.bytes);
    }
    let (text, size, qr) = read_pdf(&r.bytes);
    assert!(
        size.starts_with("419.") && size.contains("x 595."),
        "A5: {size}"
    );
    let url = format!("http://dichvucong.example.vn/tra-cuu?ma={code}");
    assert_eq!(qr, url, "the QR code holds the full tracking URL");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        &format!("Mã hồ sơ: {code}"),
        "Nguyễn Văn An",
        "NGƯỜI NỘP HỒ SƠ",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
        "Mẫu số 01 — Thông tư 01/2018/TT-VPCP",
        &url,
    ] {
        assert!(
            flat.contains(want),
            "«{want}» not in the PDF's text:\n{text}"
        );
    }
    insta::assert_snapshot!("receipt_2018_a5", flat);
    // The other agency's officers may not read it; nobody anonymous.
    let r = app
        .get(&format!("/api/v1/dossiers/{code}/slips/receipt"))
        .bearer(&c.tokens["tiepnhan.b"])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The letters come from the events that called for them: none yet.
    let get = |code: String, kind: &'static str| {
        let token = c.tokens["tiepnhan.a"].clone();
        async move {
            app.get(&format!("/api/v1/dossiers/{code}/slips/{kind}"))
                .bearer(&token)
                .header("host", "dichvucong.example.vn")
                .send()
                .await
        }
    };
    assert_eq!(
        get(code.clone(), "supplement_request").await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        get(code.clone(), "register").await.status,
        StatusCode::BAD_REQUEST
    );
    // Supplement request (form 02) with each missing item and its reason.
    c.ok(
        "tiepnhan.a",
        &code,
        serde_json::json!({"action": "forward"}),
    )
    .await;
    c.ok(
        "chuyenvien.a",
        &code,
        serde_json::json!({"action": "request_supplement",
            "missing": [{"item": "Tờ khai đăng ký lại khai sinh", "reason": "Thiếu chữ ký của người yêu cầu"}]}),
    )
    .await;
    let r = get(code.clone(), "supplement_request").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (text, _, qr) = read_pdf(&r.bytes);
    assert_eq!(qr, url);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
        "Kính gửi: Nguyễn Văn An",
        "Tờ khai đăng ký lại khai sinh — Thiếu chữ ký của người yêu cầu",
        "Mẫu số 02 — Thông tư 01/2018/TT-VPCP",
    ] {
        assert!(
            flat.contains(want),
            "«{want}» not in the supplement request:\n{text}"
        );
    }
    insta::assert_snapshot!("supplement_request_2018", flat);
    // The control slip lists every hand-off in order.
    let r = get(code.clone(), "control").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (text, _, _) = read_pdf(&r.bytes);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"),
        "{text}"
    );
    assert!(
        flat.contains("Mẫu số 05 — Thông tư 01/2018/TT-VPCP"),
        "renumbered in 2025: {text}"
    );
    insta::assert_snapshot!("control_2018", flat);
    // The dossier page links each slip's PDF.
    let html = super::daily::page(app, "tiepnhan.a", &format!("/ho-so/{code}"))
        .await
        .text;
    for link in [
        format!("/ho-so/{code}/phieu-pdf/bo-sung"),
        format!("/ho-so/{code}/phieu-pdf/kiem-soat"),
    ] {
        assert!(html.contains(&link), "{link} not on the dossier page");
        let r = super::daily::page(app, "tiepnhan.a", &link).await;
        assert_eq!(r.status, StatusCode::OK, "{link}: {}", r.text);
        assert_eq!(r.headers["content-type"], "application/pdf");
    }

    // Refusal at intake (form 03) with its reasons; no notice of stopping for it.
    let online = c
        .filed(
            "congdan",
            &super::dossiers::online(RE_BIRTH, super::dossiers::A),
        )
        .await;
    c.ok(
        "tiepnhan.a",
        &online,
        serde_json::json!({"action": "refuse", "reasons": ["Hồ sơ không thuộc thẩm quyền của phường"]}),
    )
    .await;
    let r = get(online.clone(), "refusal").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let flat = read_pdf(&r.bytes)
        .0
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for want in [
        "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
        "Hồ sơ không thuộc thẩm quyền của phường",
        "Mẫu số 03",
    ] {
        assert!(flat.contains(want), "«{want}» not in the refusal: {flat}");
    }
    insta::assert_snapshot!("refusal_2018", flat);
    assert_eq!(get(online, "stopping").await.status, StatusCode::CONFLICT);
    // An extension's apology and new appointment (form 04).
    let late = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    c.ok(
        "tiepnhan.a",
        &late,
        serde_json::json!({"action": "forward"}),
    )
    .await;
    c.ok(
        "lanhdao.a",
        &late,
        serde_json::json!({"action": "extend", "reason": "Cần xác minh tại nơi cư trú", "new_due_date": "2025-02-14"}),
    )
    .await;
    let r = get(late.clone(), "apology").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let flat = read_pdf(&r.bytes)
        .0
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for want in [
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "Lý do: Cần xác minh tại nơi cư trú",
        "ngày 14 tháng 02 năm 2025",
        "Mẫu số 04",
    ] {
        assert!(flat.contains(want), "«{want}» not in the apology: {flat}");
    }
    insta::assert_snapshot!("apology_2018", flat);
    // The notice of stopping (form 05) when the leader refuses a dossier being processed.
    c.ok(
        "lanhdao.a",
        &late,
        serde_json::json!({"action": "refuse", "reasons": ["Người yêu cầu không đủ điều kiện đăng ký lại"]}),
    )
    .await;
    let r = get(late, "stopping").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let flat = read_pdf(&r.bytes)
        .0
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains("Người yêu cầu không đủ điều kiện đăng ký lại"),
        "{flat}"
    );
    insta::assert_snapshot!("stopping_2018", flat);

    // After 15 September 2025: Circular 03/2025 (form 01, A4).
    app.clock
        .set(chrono::Utc.with_ymd_and_hms(2025, 10, 1, 2, 0, 0).unwrap());
    let officer = app.token("tiepnhan.a").await;
    let r = app
        .post("/api/v1/dossiers")
        .bearer(&officer)
        .json(&counter(RE_BIRTH))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let code = r.body["code"].as_str().unwrap().to_owned();
    let r = app
        .get(&format!("/api/v1/dossiers/{code}/slips/receipt"))
        .bearer(&officer)
        .header("host", "dichvucong.example.vn")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (text, size, qr) = read_pdf(&r.bytes);
    assert!(
        size.starts_with("595.") && size.contains("x 841."),
        "A4: {size}"
    );
    assert_eq!(
        qr,
        format!("http://dichvucong.example.vn/tra-cuu?ma={code}")
    );
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Mẫu số 01 — Thông tư 03/2025/TT-VPCP"),
        "{text}"
    );
    insta::assert_snapshot!("receipt_2025_a4", flat);
}

/// The dossier register (form 06 before 15 September 2025): the dossiers the agency received
/// in a period, and the list API's receipt period that opens the same dossiers.
async fn the_dossier_register_lists_a_period(app: &TestApp) {
    app.svc
        .set_slip_renderer(std::sync::Arc::new(motcua_pdf::TypstSlips::new()));
    let c = setup(app).await;
    let first = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let second = c.filed("tiepnhan.a", &counter(RE_BIRTH)).await;
    let token = c.tokens["tiepnhan.a"].clone();
    let a = super::dossiers::A;
    let r = app
        .get(&format!(
            "/api/v1/agencies/{a}/register?from=2025-01-01&to=2025-01-31"
        ))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (text, size) = pdf_text(&r.bytes);
    assert!(
        size.contains("841.") && size.starts_with("841."),
        "landscape A4: {size}"
    );
    for want in [
        "SỔ THEO DÕI HỒ SƠ",
        "Từ ngày 01/01/2025 đến ngày 31/01/2025",
        first.as_str(),
        second.as_str(),
        "Mẫu số 06",
        "Tổng số: 2 hồ sơ",
    ] {
        assert!(text.contains(want), "{want} not in the register:\n{text}");
    }
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    insta::assert_snapshot!("register_2018", flat);
    // Another period: none of them.
    let r = app
        .get(&format!(
            "/api/v1/agencies/{a}/register?from=2025-02-01&to=2025-02-28"
        ))
        .bearer(&token)
        .send()
        .await;
    let (text, _) = pdf_text(&r.bytes);
    assert!(!text.contains(&first) && text.contains("Tổng số: 0 hồ sơ"));
    // Another agency's officer may not print it; a reversed period is refused.
    let other = app
        .get(&format!(
            "/api/v1/agencies/{a}/register?from=2025-01-01&to=2025-01-31"
        ))
        .bearer(&c.tokens["tiepnhan.b"])
        .send()
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let reversed = app
        .get(&format!(
            "/api/v1/agencies/{a}/register?from=2025-01-31&to=2025-01-01"
        ))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(reversed.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The list opens the same dossiers by receipt period.
    let r = app
        .get("/api/v1/dossiers?received_from=2025-01-01T00:00:00%2B07:00&received_to=2025-02-01T00:00:00%2B07:00")
        .bearer(&token)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2, "{}", r.text);
    let r = app
        .get("/api/v1/dossiers?received_from=2025-02-01T00:00:00%2B07:00")
        .bearer(&token)
        .send()
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0, "{}", r.text);
    // The page's form (empty dates: this month so far).
    let page = super::daily::page(app, "tiepnhan.a", "/so-theo-doi?tu=&den=").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.bytes.starts_with(b"%PDF-"));
}
