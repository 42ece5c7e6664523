//! The audit chain. Every change writes an [`AuditRecord`] in its own transaction; [`Store::seal_audit`]
//! later gives unsealed records (listed in `audit_unsealed` by a trigger) their place in one
//! SHA-256 chain (`seq`, `prev_hash`, `hash`), in set-based batches under a compare-and-set of
//! the chain head, so that writers never queue on it (the X-Road lesson).
//! [`Store::verify_audit`] recomputes the chain and names the first bad record.

use crate::{Result, Store, on_db, on_writer};
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use motcua_domain::mac;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A record to append.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// `dossier`, `process`, …
    pub entity: &'static str,
    pub entity_key: String,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub data: String,
}

/// The canonical text a record's MAC covers: its content, without its place in the chain.
#[allow(clippy::too_many_arguments)]
fn record_text(
    at: &DateTime<Utc>,
    actor: &str,
    entity: &str,
    entity_key: &str,
    action: &str,
    before: &Option<String>,
    after: &Option<String>,
    data: &str,
) -> String {
    serde_json::json!([
        at.to_rfc3339_opts(SecondsFormat::Micros, true),
        actor,
        entity,
        entity_key,
        action,
        before,
        after,
        data,
    ])
    .to_string()
}

impl AuditRecord {
    /// The instant as stored (both databases keep microseconds).
    pub fn stored_at(&self) -> DateTime<Utc> {
        self.at.trunc_subsecs(6)
    }

    /// The record's authentication code under `key`, computed by its writer: a row inserted
    /// by someone without the key carries none that verifies.
    pub fn mac(&self, key: &[u8]) -> String {
        mac::hmac_hex(
            key,
            record_text(
                &self.stored_at(),
                &self.actor,
                self.entity,
                &self.entity_key,
                &self.action,
                &self.before,
                &self.after,
                &self.data,
            )
            .as_bytes(),
        )
    }
}

/// A dossier row as read for the replay: code, status, current agency, assignee, due, document.
type DossierRow = (
    String,
    String,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
    String,
);

/// The `before` and `after` snapshots of one audit record.
type Transition<'a> = (Option<&'a str>, Option<&'a str>);

/// A dossier row as stored: its columns and its document.
struct RowState<'a> {
    status: &'a str,
    agency: &'a str,
    assignee: Option<&'a str>,
    due_at: Option<DateTime<Utc>>,
    data: &'a str,
}

/// What differs between a dossier's stored row and the replay of its history (`before` and
/// `after` snapshots of its audit records, oldest first).
fn replay_differences(history: &[Transition<'_>], row: RowState<'_>) -> Vec<String> {
    use motcua_domain::dossier::{Dossier, Snapshot};
    let mut out = Vec::new();
    let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<Snapshot>(s).ok());
    let mut state: Option<Snapshot> = None;
    for (i, (before, after)) in history.iter().enumerate() {
        let (before, after) = (parse(*before), parse(*after));
        if let (Some(prev), Some(b)) = (&state, &before)
            && prev != b
        {
            out.push(format!(
                "change {} starts from a state its previous change did not leave (status {} / {})",
                i + 1,
                b.status.as_str(),
                prev.status.as_str()
            ));
        }
        if after.is_some() {
            state = after;
        }
    }
    let Some(replayed) = state else {
        out.push("no history in the audit log".into());
        return out;
    };
    let mut differ = |what: &str, stored: String, history: String| {
        if stored != history {
            out.push(format!(
                "{what}: the row says «{stored}», its history says «{history}»"
            ));
        }
    };
    let show = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    let fields =
        |status: &str, agency: String, assignee: Option<&str>, due: Option<DateTime<Utc>>| {
            [
                ("status", status.to_owned()),
                ("current_agency", agency),
                ("assignee", assignee.unwrap_or_default().to_owned()),
                ("due_at", show(due)),
            ]
        };
    let history = fields(
        replayed.status.as_str(),
        replayed.agency.to_string(),
        replayed.assignee.as_deref(),
        replayed.due_at,
    );
    // The row's columns, then its stored document, each against the history.
    let columns = fields(row.status, row.agency.to_owned(), row.assignee, row.due_at);
    for ((what, stored), (_, h)) in columns.into_iter().zip(&history) {
        differ(what, stored, h.clone());
    }
    match serde_json::from_str::<Dossier>(row.data) {
        Ok(d) => {
            let document = fields(
                d.status.as_str(),
                d.current_agency.to_string(),
                d.assignee.as_deref(),
                d.due_at,
            );
            for ((what, stored), (_, h)) in document.into_iter().zip(&history) {
                differ(&format!("data.{what}"), stored, h.clone());
            }
        }
        Err(e) => out.push(format!("the stored document cannot be read: {e}")),
    }
    out
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// Place in the chain; absent until sealed.
    pub seq: Option<i64>,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub entity: String,
    pub entity_key: String,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub data: String,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
    /// The writer's authentication code (absent on records older than the keyed chain).
    #[serde(skip)]
    pub mac: Option<String>,
}

