//! Digital signatures through the service: any PDF verified, and PDFs signed as a user (with
//! their own key, held on the server or approved on their device through a remote signing
//! service) or as an agency's seal. The cryptography is the leaf crate `motcua-sign`, set by
//! the binary (as the slip renderer is), so that the core builds without it.

use crate::{Result, Service, ServiceError};
use chrono::{DateTime, Utc};
use motcua_domain::Msg;
use motcua_domain::signatures::SignatureReport;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Whose key signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignAs {
    /// A person (officer, leader), by user name.
    User(String),
    /// An agency's organisation certificate (its seal), by agency code.
    Agency(String),
}

/// A PDF to sign, and what the signature says.
#[derive(Debug, Clone)]
pub struct SignRequest {
    pub pdf: Vec<u8>,
    pub signer: SignAs,
    /// The purpose written in the signature (`/Reason`).
    pub reason: String,
    pub location: String,
    /// Adds a visible stamp (name, time, purpose) at the bottom right of the last page.
    pub visible: bool,
    /// What the signer is asked to sign, on their device.
    pub what: String,
}

/// Why a signature could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignFailure {
    /// No key for this signer is configured.
    #[error("no key for {0}")]
    NoKey(String),
    /// The signer refused on their device.
    #[error("refused: {0}")]
    Refused(String),
    /// The signer did not answer in time.
    #[error("no approval in time")]
    Timeout,
    /// The signing service or the timestamp authority could not be reached.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Other(String),
}

/// The future of one signature.
pub type SignFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, SignFailure>> + Send + 'a>>;

/// Signs and verifies PDFs.
pub trait PdfSignatures: Send + Sync {
    /// Every signature of a PDF, checked against the configured trusted roots; `Err` only when
    /// the file is not a readable PDF.
    fn verify(&self, pdf: &[u8], now: DateTime<Utc>) -> Result<Vec<SignatureReport>, String>;
    /// Adds one signature.
    fn sign(&self, request: SignRequest, now: DateTime<Utc>) -> SignFuture<'_>;
}

fn no_signatures() -> ServiceError {
    ServiceError::Storage(motcua_store::StoreError::Io(Msg::new(
        "Máy chủ chưa được cấu hình chữ ký số",
        "this server has no digital signatures configured",
    )))
}

impl Service {
    /// Sets the signing and verification of PDFs.
    pub fn set_pdf_signatures(&self, s: Arc<dyn PdfSignatures>) {
        if let Ok(mut slot) = self.signatures.write() {
            *slot = Some(s);
        }
    }

    fn signatures(&self) -> Result<Arc<dyn PdfSignatures>> {
        self.signatures
            .read()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(no_signatures)
    }

    /// Verifies the signatures of any PDF (a citizen's upload, another agency's document, one
    /// of ours). Public: no permission is needed to check a signature.
    pub async fn verify_pdf(&self, pdf: Vec<u8>) -> Result<Vec<SignatureReport>> {
        if !pdf.starts_with(b"%PDF-") {
            return Err(ServiceError::Invalid(motcua_domain::Error::field(
                "file",
                "Tệp không phải là tài liệu PDF",
                "the file is not a PDF",
            )));
        }
        let s = self.signatures()?;
        let now = self.now();
        let reports = tokio::task::spawn_blocking(move || s.verify(&pdf, now))
            .await
            .map_err(|e| {
                ServiceError::Storage(motcua_store::StoreError::Io(Msg::new(
                    "Không kiểm tra được chữ ký",
                    format!("verification failed: {e}"),
                )))
            })?
            .map_err(|e| {
                ServiceError::Invalid(motcua_domain::Error::field(
                    "file",
                    "Không đọc được tài liệu PDF",
                    format!("the PDF cannot be read: {e}"),
                ))
            })?;
        metrics::counter!("motcua_signatures_verified_total").increment(reports.len() as u64);
        Ok(reports)
    }

    /// Signs a PDF as a user or an agency.
    pub async fn sign_pdf(&self, request: SignRequest) -> Result<Vec<u8>, SignFailure> {
        let s = self
            .signatures()
            .map_err(|_| SignFailure::Other("no digital signatures configured".into()))?;
        let signed = s.sign(request, self.now()).await;
        let outcome = if signed.is_ok() { "signed" } else { "failed" };
        metrics::counter!("motcua_signatures_made_total", "outcome" => outcome).increment(1);
        signed
    }
}

impl Service {
    /// The `copy.sign` job: signs the electronic copy of a confirmed document as the officer
    /// who confirmed it (a PDF as it is, a JPEG or PNG scan made a page first), keeps the
    /// signed PDF beside the scan, and clears *scan only*. Idempotent: a signed copy is left
    /// alone. A TIFF scan stays *scan only* (no PDF is made of it yet).
    pub async fn sign_copy(&self, code: &str) -> std::result::Result<(), String> {
        use motcua_domain::files::FileKind;
        let doc = self
            .store()
            .document(code)
            .await
            .map_err(|e| e.to_string())?;
        if doc.signed {
            return Ok(());
        }
        let officer = self
            .store()
            .user_by_name(&doc.confirmed_by)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{code}: no user {}", doc.confirmed_by))?;
        let Some(agency) = officer.agency_code.clone() else {
            return Err(format!("{code}: {} has no agency", officer.username));
        };
        let f = self
            .store()
            .file(doc.file_id)
            .await
            .map_err(|e| e.to_string())?;
        let blobs = self.blobs().map_err(|e| e.to_string())?;
        let bytes = blobs
            .get(&f.sha256)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{code}: the scan's content is missing"))?;
        let pdf = match f.kind {
            FileKind::Pdf => bytes,
            FileKind::Jpeg | FileKind::Png => {
                self.image_pdf(bytes).await.map_err(|e| e.to_string())?
            }
            FileKind::Tiff => {
                tracing::warn!(document = %code, "a TIFF scan stays scan only: no PDF is made of it");
                return Ok(());
            }
        };
        let signed = self
            .sign_pdf(SignRequest {
                pdf,
                signer: SignAs::User(officer.username.clone()),
                reason: format!("Bản sao điện tử số hóa từ bản chính — {}", doc.code),
                location: self.agency_name(&agency).await,
                visible: false,
                what: format!("Ký bản sao điện tử {} ({})", doc.code, doc.name),
            })
            .await
            .map_err(|e| format!("{code}: {e}"))?;
        let sha = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&signed))
        };
        blobs.put(&sha, &signed).await.map_err(|e| e.to_string())?;
        let by = motcua_store::ChangeBy::new(officer.username.clone(), self.now());
        self.store()
            .mark_document_signed(code, &sha, &agency, &by)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(document = %code, dossier = %doc.dossier_code, "electronic copy signed");
        Ok(())
    }
}
