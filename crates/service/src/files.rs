//! Files of dossiers: checked from their bytes (type, size, pages, pixels) before anything is
//! written, stored by content in the object store and synced before the row that names them
//! commits, and read only by those the policy lets read the dossier.

use crate::{Acting, Result, Service, ServiceError};
use motcua_domain::dossier::Actor;
use motcua_domain::files::{FileKind, FileLimits, FileRefusal, inspect, too_many_pages};
use motcua_domain::policy::{FileFor, Permission, authorize};
use motcua_store::{BlobStore, FilePurpose, NewFile, StoredFile};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

/// Where file contents go, and what a file may be.
pub struct FileSettings {
    blobs: std::sync::RwLock<Option<Arc<dyn BlobStore>>>,
    limits: std::sync::RwLock<FileLimits>,
    /// The staging folder of resumable uploads.
    pub(crate) uploads: std::sync::RwLock<Option<std::path::PathBuf>>,
    /// Uploads a chunk is being appended to.
    pub(crate) appending: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Default for FileSettings {
    fn default() -> Self {
        FileSettings {
            blobs: std::sync::RwLock::new(None),
            limits: std::sync::RwLock::new(FileLimits::default()),
            uploads: std::sync::RwLock::new(None),
            appending: std::sync::Mutex::new(std::collections::HashSet::new()),
        }
    }
}

/// The longest a PDF reader may take on one file.
const PDF_TIMEOUT: Duration = Duration::from_secs(20);

impl Service {
    /// Sets the object store that keeps file contents (the server: a folder under the data
    /// directory, or S3 by configuration).
    pub fn set_blobs(&self, blobs: Arc<dyn BlobStore>) {
        if let Ok(mut b) = self.files.blobs.write() {
            *b = Some(blobs);
        }
    }

    /// Sets what a file may be at most.
    pub fn set_file_limits(&self, limits: FileLimits) {
        if let Ok(mut l) = self.files.limits.write() {
            *l = limits;
        }
    }

    pub fn file_limits(&self) -> FileLimits {
        self.files.limits.read().map(|l| *l).unwrap_or_default()
    }

    /// The object store of file contents.
    pub fn blobs(&self) -> Result<Arc<dyn BlobStore>> {
        self.files
            .blobs
            .read()
            .ok()
            .and_then(|b| b.clone())
            .ok_or_else(|| {
                ServiceError::Storage(motcua_store::StoreError::Io(motcua_domain::Msg::new(
                    "Chưa cấu hình kho lưu tệp",
                    "no object store is configured",
                )))
            })
    }

    /// Checks `bytes` and keeps them as a file of dossier `code`: a component's
    /// (`component` = its position) or the result's. Nothing is written unless every check
    /// passes; the content is on disk before the row commits.
    pub async fn attach_file(
        &self,
        by: &Acting,
        code: &str,
        component: Option<usize>,
        name: &str,
        bytes: &[u8],
    ) -> Result<StoredFile> {
        let what = match component {
            Some(_) => FileFor::Component,
            None => FileFor::Result,
        };
        self.attach(by, code, component, what, name, bytes).await
    }

    /// Like [`Service::attach_file`] for a component's file digitised backwards from the
    /// paper archive: the dossier may be finished.
    pub async fn attach_archive_file(
        &self,
        by: &Acting,
        code: &str,
        component: usize,
        name: &str,
        bytes: &[u8],
    ) -> Result<StoredFile> {
        self.attach(by, code, Some(component), FileFor::Archive, name, bytes)
            .await
    }

