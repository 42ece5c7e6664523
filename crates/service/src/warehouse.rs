//! Digitisation results and the applicants' electronic data warehouse: an officer confirms a
//! file (and the fields read from it) as an electronic copy with a digitisation result code;
//! it joins the applicant's warehouse; a later dossier of the same applicant takes it by
//! reference — no upload, no paper — and that reuse is counted.

use crate::{Acting, Result, Service, ServiceError};
use chrono::NaiveDate;
use motcua_domain::auth::Role;
use motcua_domain::dossier::{Actor, Dossier, SubmittedComponent};
use motcua_domain::policy::{Permission, authorize};
use motcua_domain::text::fold;
use motcua_store::{DigitisedDocument, FilePurpose, NewDocument, StoredFile};
use serde::Deserialize;
use std::collections::BTreeMap;

/// What an officer confirms of a file.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmFile {
    /// The fields as confirmed or corrected (`id_number`, `full_name`, …).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// What the document is (`id_card`, `business_registration`, `land_use`), if known.
    #[serde(default)]
    pub document_kind: Option<String>,
    /// Until when the document is valid (an ID card's expiry, by default).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<NaiveDate>,
}

fn not_found(code: &str) -> ServiceError {
    ServiceError::NotFound(motcua_domain::Msg::new(
        format!("Không có kết quả số hóa «{code}»"),
        format!("no digitisation result «{code}»"),
    ))
}

