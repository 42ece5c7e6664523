//! Digitisation results and the applicants' electronic data warehouse: a confirmed file
//! becomes an electronic copy with a digitisation result code, kept per applicant; the typed
//! digitisation events (digitised, reused, signed) feed the statistics.

use crate::{ChangeBy, Result, Store, StoreError, on_db, on_writer};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::Msg;
use motcua_domain::codes::AgencyCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The job that signs a confirmed document's electronic copy (payload `{"code"}`).
pub const COPY_SIGN_JOB: &str = "copy.sign";

/// A typed digitisation event (for the statistics: rates over any period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DigitisationEvent {
    /// A dossier's component was digitised (confirmed by an officer).
    ComponentDigitised,
    /// A result was digitised.
    ResultDigitised,
    /// A warehouse document was taken instead of a paper or an upload.
    Reused,
    /// An electronic copy was signed (no longer *scan only*).
    Signed,
}

impl DigitisationEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            DigitisationEvent::ComponentDigitised => "component_digitised",
            DigitisationEvent::ResultDigitised => "result_digitised",
            DigitisationEvent::Reused => "reused",
            DigitisationEvent::Signed => "signed",
        }
    }
}

/// An electronic copy in an applicant's warehouse.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DigitisedDocument {
    /// The digitisation result code.
    pub code: String,
    /// The citizen ID or tax code of the applicant it belongs to.
    pub applicant_id: String,
    pub file_id: i64,
    /// The dossier it was digitised in.
    pub dossier_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_index: Option<i32>,
    /// `component` or `result`.
    pub source: String,
    /// What it is (the component's name, or the result's).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_kind: Option<String>,
    /// The fields the officer confirmed.
    pub fields: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<NaiveDate>,
    /// `false`: a scan only, not yet a signed electronic copy.
    pub signed: bool,
    pub confirmed_by: String,
    pub confirmed_at: DateTime<Utc>,
    /// Who signed the electronic copy (the officer who confirmed it), and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<DateTime<Utc>>,
    /// SHA-256 of the signed PDF (the copy served once signed).
    #[serde(skip)]
    pub signed_sha256: Option<String>,
}

/// A document to record.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub applicant_id: String,
    pub file_id: i64,
    pub dossier_code: String,
    pub component_index: Option<i32>,
    pub source: &'static str,
    pub name: String,
    pub document_kind: Option<String>,
    pub fields: BTreeMap<String, String>,
    pub valid_until: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct DocRow {
    code: String,
    applicant_id: String,
    file_id: i64,
    dossier_code: String,
    component_index: Option<i32>,
    source: String,
    name: String,
    document_kind: Option<String>,
    fields: String,
    valid_until: Option<NaiveDate>,
    signed: bool,
    confirmed_by: String,
    confirmed_at: DateTime<Utc>,
    signed_by: Option<String>,
    signed_at: Option<DateTime<Utc>>,
    signed_sha256: Option<String>,
}

impl From<DocRow> for DigitisedDocument {
    fn from(r: DocRow) -> Self {
        DigitisedDocument {
            code: r.code,
            applicant_id: r.applicant_id,
            file_id: r.file_id,
            dossier_code: r.dossier_code,
            component_index: r.component_index,
            source: r.source,
            name: r.name,
            document_kind: r.document_kind,
            fields: serde_json::from_str(&r.fields).unwrap_or_default(),
            valid_until: r.valid_until,
            signed: r.signed,
            confirmed_by: r.confirmed_by,
            confirmed_at: r.confirmed_at,
            signed_by: r.signed_by,
            signed_at: r.signed_at,
            signed_sha256: r.signed_sha256,
        }
    }
}

const DOC_COLUMNS: &str = "code, applicant_id, file_id, dossier_code, component_index, source, name, \
                           document_kind, fields, valid_until, signed, confirmed_by, confirmed_at, \
                           signed_by, signed_at, signed_sha256";