    #[tracing::instrument(skip_all, fields(dossier = %code))]
    pub(crate) async fn attach(
        &self,
        by: &Acting,
        code: &str,
        component: Option<usize>,
        what: FileFor,
        name: &str,
        bytes: &[u8],
    ) -> Result<StoredFile> {
        let d = self.dossier(&by.actor, code).await?.dossier;
        let purpose = match component {
            Some(_) => FilePurpose::Component,
            None => FilePurpose::Result,
        };
        authorize(&by.actor, Permission::AttachFile(&d, what))?;
        check_component(&d, component)?;
        let name = file_name(name, bytes)?;
        let limits = self.file_limits();
        let shape = inspect(bytes, &limits).map_err(ServiceError::File)?;
        let pages = match shape.kind {
            FileKind::Pdf => Some(pdf_pages(bytes, &limits).await?),
            _ => shape.pages,
        };
        let sha256 = hex::encode(Sha256::digest(bytes));
        let blobs = self.blobs()?;
        let created = blobs.put(&sha256, bytes).await?;
        let new = NewFile {
            dossier_code: d.code.clone(),
            purpose,
            component_index: component.and_then(|i| u32::try_from(i).ok()),
            sha256: sha256.clone(),
            name,
            kind: shape.kind,
            size: bytes.len() as i64,
            pages: pages.and_then(|p| i32::try_from(p).ok()),
        };
        match self
            .store()
            .add_file(new, Some(crate::ocr::OCR_JOB), &by.stamp())
            .await
        {
            Ok(f) => {
                metrics::counter!("motcua_files_total", "kind" => shape.kind.as_str()).increment(1);
                tracing::info!(
                    file = f.id,
                    kind = shape.kind.as_str(),
                    size = f.size,
                    "file kept"
                );
                Ok(f)
            }
            Err(e) => {
                // The row did not commit: a blob this request wrote and nothing names goes.
                if created && !self.store().blob_known(&sha256).await.unwrap_or(true) {
                    let _ = blobs.delete(&sha256).await;
                }
                Err(e.into())
            }
        }
    }

