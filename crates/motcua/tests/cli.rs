//! The `motcua` command line: stable calendar interfaces, imports and users.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn motcua(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(args)
        .current_dir(dir)
        .env_remove("MOTCUA_DATABASE")
        .output()
        .unwrap()
}

fn lines(o: &Output) -> Vec<serde_json::Value> {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn calendar_lunar_interface() {
    let dir = tempfile::tempdir().unwrap();
    let v = lines(&motcua(&["calendar", "lunar", "2026-02-17"], dir.path()));
    assert_eq!(
        v,
        vec![
            serde_json::json!({"solar":"2026-02-17","lunar":{"year":2026,"month":1,"day":1,"leap":false}})
        ]
    );
    let v = lines(&motcua(
        &[
            "calendar",
            "lunar",
            "--from",
            "1900-01-31",
            "--to",
            "1900-02-02",
        ],
        dir.path(),
    ));
    assert_eq!(v.len(), 3);
    assert_eq!(v[0]["lunar"]["day"], 1);
    let v = lines(&motcua(&["calendar", "lunar", "2100-12-31"], dir.path()));
    assert_eq!(v.len(), 1);
    let o = motcua(&["calendar", "lunar", "1900-01-30"], dir.path());
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("outside the supported range"));
    // No database was configured: nothing is created in the working folder.
    assert!(!dir.path().join("data").exists());
}

#[test]
fn calendar_holidays_and_due_interfaces() {
    let dir = tempfile::tempdir().unwrap();
    let v = lines(&motcua(&["calendar", "holidays", "2025"], dir.path()));
    assert!(
        v.iter()
            .any(|e| e["date"] == "2025-04-26" && e["key"] == "makeup_workday")
    );
    assert!(v.iter().all(|e| e["name"].is_string()));
    let o = motcua(
        &[
            "calendar",
            "due",
            "2025-01-24T09:00:00+07:00",
            "--working-days",
            "5",
        ],
        dir.path(),
    );
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "2025-02-07T17:00:00+07:00"
    );
    let o = motcua(
        &[
            "calendar",
            "due",
            "2025-03-03T09:00:00+07:00",
            "--working-hours",
            "4",
        ],
        dir.path(),
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "2025-03-03T14:30:00+07:00"
    );
    let o = motcua(
        &["calendar", "due", "yesterday", "--working-days", "5"],
        dir.path(),
    );
    assert!(!o.status.success());
}

#[test]
fn imports_and_users() {
    let dir = tempfile::tempdir().unwrap();
    let db = ["--data-dir", "d"];
    // The whole national catalogue export imports.
    let csv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/procedures_partial.csv");
    let mut args = vec!["import", "procedures", csv.to_str().unwrap()];
    args.extend(db);
    let o = motcua(&args, dir.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("inserted 2642"));

    // A bad file names every bad line and imports nothing.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "code,name,field,level,implementing_agency,decision_no,procedure_type,submission_modes,processing_time_parsed,fee_parsed\n\
         9.000001,Tốt,Hộ tịch,Cấp xã,,,,Trực tiếp,5 Ngày làm việc,\n\
         9.00002,Xấu,Hộ tịch,Cấp xã,,,,Trực tiếp,5 Ngày làm việc,\n\
         9.000003,Xấu,Hộ tịch,Cấp xã,,,,Fax,5 Ngày làm việc,\n",
    )
    .unwrap();
    let mut args = vec!["import", "procedures", bad.to_str().unwrap()];
    args.extend(db);
    let o = motcua(&args, dir.path());
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 3") && err.contains("line 4"), "{err}");
    assert!(err.contains("nothing imported"));

    // Users: password from standard input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args([
            "user",
            "add",
            "--username",
            "quantri",
            "--role",
            "admin",
            "--password-stdin",
            "--data-dir",
            "d",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"mat-khau-rat-dai\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let u: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(u["role"], "admin");
    let o = motcua(
        &[
            "user",
            "add",
            "--username",
            "x",
            "--role",
            "chief",
            "--password-stdin",
            "--data-dir",
            "d",
        ],
        dir.path(),
    );
    assert!(!o.status.success());
}

