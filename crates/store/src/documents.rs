//! The official-document register (văn bản đến / đi): each agency's books of incoming and
//! outgoing documents, numbered per agency, book and year. An outgoing document is signed (the
//! `document.sign` job) and then delivered, in the same transaction that marks it sent, to the
//! recipient agency's incoming book when that agency uses motcua.

use crate::warehouse::register_blob;
use crate::{ChangeBy, Result, Store, StoreError, on_db, on_writer};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use motcua_domain::Msg;
use serde::Serialize;
use sqlx::QueryBuilder;

/// The job that signs an outgoing document and delivers it (payload `{"id"}`).
pub const DOCUMENT_SIGN_JOB: &str = "document.sign";

/// A document of a register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OfficialDocument {
    pub id: i64,
    /// The agency whose book it is in.
    pub agency_code: String,
    /// `in` (văn bản đến) or `out` (văn bản đi).
    pub direction: String,
    pub year: i32,
    /// Its number in the book (per agency, book and year).
    pub number: i32,
    /// Number and symbol, e.g. `12/UBND-VP`.
    pub symbol: String,
    #[schema(value_type = String, format = Date)]
    pub issued_on: NaiveDate,
    /// The issuing agency (incoming) or the recipient (outgoing).
    pub other_party: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_agency_code: Option<String>,
    pub subject: String,
    /// Who signs (outgoing: the leader's user name) or signed (incoming: as written).
    pub signer: String,
    pub file_name: String,
    pub size: i64,
    /// `signing`, `sent`, `received` or `failed`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Incoming: what verifying its signatures on arrival found (JSON array of reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    /// A delivered copy: the outgoing document it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<i64>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub sha256: String,
}

const COLUMNS: &str = "id, agency_code, direction, year, number, symbol, issued_on, other_party, \
                       other_agency_code, subject, signer, file_name, size, state, reason, \
                       verification, source_id, created_by, created_at, sha256";

/// A document to enter in a book.
#[derive(Debug, Clone)]
pub struct NewOfficialDocument {
    pub agency_code: String,
    pub direction: &'static str,
    /// The symbol after the number (`UBND-VP`); the number is the book's next.
    pub symbol_suffix: String,
    /// For an incoming document, its own number and symbol as written on it.
    pub symbol: Option<String>,
    pub issued_on: NaiveDate,
    pub other_party: String,
    pub other_agency_code: Option<String>,
    pub subject: String,
    pub signer: String,
    pub file_name: String,
    pub sha256: String,
    pub size: i64,
    pub state: &'static str,
    pub verification: Option<String>,
    pub source_id: Option<i64>,
}

/// What a book holds over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DocumentCounts {
    pub incoming: i64,
    pub outgoing: i64,
    /// Outgoing documents signed and sent.
    pub outgoing_signed: i64,
}

fn search_text(d: &NewOfficialDocument, symbol: &str) -> String {
    motcua_domain::text::fold(&format!(
        "{symbol} {} {} {} {}",
        d.subject, d.other_party, d.signer, d.file_name
    ))
}

macro_rules! insert_document {
    ($tx:expr, $d:expr, $by:expr) => {{
        let d: &NewOfficialDocument = $d;
        let year = d.issued_on.year();
        let (number,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(MAX(number), 0) + 1 AS BIGINT) FROM official_documents \
             WHERE agency_code = $1 AND direction = $2 AND year = $3",
        )
        .bind(&d.agency_code)
        .bind(d.direction)
        .bind(year)
        .fetch_one(&mut *$tx)
        .await?;
        let symbol = match &d.symbol {
            Some(s) => s.clone(),
            None if d.symbol_suffix.is_empty() => number.to_string(),
            None => format!("{number}/{}", d.symbol_suffix),
        };
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO official_documents (agency_code, direction, year, number, symbol, issued_on, \
             other_party, other_agency_code, subject, signer, file_name, sha256, size, state, \
             verification, source_id, search_text, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
             RETURNING id",
        )
        .bind(&d.agency_code)
        .bind(d.direction)
        .bind(year)
        .bind(number)
        .bind(&symbol)
        .bind(d.issued_on)
        .bind(&d.other_party)
        .bind(&d.other_agency_code)
        .bind(&d.subject)
        .bind(&d.signer)
        .bind(&d.file_name)
        .bind(&d.sha256)
        .bind(d.size)
        .bind(d.state)
        .bind(&d.verification)
        .bind(d.source_id)
        .bind(search_text(d, &symbol))
        .bind(&$by.actor)
        .bind($by.at)
        .fetch_one(&mut *$tx)
        .await?;
        id
    }};
}