impl AuditEntry {
    /// SHA-256 over the record's content, its place and the previous hash: the chain's link
    /// before it was keyed (records sealed before the keyed chain began).
    pub fn compute_hash(&self, seq: i64, prev: &str) -> String {
        hex::encode(Sha256::digest(self.link_text(seq, prev).as_bytes()))
    }

    /// HMAC-SHA-256 under `key` over the record's content, its MAC, its place and the previous
    /// link: the chain's link since it is keyed.
    pub fn compute_keyed_hash(&self, seq: i64, prev: &str, key: &[u8]) -> String {
        let text = serde_json::json!([self.link_text(seq, prev), self.mac]).to_string();
        mac::hmac_hex(key, text.as_bytes())
    }

    fn link_text(&self, seq: i64, prev: &str) -> String {
        serde_json::json!([
            seq,
            self.id,
            self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            self.actor,
            self.entity,
            self.entity_key,
            self.action,
            self.before,
            self.after,
            self.data,
            prev,
        ])
        .to_string()
    }

    /// Whether the record's MAC is the one its content has under `key`.
    pub fn mac_ok(&self, key: &[u8]) -> bool {
        let expected = mac::hmac_hex(
            key,
            record_text(
                &self.at,
                &self.actor,
                &self.entity,
                &self.entity_key,
                &self.action,
                &self.before,
                &self.after,
                &self.data,
            )
            .as_bytes(),
        );
        self.mac
            .as_deref()
            .is_some_and(|m| mac::constant_time_eq(m.as_bytes(), expected.as_bytes()))
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Records checked in the chain.
    pub checked: i64,
    /// Records not sealed yet (written in the last moments, or sealing is not running).
    pub unsealed: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// The first record that is missing, edited, reordered or out of place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<BadRecord>,
    /// Every record whose authentication code does not verify: written into the database by
    /// someone without the server's key (sealed or not).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forged: Vec<BadRecord>,
    /// Dossiers checked against their history.
    pub dossiers_checked: i64,
    /// Every dossier whose stored row differs from what its history says.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dossier_mismatches: Vec<DossierMismatch>,
}

impl VerifyReport {
    /// Whether nothing was found wrong.
    pub fn is_intact(&self) -> bool {
        self.first_bad.is_none() && self.forged.is_empty() && self.dossier_mismatches.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadRecord {
    pub seq: i64,
    pub id: Option<i64>,
    pub reason: String,
}

/// A dossier whose stored row does not agree with the replay of its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DossierMismatch {
    pub code: String,
    /// What differs: `status: row says resolved, history says processing`.
    pub differences: Vec<String>,
}

pub(crate) const AUDIT_COLUMNS: &str =
    "id, seq, at, actor, entity, entity_key, action, before, after, data, prev_hash, hash, mac";

/// Appends `r` inside the caller's transaction.
macro_rules! append_audit {
    ($store:expr, $tx:expr, $r:expr) => {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, entity, entity_key, action, before, after, data, mac) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind($r.stored_at())
        .bind(&$r.actor)
        .bind($r.entity)
        .bind(&$r.entity_key)
        .bind(&$r.action)
        .bind(&$r.before)
        .bind(&$r.after)
        .bind(&$r.data)
        .bind($r.mac(&$store.audit_key[..]))
        .execute(&mut *$tx)
        .await
    };
}
pub(crate) use append_audit;

/// Appends `r`, the record of a change of reference data, and bumps the reference-data version
/// in the same transaction, so that every instance notices the change (see
/// [`Store::reference_version`]).
macro_rules! append_reference_change {
    ($store:expr, $tx:expr, $r:expr) => {{
        match $crate::audit::append_audit!($store, $tx, $r) {
            Ok(_) => {
                sqlx::query("UPDATE reference_version SET version = version + 1 WHERE id = 1")
                    .execute(&mut *$tx)
                    .await
            }
            Err(e) => Err(e),
        }
    }};
}
pub(crate) use append_reference_change;

/// Records linked per sealing transaction.
const SEAL_BATCH: usize = 4000;
/// Records per `UPDATE` statement (four bound values each).
const SEAL_CHUNK: usize = 1000;

/// How far the sealer is behind: records not yet in the chain, and the instant of the oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SealBacklog {
    pub unsealed: i64,
    pub oldest_at: Option<DateTime<Utc>>,
}