#[test]
fn configuration_layers() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_motcua"));
        c.args(args)
            .current_dir(dir.path())
            .env_remove("MOTCUA_DATABASE");
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    // motcua.toml sets the data folder…
    std::fs::write(dir.path().join("motcua.toml"), "data_dir = \"from-file\"\n").unwrap();
    run(&["migrate"], &[]);
    assert!(dir.path().join("from-file/motcua.db").exists());
    // …the environment overrides the file…
    run(&["migrate"], &[("MOTCUA_DATA_DIR", "from-env")]);
    assert!(dir.path().join("from-env/motcua.db").exists());
    // …and a flag overrides both.
    run(
        &["migrate", "--data-dir", "from-flag"],
        &[("MOTCUA_DATA_DIR", "from-env")],
    );
    assert!(dir.path().join("from-flag/motcua.db").exists());
    // An unknown key is an error, not silently ignored.
    std::fs::write(dir.path().join("motcua.toml"), "data_dri = \"typo\"\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["migrate"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("data_dri"));
}

const LEGACY_GOOD: &[&str] = &[
    r#"{"code":"000.01.31.H58-200316-0007","procedure_code":"1.004884","channel":"counter","receiving_agency":"000.01.31.H58","applicant":{"kind":"person","id_number":"008190001234","name":"Lê Thị Hoa"},"components":[{"index":0,"originals":1},{"index":1,"copies":1}],"submitted_at":"2020-03-16T08:30:00+07:00","events":[{"at":"2020-03-16T08:35:00+07:00","actor":"nv.tiepnhan","action":"forward"},{"at":"2020-03-17T10:00:00+07:00","actor":"cv.hotich","action":"forward"},{"at":"2020-03-18T15:00:00+07:00","actor":"ld.ubnd","action":"approve"},{"at":"2020-03-19T09:00:00+07:00","actor":"nv.tiepnhan","action":"return_result","method":"paper"},{"at":"2020-03-20T09:00:00+07:00","actor":"nv.tiepnhan","action":"mark_collected"}]}"#,
    r#"{"code":"000.01.31.H58-210610-0002","procedure_code":"1.004884","channel":"online","receiving_agency":"000.01.31.H58","applicant":{"kind":"organisation","id_number":"0100109106","name":"Công ty TNHH Minh Xuân"},"components":[{"index":0,"originals":1},{"index":1,"copies":1}],"submitted_at":"2021-06-10T20:00:00+07:00","events":[{"at":"2021-06-11T08:00:00+07:00","actor":"nv.tiepnhan","action":"accept"}]}"#,
];

const LEGACY_BAD: &[&str] = &[
    r#"{not json"#,
    r#"{"code":"000.01.31.H58-200316-0008","procedure_code":"9.999999","channel":"counter","receiving_agency":"000.01.31.H58","applicant":{"kind":"person","id_number":"008190001234","name":"A"},"submitted_at":"2020-03-16T08:30:00+07:00"}"#,
    r#"{"code":"000.01.31.H58-200316-0009","procedure_code":"1.004884","channel":"counter","receiving_agency":"000.01.31.H58","applicant":{"kind":"person","id_number":"008190001234","name":"A"},"components":[{"index":0,"originals":1},{"index":1,"copies":1}],"submitted_at":"2020-03-16T08:30:00+07:00","events":[{"at":"2020-03-16T09:00:00+07:00","actor":"x","action":"approve"}]}"#,
    r#"{"code":"000.01.31.H58-200316-0007","procedure_code":"1.004884","channel":"online","receiving_agency":"000.01.31.H58","applicant":{"kind":"person","id_number":"008190001234","name":"A"},"submitted_at":"2020-03-16T08:30:00+07:00"}"#,
    r#"{"code":"000.02.31.H58-200316-0001","procedure_code":"1.004884","channel":"online","receiving_agency":"000.01.31.H58","applicant":{"kind":"person","id_number":"008190001234","name":"A"},"submitted_at":"2020-03-16T08:30:00+07:00"}"#,
    r#"{"code":"000.01.31.H58-200316-0010","procedure_code":"1.004884","channel":"online","receiving_agency":"000.01.31.H58","applicant":{"kind":"person","id_number":"008190001234","name":"A"},"submitted_at":"2020-03-16T08:30:00+07:00","events":[{"at":"2020-03-15T09:00:00+07:00","actor":"x","action":"accept"}]}"#,
    r#"{"code":"000.01.31.H58-200316-0011","procedure_code":"1.004884","channel":"online","receiving_agency":"000.01.31.H58","applicant":{"kind":"person","id_number":"008190001234","name":"A"},"submitted_at":"3020-03-16T08:30:00+07:00"}"#,
];

