//! The official-document register (văn bản đến / đi): each agency's books. An incoming
//! document is entered with the verification of its signatures on arrival; an outgoing one is
//! signed by a leader of the agency and sealed (the `document.sign` job), then delivered to the
//! recipient agency's incoming book when that agency uses motcua — verified on arrival there
//! too. Both books are searchable without diacritics and counted per period.

use crate::signing::SignFailure;
use crate::{Acting, Result, Service, ServiceError};
use chrono::NaiveDate;
use motcua_domain::Msg;
use motcua_domain::auth::Role;
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::Actor;
use motcua_domain::policy::handles_dossiers;
use motcua_store::{DocumentCounts, NewOfficialDocument, OfficialDocument};
use serde::Deserialize;

/// An incoming document as the officer enters it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncomingDocument {
    /// Its subject (trích yếu), 1–500 characters.
    #[param(min_length = 1, max_length = 500)]
    pub subject: String,
    /// The agency that issued it.
    #[param(min_length = 1, max_length = 300)]
    pub issuer: String,
    /// Its number and symbol as written on it (e.g. `125/UBND-VP`).
    #[param(min_length = 1, max_length = 100)]
    pub symbol: String,
    #[param(value_type = String, format = Date)]
    pub issued_on: NaiveDate,
    /// Who signed it, as written (the signatures say it too).
    #[param(max_length = 200)]
    pub signer: Option<String>,
    /// The file's name.
    #[param(max_length = 255)]
    pub name: Option<String>,
}

/// An outgoing document to sign and send.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutgoingDocument {
    #[param(min_length = 1, max_length = 500)]
    pub subject: String,
    /// The recipient, as named on the document.
    #[param(min_length = 1, max_length = 300)]
    pub recipient: String,
    /// The recipient agency's code when it uses motcua: the signed document is delivered to its
    /// incoming book.
    pub recipient_agency: Option<String>,
    /// The symbol after the number (e.g. `UBND-VP`): the number is the book's next.
    #[param(max_length = 60)]
    pub symbol: Option<String>,
    /// The leader of the agency who signs it (user name).
    #[param(min_length = 1, max_length = 64)]
    pub signer: String,
    #[param(max_length = 255)]
    pub name: Option<String>,
}

fn invalid(field: &str, vi: &str, en: &str) -> ServiceError {
    ServiceError::invalid(field, vi, en)
}

fn text(field: &str, value: &str, max: usize) -> Result<String> {
    let v = motcua_domain::text::clean(value);
    if v.is_empty() || v.chars().count() > max {
        return Err(ServiceError::invalid(
            field,
            format!("Cần từ 1 đến {max} ký tự"),
            format!("1 to {max} characters are needed"),
        ));
    }
    Ok(v)
}

impl Service {
    /// The agency whose books `actor` keeps: an officer's own.
    fn book_of(&self, actor: &Actor) -> Result<AgencyCode> {
        match (&actor.role, &actor.agency) {
            (Some(r), Some(a)) if handles_dossiers(*r) => Ok(a.clone()),
            _ => Err(ServiceError::Forbidden(Msg::new(
                "Chỉ cán bộ của cơ quan mới vào sổ văn bản của cơ quan",
                "only an agency's officers keep its document register",
            ))),
        }
    }

    fn check_pdf(&self, pdf: &[u8]) -> Result<()> {
        if !pdf.starts_with(b"%PDF-") {
            return Err(invalid(
                "file",
                "Văn bản phải là tệp PDF",
                "the document must be a PDF",
            ));
        }
        if pdf.len() as u64 > self.file_limits().max_bytes {
            return Err(ServiceError::File(motcua_domain::files::too_large(
                &self.file_limits(),
            )));
        }
        Ok(())
    }

