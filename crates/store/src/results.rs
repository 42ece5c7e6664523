//! Result templates per procedure (see `motcua_domain::results`).

use crate::{ChangeBy, Result, Store, on_db, on_writer};
use motcua_domain::results::ResultTemplate;

impl Store {
    /// A procedure's result template, if an administrator wrote one.
    pub async fn result_template(&self, procedure_code: &str) -> Result<Option<ResultTemplate>> {
        let row: Option<(String, String, String)> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT title, body, signer_title FROM result_templates WHERE procedure_code = $1",
            )
            .bind(procedure_code)
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(|(title, body, signer_title)| ResultTemplate {
            title,
            body,
            signer_title,
        }))
    }

    /// Writes a procedure's result template (the procedure must exist), with its audit record.
    pub async fn put_result_template(
        &self,
        procedure_code: &str,
        t: &ResultTemplate,
        by: &ChangeBy,
    ) -> Result<()> {
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            sqlx::query(
                "INSERT INTO result_templates (procedure_code, title, body, signer_title, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (procedure_code) DO UPDATE SET \
                 title = excluded.title, body = excluded.body, signer_title = excluded.signer_title, \
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(procedure_code)
            .bind(&t.title)
            .bind(&t.body)
            .bind(&t.signer_title)
            .bind(&by.actor)
            .bind(by.at)
            .execute(&mut *tx)
            .await?;
            let record = by.record("result_template", procedure_code, "put", None, None,
                serde_json::to_value(t).unwrap_or_default());
            crate::audit::append_audit!(self, tx, record)?;
            tx.commit().await?;
        });
        Ok(())
    }
}
