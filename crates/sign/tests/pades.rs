//! PAdES signatures checked by motcua's verifier and by two independent ones: poppler's
//! `pdfsig` and pyHanko (`scripts/pyhanko_validate.py`, in the virtual environment that
//! `scripts/test.sh` makes; `MOTCUA_TEST_PYHANKO` names its Python).
//!
//! The certificates are made valid around the wall clock's now: the outside verifiers check
//! them against it, not against an injected clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use chrono::{DateTime, FixedOffset, Utc};
use motcua_domain::clock::FixedClock;
use motcua_service::slips::{SlipData, SlipRenderer};
use motcua_sign::keys::Signer;
use motcua_sign::pdf::{Appearance, SignOptions};
use motcua_sign::sandbox::{Sandbox, SandboxConfig};
use motcua_sign::tsa::TsaClient;
use motcua_sign::{LocalKey, RemoteSigner, SignError, SignatureReport, TrustStore, cms, pdf};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        motcua_sign::pki::write_dev_ca(dir.path(), "UBND phường Ba Đình", Utc::now()).unwrap();
        Pki { dir }
    }
    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }
    fn key(&self, alias: &str) -> LocalKey {
        LocalKey::from_file(&self.path(&format!("{alias}.p12")), "motcua").unwrap()
    }
    fn trust(&self) -> TrustStore {
        let mut t = TrustStore::new();
        t.add_file(&self.path("ca.pem")).unwrap();
        t
    }
}

fn now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap())
}

/// A one-page A4 document laid out by typst, as the results are.
fn document() -> Vec<u8> {
    let data = SlipData {
        paper: "a4".into(),
        form_number: "Mẫu số 01".into(),
        title: "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ".into(),
        agency_parent: "UBND THÀNH PHỐ HÀ NỘI".into(),
        agency: "UBND PHƯỜNG BA ĐÌNH".into(),
        dossier_code: "H01.01-250128-0001".into(),
        qr_svg: r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#.into(),
        ..SlipData::default()
    };
    motcua_pdf::TypstSlips::new()
        .render(motcua_domain::slips::SlipKind::Receipt, &data)
        .unwrap()
}

async fn sign(
    pdf: &[u8],
    key: &dyn Signer,
    reason: &str,
    tsa: Option<&str>,
    visible: bool,
) -> Vec<u8> {
    let mut opts = SignOptions::new(now());
    opts.reason = reason.into();
    opts.location = "Hà Nội".into();
    opts.tsa = tsa.map(|u| TsaClient::new(u).unwrap());
    if visible {
        opts.appearance = Some(Appearance {
            pdf: motcua_pdf::stamp("Trần Văn Hùng", "28/01/2025 09:30", reason).unwrap(),
            page: None,
            at: None,
        });
    }
    motcua_sign::sign_pdf(pdf, key, &opts).await.unwrap()
}