/// Records a digitisation event inside a transaction.
macro_rules! digitisation_event {
    ($tx:expr, $kind:expr, $at:expr, $agency:expr, $dossier:expr, $component:expr, $doc:expr, $actor:expr) => {
        async {
            let done = sqlx::query(
                "INSERT INTO digitisation_events (kind, at, agency_code, dossier_code, component_index, \
                 document_code, actor) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind($kind)
            .bind($at)
            .bind($agency)
            .bind($dossier)
            .bind($component)
            .bind($doc)
            .bind($actor)
            .execute(&mut *$tx)
            .await?;
            // The dossier's digitisation and reuse figures follow.
            $crate::stats::touch_stats!($tx, $dossier);
            Ok::<_, $crate::StoreError>(done)
        }
        .await
    };
}
pub(crate) use digitisation_event;

/// The next digitisation result code of `agency` on `day` (the day's counter, in the
/// transaction).
macro_rules! next_result_code {
    ($tx:expr, $agency:expr, $day:expr) => {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO digitisation_counters (agency_code, day, last) VALUES ($1, $2, 1) \
             ON CONFLICT (agency_code, day) DO UPDATE SET last = digitisation_counters.last + 1 \
             RETURNING last",
        )
        .bind($agency.as_str())
        .bind($day.to_string())
        .fetch_one(&mut *$tx)
        .await
        .map(|n| motcua_domain::digitisation::result_code($agency, $day, n))
    };
}
pub(crate) use next_result_code;

/// Records a stored content (a signed PDF) in `blobs`, once.
macro_rules! register_blob {
    ($tx:expr, $sha:expr, $size:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO blobs (sha256, size, kind, created_at) VALUES ($1, $2, 'pdf', $3) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind($sha)
        .bind($size)
        .bind($at)
        .execute(&mut *$tx)
        .await
    };
}
pub(crate) use register_blob;

