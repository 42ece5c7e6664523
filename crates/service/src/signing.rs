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
    /// Whether a key of `who` is configured (a key file, or the remote signing service for
    /// people), so that nothing is laid out for a signature that cannot be made.
    fn can_sign(&self, who: &SignAs) -> bool;
    /// Whether a signature of `who` is made here with a key this server holds (no person
    /// approves it on a device): pure CPU work apart from a timestamp request.
    fn signs_locally(&self, who: &SignAs) -> bool {
        let _ = who;
        false
    }
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

    /// Whether this server verifies signatures (signing and verification are configured).
    pub fn verifies_pdfs(&self) -> bool {
        self.signatures().is_ok()
    }

    /// Whether `who` can sign here (a key of theirs is configured).
    pub fn can_sign(&self, who: &SignAs) -> bool {
        self.signatures().is_ok_and(|s| s.can_sign(who))
    }

    fn signatures(&self) -> Result<Arc<dyn PdfSignatures>> {
        self.signatures
            .read()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(no_signatures)
    }

    /// Stores a PDF's content (addressed by its SHA-256, which it gives) before the row that
    /// names it commits.
    pub(crate) async fn put_pdf(&self, pdf: &[u8]) -> Result<String> {
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(pdf));
        self.blobs()?.put(&sha, pdf).await?;
        Ok(sha)
    }

    /// A stored content a job needs (`what` names it in the error).
    pub(crate) async fn content(
        &self,
        sha256: &str,
        what: &str,
    ) -> std::result::Result<Vec<u8>, String> {
        self.blobs()
            .map_err(|e| e.to_string())?
            .get(sha256)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{what}: content missing"))
    }

    /// A scan or document as a PDF to sign: a PDF as it is, a JPEG or PNG laid on a page;
    /// `None` for a TIFF (no PDF is made of one yet).
    async fn as_pdf(
        &self,
        kind: motcua_domain::files::FileKind,
        bytes: Vec<u8>,
    ) -> std::result::Result<Option<Vec<u8>>, String> {
        use motcua_domain::files::FileKind;
        match kind {
            FileKind::Pdf => Ok(Some(bytes)),
            FileKind::Jpeg | FileKind::Png => self
                .image_pdf(bytes)
                .await
                .map(Some)
                .map_err(|e| e.to_string()),
            FileKind::Tiff => Ok(None),
        }
    }

    /// Signs as `leader` (with a visible stamp), then seals with `agency`'s certificate: each
    /// an incremental update. `what` tells each signer what they sign, from the purpose.
    pub(crate) async fn sign_and_seal(
        &self,
        pdf: Vec<u8>,
        leader: &str,
        leader_reason: String,
        agency: &motcua_domain::codes::AgencyCode,
        what: impl Fn(&str) -> String,
    ) -> std::result::Result<Vec<u8>, SignFailure> {
        let agency_name = self.agency_name(agency).await;
        let steps = [
            (SignAs::User(leader.to_owned()), leader_reason, true),
            (
                SignAs::Agency(agency.to_string()),
                format!("Đóng dấu {agency_name}"),
                false,
            ),
        ];
        let mut pdf = pdf;
        for (signer, reason, visible) in steps {
            pdf = self
                .sign_pdf(SignRequest {
                    pdf,
                    signer,
                    what: what(&reason),
                    reason,
                    location: agency_name.clone(),
                    visible,
                })
                .await?;
        }
        Ok(pdf)
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
        let now = self.now();
        // A background job's signature with a key held here (the slips, the agency seals) is
        // made on the low-priority threads, like the layout before it: its key operations,
        // hashing and PDF writing would otherwise hold a request thread for milliseconds at
        // a time. A person approving on a device is waited for on the runtime as before.
        let signed = if crate::background::is_background() && s.signs_locally(&request.signer) {
            let rt = tokio::runtime::Handle::current();
            crate::background::cpu(move || rt.block_on(s.sign(request, now)))
                .await
                .unwrap_or_else(|e| Err(SignFailure::Other(e)))
        } else {
            s.sign(request, now).await
        };
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
        let bytes = self.content(&f.sha256, code).await?;
        let Some(pdf) = self.as_pdf(f.kind, bytes).await? else {
            tracing::warn!(document = %code, "a TIFF scan stays scan only: no PDF is made of it");
            return Ok(());
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
        let sha = self.put_pdf(&signed).await.map_err(|e| e.to_string())?;
        let by = motcua_store::ChangeBy::new(officer.username.clone(), self.now());
        self.store()
            .mark_document_signed(code, &sha, signed.len() as i64, &agency, &by)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(document = %code, dossier = %doc.dossier_code, "electronic copy signed");
        Ok(())
    }
}