fn write_lines(path: &std::path::Path, lines: &[&str]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_import_and_audit_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let demo = motcua(&["demo"], d);
    assert!(demo.status.success(), "{}", stderr(&demo));
    // Every bad line reported; nothing imported.
    let mixed: Vec<&str> = LEGACY_GOOD.iter().chain(LEGACY_BAD).copied().collect();
    write_lines(&d.join("mixed.jsonl"), &mixed);
    let o = motcua(&["import", "dossiers", "mixed.jsonl"], d);
    assert!(!o.status.success());
    let err = stderr(&o);
    for (line, what) in [
        (3, "malformed"),
        (4, "9.999999"),
        (5, "event 1"),
        (6, "same dossier code as line 1"),
        (7, "receiving agency"),
        (8, "earlier than"),
        (9, "outside the working calendar"),
    ] {
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("line {line}")) && l.contains(what)),
            "line {line} ({what}) not reported:\n{err}"
        );
    }
    assert!(err.contains("7 bad lines; nothing imported"), "{err}");
    // The demo's own records (agencies, catalogue, units, users) start the chain.
    assert!(motcua(&["audit", "seal"], d).status.success());
    let v = lines(&motcua(&["audit", "verify"], d));
    let base = v[0]["checked"].as_i64().unwrap();
    assert!(base > 0, "the demo's changes are audited");

    write_lines(&d.join("good.jsonl"), LEGACY_GOOD);
    let o = motcua(
        &["import", "dossiers", "good.jsonl", "--source", "mcdt-2020"],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("imported 2 dossiers"));
    let again = motcua(&["import", "dossiers", "good.jsonl"], d);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already exists"));
    let v = lines(&motcua(&["audit", "verify"], d));
    assert_eq!(v[0]["checked"].as_i64().unwrap(), base + 8, "{:?}", v);

    // Imported dossiers behave like native ones; new codes continue after theirs.
    let url = format!("sqlite:{}", d.join("data/motcua.db").display());
    let store = motcua_store::Store::connect(&url).await.unwrap();
    let old = store
        .dossier("000.01.31.H58-200316-0007")
        .await
        .unwrap()
        .dossier;
    assert_eq!(old.status, motcua_domain::dossier::Status::Returned);
    assert_eq!(
        old.timeliness,
        Some(motcua_domain::dossier::Timeliness::Early)
    );
    let received = store
        .dossier("000.01.31.H58-210610-0002")
        .await
        .unwrap()
        .dossier;
    assert!(received.due_at.is_some());
    let agency = motcua_domain::codes::AgencyCode::parse("000.01.31.H58").unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2020, 3, 16).unwrap();
    assert_eq!(store.next_dossier_number(&agency, day).await.unwrap(), 8);
    let trail = store.audit_trail("dossier", &old.code).await.unwrap();
    assert_eq!(trail[0].actor, "mcdt-2020:import");
    assert_eq!(trail[3].actor, "ld.ubnd");

    // Intake and actions from the command line take the API's path (same rules, same records).
    std::fs::write(
        d.join("new.json"),
        r#"{"procedure_code":"1.004884","channel":"counter","applicant":{"kind":"person","id_number":"008190001234","name":"Nguyễn Văn An","unit_code":"02215"},"components":[{"index":0,"originals":1},{"index":1,"copies":1}]}"#,
    )
    .unwrap();
    let o = motcua(
        &["dossier", "file", "--user", "tiepnhan.minhxuan", "new.json"],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "received");
    let code = v["code"].as_str().unwrap().to_owned();
    std::fs::write(d.join("fwd.json"), r#"{"action":"forward"}"#).unwrap();
    let o = motcua(
        &[
            "dossier",
            "act",
            &code,
            "--user",
            "chuyenvien.minhxuan",
            "fwd.json",
        ],
        d,
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("(403)"), "{}", stderr(&o));
    let o = motcua(
        &[
            "dossier",
            "act",
            &code,
            "--user",
            "tiepnhan.minhxuan",
            "--if-version",
            "1",
            "fwd.json",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = motcua(&["dossier", "show", &code], d);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["status"].as_str(), v["version"].as_i64()),
        (Some("processing"), Some(2))
    );

    // One edited audit row is caught and named.
    store
        .execute_unchecked("UPDATE audit_log SET data = '{\"reasons\":[]}' WHERE seq = 3")
        .await
        .unwrap();
    store.close().await;
    let o = motcua(&["audit", "verify"], d);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("broken at record 3"), "{}", stderr(&o));
    assert!(stderr(&o).contains("edited"), "{}", stderr(&o));
}

