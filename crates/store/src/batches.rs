//! Batches of backward digitisation: the lines of a map (file → dossier and component), each
//! attached once or refused once, so that a batch interrupted at any point continues where it
//! stopped.

use crate::{Result, Store, on_db, on_writer};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A line of a batch's map as it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchItem {
    pub line: i32,
    pub path: String,
    pub dossier_code: String,
    pub component: String,
    /// The file once attached.
    pub file_id: Option<i64>,
    /// Why the line was refused.
    pub error: Option<String>,
}

/// How far a batch has come, counted from the database (whichever process did the work).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchProgress {
    pub lines: i64,
    pub attached: i64,
    pub refused: i64,
    /// Pages of the attached files.
    pub pages: i64,
    /// Pages whose text is stored.
    pub pages_read: i64,
    /// Attached files whose reading has not finished.
    pub files_reading: i64,
    /// Attached files that could not be read.
    pub files_unreadable: i64,
}

/// A line of a batch's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchReportRow {
    pub item: BatchItem,
    /// `pending`, `done` or `failed` (reading the text), if attached.
    pub ocr_status: Option<String>,
    pub pages: Option<i32>,
    pub pages_read: i64,
    pub mean_confidence: Option<f64>,
    /// Pages read with a confidence below the threshold asked for.
    pub low_confidence_pages: Vec<i32>,
}

impl Store {
    /// Records a batch and its lines, unless it exists (then nothing changes): returns whether
    /// it is new.
    pub async fn open_batch(
        &self,
        id: &str,
        folder: &str,
        map_name: &str,
        by: &str,
        at: DateTime<Utc>,
        items: &[BatchItem],
    ) -> Result<bool> {
        let created = on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let n = sqlx::query(
                "INSERT INTO digitisation_batches (id, folder, map_name, started_by, started_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(folder)
            .bind(map_name)
            .bind(by)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                for i in items {
                    sqlx::query(
                        "INSERT INTO digitisation_batch_items (batch_id, line, path, dossier_code, component, error) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(id)
                    .bind(i.line)
                    .bind(&i.path)
                    .bind(&i.dossier_code)
                    .bind(&i.component)
                    .bind(&i.error)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            n == 1
        });
        Ok(created)
    }

    /// The lines of a batch, in order.
    pub async fn batch_items(&self, id: &str) -> Result<Vec<BatchItem>> {
        type Row = (i32, String, String, String, Option<i64>, Option<String>);
        let rows: Vec<Row> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT line, path, dossier_code, component, file_id, error \
                 FROM digitisation_batch_items WHERE batch_id = $1 ORDER BY line",
            )
            .bind(id)
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(line, path, dossier_code, component, file_id, error)| BatchItem {
                    line,
                    path,
                    dossier_code,
                    component,
                    file_id,
                    error,
                },
            )
            .collect())
    }

    /// Records the outcome of a line: the file attached, or why it was refused.
    pub async fn settle_batch_item(
        &self,
        id: &str,
        line: i32,
        file_id: Option<i64>,
        error: Option<&str>,
    ) -> Result<()> {
        on_writer!(self, p => {
            sqlx::query(
                "UPDATE digitisation_batch_items SET file_id = $1, error = $2 WHERE batch_id = $3 AND line = $4",
            )
            .bind(file_id)
            .bind(error)
            .bind(id)
            .bind(line)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Marks a batch finished.
    pub async fn finish_batch(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        on_writer!(self, p => {
            sqlx::query("UPDATE digitisation_batches SET finished_at = $1 WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// The file of `dossier_code`'s component `component_index` with content `sha256`, if one
    /// was attached already.
    pub async fn same_file(
        &self,
        dossier_code: &str,
        component_index: i32,
        sha256: &str,
    ) -> Result<Option<i64>> {
        let row: Option<(i64,)> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT id FROM dossier_files WHERE dossier_code = $1 AND component_index = $2 \
                 AND sha256 = $3 ORDER BY id LIMIT 1",
            )
            .bind(dossier_code)
            .bind(component_index)
            .bind(sha256)
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(|(id,)| id))
    }

    /// How far batch `id` has come.
    pub async fn batch_progress(&self, id: &str) -> Result<BatchProgress> {
        type Row = (i64, i64, i64, i64, i64, i64, i64);
        let r: Row = on_db!(self, p => {
            sqlx::query_as(
                "SELECT COUNT(*), \
                 COALESCE(SUM(CASE WHEN i.file_id IS NOT NULL THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN i.error IS NOT NULL THEN 1 ELSE 0 END), 0), \
                 CAST(COALESCE(SUM(CASE WHEN f.id IS NULL THEN 0 ELSE COALESCE(f.pages, 1) END), 0) AS BIGINT), \
                 (SELECT COUNT(*) FROM file_pages fp JOIN digitisation_batch_items j ON j.file_id = fp.file_id \
                  WHERE j.batch_id = $1), \
                 COALESCE(SUM(CASE WHEN f.ocr_status = 'pending' THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN f.ocr_status = 'failed' THEN 1 ELSE 0 END), 0) \
                 FROM digitisation_batch_items i LEFT JOIN dossier_files f ON f.id = i.file_id \
                 WHERE i.batch_id = $1",
            )
            .bind(id)
            .fetch_one(p)
            .await?
        });
        Ok(BatchProgress {
            lines: r.0,
            attached: r.1,
            refused: r.2,
            pages: r.3,
            pages_read: r.4,
            files_reading: r.5,
            files_unreadable: r.6,
        })
    }

    /// The report of batch `id`: each line with its file's reading; pages under `low` (0–1)
    /// are listed.
    pub async fn batch_report(&self, id: &str, low: f64) -> Result<Vec<BatchReportRow>> {
        let items = self.batch_items(id).await?;
        type Detail = (i64, String, Option<i32>, Option<i32>, Option<f64>);
        let detail: Vec<Detail> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT f.id, f.ocr_status, f.pages, fp.page, fp.confidence FROM digitisation_batch_items i \
                 JOIN dossier_files f ON f.id = i.file_id LEFT JOIN file_pages fp ON fp.file_id = f.id \
                 WHERE i.batch_id = $1 ORDER BY f.id, fp.page",
            )
            .bind(id)
            .fetch_all(p)
            .await?
        });
        Ok(items
            .into_iter()
            .map(|item| {
                let mine: Vec<_> = detail
                    .iter()
                    .filter(|d| Some(d.0) == item.file_id)
                    .collect();
                let read: Vec<(i32, f64)> =
                    mine.iter().filter_map(|d| Some((d.3?, d.4?))).collect();
                BatchReportRow {
                    ocr_status: mine.first().map(|d| d.1.clone()),
                    pages: mine.first().and_then(|d| d.2),
                    pages_read: read.len() as i64,
                    mean_confidence: (!read.is_empty())
                        .then(|| read.iter().map(|r| r.1).sum::<f64>() / read.len() as f64),
                    low_confidence_pages: read.iter().filter(|r| r.1 < low).map(|r| r.0).collect(),
                    item,
                }
            })
            .collect())
    }
}