/// A result waiting in the leader's signing queue, with its signature's state.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct QueuedResult {
    pub dossier_code: String,
    pub procedure_name: String,
    pub applicant_name: String,
    pub file: motcua_store::StoredFile,
    /// `unsigned` (never asked), `queued`, `signing`, `signed`, `refused`, `failed`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_code: Option<String>,
}

fn leader_only() -> ServiceError {
    ServiceError::Forbidden(Msg::new(
        "Chỉ lãnh đạo của cơ quan đang giữ hồ sơ mới ký kết quả",
        "only a leader of the agency holding the dossier signs its result",
    ))
}

fn signing_failed(what: &str) -> ServiceError {
    ServiceError::Conflict(Msg::new(
        format!("Kết quả này không ký được: {what}"),
        format!("this result cannot be signed: {what}"),
    ))
}

impl Service {
    /// The results waiting for the leader's signature: the results of the dossiers of the
    /// leader's agency at a deciding step, and those signed or refused recently, with their state.
    pub async fn signing_queue(
        &self,
        actor: &motcua_domain::dossier::Actor,
    ) -> Result<Vec<QueuedResult>> {
        use motcua_domain::auth::Role;
        use motcua_domain::dossier::Status;
        if actor.role != Some(Role::Leader) {
            return Err(leader_only());
        }
        let Some(agency) = actor.agency.clone() else {
            return Err(leader_only());
        };
        let page = self
            .store()
            .dossiers(&motcua_store::DossierQuery {
                statuses: vec![Status::Processing],
                agency: Some(agency.to_string()),
                limit: Some(200),
                ..Default::default()
            })
            .await?;
        let dossiers: Vec<_> = page
            .items
            .into_iter()
            .map(|d| d.dossier)
            .filter(|d| d.process.steps.get(d.step).is_some_and(|st| st.decides))
            .collect();
        let codes: Vec<String> = dossiers.iter().map(|d| d.code.clone()).collect();
        let states = self.store().result_signatures(&codes).await?;
        let mut out = Vec::new();
        for d in &dossiers {
            for f in self.store().dossier_files(&d.code).await? {
                if f.purpose != motcua_store::FilePurpose::Result {
                    continue;
                }
                let st = states.iter().find(|s| s.file_id == f.id);
                out.push(QueuedResult {
                    dossier_code: d.code.clone(),
                    procedure_name: d.procedure_name.clone(),
                    applicant_name: d.applicant.name.clone(),
                    state: st.map_or_else(|| "unsigned".to_owned(), |s| s.state.clone()),
                    reason: st.and_then(|s| s.reason.clone()),
                    document_code: st.and_then(|s| s.document_code.clone()),
                    file: f,
                });
            }
        }
        Ok(out)
    }

    /// The result file `file_id` and its dossier, if the leader may sign it now.
    async fn signable(
        &self,
        by: &crate::Acting,
        file_id: i64,
    ) -> Result<(
        motcua_store::StoredFile,
        motcua_domain::dossier::Dossier,
        motcua_domain::codes::AgencyCode,
    )> {
        use motcua_domain::auth::Role;
        let agency = match (&by.actor.role, &by.actor.agency) {
            (Some(Role::Leader), Some(a)) => a.clone(),
            _ => return Err(leader_only()),
        };
        let f = self.store().file(file_id).await?;
        let d = self.dossier(&by.actor, &f.dossier_code).await?.dossier;
        if f.purpose != motcua_store::FilePurpose::Result {
            return Err(signing_failed("not a result file"));
        }
        let holds = d.current_agency == agency;
        let deciding = d.process.steps.get(d.step).is_some_and(|st| st.decides);
        if !holds || !deciding || d.status != motcua_domain::dossier::Status::Processing {
            return Err(leader_only());
        }
        Ok((f, d, agency))
    }