/// Starts `motcua serve` and returns it with its address (read from its log).
#[allow(clippy::zombie_processes)] // the caller stops and waits for it
fn start_server(database: &str, key_file: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
        .env("NO_COLOR", "1")
        .env("MOTCUA_SECRET_KEY_FILE", key_file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "server exited before listening"
        );
        if let Some(i) = line.find("http://") {
            let addr: String = line[i..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            // Keep draining the log so the server never blocks on a full pipe.
            std::thread::spawn(move || {
                let mut sink = String::new();
                while reader.read_line(&mut sink).unwrap_or(0) > 0 {
                    sink.clear();
                }
            });
            return (child, addr);
        }
    }
}

/// Two server processes on one PostgreSQL database create 10,000 dossiers at once: every code
/// unique, none lost, the daily sequence without gaps, the audit chain intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_create_10000_dossiers_on_postgres() {
    let db = motcua_store::testing::TestDb::postgres()
        .await
        .expect("PostgreSQL test database");
    let schema = db.schema().unwrap().to_owned();
    let url = format!(
        "{}?options=-c%20search_path%3D{schema}",
        motcua_store::testing::pg_url()
    );
    let dir = tempfile::tempdir().unwrap();
    let demo = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["demo", "--database", &url])
        .current_dir(dir.path())
        .env("MOTCUA_SECRET_KEY_FILE", db.key_file())
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", stderr(&demo));
    db.store.seal_audit().await.unwrap();
    let base = db.store.verify_audit().await.unwrap().checked;
    let servers = [
        start_server(&url, db.key_file()),
        start_server(&url, db.key_file()),
    ];
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/api/v1/auth/token", servers[0].1))
        .json(&serde_json::json!({"username": "tiepnhan.minhxuan", "password": "motcua-demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let body = serde_json::json!({
        "procedure_code": "1.004884", "channel": "counter",
        "applicant": {"kind": "person", "id_number": "008190001234", "name": "Nguyễn Văn An", "unit_code": "02215"},
        "components": [{"index": 0, "originals": 1}, {"index": 1, "copies": 1}]
    });
    const PER_CLIENT: usize = 625; // 8 clients × 2 servers × 625 = 10,000
    let mut tasks = Vec::new();
    for (_, base) in &servers {
        for _ in 0..8 {
            let (http, base, token, body) =
                (http.clone(), base.clone(), token.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                let mut codes = Vec::with_capacity(PER_CLIENT);
                for _ in 0..PER_CLIENT {
                    let r = http
                        .post(format!("{base}/api/v1/dossiers"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
                    let v: serde_json::Value = r.json().await.unwrap();
                    codes.push(v["code"].as_str().unwrap().to_owned());
                }
                codes
            }));
        }
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.extend(t.await.unwrap());
    }
    for (mut child, _) in servers {
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
    assert_eq!(codes.len(), 10_000);
    let unique: std::collections::HashSet<&String> = codes.iter().collect();
    assert_eq!(unique.len(), 10_000, "duplicate dossier codes");
    // One agency, one day (or two if the run straddles midnight): numbers 1..=n with no gaps.
    let mut by_day: std::collections::HashMap<String, Vec<i64>> = Default::default();
    for c in &codes {
        let (agency, day, n) = motcua_domain::dossier::parse_dossier_code(c).unwrap();
        by_day.entry(format!("{agency}-{day}")).or_default().push(n);
    }
    for (day, mut ns) in by_day {
        ns.sort_unstable();
        assert_eq!(ns, (1..=ns.len() as i64).collect::<Vec<_>>(), "{day}");
    }
    // None lost: every one of them is stored, walked page by page.
    let mut stored = std::collections::HashSet::new();
    let mut cursor = None;
    loop {
        let page = db
            .store
            .dossiers(&motcua_store::DossierQuery {
                limit: Some(500),
                cursor: cursor.take(),
                ..Default::default()
            })
            .await
            .unwrap();
        stored.extend(page.items.into_iter().map(|d| d.dossier.code));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(stored.len(), 10_000);
    assert!(codes.iter().all(|c| stored.contains(c)));
    db.store.seal_audit().await.unwrap();
    let report = db.store.verify_audit().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.checked, base + 10_000);
    db.cleanup().await;
}

/// `motcua ocr FILE --json`: the real tesseract on a rendered Vietnamese page (rotated, blurred,
/// noisy), compared with what was rendered.
#[test]
fn ocr_reads_a_vietnamese_page() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ocr");
    let dir = tempfile::tempdir().unwrap();
    let page = fixtures.join("page_vi.png");
    let o = motcua(&["ocr", page.to_str().unwrap(), "--json"], dir.path());
    let v = &lines(&o)[0];
    let pages = v["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 1);
    let text = pages[0]["text"].as_str().unwrap();
    let truth = std::fs::read_to_string(fixtures.join("page_vi.txt")).unwrap();
    let cer = motcua_domain::text::char_error_rate(&truth, text);
    eprintln!("page_vi.png: character error rate {:.2} %", cer * 100.0);
    assert!(cer < 0.05, "character error rate {cer}: {text}");
    assert!(text.contains("Đức Huy") && text.contains("008195009999"));
    // A file that is not one motcua reads: a clear message, a failure status.
    let bad = dir.path().join("x.pdf");
    std::fs::write(&bad, b"<html></html>").unwrap();
    let o = motcua(&["ocr", bad.to_str().unwrap()], dir.path());
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("only PDF, JPEG, PNG or TIFF"));
}

