//! Resumable uploads, for slow and unreliable links: a file announced with its size, then sent
//! in chunks, each appended to a staging file and synced before it is acknowledged. After a
//! dropped connection the client asks how much arrived (the staging file's length) and sends
//! the rest. When the last byte arrives the file goes through the same checks and storage as
//! a one-shot upload; an upload is its sender's alone, and is purged a day after it began.

use crate::{Acting, Result, Service, ServiceError};
use chrono::{DateTime, Utc};
use motcua_domain::Msg;
use motcua_domain::files::FileRefusal;
use motcua_domain::policy::{FileFor, Permission, authorize};
use motcua_store::{StoredFile, UploadRow};
use rand::RngCore;
use serde::Serialize;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// How long an unfinished upload is kept.
pub const UPLOAD_TTL: chrono::Duration = chrono::Duration::hours(24);

/// An upload as its sender sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Upload {
    pub id: String,
    pub dossier_code: String,
    /// The component (position from 0); absent for the result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<u32>,
    pub name: String,
    /// Bytes announced.
    pub size: u64,
    /// Bytes received and synced: the next chunk starts here.
    pub offset: u64,
    /// The file, once the last chunk arrived and the file was accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_id: Option<i64>,
    /// Unfinished uploads are purged after this.
    pub expires_at: DateTime<Utc>,
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(Msg::new(
        format!("Không có lượt tải lên «{id}» (đã hết hạn hoặc không phải của bạn)"),
        format!("no upload «{id}» (expired, or not yours)"),
    ))
}

fn io(e: &std::io::Error) -> ServiceError {
    ServiceError::Storage(motcua_store::StoreError::Io(Msg::new(
        format!("Lỗi thư mục tải lên: {e}"),
        format!("upload staging folder error: {e}"),
    )))
}

fn target(component: Option<usize>) -> FileFor {
    match component {
        Some(_) => FileFor::Component,
        None => FileFor::Result,
    }
}

impl Service {
    /// Sets the staging folder of resumable uploads (the server: `<data_dir>/uploads`).
    pub fn set_upload_dir(&self, dir: PathBuf) {
        if let Ok(mut d) = self.files.uploads.write() {
            *d = Some(dir);
        }
    }

