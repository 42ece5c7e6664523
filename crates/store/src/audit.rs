//! The audit chain. Every change writes an [`AuditRecord`] in its own transaction; [`Store::seal_audit`]
//! later gives unsealed records their place in one SHA-256 chain (`seq`, `prev_hash`, `hash`),
//! in batches under a short lock on the chain head, so that writers never queue on it (the
//! X-Road lesson). [`Store::verify_audit`] recomputes the chain and names the first bad record.

use crate::{Result, Store, on_db};
use chrono::{DateTime, SecondsFormat, Utc};
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
}

impl AuditEntry {
    /// SHA-256 over the record's content, its place and the previous hash.
    pub fn compute_hash(&self, seq: i64, prev: &str) -> String {
        let canonical = serde_json::json!([
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
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadRecord {
    pub seq: i64,
    pub id: Option<i64>,
    pub reason: String,
}

pub(crate) const AUDIT_COLUMNS: &str =
    "id, seq, at, actor, entity, entity_key, action, before, after, data, prev_hash, hash";

/// Appends `r` inside the caller's transaction.
macro_rules! append_audit {
    ($tx:expr, $r:expr) => {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, entity, entity_key, action, before, after, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind($r.at)
        .bind(&$r.actor)
        .bind($r.entity)
        .bind(&$r.entity_key)
        .bind(&$r.action)
        .bind(&$r.before)
        .bind(&$r.after)
        .bind(&$r.data)
        .execute(&mut *$tx)
        .await
    };
}
pub(crate) use append_audit;

/// Appends `r`, the record of a change of reference data, and bumps the reference-data version
/// in the same transaction, so that every instance notices the change (see
/// [`Store::reference_version`]).
macro_rules! append_reference_change {
    ($tx:expr, $r:expr) => {{
        match $crate::audit::append_audit!($tx, $r) {
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

const SEAL_BATCH: i64 = 2000;

impl Store {
    /// Appends one record on its own (for changes that are not dossier actions).
    pub async fn record_audit(&self, r: &AuditRecord) -> Result<()> {
        let _turn = self.write_turn().await;
        on_db!(self, p => {
            let mut c = p.acquire().await?;
            append_audit!(c, r)?;
        });
        Ok(())
    }

    /// Seals every unsealed record; returns how many. Safe to run from several processes: they
    /// take turns on the chain head.
    pub async fn seal_audit(&self) -> Result<u64> {
        let mut total = 0;
        loop {
            let n = self.seal_batch().await?;
            total += n;
            if n < SEAL_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    async fn seal_batch(&self) -> Result<u64> {
        let _turn = self.write_turn().await;
        on_db!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            // A write first: it takes the head's lock (and SQLite's write lock) at once.
            let (mut seq, mut hash): (i64, String) = sqlx::query_as(
                "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash",
            )
            .fetch_one(&mut *tx)
            .await?;
            let rows: Vec<AuditEntry> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT {SEAL_BATCH}"
            )))
            .fetch_all(&mut *tx)
            .await?;
            for r in &rows {
                seq += 1;
                let h = r.compute_hash(seq, &hash);
                sqlx::query("UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4")
                    .bind(seq)
                    .bind(&hash)
                    .bind(&h)
                    .bind(r.id)
                    .execute(&mut *tx)
                    .await?;
                hash = h;
            }
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(seq)
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(rows.len() as u64)
        })
    }

    /// Recomputes the whole chain.
    pub async fn verify_audit(&self) -> Result<VerifyReport> {
        let (head_seq, head_hash): (i64, String) = on_db!(self, p => {
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await?
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
                let seq = r.seq.unwrap_or_default();
                let problem = if seq != expected {
                    Some(format!("record {expected} is missing (next is {seq})"))
                } else if r.prev_hash.as_deref() != Some(prev.as_str()) {
                    Some("does not follow the previous record (deleted or reordered)".to_owned())
                } else if r.hash.as_deref() != Some(r.compute_hash(seq, &prev).as_str()) {
                    Some("content does not match its hash (edited)".to_owned())
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
        Ok(report)
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