impl Service {
    /// Confirms file `id` as digitised: an electronic copy, flagged *scan only* until signed,
    /// in the warehouse of the dossier's applicant, with a new digitisation result code of the
    /// confirming officer's agency.
    pub async fn confirm_file(
        &self,
        by: &Acting,
        id: i64,
        c: ConfirmFile,
    ) -> Result<DigitisedDocument> {
        let f = self.store().file(id).await?;
        let d = self
            .dossier(&by.actor, &f.dossier_code)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound(_) => not_found(&id.to_string()),
                other => other,
            })?
            .dossier;
        authorize(&by.actor, Permission::Digitise(&d))?;
        let Some(agency) = by.actor.agency.clone() else {
            return Err(ServiceError::Forbidden(motcua_domain::Msg::new(
                "Chỉ cán bộ của cơ quan mới xác nhận số hóa",
                "only an agency's officer confirms digitisation",
            )));
        };
        let mut fields = BTreeMap::new();
        for (k, v) in c.fields {
            let v = motcua_domain::text::clean(&v);
            if k.chars().count() > 64 || v.chars().count() > 500 || fields.len() >= 50 {
                return Err(ServiceError::invalid(
                    "fields",
                    "Tối đa 50 trường, tên 64 và giá trị 500 ký tự",
                    "at most 50 fields, names of 64 and values of 500 characters",
                ));
            }
            if !v.is_empty() {
                fields.insert(k, v);
            }
        }
        if let Some(n) = fields.get("id_number")
            && c.document_kind.as_deref() == Some("id_card")
        {
            motcua_domain::codes::CitizenId::parse(n)?;
        }
        let valid_until = c.valid_until.or_else(|| {
            fields
                .get("expiry")
                .and_then(|e| NaiveDate::parse_from_str(e, "%Y-%m-%d").ok())
        });
        let (source, name, component_index) = match f.purpose {
            FilePurpose::Component => {
                let i = f.component_index.unwrap_or(0) as usize;
                let name = d
                    .components
                    .get(i)
                    .map_or_else(|| f.name.clone(), |c| c.name.clone());
                ("component", name, i32::try_from(i).ok())
            }
            FilePurpose::Result => ("result", format!("Kết quả: {}", d.procedure_name), None),
        };
        let doc = NewDocument {
            applicant_id: d.applicant.id_number.clone(),
            file_id: f.id,
            dossier_code: d.code.clone(),
            component_index,
            source,
            name,
            document_kind: c.document_kind,
            fields,
            valid_until,
        };
        let day = self.calendar().local(by.at).date();
        let doc = self
            .store()
            .confirm_document(doc, &agency, day, &by.stamp())
            .await?;
        metrics::counter!("motcua_digitised_total", "source" => source).increment(1);
        tracing::info!(dossier = %d.code, code = %doc.code, "file confirmed as digitised");
        Ok(doc)
    }

    /// The warehouse of the signed-in citizen (their own documents).
    pub async fn my_warehouse(&self, actor: &Actor) -> Result<Vec<DigitisedDocument>> {
        if actor.role != Some(Role::Citizen) {
            return Err(ServiceError::Forbidden(motcua_domain::Msg::new(
                "Kho dữ liệu chỉ do chính công dân xem; cán bộ xem trong hồ sơ mình xử lý",
                "a warehouse is the citizen's own; officers see it inside a dossier they handle",
            )));
        }
        Ok(self.store().warehouse(&actor.name).await?)
    }

    /// The warehouse of dossier `code`'s applicant, for officers handling it (and its owner).
    pub async fn dossier_warehouse(
        &self,
        actor: &Actor,
        code: &str,
    ) -> Result<Vec<DigitisedDocument>> {
        let d = self.dossier(actor, code).await?.dossier;
        let owner = actor.role == Some(Role::Citizen);
        if !owner {
            authorize(actor, Permission::Digitise(&d))?;
        }
        Ok(self.store().warehouse(&d.applicant.id_number).await?)
    }

    /// For filing `procedure_code` for `applicant_id`: each component (by position) that a
    /// valid warehouse document of the applicant can satisfy, with that document. For the
    /// applicant themself, and for counter officers filing for them (who may look them up).
    pub async fn reuse_suggestions(
        &self,
        actor: &Actor,
        applicant_id: &str,
        procedure_code: &str,
    ) -> Result<Vec<(usize, DigitisedDocument)>> {
        let own = actor.role == Some(Role::Citizen) && actor.name == applicant_id;
        if !own {
            authorize(actor, Permission::LookUpApplicant)?;
        }
        let (procedure, _) = self
            .refs()
            .procedure(self.store(), procedure_code)
            .await
            .map_err(ServiceError::from)?;
        let today = self.calendar().local(self.now()).date();
        let docs = self.store().warehouse(applicant_id.trim()).await?;
        Ok(procedure
            .components
            .iter()
            .enumerate()
            .filter(|(_, c)| c.warehouse_copy_accepted)
            .filter_map(|(i, c)| {
                docs.iter()
                    .filter(|d| d.valid_until.is_none_or(|v| v >= today))
                    .find(|d| fold(&d.name) == fold(&c.name))
                    .map(|d| (i, d.clone()))
            })
            .collect())
    }

    /// A warehouse document's file: for its owner, or for an officer handling `dossier`, a
    /// dossier of the same applicant.
    pub async fn warehouse_file(
        &self,
        actor: &Actor,
        doc_code: &str,
        dossier: Option<&str>,
    ) -> Result<(StoredFile, Vec<u8>)> {
        let doc = self
            .store()
            .document(doc_code)
            .await
            .map_err(|_| not_found(doc_code))?;
        let allowed = if actor.role == Some(Role::Citizen) {
            actor.name == doc.applicant_id
        } else {
            match dossier {
                Some(code) => match self.dossier(actor, code).await {
                    Ok(d) => {
                        d.dossier.applicant.id_number == doc.applicant_id
                            && authorize(actor, Permission::Digitise(&d.dossier)).is_ok()
                    }
                    Err(_) => false,
                },
                None => false,
            }
        };
        if !allowed {
            return Err(not_found(doc_code));
        }
        let mut f = self.store().file(doc.file_id).await?;
        // Once signed, the electronic copy is the signed PDF.
        if let Some(sha) = &doc.signed_sha256 {
            f.sha256 = sha.clone();
            f.kind = motcua_domain::files::FileKind::Pdf;
            let stem = f.name.rsplit_once('.').map_or(f.name.as_str(), |(s, _)| s);
            f.name = format!("{stem} ({}).pdf", doc.code);
        }
        match self.blobs()?.get(&f.sha256).await? {
            Some(b) => {
                f.size = b.len() as i64;
                Ok((f, b))
            }
            None => Err(not_found(doc_code)),
        }
    }

    /// Resolves the warehouse components of a new dossier: a `from_warehouse` component that
    /// names a document must name a valid one of the same applicant; one that names none takes
    /// the applicant's valid document of the same name when there is one (a reuse), and is
    /// otherwise kept as a claim on a source outside motcua (a national database).
    pub(crate) async fn resolve_warehouse(
        &self,
        applicant_id: &str,
        procedure_components: &[String],
        components: &mut [SubmittedComponent],
        today: NaiveDate,
    ) -> Result<()> {
        if !components.iter().any(|c| c.from_warehouse) {
            return Ok(());
        }
        let docs = self.store().warehouse(applicant_id).await?;
        let usable = |d: &&DigitisedDocument| d.valid_until.is_none_or(|v| v >= today);
        for (k, c) in components.iter_mut().enumerate() {
            if !c.from_warehouse {
                continue;
            }
            let wanted = procedure_components
                .get(c.index)
                .map(|n| fold(n))
                .unwrap_or_default();
            let found = match &c.warehouse_code {
                Some(code) => docs.iter().find(|d| d.code == code.trim()).filter(usable),
                None => docs.iter().filter(usable).find(|d| fold(&d.name) == wanted),
            };
            match found {
                Some(d) => c.warehouse_code = Some(d.code.clone()),
                None if c.warehouse_code.is_none() => {}
                None => {
                    return Err(ServiceError::invalid(
                        &format!("components[{k}].warehouse_code"),
                        "Không có giấy tờ còn hiệu lực phù hợp trong kho dữ liệu của người nộp",
                        "the applicant's warehouse holds no valid document for this component",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Whether a dossier took any document from the warehouse.
pub fn reuses(d: &Dossier) -> usize {
    d.components
        .iter()
        .filter(|c| c.warehouse_code.is_some())
        .count()
}