/// `motcua extract FILE --kind id_card --json`: the contract's field names, from a rendered card.
#[test]
fn extract_reads_an_id_card() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ocr");
    let dir = tempfile::tempdir().unwrap();
    let front = fixtures.join("id_front.png");
    let o = motcua(
        &[
            "extract",
            front.to_str().unwrap(),
            "--kind",
            "id_card",
            "--json",
        ],
        dir.path(),
    );
    let v = &lines(&o)[0];
    assert_eq!(v["kind"], "id_card");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("id_front.json")).unwrap())
            .unwrap();
    let fields = v["fields"].as_object().unwrap();
    let mut exact = 0;
    for (name, want) in truth.as_object().unwrap() {
        let got = &fields[name.as_str()];
        assert!(got["confidence"].as_f64().is_some(), "{name}");
        if got["value"] == *want {
            exact += 1;
        } else {
            eprintln!("{name}: {} ≠ {want}", got["value"]);
        }
    }
    eprintln!(
        "id_front.png: {exact}/{} fields exact",
        truth.as_object().unwrap().len()
    );
    assert_eq!(exact, truth.as_object().unwrap().len());
    let o = motcua(
        &["extract", front.to_str().unwrap(), "--kind", "passport"],
        dir.path(),
    );
    assert!(!o.status.success());
}

/// The figures of every dossier of a generated history, as JSON: received from 2020 until
/// 2060, as of 2030 (when everything generated has ended or is overdue).
const ALL_TIME_REPORT: &[&str] = &[
    "stats",
    "--from",
    "2020-01-01",
    "--to",
    "2060-01-01",
    "--as-of",
    "2030-01-01T00:00:00Z",
    "--json",
];