    /// File `id`, if the actor may read its dossier (else, for them, it does not exist).
    async fn readable_file(&self, actor: &Actor, id: i64) -> Result<StoredFile> {
        let f = self.store().file(id).await?;
        self.dossier(actor, &f.dossier_code)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound(_) => not_found(id),
                other => other,
            })?;
        Ok(f)
    }

    /// The text of a file's pages (empty until its `file.ocr` job ran), for those who may
    /// read its dossier.
    pub async fn file_text(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<(StoredFile, Vec<motcua_store::PageText>)> {
        let f = self.readable_file(actor, id).await?;
        let pages = self.store().file_pages(id).await?;
        Ok((f, pages))
    }

    /// The fields of `kind` read from the text of file `id` (its `file.ocr` job must have run).
    pub async fn file_fields(
        &self,
        actor: &Actor,
        id: i64,
        kind: motcua_domain::extract::DocumentKind,
    ) -> Result<motcua_domain::extract::Extraction> {
        let (f, pages) = self.file_text(actor, id).await?;
        if f.ocr_status == "pending" {
            return Err(ServiceError::Conflict(motcua_domain::Msg::new(
                "Tệp đang được đọc; hãy thử lại sau giây lát",
                "the file is still being read; try again in a moment",
            )));
        }
        Ok(motcua_domain::extract::extract(kind, &stored_pages(&pages)))
    }

    /// The `file.ocr` job: reads the text of file `id` and stores it page by page (a PDF's
    /// pages one at a time; an image in one run), so that after a crash or a restart the job
    /// goes on from the first page not yet stored: no page is lost or read twice. A file that cannot be read
    /// is marked `failed` (not retried); a missing tool or store is retried.
    pub async fn read_file_text(&self, id: i64) -> std::result::Result<(), String> {
        let f = self.store().file(id).await.map_err(|e| e.to_string())?;
        let blobs = self.blobs().map_err(|e| e.to_string())?;
        let Some(bytes) = blobs.get(&f.sha256).await.map_err(|e| e.to_string())? else {
            return Err(format!("file {id}: content missing from the object store"));
        };
        let done = self
            .store()
            .read_page_numbers(id)
            .await
            .map_err(|e| e.to_string())?;
        let outcome = async {
            let reading = crate::ocr::Reading::open(f.kind, &bytes).await?;
            for unit in 0..reading.units() {
                if done.contains(&(reading.first_page(unit) as i32)) {
                    continue;
                }
                let rows: Vec<motcua_store::PageText> = reading
                    .unit(unit)
                    .await?
                    .into_iter()
                    .map(|p| motcua_store::PageText {
                        page: p.page as i32,
                        method: p.method.as_str().to_owned(),
                        confidence: f64::from(p.confidence),
                        text: p.text,
                        words: serde_json::to_value(&p.words).unwrap_or_default(),
                    })
                    .collect();
                // Each unit is stored as soon as it is read: a restart goes on from the next.
                self.store()
                    .add_pages(id, &rows, self.now())
                    .await
                    .map_err(|e| crate::ocr::OcrError::Tool(e.to_string()))?;
                metrics::counter!("motcua_ocr_pages_total").increment(rows.len() as u64);
            }
            Ok::<(), crate::ocr::OcrError>(())
        }
        .await;
        let status = match outcome {
            Ok(()) => "done",
            Err(crate::ocr::OcrError::File(m)) => {
                tracing::warn!(file = id, error = %m, "the file's text cannot be read");
                "failed"
            }
            Err(crate::ocr::OcrError::Tool(m)) => return Err(m),
        };
        self.store()
            .finish_file_text(id, status)
            .await
            .map_err(|e| e.to_string())
    }

    /// Pages of files whose text holds every word of `q` (with or without diacritics), of
    /// dossiers the actor may read: an officer's agency's, a citizen's own, all for an
    /// administrator; never for the operations centre (it sees no personal data).
    pub async fn search_files(&self, actor: &Actor, q: &str) -> Result<Vec<motcua_store::PageHit>> {
        use motcua_domain::auth::Role;
        let words = q.trim();
        if words.is_empty() || words.chars().count() > 500 {
            return Err(ServiceError::invalid(
                "q",
                "Nhập từ 1 đến 500 ký tự để tìm",
                "give 1 to 500 characters to search for",
            ));
        }
        let (agency, owner) = match actor.role {
            Some(Role::Admin) | None => (None, None),
            Some(Role::Citizen) => (None, Some(actor.user_id.unwrap_or(-1))),
            Some(Role::Viewer) => {
                return Err(ServiceError::Forbidden(motcua_domain::Msg::new(
                    "Trung tâm điều hành không xem nội dung giấy tờ",
                    "the operations centre does not read documents",
                )));
            }
            Some(_) => match &actor.agency {
                Some(a) => (Some(a.to_string()), None),
                None => return Ok(Vec::new()),
            },
        };
        let hits = self
            .store()
            .search_pages(q, agency.as_deref(), owner, 50)
            .await?;
        // The policy has the last word on each dossier.
        let mut out = Vec::with_capacity(hits.len());
        for h in hits {
            if self.dossier(actor, &h.dossier_code).await.is_ok() {
                out.push(h);
            }
        }
        Ok(out)
    }

    /// The files of a dossier the actor may read.
    pub async fn files_of(&self, actor: &Actor, code: &str) -> Result<Vec<StoredFile>> {
        let d = self.dossier(actor, code).await?;
        Ok(self.store().dossier_files(&d.dossier.code).await?)
    }

    /// A file and its content, for those who may read its dossier (others: not found).
    pub async fn file_content(&self, actor: &Actor, id: i64) -> Result<(StoredFile, Vec<u8>)> {
        let f = self.readable_file(actor, id).await?;
        match self.blobs()?.get(&f.sha256).await? {
            Some(bytes) => Ok((f, bytes)),
            None => {
                tracing::error!(file = id, sha256 = %f.sha256, "file content missing from the object store");
                Err(ServiceError::Storage(motcua_store::StoreError::Io(
                    motcua_domain::Msg::new(
                        "Nội dung tệp không còn trong kho lưu",
                        "the file's content is missing from the object store",
                    ),
                )))
            }
        }
    }
}