    /// Enters an incoming document in the officer's agency's book, with the verification of
    /// its signatures (when this server verifies signatures).
    pub async fn register_incoming(
        &self,
        by: &Acting,
        m: IncomingDocument,
        pdf: &[u8],
    ) -> Result<OfficialDocument> {
        let agency = self.book_of(&by.actor)?;
        let subject = text("subject", &m.subject, 500)?;
        let issuer = text("issuer", &m.issuer, 300)?;
        let symbol = text("symbol", &m.symbol, 100)?;
        self.check_pdf(pdf)?;
        let verification = if self.verifies_pdfs() {
            let reports = self.verify_pdf(pdf.to_vec()).await?;
            Some(serde_json::to_string(&reports).unwrap_or_default())
        } else {
            None
        };
        let sha = self.put_pdf(pdf).await?;
        let d = NewOfficialDocument {
            agency_code: agency.to_string(),
            direction: "in",
            symbol_suffix: String::new(),
            symbol: Some(symbol),
            issued_on: m.issued_on,
            other_party: issuer,
            other_agency_code: None,
            subject,
            signer: m
                .signer
                .map(|s| motcua_domain::text::clean(&s))
                .unwrap_or_default(),
            file_name: m.name.unwrap_or_else(|| "van-ban-den.pdf".into()),
            sha256: sha,
            size: pdf.len() as i64,
            state: "received",
            verification,
            source_id: None,
        };
        Ok(self.store().register_document(&d, &by.stamp()).await?)
    }

    /// Enters an outgoing document (the book's next number) and sends it to be signed by the
    /// named leader of the agency and sealed; then it is delivered.
    pub async fn send_outgoing(
        &self,
        by: &Acting,
        m: OutgoingDocument,
        pdf: &[u8],
    ) -> Result<OfficialDocument> {
        let agency = self.book_of(&by.actor)?;
        let subject = text("subject", &m.subject, 500)?;
        let recipient = text("recipient", &m.recipient, 300)?;
        self.check_pdf(pdf)?;
        let leader = self.store().user_by_name(m.signer.trim()).await?;
        let Some(leader) = leader.filter(|u| {
            u.role == Role::Leader && u.agency_code.as_ref() == Some(&agency) && !u.disabled
        }) else {
            return Err(invalid(
                "signer",
                "Người ký phải là lãnh đạo của cơ quan",
                "the signer must be a leader of the agency",
            ));
        };
        let recipient_agency = match m.recipient_agency.as_deref().map(str::trim) {
            Some(code) if !code.is_empty() => {
                let a = self.store().agency(code).await.map_err(|_| {
                    invalid(
                        "recipient_agency",
                        "Không có cơ quan nhận này",
                        "no such recipient agency",
                    )
                })?;
                Some(a.code.to_string())
            }
            _ => None,
        };
        let symbol_suffix = m
            .symbol
            .map(|s| motcua_domain::text::clean(&s))
            .unwrap_or_default();
        let sha = self.put_pdf(pdf).await?;
        let today = self.calendar().local(by.at).date();
        let d = NewOfficialDocument {
            agency_code: agency.to_string(),
            direction: "out",
            symbol_suffix,
            symbol: None,
            issued_on: today,
            other_party: recipient,
            other_agency_code: recipient_agency,
            subject,
            signer: leader.username,
            file_name: m.name.unwrap_or_else(|| "van-ban-di.pdf".into()),
            sha256: sha,
            size: pdf.len() as i64,
            state: "signing",
            verification: None,
            source_id: None,
        };
        Ok(self.store().register_document(&d, &by.stamp()).await?)
    }

