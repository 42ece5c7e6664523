//! File contents, content-addressed by SHA-256: a folder under the data directory by default
//! (any S3-compatible store implements the same trait in a leaf crate). A blob is written and
//! synced to disk before the database row that names it commits, so an acknowledged file is
//! never lost; writing the same content twice stores it once.

use crate::{Result, StoreError};
use motcua_domain::Msg;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;

/// The future of a blob operation.
pub type BlobFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Where file contents live.
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `sha256` (their hash, lower-case hex), durably, before returning;
    /// `true` if they were not there yet.
    fn put<'a>(&'a self, sha256: &'a str, bytes: &'a [u8]) -> BlobFuture<'a, bool>;
    /// The content stored under `sha256`, if any.
    fn get<'a>(&'a self, sha256: &'a str) -> BlobFuture<'a, Option<Vec<u8>>>;
    /// Removes a blob (nothing if absent).
    fn delete<'a>(&'a self, sha256: &'a str) -> BlobFuture<'a, ()>;
    /// How many blobs are stored (the admin's figures; tests that nothing was left behind).
    fn count(&self) -> BlobFuture<'_, u64>;
    /// Where the blobs are, for logs and `/readyz`.
    fn describe(&self) -> String;
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Io(Msg::new(
        format!("Lỗi ghi, đọc kho tệp: {e}"),
        format!("object store I/O error: {e}"),
    ))
}

/// `sha256` if it is a SHA-256 in lower-case hex (the only names a blob may have).
pub fn checked(sha256: &str) -> Result<&str> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        Ok(sha256)
    } else {
        Err(StoreError::Invalid(motcua_domain::Error::field(
            "sha256",
            "Mã băm tệp không hợp lệ",
            "invalid file hash",
        )))
    }
}

/// Blobs in a local folder: `<root>/ab/cd/<sha256>`, written through a temporary file that is
/// synced, renamed into place, and the folder synced.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    /// A folder store at `root` (created if missing).
    pub fn new(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(root.join("tmp")).map_err(io)?;
        Ok(LocalBlobs { root })
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.root
            .join(&sha256[..2])
            .join(&sha256[2..4])
            .join(sha256)
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

impl BlobStore for LocalBlobs {
    fn put<'a>(&'a self, sha256: &'a str, bytes: &'a [u8]) -> BlobFuture<'a, bool> {
        Box::pin(async move {
            let sha256 = checked(sha256)?.to_owned();
            let path = self.path(&sha256);
            let tmp_dir = self.root.join("tmp");
            let bytes = bytes.to_vec();
            tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
                if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
                    return Ok(false);
                }
                let dir = path.parent().unwrap_or(&tmp_dir).to_owned();
                std::fs::create_dir_all(&dir)?;
                let mut tmp = tempfile::NamedTempFile::new_in(&tmp_dir)?;
                tmp.write_all(&bytes)?;
                tmp.as_file().sync_all()?;
                tmp.persist(&path).map_err(|e| e.error)?;
                sync_dir(&dir)?;
                Ok(true)
            })
            .await
            .map_err(|e| io(std::io::Error::other(e)))?
            .map_err(io)
        })
    }

    fn get<'a>(&'a self, sha256: &'a str) -> BlobFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            let path = self.path(checked(sha256)?);
            match tokio::fs::read(&path).await {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io(e)),
            }
        })
    }

    fn delete<'a>(&'a self, sha256: &'a str) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            let path = self.path(checked(sha256)?);
            match tokio::fs::remove_file(&path).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io(e)),
            }
        })
    }

    fn count(&self) -> BlobFuture<'_, u64> {
        Box::pin(async move {
            let root = self.root.clone();
            tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
                let mut n = 0;
                for a in std::fs::read_dir(&root)? {
                    let a = a?;
                    if a.file_name() == "tmp" || !a.file_type()?.is_dir() {
                        continue;
                    }
                    for b in std::fs::read_dir(a.path())? {
                        let b = b?;
                        if b.file_type()?.is_dir() {
                            n += std::fs::read_dir(b.path())?.count() as u64;
                        }
                    }
                }
                Ok(n)
            })
            .await
            .map_err(|e| io(std::io::Error::other(e)))?
            .map_err(io)
        })
    }

    fn describe(&self) -> String {
        format!("local folder {}", self.root.display())
    }
}