impl Store {
    /// Enters a document in its book with the book's next number (its content already stored
    /// under `sha256`), its audit record, and — for an outgoing document to sign — the
    /// `document.sign` job, in one transaction.
    pub async fn register_document(
        &self,
        d: &NewOfficialDocument,
        by: &ChangeBy,
    ) -> Result<OfficialDocument> {
        let id: i64 = on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            register_blob!(tx, &d.sha256, d.size, by.at)?;
            let id = insert_document!(tx, d, by);
            let record = by.record("official_document", &id.to_string(), "register", None, None,
                serde_json::json!({ "direction": d.direction, "subject": d.subject, "agency_code": d.agency_code }));
            crate::audit::append_audit!(self, tx, record)?;
            if d.state == "signing" {
                let job = crate::jobs::NewJob::new(DOCUMENT_SIGN_JOB, &serde_json::json!({"id": id}), by.at)
                    .unique(format!("{DOCUMENT_SIGN_JOB}:{id}"));
                crate::jobs::enqueue!(tx, &job, by.at)?;
            }
            tx.commit().await?;
            id
        });
        self.official_document(id).await
    }

    /// Marks outgoing document `id` signed and sent (the signed content stored under
    /// `sha256`), and delivers it — in the same transaction — to the recipient's incoming book
    /// as `delivered` says (with its verification), when the recipient uses motcua.
    pub async fn document_sent(
        &self,
        id: i64,
        sha256: &str,
        size: i64,
        delivered: Option<&NewOfficialDocument>,
        by: &ChangeBy,
    ) -> Result<()> {
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            register_blob!(tx, sha256, size, by.at)?;
            let n = sqlx::query(
                "UPDATE official_documents SET state = 'sent', sha256 = $2, size = $3, reason = NULL \
                 WHERE id = $1 AND state = 'signing'",
            )
            .bind(id)
            .bind(sha256)
            .bind(size)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                if let Some(d) = delivered {
                    insert_document!(tx, d, by);
                }
                let record = by.record("official_document", &id.to_string(), "send", None, None,
                    serde_json::json!({ "sha256": sha256, "delivered_to": delivered.map(|d| d.agency_code.clone()) }));
                crate::audit::append_audit!(self, tx, record)?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Sets a document's state (`failed`, with the reason).
    pub async fn set_document_state(
        &self,
        id: i64,
        state: &str,
        reason: Option<&str>,
    ) -> Result<()> {
        on_writer!(self, p => {
            sqlx::query("UPDATE official_documents SET state = $2, reason = $3 WHERE id = $1 AND state = 'signing'")
                .bind(id)
                .bind(state)
                .bind(reason)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// One document.
    pub async fn official_document(&self, id: i64) -> Result<OfficialDocument> {
        let row: Option<OfficialDocument> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM official_documents WHERE id = $1")))
                .bind(id)
                .fetch_optional(p)
                .await?
        });
        row.ok_or_else(|| {
            StoreError::NotFound(Msg::new(
                format!("Không có văn bản {id}"),
                format!("no official document {id}"),
            ))
        })
    }

    /// An agency's book (`in` or `out`, or both), newest first: the documents whose text holds
    /// every word of `q` (without diacritics), issued within `[from, to]` (at most 500).
    pub async fn official_documents(
        &self,
        agency: &str,
        direction: Option<&str>,
        q: Option<&str>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<OfficialDocument>> {
        let words: Vec<String> = q
            .map(motcua_domain::text::fold)
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        Ok(on_db!(self, p => {
            let mut b = QueryBuilder::new(format!("SELECT {COLUMNS} FROM official_documents WHERE agency_code = "));
            b.push_bind(agency.to_owned());
            if let Some(d) = direction {
                b.push(" AND direction = ").push_bind(d.to_owned());
            }
            for w in &words {
                b.push(" AND search_text LIKE ").push_bind(format!("%{w}%"));
            }
            if let Some(f) = from {
                b.push(" AND issued_on >= ").push_bind(f);
            }
            if let Some(t) = to {
                b.push(" AND issued_on <= ").push_bind(t);
            }
            b.push(" ORDER BY issued_on DESC, id DESC LIMIT 500");
            b.build_query_as().fetch_all(p).await?
        }))
    }

    /// How many documents an agency's books hold over `[from, to]`.
    pub async fn document_counts(
        &self,
        agency: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<DocumentCounts> {
        let rows: Vec<(String, String, i64)> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT direction, state, COUNT(*) FROM official_documents \
                 WHERE agency_code = $1 AND issued_on >= $2 AND issued_on <= $3 GROUP BY direction, state",
            )
            .bind(agency)
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await?
        });
        let mut c = DocumentCounts::default();
        for (direction, state, n) in rows {
            match direction.as_str() {
                "in" => c.incoming += n,
                _ => {
                    c.outgoing += n;
                    if state == "sent" {
                        c.outgoing_signed += n;
                    }
                }
            }
        }
        Ok(c)
    }
}
