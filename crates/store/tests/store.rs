//! Storage tests: every test runs on SQLite and on PostgreSQL, each on a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, TimeZone, Utc};
use motcua_domain::auth::Role;
use motcua_domain::calendar::{CalendarEntry, HolidayKey, YearTable};
use motcua_domain::catalogue::{CatalogueFormat, ImplLevel, parse_catalogue};
use motcua_domain::codes::AgencyCode;
use motcua_domain::units::{Agency, ReferenceFiles, UnitGraph, UnitLevel};
use motcua_store::{NewUser, ProcedureQuery, Store, StoreError, UnitQuery};

motcua_store::on_both!(motcua_store::testing::TestDb::start =>
    catalogue_import_and_search,
    bad_catalogue_imports_nothing,
    pagination_walks_everything,
    calendar_tables_seed_and_edit,
    units_keep_history,
    agencies_validate_references,
    users_and_tokens,
    audit_chain_detects_tampering,
    concurrent_sealers_keep_one_chain,
    upkeep_does_what_the_server_leaves_undone,
    cancelled_writes_leave_the_writer_whole,
);

fn reference_data(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../motcua/data")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn demo_catalogue() -> Vec<motcua_domain::catalogue::Procedure> {
    // Real rows from the national catalogue export.
    let data = reference_data("procedures_partial.csv");
    let mut lines = data.lines();
    let header = lines.next().unwrap();
    let wanted = [
        "1.004222", "1.004194", "1.001612", "1.000094", "1.000110", "1.000419", "1.003197",
    ];
    let body: Vec<&str> = lines
        .filter(|l| wanted.iter().any(|w| l.starts_with(w)))
        .collect();
    let csv = format!("{header}\n{}\n", body.join("\n"));
    parse_catalogue(CatalogueFormat::Csv, csv.as_bytes()).unwrap()
}

async fn catalogue_import_and_search(s: &Store) {
    let report = s.import_procedures(demo_catalogue(), &by()).await.unwrap();
    assert_eq!((report.inserted, report.updated), (7, 0));
    // Importing again updates in place.
    let report = s.import_procedures(demo_catalogue(), &by()).await.unwrap();
    assert_eq!((report.inserted, report.updated), (0, 7));

    let search = |q: &str| {
        let q = q.to_owned();
        async move {
            s.search_procedures(&ProcedureQuery {
                q: Some(q),
                ..Default::default()
            })
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|p| p.code.to_string())
            .collect::<Vec<_>>()
        }
    };
    // Diacritics- and case-insensitive, đ → d, every word must match.
    assert_eq!(search("khai sinh").await, vec!["1.000110"]);
    assert_eq!(search("KHAI SINH").await, vec!["1.000110"]);
    assert_eq!(search("dang ky khai sinh").await, vec!["1.000110"]);
    // "Xóa đăng ký thường trú" contains the words too.
    assert_eq!(
        search("Đăng ký thường trú").await,
        vec!["1.003197", "1.004222"]
    );
    assert_eq!(
        search("dang ky thuong tru").await,
        vec!["1.003197", "1.004222"]
    );
    assert_eq!(search("xoa dang ky").await, vec!["1.003197"]);
    assert_eq!(search("ho kinh doanh").await, vec!["1.001612"]);
    assert_eq!(search("1.004194").await, vec!["1.004194"]);
    assert!(search("khai sinh kết hôn").await.is_empty());
    assert_eq!(search("hộ tịch").await.len(), 3, "field matches too");

    let by_level = s
        .search_procedures(&ProcedureQuery {
            level: Some(ImplLevel::Ministry),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_level.items.len(), 1);

    let p = s.procedure("1.004222").await.unwrap();
    assert_eq!(p.name, "Đăng ký thường trú");
    assert!(matches!(
        s.procedure("9.999999").await,
        Err(StoreError::NotFound(_))
    ));

    // Unpublished procedures are hidden from the public search.
    let mut p2 = p.clone();
    p2.published = false;
    let (_, new) = s.upsert_procedure(p2, &by()).await.unwrap();
    assert!(!new);
    assert!(search("thuong tru").await.iter().all(|c| c != "1.004222"));
}

