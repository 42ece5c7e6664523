//! The rows of dossiers' files (their contents are blobs, see [`crate::blobs`]).

use crate::{ChangeBy, Result, Store, StoreError, on_db, on_writer};
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
    /// Reading its text: `pending`, `done` or `failed`.
    pub ocr_status: String,
}

/// The text of one page of a file, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PageText {
    pub page: i32,
    /// `text_layer` or `tesseract`.
    pub method: String,
    /// 0–1.
    pub confidence: f64,
    pub text: String,
    /// The words with their boxes and confidences (JSON array).
    #[schema(value_type = Object)]
    pub words: serde_json::Value,
}

/// A page that matched a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PageHit {
    pub file_id: i64,
    pub dossier_code: String,
    /// The page whose text matched; absent when the confirmed fields matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    /// The digitised document whose name, code or confirmed fields matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_code: Option<String>,
    /// The line that holds the first word searched for.
    pub snippet: String,
}

/// The first line of `text` holding one of the (folded) `words`, at most 200 characters.
fn snippet(text: &str, words: &[String]) -> String {
    text.lines()
        .find(|l| {
            let f = motcua_domain::text::fold(l);
            words.iter().any(|w| f.contains(w.as_str()))
        })
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
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

#[derive(sqlx::FromRow)]
struct FileRow {
    id: i64,
    dossier_code: String,
    purpose: String,
    component_index: Option<i32>,
    sha256: String,
    name: String,
    kind: String,
    size: i64,
    pages: Option<i32>,
    uploaded_by: String,
    uploaded_at: DateTime<Utc>,
    ocr_status: String,
}

const FILE_COLUMNS: &str = "id, dossier_code, purpose, component_index, sha256, name, kind, size, \
                            pages, uploaded_by, uploaded_at, ocr_status";

fn into_file(r: FileRow) -> Result<StoredFile> {
    let bad = |what: &str| {
        StoreError::Db(sqlx::Error::Decode(
            format!("dossier_files.{what} is not a known value").into(),
        ))
    };
    Ok(StoredFile {
        id: r.id,
        dossier_code: r.dossier_code,
        purpose: FilePurpose::parse(&r.purpose).ok_or_else(|| bad("purpose"))?,
        component_index: r.component_index.and_then(|i| u32::try_from(i).ok()),
        sha256: r.sha256,
        name: r.name,
        kind: FileKind::parse(&r.kind).ok_or_else(|| bad("kind"))?,
        size: r.size,
        pages: r.pages,
        uploaded_by: r.uploaded_by,
        uploaded_at: r.uploaded_at,
        ocr_status: r.ocr_status,
    })
}

impl Store {
    /// Records a file whose blob is stored, with its audit record and the job that reads its
    /// text (`job`: a payload to which the new file's id is added), in one transaction.
    pub async fn add_file(
        &self,
        f: NewFile,
        job: Option<&str>,
        by: &ChangeBy,
    ) -> Result<StoredFile> {
        let component = f.component_index.map(|i| i as i32);
        let id: i64 = on_writer!(self, p => {
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
            if let Some(kind) = job {
                let job = crate::jobs::NewJob::new(kind, &serde_json::json!({"file_id": id}), by.at)
                    .unique(format!("{kind}:{id}"));
                crate::jobs::enqueue!(tx, &job, by.at)?;
            }
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
            ocr_status: "pending".into(),
        })
    }

    /// Stores the text of pages of a file just read, in one transaction. A page already stored
    /// stays as it was (a worker that took over a lapsed job may read a page its predecessor
    /// stored at the last moment).
    pub async fn add_pages(
        &self,
        file_id: i64,
        pages: &[PageText],
        at: DateTime<Utc>,
    ) -> Result<()> {
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            for page in pages {
                sqlx::query(
                    "INSERT INTO file_pages (file_id, page, method, confidence, text, words, search_text, read_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (file_id, page) DO NOTHING",
                )
                .bind(file_id)
                .bind(page.page)
                .bind(&page.method)
                .bind(page.confidence)
                .bind(&page.text)
                .bind(page.words.to_string())
                .bind(motcua_domain::text::fold(&page.text))
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Marks the reading of a file's text finished: `done` or `failed`.
    pub async fn finish_file_text(&self, file_id: i64, status: &str) -> Result<()> {
        on_writer!(self, p => {
            sqlx::query("UPDATE dossier_files SET ocr_status = $1 WHERE id = $2")
                .bind(status)
                .bind(file_id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// The numbers of the pages of a file whose text is stored.
    pub async fn read_page_numbers(&self, file_id: i64) -> Result<Vec<i32>> {
        let rows: Vec<(i32,)> = on_db!(self, p => {
            sqlx::query_as("SELECT page FROM file_pages WHERE file_id = $1 ORDER BY page")
                .bind(file_id)
                .fetch_all(p)
                .await?
        });
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// The text of a file's pages, in order.
    pub async fn file_pages(&self, file_id: i64) -> Result<Vec<PageText>> {
        let rows: Vec<(i32, String, f64, String, String)> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT page, method, confidence, text, words FROM file_pages WHERE file_id = $1 ORDER BY page",
            )
            .bind(file_id)
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(page, method, confidence, text, words)| PageText {
                page,
                method,
                confidence,
                text,
                words: serde_json::from_str(&words).unwrap_or(serde_json::Value::Null),
            })
            .collect())
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

    /// Digitised documents whose confirmed fields, name or code hold every word of `q`, then
    /// pages whose text does (without diacritics), newest first: of dossiers `agency` received
    /// or holds, or that `owner` filed (both `None`: all).
    pub async fn search_pages(
        &self,
        q: &str,
        agency: Option<&str>,
        owner: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PageHit>> {
        let words = motcua_domain::text::terms(q);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let limit = i64::from(crate::page_limit(Some(limit)));
        // The caller's dossiers (`d`), on either database's query builder.
        macro_rules! scope {
            ($b:expr) => {
                if let Some(a) = agency {
                    $b.push(" AND (d.receiving_agency = ")
                        .push_bind(a.to_owned());
                    $b.push(" OR d.current_agency = ").push_bind(a.to_owned());
                    $b.push(")");
                }
                if let Some(o) = owner {
                    $b.push(" AND d.owner_id = ").push_bind(o);
                }
            };
        }
        let documents: Vec<(i64, String, String, String, String)> = on_db!(self, p => {
            let mut b = sqlx::QueryBuilder::new(
                "SELECT g.file_id, g.dossier_code, g.code, g.name, g.fields FROM digitised_documents g \
                 JOIN dossiers d ON d.code = g.dossier_code WHERE g.search_text IS NOT NULL",
            );
            for w in &words {
                b.push(" AND g.search_text LIKE ").push_bind(format!("%{w}%"));
            }
            scope!(b);
            b.push(" ORDER BY g.file_id DESC LIMIT ").push_bind(limit);
            b.build_query_as().fetch_all(p).await?
        });
        let rows: Vec<(i64, String, i32, String)> = on_db!(self, p => {
            let mut b = sqlx::QueryBuilder::new(
                "SELECT f.id, f.dossier_code, p.page, p.text FROM file_pages p \
                 JOIN dossier_files f ON f.id = p.file_id JOIN dossiers d ON d.code = f.dossier_code WHERE 1 = 1",
            );
            for w in &words {
                b.push(" AND p.search_text LIKE ").push_bind(format!("%{w}%"));
            }
            scope!(b);
            b.push(" ORDER BY f.id DESC, p.page LIMIT ").push_bind(limit);
            b.build_query_as().fetch_all(p).await?
        });
        let mut hits: Vec<PageHit> = documents
            .into_iter()
            .map(|(file_id, dossier_code, code, name, fields)| {
                let fields: std::collections::BTreeMap<String, String> =
                    serde_json::from_str(&fields).unwrap_or_default();
                let lines: String = std::iter::once(name)
                    .chain(fields.iter().map(|(k, v)| format!("{k}: {v}")))
                    .collect::<Vec<_>>()
                    .join("\n");
                PageHit {
                    snippet: snippet(&lines, &words),
                    file_id,
                    dossier_code,
                    page: None,
                    document_code: Some(code),
                }
            })
            .collect();
        hits.extend(
            rows.into_iter()
                .map(|(file_id, dossier_code, page, text)| PageHit {
                    snippet: snippet(&text, &words),
                    file_id,
                    dossier_code,
                    page: Some(page),
                    document_code: None,
                }),
        );
        hits.truncate(usize::try_from(limit).unwrap_or(50));
        Ok(hits)
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
