//! What the hardware allows, measured by the same database: `motcua bench intake` compares its
//! intake rate with the rate at which a plain client commits the same rows (the dossier row
//! with its JSON document and its audit record, one durable transaction each).

use crate::audit::{AuditRecord, append_audit};
use crate::{Result, Store, on_writer};
use chrono::{DateTime, Utc};

impl Store {
    /// Commits one dossier row (`code`, JSON `data`) and its audit record in one durable
    /// transaction, as intake does but with nothing else: no number counter, no checks.
    pub async fn raw_commit(
        &self,
        code: &str,
        data: &str,
        audit: &AuditRecord,
        at: DateTime<Utc>,
    ) -> Result<()> {
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            sqlx::query(
                "INSERT INTO dossiers (code, procedure_code, channel, status, receiving_agency, current_agency, \
                 applicant_id, submitted_at, received_at, due_at, queue_due, imported, version, updated_at, data) \
                 VALUES ($1, '1.004884', 'counter', 'received', '000.01.31.H58', '000.01.31.H58', '008190001234', \
                 $2, $2, $2, $2, FALSE, 1, $2, $3)",
            )
            .bind(code)
            .bind(at)
            .bind(data)
            .execute(&mut *tx)
            .await?;
            append_audit!(self, tx, audit)?;
            tx.commit().await?;
        });
        Ok(())
    }
}