async fn bad_catalogue_imports_nothing(s: &Store) {
    let mut ps = demo_catalogue();
    ps[3].name = "   ".into();
    match s.import_procedures(ps, &by()).await {
        Err(StoreError::Import(errs)) => {
            assert_eq!(errs.len(), 1);
            assert_eq!(errs[0].line, 4);
        }
        other => panic!("expected import error, got {other:?}"),
    }
    let all = s
        .search_procedures(&ProcedureQuery::default())
        .await
        .unwrap();
    assert!(
        all.items.is_empty(),
        "nothing may be imported from a bad file"
    );
}

async fn pagination_walks_everything(s: &Store) {
    s.import_procedures(demo_catalogue(), &by()).await.unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = s
            .search_procedures(&ProcedureQuery {
                cursor: cursor.clone(),
                limit: Some(3),
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|p| p.code.to_string()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 7);
}

async fn calendar_tables_seed_and_edit(s: &Store) {
    let tables = s.calendar_tables().await.unwrap();
    assert_eq!(
        tables.iter().map(|t| t.year).collect::<Vec<_>>(),
        vec![2024, 2025, 2026]
    );
    let t2025 = tables.iter().find(|t| t.year == 2025).unwrap();
    assert!(
        t2025
            .entries
            .iter()
            .any(|e| e.key == HolidayKey::MakeupWorkday)
    );

    let edited = YearTable {
        year: 2026,
        source: "Sửa bởi quản trị (thử)".into(),
        entries: vec![CalendarEntry {
            date: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            key: HolidayKey::SwapOff,
            name: "Nghỉ hoán đổi".into(),
            note: None,
        }],
    };
    s.put_calendar_table(edited, &by()).await.unwrap();
    // Re-running migrations never overwrites an admin's edit.
    s.migrate().await.unwrap();
    let t = s.calendar_tables().await.unwrap();
    let t2026 = t.iter().find(|t| t.year == 2026).unwrap();
    assert_eq!(t2026.entries.len(), 1);

    let bad = YearTable {
        year: 2026,
        source: "x".into(),
        entries: vec![CalendarEntry {
            date: NaiveDate::from_ymd_opt(2027, 1, 2).unwrap(),
            key: HolidayKey::Tet,
            name: "x".into(),
            note: None,
        }],
    };
    assert!(matches!(
        s.put_calendar_table(bad, &by()).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(s.delete_calendar_table(2026, &by()).await.unwrap());
}

fn reference_graph(provinces: &[&str]) -> UnitGraph {
    let (p, c, pm, cm) = (
        reference_data("admin_units_2025_provinces.csv"),
        reference_data("admin_units_2025_communes.csv"),
        reference_data("admin_units_2025_province_mapping.csv"),
        reference_data("admin_units_2025_mapping.csv"),
    );
    UnitGraph::from_reference(&ReferenceFiles {
        provinces: &p,
        communes: &c,
        province_mapping: &pm,
        commune_mapping: &cm,
    })
    .unwrap()
    .only_provinces(provinces)
}

async fn units_keep_history(s: &Store) {
    // Tuyên Quang (08) = old Hà Giang (02) + old Tuyên Quang (08).
    let g = reference_graph(&["08"]);
    s.import_units(&g, &by()).await.unwrap();
    s.import_units(&g, &by()).await.unwrap(); // idempotent

    let today = NaiveDate::from_ymd_opt(2025, 8, 1).unwrap();
    let before = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    let provinces_now = s
        .units(&UnitQuery {
            level: Some(UnitLevel::Province),
            as_of: Some(today),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        provinces_now
            .items
            .iter()
            .map(|u| u.code.as_str())
            .collect::<Vec<_>>(),
        vec!["08"]
    );
    let provinces_then = s
        .units(&UnitQuery {
            level: Some(UnitLevel::Province),
            as_of: Some(before),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut codes: Vec<&str> = provinces_then
        .items
        .iter()
        .map(|u| u.code.as_str())
        .collect();
    codes.sort();
    assert_eq!(codes, vec!["02", "08"]);

    let old_ha_giang = provinces_then
        .items
        .iter()
        .find(|u| u.code == "02")
        .unwrap();
    let full = s.unit(old_ha_giang.id).await.unwrap();
    assert_eq!(full.successors.len(), 1);
    assert_eq!(full.successors[0].code, "08");
    let new_tq = s
        .current_unit(UnitLevel::Province, "08")
        .await
        .unwrap()
        .unwrap();
    let new_tq = s.unit(new_tq.id).await.unwrap();
    assert_eq!(new_tq.predecessors.len(), 2);

    // No district is valid after the reorganisation.
    let districts_now = s
        .units(&UnitQuery {
            level: Some(UnitLevel::District),
            as_of: Some(today),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(districts_now.items.is_empty());
    // Search ignores diacritics.
    let found = s
        .units(&UnitQuery {
            q: Some("ha giang".into()),
            as_of: Some(today),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        found
            .items
            .iter()
            .all(|u| u.level == UnitLevel::Commune && u.valid_to.is_none())
    );
    assert!(!found.items.is_empty());
    // Every current commune of province 08 has at least one predecessor, except new ones.
    let communes = s
        .units(&UnitQuery {
            level: Some(UnitLevel::Commune),
            as_of: Some(today),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(communes.items.len() > 100);
}

async fn agencies_validate_references(s: &Store) {
    let a = |code: &str, parent: Option<&str>| Agency {
        code: AgencyCode::parse(code).unwrap(),
        name: "Ủy ban nhân dân tỉnh".into(),
        parent_code: parent.map(|p| AgencyCode::parse(p).unwrap()),
        unit_code: Some("08".into()),
        one_stop_point: false,
        provenance: None,
    };
    let (_, new) = s
        .upsert_agency(a("000.00.00.H59", None), &by())
        .await
        .unwrap();
    assert!(new);
    let (_, new) = s
        .upsert_agency(a("000.00.00.H59", None), &by())
        .await
        .unwrap();
    assert!(!new);
    s.upsert_agency(a("000.00.01.H59", Some("000.00.00.H59")), &by())
        .await
        .unwrap();
    // A parent that does not exist is refused.
    assert!(matches!(
        s.upsert_agency(a("000.00.02.H59", Some("000.00.00.H60")), &by())
            .await,
        Err(StoreError::Invalid(_))
    ));
    let page = s
        .agencies(Some("uy ban"), Some("000.00.00.H59"), None, None, None)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(matches!(
        s.agency("000.00.09.H59").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn users_and_tokens(s: &Store) {
    let t0 = Utc.with_ymd_and_hms(2025, 1, 28, 2, 0, 0).unwrap();
    s.upsert_agency(
        Agency {
            code: AgencyCode::parse("000.00.00.H59").unwrap(),
            name: "UBND tỉnh".into(),
            parent_code: None,
            unit_code: None,
            one_stop_point: true,
            provenance: None,
        },
        &by(),
    )
    .await
    .unwrap();
    let nu = |username: &str, role, agency: Option<&str>| NewUser {
        username: username.into(),
        full_name: "Nguyễn Văn A".into(),
        password: "mat-khau-dai".into(),
        role,
        agency_code: agency.map(|a| AgencyCode::parse(a).unwrap()),
    };
    // A specialist must belong to an agency.
    assert!(matches!(
        s.create_user(
            nu("cv1", Role::Specialist, None),
            &motcua_store::ChangeBy::new("test", t0)
        )
        .await,
        Err(StoreError::Invalid(_))
    ));
    let u = s
        .create_user(
            nu("cv1", Role::Specialist, Some("000.00.00.H59")),
            &motcua_store::ChangeBy::new("test", t0),
        )
        .await
        .unwrap();
    assert!(matches!(
        s.create_user(
            nu("cv1", Role::Admin, None),
            &motcua_store::ChangeBy::new("test", t0)
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        s.authenticate("cv1", "sai-mat-khau")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.authenticate("nobody", "mat-khau-dai")
            .await
            .unwrap()
            .is_none()
    );
    let same = s
        .authenticate("cv1", "mat-khau-dai")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same, u);

    let (token, expires) = s
        .issue_token(&u, t0, chrono::Duration::hours(8))
        .await
        .unwrap();
    assert_eq!(expires, t0 + chrono::Duration::hours(8));
    assert_eq!(s.user_by_token(&token, t0).await.unwrap().unwrap().id, u.id);
    assert!(
        s.user_by_token(&token, expires).await.unwrap().is_none(),
        "expired at its expiry instant"
    );
    assert!(s.user_by_token("not-a-token", t0).await.unwrap().is_none());
    s.revoke_token(&token).await.unwrap();
    assert!(s.user_by_token(&token, t0).await.unwrap().is_none());
}

fn audit_record(i: i64) -> motcua_store::audit::AuditRecord {
    motcua_store::audit::AuditRecord {
        at: Utc.with_ymd_and_hms(2025, 1, 28, 2, 0, 0).unwrap() + chrono::Duration::seconds(i),
        actor: format!("canbo{i}"),
        entity: "dossier",
        entity_key: format!("000.01.31.H58-250128-{:04}", i + 1),
        action: "receive".into(),
        before: None,
        after: Some(format!("{{\"status\":\"received\",\"n\":{i}}}")),
        data: format!("{{\"n\":{i}}}"),
    }
}

async fn audit_chain_detects_tampering(s: &Store) {
    for i in 0..10 {
        s.record_audit(&audit_record(i)).await.unwrap();
    }
    assert_eq!(s.seal_audit().await.unwrap(), 10);
    let r = s.verify_audit().await.unwrap();
    assert_eq!((r.checked, r.head_seq, r.unsealed), (10, 10, 0));
    assert!(r.first_bad.is_none());
    // Written but not yet sealed: reported, not an error; sealing continues the chain.
    s.record_audit(&audit_record(10)).await.unwrap();
    assert_eq!(s.verify_audit().await.unwrap().unsealed, 1);
    assert_eq!(s.seal_audit().await.unwrap(), 1);
    let trail = s
        .audit_trail("dossier", "000.01.31.H58-250128-0004")
        .await
        .unwrap();
    assert_eq!(trail[0].seq, Some(4));

    let bad = |r: motcua_store::VerifyReport| r.first_bad.expect("tampering detected");
    // Edited content.
    s.execute_unchecked("UPDATE audit_log SET data = '{\"n\":99}' WHERE seq = 4")
        .await
        .unwrap();
    let b = bad(s.verify_audit().await.unwrap());
    assert_eq!(b.seq, 4);
    assert!(b.reason.contains("edited"), "{b:?}");
    s.execute_unchecked("UPDATE audit_log SET data = '{\"n\":3}' WHERE seq = 4")
        .await
        .unwrap();
    assert!(s.verify_audit().await.unwrap().first_bad.is_none());
    // An edited time is an edit too.
    s.execute_unchecked("UPDATE audit_log SET actor = 'ke-gian' WHERE seq = 9")
        .await
        .unwrap();
    assert_eq!(bad(s.verify_audit().await.unwrap()).seq, 9);
    s.execute_unchecked("UPDATE audit_log SET actor = 'canbo8' WHERE seq = 9")
        .await
        .unwrap();
    // Reordered records.
    for sql in [
        "UPDATE audit_log SET seq = -5 WHERE seq = 5",
        "UPDATE audit_log SET seq = 5 WHERE seq = 6",
        "UPDATE audit_log SET seq = 6 WHERE seq = -5",
    ] {
        s.execute_unchecked(sql).await.unwrap();
    }
    let b = bad(s.verify_audit().await.unwrap());
    assert_eq!(b.seq, 5);
    assert!(b.reason.contains("reordered"), "{b:?}");
    for sql in [
        "UPDATE audit_log SET seq = -5 WHERE seq = 5",
        "UPDATE audit_log SET seq = 5 WHERE seq = 6",
        "UPDATE audit_log SET seq = 6 WHERE seq = -5",
    ] {
        s.execute_unchecked(sql).await.unwrap();
    }
    assert!(s.verify_audit().await.unwrap().first_bad.is_none());
    // The last record deleted: the chain head still remembers it.
    s.execute_unchecked("DELETE FROM audit_log WHERE seq = 11")
        .await
        .unwrap();
    let b = bad(s.verify_audit().await.unwrap());
    assert_eq!(b.seq, 11);
    assert!(b.reason.contains("deleted at the end"), "{b:?}");
    // A record deleted in the middle is named before that.
    s.execute_unchecked("DELETE FROM audit_log WHERE seq = 7")
        .await
        .unwrap();
    let b = bad(s.verify_audit().await.unwrap());
    assert_eq!(b.seq, 7);
    assert!(b.reason.contains("missing"), "{b:?}");
}

/// Who makes the tests' changes of reference data, and when.
/// Writers append while two sealers run at once (as two processes would): every record gets
/// exactly one place in one chain, and the backlog names what is left.
async fn concurrent_sealers_keep_one_chain(s: &Store) {
    for i in 0..5 {
        s.record_audit(&audit_record(i)).await.unwrap();
    }
    let b = s.seal_backlog().await.unwrap();
    assert_eq!(b.unsealed, 5);
    assert_eq!(b.oldest_at, Some(audit_record(0).stored_at()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..150 {
                    s.record_audit(&audit_record(1000 * (w + 1) + i))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sealers: Vec<_> = (0..2)
        .map(|_| {
            let (s, done) = (s.clone(), done.clone());
            tokio::spawn(async move {
                let mut sealed = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    sealed += s.seal_audit().await.unwrap();
                    tokio::task::yield_now().await;
                }
                sealed
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut sealed = 0;
    for t in sealers {
        sealed += t.await.unwrap();
    }
    sealed += s.seal_audit().await.unwrap();
    assert_eq!(sealed, 605, "each record sealed once");
    let r = s.verify_audit().await.unwrap();
    assert!(r.is_intact(), "{r:?}");
    assert_eq!((r.checked, r.head_seq, r.unsealed), (605, 605, 0));
    let b = s.seal_backlog().await.unwrap();
    assert_eq!((b.unsealed, b.oldest_at), (0, None));
}

/// Writes whose callers go away at any point (a client that hangs up mid-request drops the
/// handler's future): each is all there or not at all, the next write is not stuck behind it,
/// and a failed statement does not poison the connection. On SQLite every write goes through
/// one long-lived connection, so this is where a transaction left open would stop them all.
async fn cancelled_writes_leave_the_writer_whole(s: &Store) {
    for i in 0..400 {
        s.record_audit(&audit_record(i)).await.unwrap();
    }
    // Sealing is a transaction (the head's compare-and-set, the chain's rows, the list's
    // rows struck off): cancel it at many different points.
    // 200 rounds: on PostgreSQL a sealer cancelled while its `BEGIN` was on the wire left
    // the pooled connection inside a transaction that the next borrower's writes joined and
    // a later rollback threw away (sqlx before 0.9.1); seen once in 40 rounds in CI.
    for round in 0..200u64 {
        let sealer = {
            let s = s.clone();
            tokio::spawn(async move { s.seal_audit().await })
        };
        tokio::time::sleep(std::time::Duration::from_micros((round % 40) * 150)).await;
        sealer.abort();
        let _ = sealer.await;
        let writer = {
            let s = s.clone();
            tokio::spawn(async move { s.record_audit(&audit_record(1000 + round as i64)).await })
        };
        tokio::task::yield_now().await;
        if round % 2 == 0 {
            writer.abort();
            let _ = writer.await;
        } else {
            writer.await.unwrap().unwrap();
        }
    }
    let bad = s.execute_unchecked("INSERT INTO no_such_table (id) VALUES (1)");
    assert!(bad.await.is_err());
    s.record_audit(&audit_record(5000)).await.unwrap();
    s.seal_audit().await.unwrap();
    let r = s.verify_audit().await.unwrap();
    assert!(r.is_intact(), "{r:?}");
    assert_eq!(r.unsealed, 0);
    // Every record written is sealed exactly once: 400, the 100 writes awaited, the last
    // one, and those of the 100 cancelled writes that had reached the database.
    assert!((501..=601).contains(&r.checked), "{}", r.checked);
    let b = s.seal_backlog().await.unwrap();
    assert_eq!(b.unsealed, 0);
}

/// A figure read back through the `meta` table (the store's one key-value read).
async fn scalar(s: &Store, sql: &str) -> i64 {
    s.execute_unchecked("DELETE FROM meta WHERE key = 'test_scalar'")
        .await
        .unwrap();
    s.execute_unchecked(&format!(
        "INSERT INTO meta (key, value) SELECT 'test_scalar', CAST(({sql}) AS TEXT)"
    ))
    .await
    .unwrap();
    s.meta("test_scalar")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap()
}

async fn upkeep_does_what_the_server_leaves_undone(s: &Store) {
    use motcua_store::maintenance::Upkeep;
    s.execute_unchecked("CREATE TABLE upkeep_probe (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
        .await
        .unwrap();
    s.execute_unchecked(
        "INSERT INTO upkeep_probe (id, v) \
         SELECT x, 0 FROM (WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n \
         WHERE x < 2000) SELECT x FROM n) AS n",
    )
    .await
    .unwrap();
    if s.backend() == motcua_store::Backend::Sqlite {
        let done = s.maintain().await.unwrap();
        assert_eq!(done, [("*".to_owned(), Upkeep::Optimize)]);
        let analyzed = "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'upkeep_probe'";
        assert_eq!(scalar(s, analyzed).await, 1, "statistics of the new table");
        return;
    }
    let on = "SELECT CASE current_setting('autovacuum') WHEN 'on' THEN 1 ELSE 0 END";
    if scalar(s, on).await == 1 {
        // The server's own autovacuum does it: nothing is done twice.
        assert_eq!(s.maintain().await.unwrap(), []);
        return;
    }
    // Every row updated: 2,000 dead versions, reported at once to the statistics.
    s.execute_unchecked(
        "DO $$ BEGIN UPDATE upkeep_probe SET v = v + 1; \
         PERFORM pg_stat_force_next_flush(); END $$",
    )
    .await
    .unwrap();
    let dead = "SELECT COALESCE(SUM(n_dead_tup), 0) FROM pg_stat_user_tables \
                WHERE relname = 'upkeep_probe' AND schemaname = current_schema()";
    let mut waited = 0;
    while scalar(s, dead).await < 2000 {
        assert!(waited < 100, "the statistics never saw the dead rows");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += 1;
    }
    let done = s.maintain().await.unwrap();
    let probe: Vec<Upkeep> = done
        .iter()
        .filter(|(t, _)| t == "upkeep_probe")
        .map(|(_, u)| *u)
        .collect();
    assert_eq!(probe, [Upkeep::VacuumAnalyze], "{done:?}");
    let vacuumed = "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'upkeep_probe' \
                    AND schemaname = current_schema() AND last_vacuum IS NOT NULL \
                    AND last_analyze IS NOT NULL";
    assert_eq!(scalar(s, vacuumed).await, 1);
}

fn by() -> motcua_store::ChangeBy {
    motcua_store::ChangeBy::new("test", Utc.with_ymd_and_hms(2025, 1, 28, 2, 0, 0).unwrap())
}