    fn staging(&self, id: &str) -> Result<PathBuf> {
        let dir = self
            .files
            .uploads
            .read()
            .ok()
            .and_then(|d| d.clone())
            .ok_or_else(|| {
                ServiceError::Storage(motcua_store::StoreError::Io(Msg::new(
                    "Chưa cấu hình thư mục tải lên",
                    "no upload staging folder is configured",
                )))
            })?;
        // Ids are made here (hex), but a path never takes a client's text unchecked.
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found(id));
        }
        Ok(dir.join(format!("{id}.part")))
    }

    fn view(&self, u: &UploadRow, offset: u64) -> Upload {
        Upload {
            id: u.id.clone(),
            dossier_code: u.dossier_code.clone(),
            component: u.component_index,
            name: u.name.clone(),
            size: u.size as u64,
            offset,
            file_id: u.file_id,
            expires_at: u.created_at + UPLOAD_TTL,
        }
    }

    /// Starts an upload of `size` bytes for a component of dossier `code` (or its result):
    /// the same permission as a one-shot upload, and the size limit checked now.
    pub async fn begin_upload(
        &self,
        by: &Acting,
        code: &str,
        component: Option<usize>,
        name: &str,
        size: u64,
    ) -> Result<Upload> {
        let d = self.dossier(&by.actor, code).await?.dossier;
        authorize(&by.actor, Permission::AttachFile(&d, target(component)))?;
        crate::files::check_component(&d, component)?;
        let limits = self.file_limits();
        if size == 0 {
            return Err(ServiceError::File(FileRefusal::Empty(Msg::new(
                "Tệp rỗng (0 byte)",
                "the file is empty (0 bytes)",
            ))));
        }
        if size > limits.max_bytes {
            return Err(ServiceError::File(motcua_domain::files::too_large(&limits)));
        }
        let mut raw = [0u8; 16];
        rand::rng().fill_bytes(&mut raw);
        let id = hex::encode(raw);
        let path = self.staging(&id)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| io(&e))?;
        }
        tokio::fs::File::create(&path)
            .await
            .map_err(|e| io(&e))?
            .sync_all()
            .await
            .map_err(|e| io(&e))?;
        let row = UploadRow {
            id,
            dossier_code: d.code.clone(),
            component_index: component.and_then(|i| u32::try_from(i).ok()),
            name: name.chars().take(200).collect(),
            size: size as i64,
            created_by: by.actor.name.clone(),
            created_at: self.now(),
            file_id: None,
        };
        if let Err(e) = self.store().add_upload(&row).await {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e.into());
        }
        Ok(self.view(&row, 0))
    }

    /// Upload `id` of the caller, with the bytes received so far.
    pub async fn upload_status(&self, by: &Acting, id: &str) -> Result<Upload> {
        let row = self.own_upload(by, id).await?;
        let offset = self.received(&row).await?;
        Ok(self.view(&row, offset))
    }

    async fn own_upload(&self, by: &Acting, id: &str) -> Result<UploadRow> {
        match self.store().upload(id).await {
            Ok(row) if row.created_by == by.actor.name => Ok(row),
            Ok(_) | Err(motcua_store::StoreError::NotFound(_)) => Err(not_found(id)),
            Err(e) => Err(e.into()),
        }
    }

    async fn received(&self, row: &UploadRow) -> Result<u64> {
        if row.file_id.is_some() {
            return Ok(row.size as u64);
        }
        match tokio::fs::metadata(self.staging(&row.id)?).await {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not_found(&row.id)),
            Err(e) => Err(io(&e)),
        }
    }

    /// Appends `chunk` at `offset` (which must be the bytes received so far: 409 otherwise,
    /// with the offset to resume from in the message). With the last byte the file is checked
    /// and attached: returns it. A refused file ends the upload (nothing is kept).
    pub async fn append_upload(
        &self,
        by: &Acting,
        id: &str,
        offset: u64,
        chunk: &[u8],
    ) -> Result<(Upload, Option<StoredFile>)> {
        // One append at a time per upload: two connections of one client must not interleave
        // (other uploads go on meanwhile).
        let _guard = AppendGuard::take(&self.files.appending, id)?;
        let row = self.own_upload(by, id).await?;
        if let Some(file_id) = row.file_id {
            let f = self.store().file(file_id).await?;
            return Ok((self.view(&row, row.size as u64), Some(f)));
        }
        let path = self.staging(id)?;
        let have = self.received(&row).await?;
        if offset != have {
            return Err(ServiceError::Conflict(Msg::new(
                format!("Vị trí {offset} không khớp: đã nhận {have} byte, hãy gửi tiếp từ {have}"),
                format!(
                    "offset {offset} does not match: {have} bytes received, continue from {have}"
                ),
            )));
        }
        let size = row.size as u64;
        if have + chunk.len() as u64 > size {
            return Err(ServiceError::invalid(
                "Upload-Offset",
                format!("Gửi quá {size} byte đã báo"),
                format!("more than the {size} bytes announced"),
            ));
        }
        if !chunk.is_empty() {
            let mut f = tokio::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .await
                .map_err(|e| io(&e))?;
            f.write_all(chunk).await.map_err(|e| io(&e))?;
            f.sync_data().await.map_err(|e| io(&e))?;
        }
        let now = have + chunk.len() as u64;
        if now < size {
            return Ok((self.view(&row, now), None));
        }
        // Complete: the same checks and storage as a one-shot upload.
        let bytes = tokio::fs::read(&path).await.map_err(|e| io(&e))?;
        let component = row.component_index.map(|i| i as usize);
        // Attached before a crash, but not yet recorded as this upload's: the same file.
        if let Some(i) = row.component_index {
            let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            if let Some(file_id) = self
                .store()
                .same_file(&row.dossier_code, i as i32, &sha256)
                .await?
            {
                self.store().finish_upload(id, file_id).await?;
                let _ = tokio::fs::remove_file(&path).await;
                let f = self.store().file(file_id).await?;
                let done = UploadRow {
                    file_id: Some(file_id),
                    ..row
                };
                return Ok((self.view(&done, size), Some(f)));
            }
        }
        match self
            .attach(
                by,
                &row.dossier_code,
                component,
                target(component),
                &row.name,
                &bytes,
            )
            .await
        {
            Ok(f) => {
                self.store().finish_upload(id, f.id).await?;
                let _ = tokio::fs::remove_file(&path).await;
                let done = UploadRow {
                    file_id: Some(f.id),
                    ..row
                };
                Ok((self.view(&done, size), Some(f)))
            }
            Err(e @ ServiceError::Storage(_)) => Err(e),
            Err(e) => {
                // Refused for its content or no longer allowed: the upload ends here.
                let _ = tokio::fs::remove_file(&path).await;
                self.store().remove_uploads(&[row.id]).await?;
                Err(e)
            }
        }
    }

    /// The `uploads.purge` job: removes uploads begun more than [`UPLOAD_TTL`] ago, with
    /// their staging files.
    pub async fn purge_uploads(&self) -> Result<u64> {
        let ids = self.store().uploads_before(self.now() - UPLOAD_TTL).await?;
        for id in &ids {
            if let Ok(p) = self.staging(id) {
                let _ = tokio::fs::remove_file(p).await;
            }
        }
        Ok(self.store().remove_uploads(&ids).await?)
    }
}

/// Marks an upload as being appended to, until dropped; a second chunk of the same upload
/// meanwhile is told to wait (409), other uploads are not held up.
struct AppendGuard<'a> {
    busy: &'a std::sync::Mutex<std::collections::HashSet<String>>,
    id: String,
}

impl<'a> AppendGuard<'a> {
    fn take(
        busy: &'a std::sync::Mutex<std::collections::HashSet<String>>,
        id: &str,
    ) -> Result<AppendGuard<'a>> {
        let fresh = busy
            .lock()
            .map(|mut b| b.insert(id.to_owned()))
            .unwrap_or(false);
        if !fresh {
            return Err(ServiceError::Conflict(Msg::new(
                "Một phần khác của tệp này đang được ghi; hãy hỏi lại vị trí rồi gửi tiếp",
                "another chunk of this upload is being written; ask for the offset and go on",
            )));
        }
        Ok(AppendGuard {
            busy,
            id: id.to_owned(),
        })
    }
}

impl Drop for AppendGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut b) = self.busy.lock() {
            b.remove(&self.id);
        }
    }
}