/// A record's place in the chain, as the sealer writes it.
struct Link {
    id: i64,
    seq: i64,
    prev_hash: String,
    hash: String,
}

impl Store {
    /// Appends one record on its own (for changes that are not dossier actions).
    pub async fn record_audit(&self, r: &AuditRecord) -> Result<()> {
        on_writer!(self, p => {
            append_audit!(self, p, r)?;
        });
        Ok(())
    }

    /// Seals every unsealed record; returns how many. Safe to run from several processes: a
    /// batch whose head another sealer moved meanwhile is linked again from the new head.
    pub async fn seal_audit(&self) -> Result<u64> {
        let mut total = 0;
        loop {
            match self.seal_batch().await? {
                Some((listed, sealed)) => {
                    total += sealed;
                    if listed < SEAL_BATCH {
                        return Ok(total);
                    }
                }
                // Another sealer moved the head: link again from where it left it.
                None => tokio::task::yield_now().await,
            }
        }
    }

    /// Seals the oldest unsealed records, set-based: the head and the records listed in
    /// `audit_unsealed` are read and linked (hashed) here, outside any transaction, then
    /// written in a few multi-row statements under a compare-and-set on the chain head, and
    /// struck off the list. Intake and tracking never wait on it: it takes no lock while it
    /// reads and hashes, and its write (on SQLite, the one writer's turn) lasts as long as
    /// those statements. Returns how many were listed and how many sealed (a listed record
    /// already sealed, or gone, is struck off), or `None` when another sealer moved the head
    /// or sealed one of the records in between (nothing was written).
    async fn seal_batch(&self) -> Result<Option<(usize, u64)>> {
        let key = self.audit_key.clone();
        let (seq0, hash0, keyed_from): (i64, String, i64) = on_db!(self, p => {
            sqlx::query_as("SELECT seq, hash, keyed_from_seq FROM audit_head WHERE id = 1")
                .fetch_one(p)
                .await?
        });
        let listed: Vec<i64> = on_db!(self, p => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM audit_unsealed ORDER BY id LIMIT {SEAL_BATCH}"
            )))
            .fetch_all(p)
            .await?
        });
        if listed.is_empty() {
            return Ok(Some((0, 0)));
        }
        let rows: Vec<AuditEntry> = on_db!(self, p => {
            let mut b = sqlx::QueryBuilder::new(format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq IS NULL AND id IN ("
            ));
            let mut ids = b.separated(", ");
            for id in &listed {
                ids.push_bind(*id);
            }
            b.push(") ORDER BY id");
            b.build_query_as().persistent(false).fetch_all(p).await?
        });
        let (mut seq, mut hash) = (seq0, hash0.clone());
        let links: Vec<Link> = rows
            .iter()
            .map(|r| {
                seq += 1;
                let h = if seq >= keyed_from {
                    r.compute_keyed_hash(seq, &hash, &key[..])
                } else {
                    r.compute_hash(seq, &hash)
                };
                Link {
                    id: r.id,
                    seq,
                    prev_hash: std::mem::replace(&mut hash, h.clone()),
                    hash: h,
                }
            })
            .collect();
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let moved = sqlx::query(
                "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4",
            )
            .bind(seq)
            .bind(&hash)
            .bind(seq0)
            .bind(&hash0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                tx.rollback().await?;
                return Ok(None);
            }
            let sealed = crate::insert_rows!(
                tx,
                "UPDATE audit_log SET seq = v.column2, prev_hash = v.column3, hash = v.column4 FROM (",
                &links,
                SEAL_CHUNK,
                ") AS v WHERE audit_log.id = v.column1 AND audit_log.seq IS NULL",
                |v, l| {
                    v.push_bind(l.id)
                        .push_bind(l.seq)
                        .push_bind(&l.prev_hash)
                        .push_bind(&l.hash);
                }
            );
            if sealed != links.len() as u64 {
                tx.rollback().await?;
                return Ok(None);
            }
            crate::insert_rows!(
                tx,
                "DELETE FROM audit_unsealed WHERE id IN (SELECT column1 FROM (",
                &listed,
                SEAL_CHUNK,
                ") AS v)",
                |v, id| {
                    v.push_bind(*id);
                }
            );
            tx.commit().await?;
            Ok(Some((listed.len(), sealed)))
        })
    }

    /// Vacuums the list of unsealed records (PostgreSQL; SQLite removes a deleted row's
    /// entries at once): the sealer deletes from its head thousands of ids a second, whose
    /// dead entries every read of the list walks past until a vacuum, and a server may run
    /// without autovacuum, or take long to reach such a small table. A few milliseconds.
    pub async fn vacuum_seal_list(&self) -> Result<()> {
        if let crate::Db::Postgres(p) = &self.db {
            // Without truncating the table's empty tail: that takes a lock every intake's
            // trigger would wait on (seen in the 1,000,000 soak: the vacuum waiting on
            // `VacuumTruncate` in most samples), for pages the next inserts reuse anyway.
            sqlx::query("VACUUM (TRUNCATE false) audit_unsealed")
                .execute(p)
                .await?;
        }
        Ok(())
    }

    /// Records not yet sealed into the chain, and the instant of the oldest (read from the
    /// list of unsealed records: its cost is the backlog's, not the log's).
    pub async fn seal_backlog(&self) -> Result<SealBacklog> {
        let (unsealed, oldest_at): (i64, Option<DateTime<Utc>>) = on_db!(self, p => {
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM audit_unsealed), (SELECT at FROM audit_log \
                 WHERE id = (SELECT MIN(id) FROM audit_unsealed))",
            )
            .fetch_one(p)
            .await?
        });
        Ok(SealBacklog {
            unsealed,
            oldest_at,
        })
    }

    /// Recomputes the whole chain with the key, checks every record's authentication code
    /// (sealed or not), and replays every dossier's history against its stored row.
    pub async fn verify_audit(&self) -> Result<VerifyReport> {
        let key = self.audit_key.clone();
        let (head_seq, head_hash, keyed_from, legacy_below): (i64, String, i64, i64) = on_db!(self, p => {
            sqlx::query_as("SELECT seq, hash, keyed_from_seq, legacy_below_id FROM audit_head WHERE id = 1")
                .fetch_one(p)
                .await?
        });
        let unsealed: i64 = on_db!(self, p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE seq IS NULL").fetch_one(p).await?
        });
        let mut report = VerifyReport {
            checked: 0,
            unsealed,
            head_seq,
            head_hash: head_hash.clone(),
            first_bad: None,
            forged: Vec::new(),
            dossiers_checked: 0,
            dossier_mismatches: Vec::new(),
        };
        let forged = |r: &AuditEntry| -> Option<BadRecord> {
            (r.id >= legacy_below && !r.mac_ok(&key[..])).then(|| BadRecord {
                seq: r.seq.unwrap_or_default(),
                id: Some(r.id),
                reason: format!(
                    "{} {} «{}»: its authentication code does not verify (written or changed \
                     in the database, not by motcua)",
                    r.entity, r.action, r.entity_key
                ),
            })
        };
        let bad = |seq: i64, id: Option<i64>, reason: String| Some(BadRecord { seq, id, reason });
        let mut expected = 1i64;
        let mut prev = GENESIS.to_owned();
        'outer: loop {
            let rows: Vec<AuditEntry> = on_db!(self, p => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 5000"
                )))
                .bind(expected)
                .fetch_all(p)
                .await?
            });
            if rows.is_empty() {
                break;
            }
            for r in rows {
                report.forged.extend(forged(&r));
                let seq = r.seq.unwrap_or_default();
                let link = if seq >= keyed_from {
                    r.compute_keyed_hash(seq, &prev, &key[..])
                } else {
                    r.compute_hash(seq, &prev)
                };
                let problem = if seq != expected {
                    Some(format!("record {expected} is missing (next is {seq})"))
                } else if r.prev_hash.as_deref() != Some(prev.as_str()) {
                    Some("does not follow the previous record (deleted or reordered)".to_owned())
                } else if r.hash.as_deref() != Some(link.as_str()) {
                    Some(
                        "content does not match its hash (edited, or sealed without the key)"
                            .to_owned(),
                    )
                } else {
                    None
                };
                if let Some(reason) = problem {
                    report.first_bad = bad(expected, Some(r.id), reason);
                    break 'outer;
                }
                prev = r.hash.unwrap_or_default();
                expected += 1;
                report.checked += 1;
            }
        }
        if report.first_bad.is_none() {
            if report.checked != head_seq {
                report.first_bad = bad(
                    report.checked + 1,
                    None,
                    format!(
                        "the chain ends at {} but its head says {head_seq} (records deleted at the end)",
                        report.checked
                    ),
                );
            } else if prev != head_hash {
                report.first_bad = bad(
                    head_seq,
                    None,
                    "the last record does not match the chain head".into(),
                );
            }
        }
        // Records not sealed yet must verify too (a row inserted a moment ago).
        let mut after_id = 0i64;
        loop {
            let rows: Vec<AuditEntry> = on_db!(self, p => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq IS NULL AND id > $1 ORDER BY id LIMIT 5000"
                )))
                .bind(after_id)
                .fetch_all(p)
                .await?
            });
            let Some(last) = rows.last() else { break };
            after_id = last.id;
            report.forged.extend(rows.iter().filter_map(&forged));
        }
        self.replay_dossiers(&mut report).await?;
        Ok(report)
    }

    /// Replays every dossier's history (its audit records, oldest first: each change must start
    /// from the state the previous one left) and compares the state it ends in with the stored
    /// row (its columns and its document), naming every difference.
    async fn replay_dossiers(&self, report: &mut VerifyReport) -> Result<()> {
        let mut after_code = String::new();
        loop {
            let rows: Vec<DossierRow> = on_db!(self, p => {
                sqlx::query_as(
                    "SELECT code, status, current_agency, assignee, due_at, data FROM dossiers \
                     WHERE code > $1 ORDER BY code LIMIT 1000",
                )
                .bind(&after_code)
                .fetch_all(p)
                .await?
            });
            let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
                return Ok(());
            };
            let (first, last) = (first.0.clone(), last.0.clone());
            let trail: Vec<(String, Option<String>, Option<String>)> = on_db!(self, p => {
                sqlx::query_as(
                    "SELECT entity_key, before, after FROM audit_log WHERE entity = 'dossier' \
                     AND entity_key >= $1 AND entity_key <= $2 ORDER BY entity_key, id",
                )
                .bind(&first)
                .bind(&last)
                .fetch_all(p)
                .await?
            });
            let mut by_code: std::collections::HashMap<&str, Vec<Transition<'_>>> =
                std::collections::HashMap::new();
            for (k, b, a) in &trail {
                by_code
                    .entry(k.as_str())
                    .or_default()
                    .push((b.as_deref(), a.as_deref()));
            }
            for (code, status, agency, assignee, due_at, data) in &rows {
                report.dossiers_checked += 1;
                let history = by_code
                    .get(code.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let differences = replay_differences(
                    history,
                    RowState {
                        status,
                        agency,
                        assignee: assignee.as_deref(),
                        due_at: *due_at,
                        data,
                    },
                );
                if !differences.is_empty() {
                    report.dossier_mismatches.push(DossierMismatch {
                        code: code.clone(),
                        differences,
                    });
                }
            }
            after_code = last;
        }
    }

    /// The audit records of one entity, oldest first.
    pub async fn audit_trail(&self, entity: &str, key: &str) -> Result<Vec<AuditEntry>> {
        Ok(on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE entity = $1 AND entity_key = $2 ORDER BY id"
            )))
            .bind(entity)
            .bind(key)
            .fetch_all(p)
            .await?
        }))
    }
}