    /// Queues results to be signed by the leader and sealed by the agency (the `result.sign`
    /// job each; a remote signer approves each on their device). Gives how many were queued.
    pub async fn sign_results(&self, by: &crate::Acting, file_ids: &[i64]) -> Result<usize> {
        if file_ids.is_empty() || file_ids.len() > 200 {
            return Err(ServiceError::invalid(
                "files",
                "Chọn từ 1 đến 200 kết quả để ký",
                "choose 1 to 200 results to sign",
            ));
        }
        let mut queued = 0;
        for &id in file_ids {
            let (f, d, agency) = self.signable(by, id).await?;
            if self
                .store()
                .queue_result_signature(f.id, &d.code, &agency, &by.stamp())
                .await?
            {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// The leader refuses to sign a result, with the reason (shown to the officers).
    pub async fn refuse_result(
        &self,
        by: &crate::Acting,
        file_id: i64,
        reason: &str,
    ) -> Result<()> {
        let reason = motcua_domain::text::clean(reason);
        if reason.is_empty() || reason.chars().count() > 1000 {
            return Err(ServiceError::invalid(
                "reason",
                "Cần nêu lý do từ chối ký (tối đa 1000 ký tự)",
                "give the reason for refusing (at most 1000 characters)",
            ));
        }
        let (f, d, agency) = self.signable(by, file_id).await?;
        if self
            .store()
            .result_signature(f.id)
            .await?
            .is_some_and(|s| s.state == "signed")
        {
            return Err(signing_failed("it is already signed"));
        }
        self.store()
            .set_result_signature_state(
                f.id,
                &d.code,
                &agency,
                "refused",
                Some(&reason),
                &by.stamp(),
            )
            .await?;
        Ok(())
    }

    /// The `result.sign` job: the leader's signature (with a visible stamp), then the agency's
    /// seal, each an incremental update; the signed result joins the applicant's warehouse.
    /// A refusal on the device or a missing key ends it; an unreachable service is retried.
    pub async fn sign_result(&self, file_id: i64) -> std::result::Result<(), String> {
        let Some(st) = self
            .store()
            .result_signature(file_id)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Err(format!("result {file_id}: no signature request"));
        };
        if !matches!(st.state.as_str(), "queued" | "signing") {
            return Ok(());
        }
        let agency =
            motcua_domain::codes::AgencyCode::parse(&st.agency_code).map_err(|e| e.to_string())?;
        let by = motcua_store::ChangeBy::new(st.leader.clone(), self.now());
        let set = |state: &'static str, reason: Option<String>| {
            let by = by.clone();
            let agency = agency.clone();
            let dossier = st.dossier_code.clone();
            async move {
                self.store()
                    .set_result_signature_state(
                        file_id,
                        &dossier,
                        &agency,
                        state,
                        reason.as_deref(),
                        &by,
                    )
                    .await
                    .map_err(|e| e.to_string())
            }
        };
        set("signing", None).await?;
        let f = self
            .store()
            .file(file_id)
            .await
            .map_err(|e| e.to_string())?;
        let d = self
            .store()
            .dossier(&f.dossier_code)
            .await
            .map_err(|e| e.to_string())?
            .dossier;
        let bytes = self
            .content(&f.sha256, &format!("result {file_id}"))
            .await?;
        let Some(pdf) = self.as_pdf(f.kind, bytes).await? else {
            set("failed", Some("Kết quả dạng TIFF chưa ký được; hãy tải lên bản PDF (a TIFF result cannot be signed; upload a PDF)".into())).await?;
            return Ok(());
        };
        let signed = self
            .sign_and_seal(
                pdf,
                &st.leader,
                format!("Phê duyệt kết quả giải quyết hồ sơ {}", d.code),
                &agency,
                |reason| format!("{reason} — {} ({})", d.procedure_name, f.name),
            )
            .await;
        let pdf = match signed {
            Ok(p) => p,
            Err(SignFailure::Refused(why)) => return set("refused", Some(why)).await,
            Err(e @ (SignFailure::NoKey(_) | SignFailure::Other(_))) => {
                return set("failed", Some(e.to_string())).await;
            }
            Err(e) => {
                set("queued", Some(format!("thử lại / retrying: {e}"))).await?;
                return Err(e.to_string());
            }
        };
        let sha = self.put_pdf(&pdf).await.map_err(|e| e.to_string())?;
        let day = self.calendar().local(self.now()).date();
        let code = self
            .store()
            .complete_result_signature(
                file_id,
                &sha,
                pdf.len() as i64,
                &d.applicant.id_number,
                &format!("Kết quả: {}", d.procedure_name),
                &agency,
                day,
                &by,
            )
            .await
            .map_err(|e| e.to_string())?;
        metrics::counter!("motcua_results_signed_total").increment(1);
        tracing::info!(dossier = %d.code, document = %code, "result signed and sealed");
        Ok(())
    }
}

impl Service {
    /// Renders slip `kind` of dossier `code` from `data`, signs it as `issuer` (the officer who
    /// issued it) and keeps it with the dossier, once per event (`issued_at`). A server without
    /// a PDF renderer or signatures, or an officer without a key, leaves the slip unsigned:
    /// `Ok(false)`.
    pub async fn keep_signed_slip(
        &self,
        code: &str,
        kind: motcua_domain::slips::SlipKind,
        issuer: &str,
        issued_at: DateTime<Utc>,
        data: crate::slips::SlipData,
    ) -> std::result::Result<bool, String> {
        if !self.can_sign(&SignAs::User(issuer.to_owned())) {
            return Ok(false);
        }
        let title = data.title.clone();
        let pdf = match self.render_slip(kind, data).await {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(dossier = %code, error = %e, "slip not kept: no PDF");
                return Ok(false);
            }
        };
        let agency = self
            .store()
            .user_by_name(issuer)
            .await
            .map_err(|e| e.to_string())?
            .and_then(|u| u.agency_code);
        let location = match &agency {
            Some(a) => self.agency_name(a).await,
            None => String::new(),
        };
        let signed = match self
            .sign_pdf(SignRequest {
                pdf,
                signer: SignAs::User(issuer.to_owned()),
                reason: format!("{title} — hồ sơ {code}"),
                location,
                visible: false,
                what: format!("{title} — hồ sơ {code}"),
            })
            .await
        {
            Ok(s) => s,
            Err(SignFailure::NoKey(_)) => {
                tracing::info!(dossier = %code, officer = %issuer, "slip kept unsigned: the officer has no key");
                return Ok(false);
            }
            Err(e) => return Err(format!("{code}: {e}")),
        };
        let sha = self.put_pdf(&signed).await.map_err(|e| e.to_string())?;
        let by = motcua_store::ChangeBy::new(issuer.to_owned(), self.now());
        self.store()
            .keep_slip(
                code,
                kind.as_str(),
                issued_at,
                &sha,
                signed.len() as i64,
                &by,
            )
            .await
            .map_err(|e| e.to_string())
    }