/// `motcua demo generate` on SQLite and on PostgreSQL: a history with the field's mix, whose
/// figures `motcua stats` reads and a rebuild from the events gives again, number for number.
#[tokio::test]
async fn a_generated_history_is_counted_and_rebuilt_the_same() {
    let pg = motcua_store::testing::TestDb::postgres()
        .await
        .expect("PostgreSQL test database");
    let schema = pg.schema().unwrap().to_owned();
    let pg_url = format!(
        "{}?options=-c%20search_path%3D{schema}",
        motcua_store::testing::pg_url()
    );
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite:{}", dir.path().join("g.db").display());
    for url in [sqlite_url.as_str(), pg_url.as_str()] {
        let run = |args: &[&str]| {
            let mut all: Vec<&str> = args.to_vec();
            all.extend(["--database", url]);
            let o = Command::new(env!("CARGO_BIN_EXE_motcua"))
                .args(&all)
                .current_dir(dir.path())
                .env("MOTCUA_SECRET_KEY_FILE", pg.key_file())
                .output()
                .unwrap();
            assert!(o.status.success(), "{args:?}: {}", stderr(&o));
            serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
        };
        let g = run(&[
            "demo",
            "generate",
            "--dossiers",
            "600",
            "--years",
            "2",
            "--seed",
            "3",
            "--batch",
            "250",
        ]);
        assert_eq!(g["dossiers"], 600, "{g}");
        let report = |run: &dyn Fn(&[&str]) -> serde_json::Value| {
            run(&[ALL_TIME_REPORT, &["--group-by", "level"]].concat())
        };
        let before = report(&run);
        let t = &before["total"];
        let new: i64 = ["online", "counter", "postal"]
            .iter()
            .map(|c| t["new"][c].as_i64().unwrap())
            .sum();
        assert!(new > 550, "{t}");
        // Inter-agency child cases were made, and are counted only under their parent.
        assert!(g["child_cases"].as_u64().unwrap() > 0, "{g}");
        assert!(new <= 600, "{t}");
        let online = t["rates"]["online"]["value"].as_f64().unwrap();
        assert!((0.6..0.95).contains(&online), "online share {online}");
        let on_time = t["rates"]["on_time"]["value"].as_f64().unwrap();
        assert!((0.8..1.0).contains(&on_time), "on-time rate {on_time}");
        for n in ["refused", "withdrawn", "supplements_requested"] {
            assert!(t[n].as_i64().unwrap() > 0, "{n}: {t}");
        }
        assert!(t["resolved"]["late"].as_i64().unwrap() > 0, "{t}");
        assert!(
            t["rates"]["reuse"]["numerator"].as_i64().unwrap() > 0,
            "{t}"
        );
        assert!(
            t["satisfaction"]["very_satisfied"].as_i64().unwrap() > 0,
            "{t}"
        );
        let levels: Vec<&str> = before["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["key"]["level"].as_str().unwrap())
            .collect();
        assert!(
            levels.contains(&"commune") && levels.contains(&"province"),
            "{levels:?}"
        );
        let rebuilt = run(&["stats", "rebuild"]);
        assert_eq!(rebuilt["counted"], t["received"], "{rebuilt}");
        assert_eq!(report(&run), before, "a rebuild gives the same figures");
    }
}

/// `demo generate --lean` keeps the events of the open dossiers only: the figures are all
/// there, the audit records far fewer, and `stats rebuild` (which recomputes the figures from
/// the events) refuses to run on it, rather than losing the ended dossiers' figures.
#[tokio::test]
async fn a_lean_history_keeps_its_figures_and_refuses_a_rebuild() {
    let pg = motcua_store::testing::TestDb::postgres()
        .await
        .expect("PostgreSQL test database");
    let schema = pg.schema().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let mut records = Vec::new();
    for (i, lean) in [false, true].into_iter().enumerate() {
        // Each history in its own database (SQLite for the full one, PostgreSQL for the lean).
        let url = if lean {
            format!(
                "{}?options=-c%20search_path%3D{schema}",
                motcua_store::testing::pg_url()
            )
        } else {
            format!("sqlite:{}", dir.path().join(format!("g{i}.db")).display())
        };
        let run = |args: &[&str]| {
            let mut all: Vec<&str> = args.to_vec();
            all.extend(["--database", url.as_str()]);
            Command::new(env!("CARGO_BIN_EXE_motcua"))
                .args(&all)
                .current_dir(dir.path())
                .env("MOTCUA_SECRET_KEY_FILE", pg.key_file())
                .output()
                .unwrap()
        };
        let mut args = vec!["demo", "generate", "--dossiers", "400", "--seed", "5"];
        if lean {
            args.push("--lean");
        }
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = run(ALL_TIME_REPORT);
        assert!(o.status.success(), "{}", stderr(&o));
        let t = &serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["total"];
        let received = t["received"].as_i64().unwrap();
        assert!(received > 350, "{t}");
        let resolved: i64 = ["early", "on_time", "late"]
            .iter()
            .map(|k| t["resolved"][k].as_i64().unwrap())
            .sum();
        assert!(resolved > 300, "the ended dossiers are counted: {t}");
        // The full history agrees with its dossiers; the lean one is told apart: its ended
        // dossiers have no history to agree with.
        let o = run(&["audit", "verify"]);
        assert_eq!(o.status.success(), !lean, "{}", stderr(&o));
        if lean {
            assert!(
                stderr(&o).contains("no history in the audit log"),
                "{}",
                stderr(&o)
            );
        }
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        records.push(v["checked"].as_i64().unwrap() + v["unsealed"].as_i64().unwrap());
        let o = run(&["stats", "rebuild"]);
        if lean {
            assert!(
                !o.status.success(),
                "a rebuild of a lean history must refuse"
            );
            assert!(stderr(&o).contains("lean history"), "{}", stderr(&o));
        } else {
            assert!(o.status.success(), "{}", stderr(&o));
        }
    }
    assert!(
        records[1] * 3 < records[0],
        "the lean history keeps the events of open dossiers only: {records:?}"
    );
}
