//! The rows of dossiers' files (their contents are blobs, see [`crate::blobs`]).

use crate::{ChangeBy, Result, Store, StoreError, on_db};
use chrono::{DateTime, Utc};
use motcua_domain::Msg;
use motcua_domain::files::FileKind;
use serde::{Deserialize, Serialize};

/// What a file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilePurpose {
    /// A component of the dossier (`component_index`).
    Component,
    /// The result the agency issues.
    Result,
}

impl FilePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            FilePurpose::Component => "component",
            FilePurpose::Result => "result",
        }
    }

    pub fn parse(s: &str) -> Option<FilePurpose> {
        match s {
            "component" => Some(FilePurpose::Component),
            "result" => Some(FilePurpose::Result),
            _ => None,
        }
    }
}

/// A file of a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StoredFile {
    pub id: i64,
    pub dossier_code: String,
    pub purpose: FilePurpose,
    /// The component (position in the dossier's components) for a component's file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_index: Option<u32>,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// The name it was sent with (shown, never trusted for its type).
    pub name: String,
    pub kind: FileKind,
    pub size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<i32>,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

/// A file to record (its blob already stored).
#[derive(Debug, Clone)]
pub struct NewFile {
    pub dossier_code: String,
    pub purpose: FilePurpose,
    pub component_index: Option<u32>,
    pub sha256: String,
    pub name: String,
    pub kind: FileKind,
    pub size: i64,
    pub pages: Option<i32>,
}

type FileRow = (
    i64,
    String,
    String,
    Option<i32>,
    String,
    String,
    String,
    i64,
    Option<i32>,
    String,
    DateTime<Utc>,
);

const FILE_COLUMNS: &str = "id, dossier_code, purpose, component_index, sha256, name, kind, size, \
                            pages, uploaded_by, uploaded_at";

fn into_file(r: FileRow) -> Result<StoredFile> {
    let bad = |what: &str| {
        StoreError::Db(sqlx::Error::Decode(
            format!("dossier_files.{what} is not a known value").into(),
        ))
    };
    Ok(StoredFile {
        id: r.0,
        dossier_code: r.1,
        purpose: FilePurpose::parse(&r.2).ok_or_else(|| bad("purpose"))?,
        component_index: r.3.and_then(|i| u32::try_from(i).ok()),
        sha256: r.4,
        name: r.5,
        kind: FileKind::parse(&r.6).ok_or_else(|| bad("kind"))?,
        size: r.7,
        pages: r.8,
        uploaded_by: r.9,
        uploaded_at: r.10,
    })
}

impl Store {
    /// Records a file whose blob is stored, with its audit record, in one transaction.
    pub async fn add_file(&self, f: NewFile, by: &ChangeBy) -> Result<StoredFile> {
        let _turn = self.write_turn().await;
        let component = f.component_index.map(|i| i as i32);
        let id: i64 = on_db!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            sqlx::query(
                "INSERT INTO blobs (sha256, size, kind, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(&f.sha256)
            .bind(f.size)
            .bind(f.kind.as_str())
            .bind(by.at)
            .execute(&mut *tx)
            .await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO dossier_files (dossier_code, purpose, component_index, sha256, name, kind, \
                 size, pages, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 RETURNING id",
            )
            .bind(&f.dossier_code)
            .bind(f.purpose.as_str())
            .bind(component)
            .bind(&f.sha256)
            .bind(&f.name)
            .bind(f.kind.as_str())
            .bind(f.size)
            .bind(f.pages)
            .bind(&by.actor)
            .bind(by.at)
            .fetch_one(&mut *tx)
            .await?;
            let record = by.record(
                "dossier_file",
                &id.to_string(),
                "upload",
                None,
                None,
                serde_json::json!({
                    "dossier_code": f.dossier_code, "purpose": f.purpose,
                    "component_index": f.component_index, "sha256": f.sha256,
                    "name": f.name, "kind": f.kind, "size": f.size, "pages": f.pages,
                }),
            );
            crate::audit::append_audit!(self, tx, record)?;
            tx.commit().await?;
            id
        });
        Ok(StoredFile {
            id,
            dossier_code: f.dossier_code,
            purpose: f.purpose,
            component_index: f.component_index,
            sha256: f.sha256,
            name: f.name,
            kind: f.kind,
            size: f.size,
            pages: f.pages,
            uploaded_by: by.actor.clone(),
            uploaded_at: by.at,
        })
    }

    /// One file by its id.
    pub async fn file(&self, id: i64) -> Result<StoredFile> {
        let row: Option<FileRow> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {FILE_COLUMNS} FROM dossier_files WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(p)
            .await?
        });
        match row {
            Some(r) => into_file(r),
            None => Err(StoreError::NotFound(Msg::new(
                format!("Không có tệp {id}"),
                format!("no file {id}"),
            ))),
        }
    }

    /// The files of a dossier, oldest first.
    pub async fn dossier_files(&self, code: &str) -> Result<Vec<StoredFile>> {
        let rows: Vec<FileRow> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {FILE_COLUMNS} FROM dossier_files WHERE dossier_code = $1 ORDER BY id"
            )))
            .bind(code)
            .fetch_all(p)
            .await?
        });
        rows.into_iter().map(into_file).collect()
    }

    /// Whether any row names the blob `sha256` (a blob no row names may be removed).
    pub async fn blob_known(&self, sha256: &str) -> Result<bool> {
        let n: Option<(i64,)> = on_db!(self, p => {
            sqlx::query_as("SELECT CAST(1 AS BIGINT) FROM blobs WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(p)
                .await?
        });
        Ok(n.is_some())
    }
}
