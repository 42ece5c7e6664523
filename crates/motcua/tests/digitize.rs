//! `motcua digitize batch`: backward digitisation of an archive folder, on SQLite and
//! PostgreSQL. Killed with `kill -9` while it reads pages, then run again, the batch finishes
//! with every page stored once: none lost, none read twice, no file attached twice; wrong lines
//! are refused with their reason and reported. (The receipt's `motcua slip render` is checked
//! on the same dossiers.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use motcua_store::testing::TestDb;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

motcua_store::on_both!(motcua_store::testing::TestDb::start =>
    a_killed_batch_finishes_with_no_page_lost_or_read_twice,
);

fn motcua(db: &TestDb, dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_motcua"));
    c.current_dir(dir)
        .env("MOTCUA_JOB_LEASE_SECONDS", "2")
        .env("MOTCUA_SECRET_KEY_FILE", db.key_file())
        .env("MOTCUA_OBJECTS_DIR", dir.join("objects"))
        .env_remove("RUST_LOG");
    c
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    let p = format!("{}/../../fixtures/ocr/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Pages stored for the files of these dossiers.
async fn stored_pages(db: &TestDb, codes: &[String]) -> i64 {
    let mut n = 0;
    for code in codes {
        for f in db.store.dossier_files(code).await.unwrap() {
            n += db.store.read_page_numbers(f.id).await.unwrap().len() as i64;
        }
    }
    n
}

async fn a_killed_batch_finishes_with_no_page_lost_or_read_twice(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&motcua(db, d)
        .args(["demo", "--database", db.url()])
        .output()
        .unwrap());
    // Two dossiers of the archive, filed at the counter.
    std::fs::write(
        d.join("new.json"),
        r#"{"procedure_code":"1.004884","channel":"counter","applicant":{"kind":"person","id_number":"008190001234","name":"Nguyễn Văn An","unit_code":"02215"},"components":[{"index":0,"originals":1},{"index":1,"copies":1}]}"#,
    )
    .unwrap();
    let mut codes = Vec::new();
    let mut second_component = String::new();
    for _ in 0..2 {
        let out = ok(&motcua(db, d)
            .args(["dossier", "file", "--user", "tiepnhan.minhxuan", "new.json"])
            .args(["--database", db.url()])
            .output()
            .unwrap());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        codes.push(v["code"].as_str().unwrap().to_owned());
        second_component = v["components"][1]["name"].as_str().unwrap().to_owned();
    }
    // The receipt as the counter prints it (issue 13's command line).
    let out = ok(&motcua(db, d)
        .args([
            "slip",
            "render",
            "receipt",
            "--dossier",
            &codes[0],
            "--out",
            "receipt.pdf",
        ])
        .args([
            "--base-url",
            "https://dichvucong.example.vn",
            "--database",
            db.url(),
        ])
        .output()
        .unwrap());
    assert!(out.contains("receipt.pdf"), "{out}");
    let text = Command::new("pdftotext")
        .args(["receipt.pdf", "-"])
        .current_dir(d)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for want in [
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        codes[0].as_str(),
        "Nguyễn Văn An",
    ] {
        assert!(text.contains(want), "{want} not in the receipt: {text}");
    }
    // The scans: three 3-page PDFs without a text layer and a 2-page TIFF, and wrong lines.
    let archive = d.join("archive");
    std::fs::create_dir_all(archive.join("2020")).unwrap();
    let scan = fixture("archive_scan.pdf");
    for (i, name) in ["a.pdf", "b.pdf", "c.pdf"].iter().enumerate() {
        // Different content per file (a trailing comment), so each is its own blob.
        let mut bytes = scan.clone();
        bytes.extend(format!("\n% copy {i}\n").as_bytes());
        std::fs::write(archive.join("2020").join(name), bytes).unwrap();
    }
    std::fs::write(archive.join("2020/d.tif"), fixture("archive_scan.tif")).unwrap();
    std::fs::write(archive.join("2020/e.zip"), b"PK\x03\x04zip zip zip zip").unwrap();
    // The second component by its name without diacritics, in capitals.
    let by_name = motcua_domain::text::fold(&second_component).to_uppercase();
    let map = format!(
        "\u{feff}file,dossier_code,component\n\
         2020/a.pdf,{a},1\n\
         2020/b.pdf,{a},{by_name}\n\
         2020/c.pdf,{b},1\n\
         2020/d.tif,{b},2\n\
         2020/e.zip,{b},1\n\
         2020/missing.pdf,{b},1\n\
         2020/a.pdf,000.00.00.H00-200101-0001,1\n\
         2020/a.pdf,{b},không có thành phần này\n\
         ../etc/passwd,{b},1\n",
        a = codes[0],
        b = codes[1],
    );
    std::fs::write(d.join("map.csv"), map).unwrap();
    let total = 3 * 3 + 2;
    let batch = |quiet: bool| {
        let mut c = motcua(db, d);
        c.args(["digitize", "batch", "archive", "--map", "map.csv"])
            .args(["--user", "tiepnhan.minhxuan", "--report", "report.csv"])
            .args(["--database", db.url()]);
        if quiet {
            c.arg("--quiet");
        }
        c
    };

    // First run: killed while it reads pages.
    let mut first = batch(true)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    loop {
        let n = stored_pages(db, &codes).await;
        if n >= 1 {
            break;
        }
        assert!(
            first.try_wait().unwrap().is_none(),
            "the batch ended before a page was read"
        );
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "no page read in 120 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let at_kill = stored_pages(db, &codes).await;
    assert!(
        (1..total).contains(&at_kill),
        "killed in the middle: {at_kill} of {total} pages stored"
    );

    // Second run: continues and finishes.
    let out = ok(&batch(false).output().unwrap());
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["lines"], 9, "{v}");
    assert_eq!(v["attached"], 4, "{v}");
    assert_eq!(v["refused"], 5, "{v}");
    assert_eq!(v["pages"], total, "{v}");
    assert_eq!(v["pages_read"], total, "{v}");
    assert_eq!(
        v["pages_read_this_run"],
        total - at_kill,
        "the second run read only the pages the first had not stored: {v}"
    );
    assert_eq!(v["files_not_finished"], 0, "{v}");
    assert_eq!(stored_pages(db, &codes).await, total);

    // Each file once, each page once, with its text.
    let mut files = Vec::new();
    for code in &codes {
        files.extend(db.store.dossier_files(code).await.unwrap());
    }
    assert_eq!(files.len(), 4, "no file attached twice: {files:?}");
    assert_eq!(
        files[1].component_index,
        Some(1),
        "the component by its name"
    );
    for f in &files {
        assert_eq!(f.ocr_status, "done");
        let pages = db.store.file_pages(f.id).await.unwrap();
        let want = f.pages.unwrap();
        assert_eq!(
            pages.iter().map(|p| p.page).collect::<Vec<_>>(),
            (1..=want).collect::<Vec<_>>()
        );
        for p in &pages {
            assert!(p.text.contains("KHAI SINH"), "{}: {}", f.name, p.text);
        }
    }

    // The report: every line, with why the wrong ones were refused.
    let report = std::fs::read_to_string(d.join("report.csv")).unwrap();
    assert!(report.starts_with('\u{feff}'), "Excel needs the BOM");
    let mut r = csv::Reader::from_reader(report.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 9);
    let status = |line: &str| {
        rows.iter()
            .find(|r| &r[0] == line)
            .map(|r| (r[4].to_owned(), r[10].to_owned()))
            .unwrap()
    };
    for line in ["2", "3", "4", "5"] {
        assert_eq!(status(line).0, "done", "line {line}");
    }
    for (line, why) in [
        ("6", "only pdf, jpeg, png or tiff"),
        ("7", "cannot read the file"),
        ("8", "000.00.00.H00-200101-0001"),
        ("9", "no component"),
        ("10", "inside the folder"),
    ] {
        let (s, e) = status(line);
        assert_eq!(s, "refused", "line {line}");
        assert!(
            e.to_lowercase().contains(&why.to_lowercase()),
            "line {line}: {e}"
        );
    }

    // One file more from the command line, as an officer would at a counter without a browser.
    let out = ok(&motcua(db, d)
        .args(["dossier", "attach", &codes[0], "archive/2020/d.tif"])
        .args(["--component", "0", "--user", "tiepnhan.minhxuan"])
        .args(["--database", db.url()])
        .output()
        .unwrap());
    let f: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(f["kind"], "tiff");
    assert_eq!(f["pages"], 2);
    assert_eq!(f["ocr_status"], "pending");
    let o = motcua(db, d)
        .args(["dossier", "attach", &codes[0], "archive/2020/e.zip"])
        .args(["--component", "0", "--user", "tiepnhan.minhxuan"])
        .args(["--database", db.url()])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("(415)"));

    // Run once more: nothing left to do, nothing done twice (the file attached since is
    // read too: the batch works the whole queue).
    let out = ok(&batch(true).output().unwrap());
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["pages_read_this_run"], 0, "{v}");
    assert_eq!(v["pages_read"], total, "{v}");
}
