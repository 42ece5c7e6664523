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
    let csv = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/procedures_partial.csv");
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
