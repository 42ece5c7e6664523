//! Which dossiers changed, for the caches of every instance: on PostgreSQL a listener on the
//! `motcua_dossier` channel (a trigger announces every committed change); on SQLite the
//! audit records written since a given record (ids follow commit order under one writer).

use crate::{Db, Result, Store};

/// A source of dossier-change notices.
pub enum DossierChanges {
    /// PostgreSQL: notifications as they are committed.
    Listener(Box<sqlx::postgres::PgListener>),
    /// SQLite: poll the audit log after this record id.
    Poll { after: i64 },
}

/// What a source reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// These dossiers changed: their codes and new versions.
    Codes(Vec<(String, i64)>),
    /// Notices may have been missed (a lost connection): forget everything.
    Unknown,
}

impl Store {
    /// A source of dossier-change notices, starting now.
    pub async fn dossier_changes(&self) -> Result<DossierChanges> {
        match &self.db {
            Db::Postgres(p) => {
                let mut l = sqlx::postgres::PgListener::connect_with(p).await?;
                l.listen("motcua_dossier").await?;
                Ok(DossierChanges::Listener(Box::new(l)))
            }
            Db::Sqlite(p) => {
                let after: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(id) FROM audit_log WHERE entity = 'dossier'")
                        .fetch_one(p)
                        .await?;
                Ok(DossierChanges::Poll {
                    after: after.unwrap_or(0),
                })
            }
        }
    }

    /// Waits for the next notices (PostgreSQL), or reads those since the last look (SQLite,
    /// after `poll` has passed).
    pub async fn next_dossier_changes(
        &self,
        src: &mut DossierChanges,
        poll: std::time::Duration,
    ) -> Result<Changed> {
        match src {
            DossierChanges::Listener(l) => match l.try_recv().await? {
                Some(n) => {
                    let mut codes = vec![notice(n.payload())];
                    // Take whatever else is already there.
                    while let Some(n) = l.next_buffered() {
                        codes.push(notice(n.payload()));
                    }
                    Ok(Changed::Codes(codes))
                }
                None => Ok(Changed::Unknown),
            },
            DossierChanges::Poll { after } => {
                tokio::time::sleep(poll).await;
                let Db::Sqlite(p) = &self.db else {
                    return Ok(Changed::Unknown);
                };
                // The records after `after` from the index of dossier records, named: with
                // the statistics of a large table (`PRAGMA optimize`), SQLite preferred
                // reading every dossier record from `audit_log_entity`, which covers the
                // columns, and sorting them: 1.1–2 s a poll at 1,000,000 dossiers, on a read
                // connection, several times a second.
                let rows: Vec<(i64, String, i64)> = sqlx::query_as(
                    "SELECT a.id, a.entity_key, COALESCE(d.version, 0) \
                     FROM audit_log a INDEXED BY audit_log_dossier_changes \
                     LEFT JOIN dossiers d ON d.code = a.entity_key \
                     WHERE a.entity = 'dossier' AND a.id > $1 ORDER BY a.id LIMIT 10000",
                )
                .bind(*after)
                .fetch_all(p)
                .await?;
                if let Some((id, _, _)) = rows.last() {
                    *after = *id;
                }
                Ok(Changed::Codes(
                    rows.into_iter().map(|r| (r.1, r.2)).collect(),
                ))
            }
        }
    }
}

/// `CODE VERSION` as the trigger sends it (a notice without a version counts as newest).
fn notice(payload: &str) -> (String, i64) {
    match payload.rsplit_once(' ') {
        Some((code, v)) => (code.to_owned(), v.parse().unwrap_or(i64::MAX)),
        None => (payload.to_owned(), i64::MAX),
    }
}