impl Store {
    /// Records a confirmed file as an electronic copy with a new digitisation result code of
    /// `agency`, its `component_digitised` / `result_digitised` event and its audit record, in
    /// one transaction. A file is confirmed once (409 the second time).
    pub async fn confirm_document(
        &self,
        doc: NewDocument,
        agency: &AgencyCode,
        day: NaiveDate,
        by: &ChangeBy,
    ) -> Result<DigitisedDocument> {
        let fields = serde_json::to_string(&doc.fields).unwrap_or_else(|_| "{}".into());
        let kind = if doc.source == "result" {
            DigitisationEvent::ResultDigitised
        } else {
            DigitisationEvent::ComponentDigitised
        };
        let code = on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let code = next_result_code!(tx, agency, day)?;
            sqlx::query(
                "INSERT INTO digitised_documents (code, applicant_id, file_id, dossier_code, component_index, \
                 source, name, name_folded, document_kind, fields, valid_until, signed, confirmed_by, confirmed_at, \
                 search_text) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, FALSE, $12, $13, $14)",
            )
            .bind(&code)
            .bind(&doc.applicant_id)
            .bind(doc.file_id)
            .bind(&doc.dossier_code)
            .bind(doc.component_index)
            .bind(doc.source)
            .bind(&doc.name)
            .bind(motcua_domain::text::fold(&doc.name))
            .bind(&doc.document_kind)
            .bind(&fields)
            .bind(doc.valid_until)
            .bind(&by.actor)
            .bind(by.at)
            .bind(document_search_text(&code, &doc.name, &doc.fields))
            .execute(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict(Msg::new(
                    "Tệp này đã được xác nhận số hóa",
                    "this file was already confirmed as digitised",
                )),
                e => e,
            })?;
            digitisation_event!(tx, kind.as_str(), by.at, agency.as_str(), &doc.dossier_code,
                doc.component_index, &code, &by.actor)?;
            let record = by.record(
                "digitised_document",
                &code,
                "confirm",
                None,
                None,
                serde_json::json!({
                    "file_id": doc.file_id, "dossier_code": doc.dossier_code,
                    "component_index": doc.component_index, "applicant_id": doc.applicant_id,
                    "name": doc.name, "fields": doc.fields,
                }),
            );
            crate::audit::append_audit!(self, tx, record)?;
            // The electronic copy is signed by the confirming officer, as a job (a remote
            // signer approves on their device).
            let job = crate::jobs::NewJob::new(COPY_SIGN_JOB, &serde_json::json!({"code": code}), by.at)
                .unique(format!("{COPY_SIGN_JOB}:{code}"));
            crate::jobs::enqueue!(tx, &job, by.at)?;
            tx.commit().await?;
            code
        });
        self.document(&code).await
    }

    /// Records the signed electronic copy of document `code` (its content already stored
    /// under `sha256`): no longer *scan only*; a `signed` digitisation event and an audit
    /// record. Once only: `false` when it was already signed.
    pub async fn mark_document_signed(
        &self,
        code: &str,
        sha256: &str,
        size: i64,
        agency: &AgencyCode,
        by: &ChangeBy,
    ) -> Result<bool> {
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            register_blob!(tx, sha256, size, by.at)?;
            let row: Option<(String, Option<i32>)> = sqlx::query_as(
                "UPDATE digitised_documents SET signed = TRUE, signed_sha256 = $2, signed_by = $3, \
                 signed_at = $4 WHERE code = $1 AND signed = FALSE RETURNING dossier_code, component_index",
            )
            .bind(code)
            .bind(sha256)
            .bind(&by.actor)
            .bind(by.at)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((dossier, component)) = row else {
                return Ok(false);
            };
            digitisation_event!(tx, DigitisationEvent::Signed.as_str(), by.at, agency.as_str(),
                &dossier, component, code, &by.actor)?;
            let record = by.record(
                "digitised_document",
                code,
                "sign",
                None,
                None,
                serde_json::json!({ "signed_sha256": sha256 }),
            );
            crate::audit::append_audit!(self, tx, record)?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// One warehouse document by its code.
    pub async fn document(&self, code: &str) -> Result<DigitisedDocument> {
        let row: Option<DocRow> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {DOC_COLUMNS} FROM digitised_documents WHERE code = $1"
            )))
            .bind(code.trim())
            .fetch_optional(p)
            .await?
        });
        row.map(Into::into).ok_or_else(|| {
            StoreError::NotFound(Msg::new(
                format!("Không có kết quả số hóa «{code}»"),
                format!("no digitisation result «{code}»"),
            ))
        })
    }

    /// The documents digitised in a dossier.
    pub async fn documents_of_dossier(&self, code: &str) -> Result<Vec<DigitisedDocument>> {
        let rows: Vec<DocRow> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {DOC_COLUMNS} FROM digitised_documents WHERE dossier_code = $1 ORDER BY code"
            )))
            .bind(code)
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// An applicant's warehouse, newest first.
    pub async fn warehouse(&self, applicant_id: &str) -> Result<Vec<DigitisedDocument>> {
        let rows: Vec<DocRow> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {DOC_COLUMNS} FROM digitised_documents WHERE applicant_id = $1 \
                 ORDER BY confirmed_at DESC, code DESC"
            )))
            .bind(applicant_id)
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The digitisation events of each kind from `from` (inclusive) to `to` (exclusive).
    pub async fn digitisation_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<BTreeMap<String, i64>> {
        let rows: Vec<(String, i64)> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT kind, COUNT(*) FROM digitisation_events WHERE at >= $1 AND at < $2 GROUP BY kind",
            )
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().collect())
    }
}

/// What search finds a document by: its code, name and confirmed fields, folded.
pub(crate) fn document_search_text(
    code: &str,
    name: &str,
    fields: &BTreeMap<String, String>,
) -> String {
    let mut text = format!("{code}\n{name}");
    for (k, v) in fields {
        text.push_str(&format!("\n{k}: {v}"));
    }
    motcua_domain::text::fold(&text)
}

impl Store {
    /// Fills the search text of documents confirmed before it existed (migration 0014).
    pub async fn fill_document_search(&self) -> Result<u64> {
        let mut filled = 0u64;
        loop {
            let rows: Vec<(String, String, String)> = on_db!(self, p => {
                sqlx::query_as(
                    "SELECT code, name, fields FROM digitised_documents WHERE search_text IS NULL \
                     ORDER BY code LIMIT 500",
                )
                .fetch_all(p)
                .await?
            });
            if rows.is_empty() {
                return Ok(filled);
            }
            on_writer!(self, p => {
                let mut tx = p.begin_with(self.begin_write()).await?;
                for (code, name, fields) in &rows {
                    let fields: BTreeMap<String, String> =
                        serde_json::from_str(fields).unwrap_or_default();
                    sqlx::query("UPDATE digitised_documents SET search_text = $1 WHERE code = $2")
                        .bind(document_search_text(code, name, &fields))
                        .bind(code)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            });
            filled += rows.len() as u64;
        }
    }
}
