//! `motcua worker` processes sharing one queue, on SQLite and PostgreSQL: a worker killed with
//! `kill -9` in the middle of a job has the job taken over by another worker once its lease
//! expires, and the job runs once more — idempotently: its effect is there exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use motcua_store::testing::TestDb;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

motcua_store::on_both!(motcua_store::testing::TestDb::start =>
    a_killed_worker_has_its_job_taken_over,
);

fn worker(db: &TestDb, id: &str, dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args([
            "worker",
            "--workers",
            "2",
            "--id",
            id,
            "--database",
            db.url(),
        ])
        .current_dir(dir)
        .env("MOTCUA_JOB_LEASE_SECONDS", "2")
        .env("MOTCUA_SECRET_KEY_FILE", db.key_file())
        .env("RUST_LOG", "warn,motcua=info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_for<T>(what: &str, secs: u64, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let t = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_killed_worker_has_its_job_taken_over(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    // A probe that takes 3 s (the lease is 2 s, renewed every ~0.7 s while it runs).
    let o = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args([
            "jobs",
            "probe",
            "--sleep-ms",
            "3000",
            "--database",
            db.url(),
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let store = &db.store;
    let id = store.jobs(None, Some("probe"), 10).await.unwrap()[0].id;

    let mut a = worker(db, "worker-a", dir.path());
    let running = wait_for("worker a to take the job", 60, async || {
        let j = store.job(id).await.unwrap();
        (j.state == "running" && j.locked_by.as_deref() == Some("worker-a")).then_some(j)
    })
    .await;
    assert_eq!(running.attempts, 1);
    // Killed mid-job: no chance to clean up.
    a.kill().unwrap();
    a.wait().unwrap();
    assert_eq!(
        store.meta(&format!("probe:{id}")).await.unwrap(),
        None,
        "it had not finished"
    );

    let mut b = worker(db, "worker-b", dir.path());
    let done = wait_for("worker b to take over and finish", 60, async || {
        let j = store.job(id).await.unwrap();
        (j.state == "done").then_some(j)
    })
    .await;
    b.kill().unwrap();
    b.wait().unwrap();
    assert_eq!(done.attempts, 2, "taken over once, run once more");
    assert_eq!(
        store.meta(&format!("probe:{id}")).await.unwrap().as_deref(),
        Some("done")
    );
    // Worker b also ran the recurring audit sealing while it lived.
    assert!(
        store
            .jobs(None, Some("audit.seal"), 10)
            .await
            .unwrap()
            .iter()
            .any(|j| j.state == "done" || j.state == "queued")
    );
}
