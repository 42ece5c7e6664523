//! The leader's signing queue: the state of each result file's signature (signed by the
//! leader and sealed by the agency, as the `result.sign` job), and the signed result recorded
//! as a signed electronic result in the applicant's warehouse.

use crate::warehouse::{DigitisationEvent, digitisation_event, next_result_code, register_blob};
use crate::{ChangeBy, Result, Store, on_db, on_writer};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::Msg;
use motcua_domain::codes::AgencyCode;
use serde::Serialize;

/// The job that signs a result (payload `{"file_id"}`).
pub const RESULT_SIGN_JOB: &str = "result.sign";

/// A result file's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ResultSignature {
    pub file_id: i64,
    pub dossier_code: String,
    pub agency_code: String,
    /// `queued`, `signing` (waiting for the leader's approval on their device), `signed`,
    /// `refused`, `failed`.
    pub state: String,
    pub leader: String,
    /// Why it was refused, or why signing failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The digitisation result code of the signed result in the applicant's warehouse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_code: Option<String>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "file_id, dossier_code, agency_code, state, leader, reason, document_code, updated_at";

impl Store {
    /// Queues result file `file_id` to be signed by `leader` (and sealed by `agency`): the
    /// state and the `result.sign` job in one transaction. A file already queued, signing or
    /// signed is left as it is (`false`).
    pub async fn queue_result_signature(
        &self,
        file_id: i64,
        dossier_code: &str,
        agency: &AgencyCode,
        by: &ChangeBy,
    ) -> Result<bool> {
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let n = sqlx::query(
                "INSERT INTO result_signatures (file_id, dossier_code, agency_code, state, leader, updated_at) \
                 VALUES ($1, $2, $3, 'queued', $4, $5) ON CONFLICT (file_id) DO UPDATE \
                 SET state = 'queued', leader = excluded.leader, reason = NULL, updated_at = excluded.updated_at \
                 WHERE result_signatures.state IN ('refused', 'failed')",
            )
            .bind(file_id)
            .bind(dossier_code)
            .bind(agency.as_str())
            .bind(&by.actor)
            .bind(by.at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok(false);
            }
            let record = by.record("result_signature", &file_id.to_string(), "queue", None, None,
                serde_json::json!({ "dossier_code": dossier_code }));
            crate::audit::append_audit!(self, tx, record)?;
            let job = crate::jobs::NewJob::new(RESULT_SIGN_JOB, &serde_json::json!({"file_id": file_id}), by.at)
                .unique(format!("{RESULT_SIGN_JOB}:{file_id}"));
            crate::jobs::enqueue!(tx, &job, by.at)?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Sets a result's signature state (`signing`, `refused`, `failed`), with the reason.
    pub async fn set_result_signature_state(
        &self,
        file_id: i64,
        dossier_code: &str,
        agency: &AgencyCode,
        state: &str,
        reason: Option<&str>,
        by: &ChangeBy,
    ) -> Result<()> {
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            sqlx::query(
                "INSERT INTO result_signatures (file_id, dossier_code, agency_code, state, leader, reason, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (file_id) DO UPDATE \
                 SET state = excluded.state, reason = excluded.reason, updated_at = excluded.updated_at \
                 WHERE result_signatures.state <> 'signed'",
            )
            .bind(file_id)
            .bind(dossier_code)
            .bind(agency.as_str())
            .bind(state)
            .bind(&by.actor)
            .bind(reason)
            .bind(by.at)
            .execute(&mut *tx)
            .await?;
            if state == "refused" {
                let record = by.record("result_signature", &file_id.to_string(), "refuse", None, None,
                    serde_json::json!({ "dossier_code": dossier_code, "reason": reason }));
                crate::audit::append_audit!(self, tx, record)?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records a signed result: its content (stored under `sha256`), a signed electronic
    /// result with a new digitisation result code in the applicant's warehouse, the
    /// `result_digitised` and `signed` events, and the audit record — in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn complete_result_signature(
        &self,
        file_id: i64,
        sha256: &str,
        size: i64,
        applicant_id: &str,
        name: &str,
        agency: &AgencyCode,
        day: NaiveDate,
        by: &ChangeBy,
    ) -> Result<String> {
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let row: Option<(String, String, Option<String>)> = sqlx::query_as(
                "SELECT dossier_code, state, document_code FROM result_signatures WHERE file_id = $1",
            )
            .bind(file_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((dossier, state, doc)) = row else {
                return Err(crate::StoreError::NotFound(Msg::new("Không có yêu cầu ký kết quả", "no signature request for this result")));
            };
            if state == "signed" {
                return Ok(doc.unwrap_or_default());
            }
            register_blob!(tx, sha256, size, by.at)?;
            let code = next_result_code!(tx, agency, day)?;
            let fields = std::collections::BTreeMap::new();
            sqlx::query(
                "INSERT INTO digitised_documents (code, applicant_id, file_id, dossier_code, component_index, \
                 source, name, name_folded, document_kind, fields, valid_until, signed, confirmed_by, confirmed_at, \
                 search_text, signed_sha256, signed_by, signed_at) \
                 VALUES ($1, $2, $3, $4, NULL, 'result', $5, $6, NULL, '{}', NULL, TRUE, $7, $8, $9, $10, $7, $8)",
            )
            .bind(&code)
            .bind(applicant_id)
            .bind(file_id)
            .bind(&dossier)
            .bind(name)
            .bind(motcua_domain::text::fold(name))
            .bind(&by.actor)
            .bind(by.at)
            .bind(crate::warehouse::document_search_text(&code, name, &fields))
            .bind(sha256)
            .execute(&mut *tx)
            .await?;
            for kind in [DigitisationEvent::ResultDigitised, DigitisationEvent::Signed] {
                digitisation_event!(tx, kind.as_str(), by.at, agency.as_str(), &dossier,
                    None::<i32>, &code, &by.actor)?;
            }
            sqlx::query(
                "UPDATE result_signatures SET state = 'signed', reason = NULL, signed_sha256 = $2, \
                 document_code = $3, updated_at = $4 WHERE file_id = $1",
            )
            .bind(file_id)
            .bind(sha256)
            .bind(&code)
            .bind(by.at)
            .execute(&mut *tx)
            .await?;
            let record = by.record("result_signature", &file_id.to_string(), "sign", None, None,
                serde_json::json!({ "dossier_code": dossier, "document_code": code, "signed_sha256": sha256 }));
            crate::audit::append_audit!(self, tx, record)?;
            crate::stats::touch_stats!(tx, &dossier);
            tx.commit().await?;
            Ok(code)
        })
    }

    /// The signature states of the results of these dossiers.
    pub async fn result_signatures(&self, dossiers: &[String]) -> Result<Vec<ResultSignature>> {
        if dossiers.is_empty() {
            return Ok(Vec::new());
        }
        let marks = (1..=dossiers.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {COLUMNS} FROM result_signatures WHERE dossier_code IN ({marks}) ORDER BY file_id"
        );
        Ok(on_db!(self, p => {
            let mut q = sqlx::query_as::<_, ResultSignature>(sqlx::AssertSqlSafe(sql));
            for d in dossiers {
                q = q.bind(d);
            }
            q.fetch_all(p).await?
        }))
    }

    /// One result's signature state.
    pub async fn result_signature(&self, file_id: i64) -> Result<Option<ResultSignature>> {
        Ok(on_db!(self, p => {
            sqlx::query_as::<_, ResultSignature>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM result_signatures WHERE file_id = $1"
            )))
            .bind(file_id)
            .fetch_optional(p)
            .await?
        }))
    }
}

