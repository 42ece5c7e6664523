//! The rows of resumable uploads (the bytes are in the service's staging folder).

use crate::{Result, Store, StoreError, on_db, on_writer};
use chrono::{DateTime, Utc};
use motcua_domain::Msg;

/// An upload in progress or finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRow {
    pub id: String,
    pub dossier_code: String,
    /// The component (its position), or `None` for the result.
    pub component_index: Option<u32>,
    pub name: String,
    pub size: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The file once the last chunk arrived and it was accepted.
    pub file_id: Option<i64>,
}

type Row = (
    String,
    String,
    Option<i32>,
    String,
    i64,
    String,
    DateTime<Utc>,
    Option<i64>,
);

fn into_row(r: Row) -> UploadRow {
    UploadRow {
        id: r.0,
        dossier_code: r.1,
        component_index: r.2.and_then(|i| u32::try_from(i).ok()),
        name: r.3,
        size: r.4,
        created_by: r.5,
        created_at: r.6,
        file_id: r.7,
    }
}

impl Store {
    /// Records a new upload.
    pub async fn add_upload(&self, u: &UploadRow) -> Result<()> {
        on_writer!(self, p => {
            sqlx::query(
                "INSERT INTO uploads (id, dossier_code, component_index, name, size, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&u.id)
            .bind(&u.dossier_code)
            .bind(u.component_index.map(|i| i as i32))
            .bind(&u.name)
            .bind(u.size)
            .bind(&u.created_by)
            .bind(u.created_at)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Upload `id`.
    pub async fn upload(&self, id: &str) -> Result<UploadRow> {
        let row: Option<Row> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT id, dossier_code, component_index, name, size, created_by, created_at, file_id \
                 FROM uploads WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await?
        });
        row.map(into_row).ok_or_else(|| {
            StoreError::NotFound(Msg::new(
                format!("Không có lượt tải lên «{id}»"),
                format!("no upload «{id}»"),
            ))
        })
    }

    /// Records the file an upload became.
    pub async fn finish_upload(&self, id: &str, file_id: i64) -> Result<()> {
        on_writer!(self, p => {
            sqlx::query("UPDATE uploads SET file_id = $1 WHERE id = $2")
                .bind(file_id)
                .bind(id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Removes upload rows; returns how many went.
    pub async fn remove_uploads(&self, ids: &[String]) -> Result<u64> {
        let mut n = 0;
        on_writer!(self, p => {
            for id in ids {
                n += sqlx::query("DELETE FROM uploads WHERE id = $1")
                    .bind(id)
                    .execute(&mut *p)
                    .await?
                    .rows_affected();
            }
        });
        Ok(n)
    }

    /// Uploads started before `before` (to be purged).
    pub async fn uploads_before(&self, before: DateTime<Utc>) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_db!(self, p => {
            sqlx::query_as("SELECT id FROM uploads WHERE created_at < $1 ORDER BY created_at LIMIT 1000")
                .bind(before)
                .fetch_all(p)
                .await?
        });
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