fn ours(pdf: &[u8], pki: &Pki) -> Vec<SignatureReport> {
    motcua_sign::verify_pdf(pdf, &pki.trust(), Utc::now()).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `pdfsig`'s report, one block per signature (it exits 0 whatever it finds).
fn pdfsig(file: &Path) -> Vec<String> {
    let out = Command::new("pdfsig")
        .arg(file)
        .output()
        .expect("pdfsig (poppler-utils) must be installed");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split("Signature #")
        .skip(1)
        .map(str::to_owned)
        .collect()
}

fn pyhanko(file: &Path, pki: &Pki) -> Vec<Value> {
    let python = std::env::var("MOTCUA_TEST_PYHANKO")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target/pyhanko-venv/bin/python"));
    assert!(
        python.exists(),
        "pyHanko is needed: run scripts/test.sh, or make target/pyhanko-venv with pip install pyhanko"
    );
    let out = Command::new(python)
        .arg(root().join("scripts/pyhanko_validate.py"))
        .arg(file)
        .arg("--trust")
        .arg(pki.path("ca.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

async fn sandbox(pki: &Pki, config: SandboxConfig) -> String {
    let clock = Arc::new(FixedClock::new(Utc::now()));
    let sb = Sandbox::from_dir(pki.dir.path(), "motcua", config, clock).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { sb.serve(listener).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_leader_signs_then_the_agency_seals_and_every_verifier_accepts_both() {
    let pki = Pki::new();
    let tmp = tempfile::tempdir().unwrap();
    let base = sandbox(&pki, SandboxConfig::default()).await;
    let doc = document();
    let once = sign(&doc, &pki.key("leader"), "Phê duyệt kết quả", None, true).await;
    let twice = sign(
        &once,
        &pki.key("agency"),
        "Đóng dấu",
        Some(&format!("{base}/tsa")),
        false,
    )
    .await;
    assert!(
        twice.starts_with(&once),
        "an incremental update never rewrites earlier bytes"
    );

    let reports = ours(&twice, &pki);
    assert_eq!(reports.len(), 2);
    let (leader, seal) = (&reports[0], &reports[1]);
    assert_eq!(leader.signer, "Trần Văn Hùng");
    assert_eq!(seal.signer, "UBND phường Ba Đình");
    for r in &reports {
        assert!(
            r.valid && r.intact && r.trusted && !r.modified_after,
            "{r:?}"
        );
    }
    assert!(!leader.covers_whole_document && seal.covers_whole_document);
    assert!(seal.timestamped && !leader.timestamped);
    assert_eq!(leader.purpose, "Phê duyệt kết quả");

    let file = write(tmp.path(), "signed.pdf", &twice);
    let blocks = pdfsig(&file);
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    for b in &blocks {
        assert!(
            b.contains("Signature Validation: Signature is Valid."),
            "{b}"
        );
    }
    assert!(blocks[0].contains("Not total document signed"));
    assert!(blocks[1].contains("Total document signed"), "{}", blocks[1]);

    let py = pyhanko(&file, &pki);
    assert_eq!(py.len(), 2);
    for v in &py {
        assert_eq!(v["bottom_line"], true, "{v}");
        assert_eq!(v["intact"], true);
        assert_eq!(v["trusted"], true);
    }
    assert_eq!(
        py[0]["modification_level"], "FORM_FILLING",
        "only a signature came after"
    );
    assert_eq!(py[1]["coverage"], "ENTIRE_FILE");
    assert_eq!(py[1]["timestamp_ok"], true);
    // The visible stamp's text is in the document.
    let text = Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("Ký bởi: Trần Văn Hùng"));
}

#[tokio::test]
async fn a_file_with_a_cross_reference_stream_keeps_it() {
    let pki = Pki::new();
    let tmp = tempfile::tempdir().unwrap();
    let plain = write(tmp.path(), "plain.pdf", &document());
    let streamed = tmp.path().join("streamed.pdf");
    let status = Command::new("qpdf")
        .args(["--object-streams=generate"])
        .arg(&plain)
        .arg(&streamed)
        .status()
        .expect("qpdf must be installed");
    assert!(status.success());
    let doc = std::fs::read(&streamed).unwrap();
    let signed = sign(&doc, &pki.key("officer"), "", None, false).await;
    let signed = sign(&signed, &pki.key("agency"), "", None, false).await;
    let update = &signed[doc.len()..];
    let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(
        has(update, b"/XRef"),
        "the updates use cross-reference streams"
    );
    assert!(!has(update, b"\nxref\n"), "and no table");
    let reports = ours(&signed, &pki);
    assert!(reports.iter().all(|r| r.valid), "{reports:?}");
    let file = write(tmp.path(), "signed.pdf", &signed);
    assert!(
        pdfsig(&file)
            .iter()
            .all(|b| b.contains("Signature is Valid."))
    );
    assert!(
        pyhanko(&file, &pki)
            .iter()
            .all(|v| v["bottom_line"] == true)
    );

    // The typst file has a table: its updates keep one.
    let table = sign(&document(), &pki.key("officer"), "", None, false).await;
    assert!(has(&table[document().len()..], b"xref"));
}

#[tokio::test]
async fn one_changed_byte_is_reported_by_every_verifier() {
    let pki = Pki::new();
    let tmp = tempfile::tempdir().unwrap();
    let mut signed = sign(&document(), &pki.key("leader"), "", None, false).await;
    // A byte inside the first page's content stream.
    let at = signed.windows(7).position(|w| w == b"stream\n").unwrap() + 20;
    signed[at] ^= 0x01;
    let r = &ours(&signed, &pki)[0];
    assert!(!r.valid && !r.intact);
    assert!(r.reason.contains("digest mismatch"), "{}", r.reason);
    assert!(r.reason_vi.contains("sai giá trị băm"));
    let file = write(tmp.path(), "tampered.pdf", &signed);
    assert!(pdfsig(&file)[0].contains("Digest Mismatch"));
    let py = pyhanko(&file, &pki);
    assert_eq!(py[0]["intact"], false);
    assert_eq!(py[0]["bottom_line"], false);
}

/// Appends an unsigned revision that replaces the first page's content.
fn deface(pdf: &[u8]) -> Vec<u8> {
    use lopdf::{Dictionary, Document, IncrementalDocument, Object, Stream};
    let doc = Document::load_mem(pdf).unwrap();
    let page = *doc.get_pages().values().next().unwrap();
    let mut inc = IncrementalDocument::create_from(pdf.to_vec(), doc);
    inc.opt_clone_object_to_new_document(page).unwrap();
    let content = inc.new_document.add_object(Stream::new(
        Dictionary::new(),
        b"BT /F1 24 Tf 100 700 Td (FORGED) Tj ET".to_vec(),
    ));
    inc.new_document
        .get_dictionary_mut(page)
        .unwrap()
        .set("Contents", Object::Reference(content));
    let mut out = Vec::new();
    inc.save_to(&mut out).unwrap();
    out
}

#[tokio::test]
async fn an_unsigned_revision_that_changes_a_page_is_reported() {
    let pki = Pki::new();
    let tmp = tempfile::tempdir().unwrap();
    let once = sign(&document(), &pki.key("leader"), "", None, false).await;
    let twice = sign(&once, &pki.key("agency"), "", None, false).await;
    let defaced = deface(&twice);
    let reports = ours(&defaced, &pki);
    assert_eq!(reports.len(), 2);
    for r in &reports {
        assert!(r.intact, "the signed bytes themselves are untouched");
        assert!(
            !r.valid && r.modified_after && !r.covers_whole_document,
            "{r:?}"
        );
        assert!(
            r.reason.contains("modified after signing: a page"),
            "{}",
            r.reason
        );
    }
    let file = write(tmp.path(), "defaced.pdf", &defaced);
    for b in pdfsig(&file) {
        assert!(b.contains("Not total document signed"), "{b}");
    }
    for v in pyhanko(&file, &pki) {
        assert_eq!(v["bottom_line"], false, "{v}");
        assert_eq!(v["modification_level"], "OTHER", "{v}");
    }
}

#[tokio::test]
async fn untrusted_expired_and_foreign_digest_signatures_are_refused_with_a_reason() {
    let pki = Pki::new();
    let tmp = tempfile::tempdir().unwrap();
    let doc = document();

    let untrusted = sign(&doc, &pki.key("untrusted"), "", None, false).await;
    let r = &ours(&untrusted, &pki)[0];
    assert!(r.intact && !r.trusted && !r.valid);
    assert!(r.reason.starts_with("untrusted"), "{}", r.reason);
    assert!(r.reason_vi.contains("không tin cậy"));
    let py = pyhanko(&write(tmp.path(), "untrusted.pdf", &untrusted), &pki);
    assert_eq!(py[0]["trusted"], false);

    let expired = sign(&doc, &pki.key("expired"), "", None, false).await;
    let r = &ours(&expired, &pki)[0];
    assert!(r.intact && r.trusted && !r.valid);
    assert!(r.reason.contains("expired"), "{}", r.reason);
    assert!(r.reason_vi.contains("hết hạn"));
    let py = pyhanko(&write(tmp.path(), "expired.pdf", &expired), &pki);
    assert_eq!(py[0]["bottom_line"], false);

    // Signed attributes over another document's digest.
    let key = pki.key("officer");
    let prepared = pdf::prepare(&doc, &SignOptions::new(now()), "Nguyễn Thị Lan").unwrap();
    let other = [7u8; 32];
    let attrs = cms::signed_attributes(&other, &key.chain()[0]).unwrap();
    let sig = key.sign_now(&cms::digest_to_sign(&attrs).unwrap()).unwrap();
    let der = cms::signed_data(key.chain(), key.algorithm(), attrs, &sig, None).unwrap();
    let foreign = pdf::finish(prepared, &der).unwrap();
    let r = &ours(&foreign, &pki)[0];
    assert!(!r.intact && !r.valid);
    assert!(r.reason.contains("digest mismatch"), "{}", r.reason);
    let file = write(tmp.path(), "foreign.pdf", &foreign);
    assert!(pdfsig(&file)[0].contains("Digest Mismatch"));
    assert_eq!(pyhanko(&file, &pki)[0]["intact"], false);
}

#[tokio::test]
async fn rsa_and_pem_keys_sign_too() {
    let pki = Pki::new();
    let tmp = tempfile::tempdir().unwrap();
    let rsa = sign(&document(), &pki.key("officer-rsa"), "", None, false).await;
    let r = &ours(&rsa, &pki)[0];
    assert!(r.valid, "{r:?}");
    assert_eq!(r.algorithm, "RSA SHA-256");
    let pem = LocalKey::from_file(&pki.path("leader.pem"), "").unwrap();
    let signed = sign(&rsa, &pem, "", None, false).await;
    assert!(ours(&signed, &pki).iter().all(|r| r.valid));
    let file = write(tmp.path(), "rsa.pdf", &signed);
    assert!(
        pyhanko(&file, &pki)
            .iter()
            .all(|v| v["bottom_line"] == true)
    );

    let wrong = LocalKey::from_file(&pki.path("leader.p12"), "not the password").unwrap_err();
    assert!(wrong.to_string().contains("wrong password"), "{wrong}");
}

#[tokio::test]
async fn the_remote_signer_waits_for_approval_and_survives_a_flaky_link() {
    let pki = Pki::new();
    let base = sandbox(
        &pki,
        SandboxConfig {
            approval_delay: std::time::Duration::from_millis(300),
            refuse: vec!["officer".into()],
            fail_every: 3,
            manual: false,
        },
    )
    .await;
    let mut leader = RemoteSigner::connect(&base, "leader").await.unwrap();
    leader.poll = std::time::Duration::from_millis(50);
    let started = std::time::Instant::now();
    let signed = sign(
        &document(),
        &leader,
        "Ký từ xa",
        Some(&format!("{base}/tsa")),
        false,
    )
    .await;
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(300),
        "it waited for the approval"
    );
    let r = &ours(&signed, &pki)[0];
    assert!(r.valid && r.timestamped, "{r:?}");

    let officer = RemoteSigner::connect(&base, "officer").await.unwrap();
    let err = motcua_sign::sign_pdf(&document(), &officer, &SignOptions::new(now()))
        .await
        .unwrap_err();
    assert!(matches!(err, SignError::Refused(_)), "{err}");

    // A person who never answers: the wait ends.
    let manual = sandbox(
        &pki,
        SandboxConfig {
            manual: true,
            ..SandboxConfig::default()
        },
    )
    .await;
    let mut slow = RemoteSigner::connect(&manual, "leader").await.unwrap();
    slow.wait = std::time::Duration::from_millis(400);
    slow.poll = std::time::Duration::from_millis(50);
    let err = motcua_sign::sign_pdf(&document(), &slow, &SignOptions::new(now()))
        .await
        .unwrap_err();
    assert!(matches!(err, SignError::Timeout(_)), "{err}");
}