    /// The signed slips kept with a dossier, for those who may read it.
    pub async fn kept_slips(
        &self,
        actor: &motcua_domain::dossier::Actor,
        code: &str,
    ) -> Result<Vec<motcua_store::KeptSlip>> {
        let d = self.dossier(actor, code).await?;
        Ok(self.store().kept_slips(&d.dossier.code).await?)
    }

    /// One kept slip's PDF.
    pub async fn kept_slip(
        &self,
        actor: &motcua_domain::dossier::Actor,
        code: &str,
        id: i64,
    ) -> Result<(motcua_store::KeptSlip, Vec<u8>)> {
        let not_found = || {
            ServiceError::NotFound(Msg::new(
                format!("Hồ sơ {code} không có phiếu đã ký số {id}"),
                format!("dossier {code} has no signed slip {id}"),
            ))
        };
        let slip = self
            .kept_slips(actor, code)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(not_found)?;
        let bytes = self
            .blobs()?
            .get(&slip.sha256)
            .await?
            .ok_or_else(not_found)?;
        Ok((slip, bytes))
    }
}

impl Service {
    /// Who issued the latest slip `kind` of dossier `code`, and when (the event that issued it):
    /// the receipt's officer, or the officer of the latest event calling for the letter.
    pub async fn slip_issuer(
        &self,
        code: &str,
        kind: motcua_domain::slips::SlipKind,
    ) -> Result<Option<(String, DateTime<Utc>)>> {
        use motcua_domain::dossier::{EventRecord, Slip};
        use motcua_domain::slips::SlipKind;
        let trail = self.store().audit_trail("dossier", code).await?;
        for e in trail.iter().rev() {
            let Ok(record) = EventRecord::from_stored(&e.action, &e.data, e.before.as_deref())
            else {
                continue;
            };
            let ev = &record.event;
            let issued = match kind {
                SlipKind::Receipt => ev.is_receipt(),
                SlipKind::SupplementRequest => ev.slip() == Some(Slip::SupplementRequest),
                SlipKind::Refusal => ev.slip() == Some(Slip::Refusal),
                SlipKind::Apology => ev.slip() == Some(Slip::Apology),
                SlipKind::Stopping => ev.slip() == Some(Slip::Stopping),
                SlipKind::Control | SlipKind::Register => false,
            };
            if issued {
                return Ok(Some((e.actor.clone(), e.at)));
            }
        }
        Ok(None)
    }
}