/// The job that renders, signs and keeps a slip a dossier change issued (payload
/// `{"code","kind"}`).
pub const SLIP_SIGN_JOB: &str = "slip.sign";

/// A slip kept with its dossier, signed by the officer who issued it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct KeptSlip {
    pub id: i64,
    pub dossier_code: String,
    /// `receipt`, `supplement_request`, `refusal`, `apology`, `stopping`.
    pub kind: String,
    /// When the event that issued it happened.
    pub issued_at: DateTime<Utc>,
    /// The officer who issued and signed it.
    pub signer: String,
    pub size: i64,
    #[serde(skip)]
    pub sha256: String,
}

const SLIP_COLUMNS: &str = "id, dossier_code, kind, issued_at, signer, size, sha256";

impl Store {
    /// Keeps a signed slip (its content already stored under `sha256`); once per dossier, kind
    /// and event (`false` when it was already kept).
    #[allow(clippy::too_many_arguments)]
    pub async fn keep_slip(
        &self,
        dossier_code: &str,
        kind: &str,
        issued_at: DateTime<Utc>,
        sha256: &str,
        size: i64,
        by: &ChangeBy,
    ) -> Result<bool> {
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            register_blob!(tx, sha256, size, by.at)?;
            let n = sqlx::query(
                "INSERT INTO dossier_slips (dossier_code, kind, issued_at, signer, sha256, size, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dossier_code, kind, issued_at) DO NOTHING",
            )
            .bind(dossier_code)
            .bind(kind)
            .bind(issued_at)
            .bind(&by.actor)
            .bind(sha256)
            .bind(size)
            .bind(by.at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok(false);
            }
            let record = by.record("dossier_slip", dossier_code, "sign", None, None,
                serde_json::json!({ "kind": kind, "issued_at": issued_at, "sha256": sha256 }));
            crate::audit::append_audit!(self, tx, record)?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The signed slips kept with a dossier, oldest first.
    pub async fn kept_slips(&self, dossier_code: &str) -> Result<Vec<KeptSlip>> {
        Ok(on_db!(self, p => {
            sqlx::query_as::<_, KeptSlip>(sqlx::AssertSqlSafe(format!(
                "SELECT {SLIP_COLUMNS} FROM dossier_slips WHERE dossier_code = $1 ORDER BY issued_at, id"
            )))
            .bind(dossier_code)
            .fetch_all(p)
            .await?
        }))
    }
}