/// A component position must be one of the dossier's.
pub(crate) fn check_component(
    d: &motcua_domain::dossier::Dossier,
    component: Option<usize>,
) -> Result<()> {
    match component {
        Some(i) if i >= d.components.len() => Err(ServiceError::invalid(
            "component",
            format!(
                "Hồ sơ chỉ có {} thành phần (chỉ số từ 0)",
                d.components.len()
            ),
            format!(
                "the dossier has {} components (indexes from 0)",
                d.components.len()
            ),
        )),
        _ => Ok(()),
    }
}

/// Stored pages as the field extractor reads them.
pub fn stored_pages(pages: &[motcua_store::PageText]) -> Vec<motcua_domain::extract::PageInput> {
    pages
        .iter()
        .map(|p| motcua_domain::extract::PageInput {
            text: p.text.clone(),
            confidence: p.confidence as f32,
            words: serde_json::from_value(p.words.clone()).unwrap_or_default(),
        })
        .collect()
}

fn not_found(id: i64) -> ServiceError {
    ServiceError::NotFound(motcua_domain::Msg::new(
        format!("Không có tệp {id}"),
        format!("no file {id}"),
    ))
}

/// The name to show: the last part of what was sent, without control characters, at most 200
/// characters, with the extension of the real content when it had none.
fn file_name(sent: &str, bytes: &[u8]) -> Result<String> {
    let base = sent.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = motcua_domain::text::clean(base)
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>'))
        .take(200)
        .collect();
    if clean.is_empty() || clean.chars().all(|c| c == '.') {
        let ext = motcua_domain::files::sniff(bytes)
            .map(FileKind::extension)
            .unwrap_or("bin");
        return Ok(format!("tep.{ext}"));
    }
    Ok(clean)
}

/// The pages of a PDF, read by poppler's `pdfinfo` in a child process (time-limited, killed if
/// late); a PDF it cannot read is refused.
async fn pdf_pages(bytes: &[u8], limits: &FileLimits) -> Result<u32> {
    let broken = || {
        ServiceError::File(FileRefusal::Unusable(motcua_domain::Msg::new(
            "Tệp PDF bị hỏng hoặc không đọc được",
            "the PDF is damaged or cannot be read",
        )))
    };
    let dir = tempfile::tempdir().map_err(|e| io_error(&e))?;
    let path = dir.path().join("in.pdf");
    tokio::fs::write(&path, bytes)
        .await
        .map_err(|e| io_error(&e))?;
    let child = tokio::process::Command::new("pdfinfo")
        .arg(&path)
        .env("LC_ALL", "C")
        .kill_on_drop(true)
        .output();
    let out = match tokio::time::timeout(PDF_TIMEOUT, child).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "pdfinfo (poppler-utils) could not run");
            return Err(ServiceError::Storage(motcua_store::StoreError::Io(
                motcua_domain::Msg::new(
                    "Không chạy được trình đọc PDF (poppler-utils)",
                    "the PDF reader (poppler-utils) could not run",
                ),
            )));
        }
        Err(_) => return Err(broken()),
    };
    if !out.status.success() {
        return Err(broken());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let pages = text
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|v| v.trim().parse::<u32>().ok())
        .ok_or_else(broken)?;
    if pages == 0 {
        return Err(broken());
    }
    if pages > limits.max_pages {
        return Err(ServiceError::File(too_many_pages(limits)));
    }
    Ok(pages)
}

fn io_error(e: &std::io::Error) -> ServiceError {
    ServiceError::Storage(motcua_store::StoreError::Io(motcua_domain::Msg::new(
        format!("Lỗi tệp tạm: {e}"),
        format!("temporary file error: {e}"),
    )))
}
