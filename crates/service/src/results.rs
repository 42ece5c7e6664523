//! Result templates per procedure: written by an administrator, filled from a dossier and laid
//! out as PDF to become the dossier's result (then signed by the leader and sealed).

use crate::{Acting, Result, Service};
use motcua_domain::policy::{Permission, authorize};
use motcua_domain::results::ResultTemplate;

impl Service {
    /// A procedure's result template (the default one when none was written), and whether it
    /// was written for it.
    pub async fn result_template(&self, procedure_code: &str) -> Result<(ResultTemplate, bool)> {
        let p = self.store().procedure(procedure_code).await?;
        Ok(match self.store().result_template(p.code.as_str()).await? {
            Some(t) => (t, true),
            None => (ResultTemplate::default_for(&p.name), false),
        })
    }

    /// Writes a procedure's result template (administrators).
    pub async fn put_result_template(
        &self,
        by: &Acting,
        procedure_code: &str,
        t: ResultTemplate,
    ) -> Result<ResultTemplate> {
        authorize(&by.actor, Permission::EditReference)?;
        let p = self.store().procedure(procedure_code).await?;
        let t = ResultTemplate {
            title: motcua_domain::text::clean(&t.title),
            signer_title: motcua_domain::text::clean(&t.signer_title),
            // Each line cleaned (NFC, spaces folded); blank lines still part paragraphs.
            body: t
                .body
                .replace("\r\n", "\n")
                .split('\n')
                .map(motcua_domain::text::clean)
                .collect::<Vec<_>>()
                .join("\n"),
        };
        t.validate()?;
        self.store()
            .put_result_template(p.code.as_str(), &t, &by.stamp())
            .await?;
        Ok(t)
    }

    /// Lays a filled result out as PDF (off the async threads; below the requests in a job).
    pub async fn render_result(&self, data: crate::slips::SlipData) -> Result<Vec<u8>> {
        let r = self.renderer()?;
        let data = data.normalised();
        crate::background::cpu(move || r.result_pdf(&data))
            .await
            .map_err(|e| crate::slips::render_error(&e))?
            .map_err(|e| crate::slips::render_error(&e))
    }
}