    /// The `document.sign` job: the leader's signature (visible stamp), the agency seal, then
    /// the delivery to the recipient's incoming book, verified on arrival. A refusal or a
    /// missing key marks it failed; an unreachable signing service is retried.
    pub async fn sign_document(&self, id: i64) -> std::result::Result<(), String> {
        let doc = self
            .store()
            .official_document(id)
            .await
            .map_err(|e| e.to_string())?;
        if doc.state != "signing" {
            return Ok(());
        }
        let pdf = self.content(&doc.sha256, &format!("document {id}")).await?;
        let agency = AgencyCode::parse(&doc.agency_code).map_err(|e| e.to_string())?;
        let agency_name = self.agency_name(&agency).await;
        let signed = match self
            .sign_and_seal(
                pdf,
                &doc.signer,
                format!("Ký ban hành văn bản {}", doc.symbol),
                &agency,
                |reason| format!("{reason}: {}", doc.subject),
            )
            .await
        {
            Ok(p) => p,
            Err(e @ (SignFailure::Refused(_) | SignFailure::NoKey(_) | SignFailure::Other(_))) => {
                return self
                    .store()
                    .set_document_state(id, "failed", Some(&e.to_string()))
                    .await
                    .map_err(|e| e.to_string());
            }
            Err(e) => return Err(e.to_string()),
        };
        let sha = self.put_pdf(&signed).await.map_err(|e| e.to_string())?;
        let delivered = match &doc.other_agency_code {
            Some(to) => {
                let reports = self
                    .verify_pdf(signed.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                Some(NewOfficialDocument {
                    agency_code: to.clone(),
                    direction: "in",
                    symbol_suffix: String::new(),
                    symbol: Some(doc.symbol.clone()),
                    issued_on: doc.issued_on,
                    other_party: agency_name.clone(),
                    other_agency_code: Some(doc.agency_code.clone()),
                    subject: doc.subject.clone(),
                    signer: reports
                        .first()
                        .map(|r| r.signer.clone())
                        .unwrap_or_default(),
                    file_name: doc.file_name.clone(),
                    sha256: sha.clone(),
                    size: signed.len() as i64,
                    state: "received",
                    verification: Some(serde_json::to_string(&reports).unwrap_or_default()),
                    source_id: Some(id),
                })
            }
            None => None,
        };
        let by = motcua_store::ChangeBy::new(doc.signer.clone(), self.now());
        self.store()
            .document_sent(id, &sha, signed.len() as i64, delivered.as_ref(), &by)
            .await
            .map_err(|e| e.to_string())?;
        metrics::counter!("motcua_documents_sent_total").increment(1);
        Ok(())
    }

    /// The officer's agency's books (`in`, `out` or both), searched without diacritics.
    pub async fn official_documents(
        &self,
        actor: &Actor,
        direction: Option<&str>,
        q: Option<&str>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<OfficialDocument>> {
        let agency = self.book_of(actor)?;
        let direction = match direction {
            None | Some("") => None,
            Some(d @ ("in" | "out")) => Some(d),
            Some(_) => {
                return Err(invalid(
                    "direction",
                    "Sổ là in (đến) hoặc out (đi)",
                    "the book is in or out",
                ));
            }
        };
        Ok(self
            .store()
            .official_documents(agency.as_str(), direction, q, from, to)
            .await?)
    }

    /// A document of the officer's agency's books (another agency's does not exist for them).
    pub async fn official_document(&self, actor: &Actor, id: i64) -> Result<OfficialDocument> {
        let agency = self.book_of(actor)?;
        match self.store().official_document(id).await {
            Ok(doc) if doc.agency_code == agency.as_str() => Ok(doc),
            _ => Err(ServiceError::NotFound(Msg::new(
                format!("Không có văn bản {id}"),
                format!("no official document {id}"),
            ))),
        }
    }

    /// A document's content (signed, once sent).
    pub async fn official_document_file(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<(OfficialDocument, Vec<u8>)> {
        let doc = self.official_document(actor, id).await?;
        let bytes = self.blobs()?.get(&doc.sha256).await?.ok_or_else(|| {
            ServiceError::NotFound(Msg::new(
                format!("Không có văn bản {id}"),
                format!("no official document {id}"),
            ))
        })?;
        Ok((doc, bytes))
    }

    /// What the officer's agency's books hold over `[from, to]`.
    pub async fn document_counts(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<DocumentCounts> {
        let agency = self.book_of(actor)?;
        if to < from {
            return Err(invalid(
                "to",
                "Ngày cuối trước ngày đầu",
                "`to` is before `from`",
            ));
        }
        Ok(self
            .store()
            .document_counts(agency.as_str(), from, to)
            .await?)
    }
}
