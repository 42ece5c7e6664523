//! The procedure catalogue and agencies.

use crate::{ChangeBy, Page, Result, Store, StoreError, on_db, on_writer, page_limit};
use motcua_domain::Msg;
use motcua_domain::catalogue::{ImplLevel, OnlineLevel, Procedure};
use motcua_domain::codes::AgencyCode;
use motcua_domain::text::{fold, terms};
use motcua_domain::units::Agency;
use sqlx::QueryBuilder;
use sqlx::types::Json;

/// Filters of a catalogue search.
#[derive(Debug, Clone, Default)]
pub struct ProcedureQuery {
    /// Free text; every word must appear in code, name or field, ignoring case and diacritics.
    pub q: Option<String>,
    /// Exact field name.
    pub field: Option<String>,
    pub level: Option<ImplLevel>,
    pub online_level: Option<OnlineLevel>,
    /// Include unpublished procedures (admins).
    pub include_unpublished: bool,
    /// Code after which the page starts (the previous page's `next_cursor`).
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub inserted: u64,
    pub updated: u64,
}

/// The serde name of a unit-variant enum value (`working_days`, `swap_off`…), as stored.
pub(crate) fn enum_text<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// `,province,commune,`: searchable with `LIKE '%,province,%'`.
fn levels_text(levels: &[ImplLevel]) -> String {
    let mut s = String::from(",");
    for l in levels {
        s.push_str(&enum_text(l));
        s.push(',');
    }
    s
}

macro_rules! upsert_procedure {
    ($exec:expr, $p:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO procedures (code, name, field, levels, online_level, published, search_text, data, updated_at, stat_class) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, field = excluded.field, \
             levels = excluded.levels, online_level = excluded.online_level, published = excluded.published, \
             search_text = excluded.search_text, data = excluded.data, updated_at = excluded.updated_at, \
             stat_class = excluded.stat_class",
        )
        .bind($p.code.as_str())
        .bind(&$p.name)
        .bind(&$p.field)
        .bind(levels_text(&$p.levels))
        .bind(enum_text(&$p.online_level))
        .bind($p.published)
        .bind($p.search_text())
        .bind(Json(&$p))
        .bind($now)
        .bind(i32::from(motcua_domain::stats::ProcedureClass::of(&$p).0))
        .execute($exec)
        .await
    };
}

/// The statistics' class of every procedure, or of one (`NULL`: not computed yet).
macro_rules! stat_classes {
    ($exec:expr, $code:expr) => {{
        let rows: Vec<(String, Option<i32>)> = match $code {
            Some(code) => {
                sqlx::query_as("SELECT code, stat_class FROM procedures WHERE code = $1")
                    .bind(code)
                    .fetch_all($exec)
                    .await?
            }
            None => {
                sqlx::query_as("SELECT code, stat_class FROM procedures")
                    .fetch_all($exec)
                    .await?
            }
        };
        rows.into_iter()
            .collect::<std::collections::HashMap<String, Option<i32>>>()
    }};
}

/// Whether a procedure's statistics class moves from `old` (none: not in the catalogue, or
/// not computed) to `new`: the sums per class must then be recomputed.
fn class_moves(old: Option<&Option<i32>>, new: Option<&Procedure>) -> bool {
    let old = old.copied().flatten();
    let new = new.map(|p| i32::from(motcua_domain::stats::ProcedureClass::of(p).0));
    old.unwrap_or(0) != new.unwrap_or(0)
}

impl Store {
    /// Creates or replaces one procedure (validated). Returns it and whether it is new.
    pub async fn upsert_procedure(&self, p: Procedure, by: &ChangeBy) -> Result<(Procedure, bool)> {
        let p = p.validate()?;
        let now = by.at;
        let after = serde_json::to_string(&p).ok();
        let inserted = on_writer!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let before: Option<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM procedures WHERE code = $1",
                crate::json_text_column(self.backend(), "data")
            )))
            .bind(p.code.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let classes = stat_classes!(&mut *tx, Some(p.code.as_str()));
            upsert_procedure!(&mut *tx, p, now)?;
            if class_moves(classes.get(p.code.as_str()), Some(&p)) {
                crate::stats::reclass!(tx);
            }
            let inserted = before.is_none();
            let record = by.record(
                "procedure",
                p.code.as_str(),
                if inserted { "create" } else { "update" },
                before.map(|b| b.0),
                after,
                serde_json::json!({}),
            );
            crate::audit::append_reference_change!(self, tx, record)?;
            tx.commit().await?;
            inserted
        });
        Ok((p, inserted))
    }

    /// Imports a whole catalogue in one transaction: all of it or nothing.
    pub async fn import_procedures(
        &self,
        procedures: Vec<Procedure>,
        by: &ChangeBy,
    ) -> Result<ImportReport> {
        let mut valid = Vec::with_capacity(procedures.len());
        let mut errors = Vec::new();
        for (i, p) in procedures.into_iter().enumerate() {
            let code = p.code.to_string();
            match p.validate() {
                Ok(p) => valid.push(p),
                Err(e) => errors.push(motcua_domain::catalogue::RowError {
                    line: i as u64 + 1,
                    code: Some(code),
                    message: e.message(),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::Import(errors));
        }
        let now = by.at;
        let count = "SELECT COUNT(*) FROM procedures";
        let codes: Vec<&str> = valid.iter().map(|p| p.code.as_str()).collect();
        let (before, after) = on_writer!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let (before,): (i64,) = sqlx::query_as(count).fetch_one(&mut *tx).await?;
            let classes = stat_classes!(&mut *tx, None::<&str>);
            let mut moves = false;
            for p in &valid {
                moves |= class_moves(classes.get(p.code.as_str()), Some(p));
                upsert_procedure!(&mut *tx, p, now)?;
            }
            if moves {
                crate::stats::reclass!(tx);
            }
            let (after,): (i64,) = sqlx::query_as(count).fetch_one(&mut *tx).await?;
            let record = by.record(
                "procedure",
                "*",
                "import",
                None,
                None,
                serde_json::json!({"rows": valid.len(), "inserted": after - before, "codes": codes}),
            );
            crate::audit::append_reference_change!(self, tx, record)?;
            tx.commit().await?;
            (before, after)
        });
        let inserted = (after - before).max(0) as u64;
        Ok(ImportReport {
            inserted,
            updated: valid.len() as u64 - inserted,
        })
    }

    pub async fn procedure(&self, code: &str) -> Result<Procedure> {
        let row: Option<(Json<Procedure>,)> = on_db!(self, p => {
            sqlx::query_as("SELECT data FROM procedures WHERE code = $1")
                .bind(code)
                .fetch_optional(p)
                .await?
        });
        row.map(|r| r.0.0).ok_or_else(|| {
            StoreError::NotFound(Msg::new(
                format!("Không tìm thấy thủ tục {code}"),
                format!("procedure {code} not found"),
            ))
        })
    }

    pub async fn delete_procedure(&self, code: &str) -> Result<bool> {
        let n = on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let classes = stat_classes!(&mut *tx, Some(code));
            let n = sqlx::query("DELETE FROM procedures WHERE code = $1")
                .bind(code)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if class_moves(classes.get(code), None) {
                crate::stats::reclass!(tx);
            }
            tx.commit().await?;
            n
        });
        Ok(n > 0)
    }

    /// Searches the catalogue, ordered by code, a page at a time.
    pub async fn search_procedures(&self, q: &ProcedureQuery) -> Result<Page<Procedure>> {
        let limit = page_limit(q.limit);
        let words = q.q.as_deref().map(terms).unwrap_or_default();
        // Words match in any order; with several words, procedures holding them as typed, in
        // that order, come first (rank 0), then the rest (rank 1). The cursor is `rank|code`.
        let phrase = (words.len() > 1)
            .then(|| q.q.as_deref().map(motcua_domain::text::fold))
            .flatten()
            .map(|p| format!("%{p}%"));
        let cursor = q.cursor.as_deref().map(|c| match c.split_once('|') {
            Some((r, code)) if phrase.is_some() => (i32::from(r != "0"), code.to_owned()),
            _ => (0, c.to_owned()),
        });
        let rows: Vec<(i32, String, Json<Procedure>)> = on_db!(self, p => {
            let mut b = QueryBuilder::new("SELECT * FROM (SELECT ");
            match &phrase {
                Some(ph) => {
                    b.push("CASE WHEN search_text LIKE ").push_bind(ph.clone());
                    b.push(" THEN 0 ELSE 1 END");
                }
                None => {
                    b.push("0");
                }
            }
            b.push(" AS rank, code, data FROM procedures WHERE 1 = 1");
            for w in &words {
                b.push(" AND search_text LIKE ").push_bind(format!("%{w}%"));
            }
            if let Some(f) = &q.field {
                b.push(" AND field = ").push_bind(f.clone());
            }
            if let Some(l) = &q.level {
                b.push(" AND levels LIKE ").push_bind(format!("%,{},%", enum_text(l)));
            }
            if let Some(o) = &q.online_level {
                b.push(" AND online_level = ").push_bind(enum_text(o));
            }
            if !q.include_unpublished {
                b.push(" AND published = ").push_bind(true);
            }
            b.push(") ranked WHERE 1 = 1");
            if let Some((r, c)) = &cursor {
                b.push(" AND (rank > ").push_bind(*r);
                b.push(" OR (rank = ").push_bind(*r);
                b.push(" AND code > ").push_bind(c.clone());
                b.push("))");
            }
            b.push(" ORDER BY rank, code LIMIT ").push_bind(i64::from(limit) + 1);
            b.build_query_as().fetch_all(p).await?
        });
        let ranked = phrase.is_some();
        Ok(page(
            rows,
            limit,
            |r| {
                if ranked {
                    format!("{}|{}", r.0, r.1)
                } else {
                    r.1.clone()
                }
            },
            |r| r.2.0,
        ))
    }

    /// The distinct fields of the published catalogue with their procedure counts.
    pub async fn procedure_fields(&self) -> Result<Vec<(String, i64)>> {
        Ok(on_db!(self, p => {
            sqlx::query_as("SELECT field, COUNT(*) FROM procedures WHERE published = TRUE GROUP BY field ORDER BY field")
                .fetch_all(p)
                .await?
        }))
    }

    pub async fn upsert_agency(&self, a: Agency, by: &ChangeBy) -> Result<(Agency, bool)> {
        let a = a.validate()?;
        let now = by.at;
        let after = serde_json::to_string(&a).ok();
        let inserted = on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let old: Option<AgencyRow> = sqlx::query_as(
                "SELECT code, name, parent_code, unit_code, one_stop_point, provenance FROM agencies WHERE code = $1",
            )
            .bind(a.code.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let before = old.map(AgencyRow::into_agency).transpose()?;
            sqlx::query(
                "INSERT INTO agencies (code, name, parent_code, unit_code, one_stop_point, provenance, search_text, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, \
                 unit_code = excluded.unit_code, one_stop_point = excluded.one_stop_point, \
                 provenance = excluded.provenance, search_text = excluded.search_text, updated_at = excluded.updated_at",
            )
            .bind(a.code.as_str())
            .bind(&a.name)
            .bind(a.parent_code.as_ref().map(AgencyCode::as_str))
            .bind(&a.unit_code)
            .bind(a.one_stop_point)
            .bind(&a.provenance)
            .bind(fold(&format!("{} {}", a.code, a.name)))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let record = by.record(
                "agency",
                a.code.as_str(),
                if before.is_none() { "create" } else { "update" },
                before.as_ref().and_then(|b| serde_json::to_string(b).ok()),
                after,
                serde_json::json!({}),
            );
            crate::audit::append_reference_change!(self, tx, record)?;
            tx.commit().await?;
            before.is_none()
        });
        Ok((a, inserted))
    }

    pub async fn agency(&self, code: &str) -> Result<Agency> {
        let row: Option<AgencyRow> = on_db!(self, p => {
            sqlx::query_as("SELECT code, name, parent_code, unit_code, one_stop_point, provenance FROM agencies WHERE code = $1")
                .bind(code)
                .fetch_optional(p)
                .await?
        });
        row.map(AgencyRow::into_agency).transpose()?.ok_or_else(|| {
            StoreError::NotFound(Msg::new(
                format!("Không tìm thấy cơ quan {code}"),
                format!("agency {code} not found"),
            ))
        })
    }

    /// Agencies, optionally under a parent or serving a unit, matching a text, by code.
    pub async fn agencies(
        &self,
        q: Option<&str>,
        parent: Option<&str>,
        unit: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Agency>> {
        let limit = page_limit(limit);
        let words = q.map(terms).unwrap_or_default();
        let rows: Vec<AgencyRow> = on_db!(self, p => {
            let mut b = QueryBuilder::new(
                "SELECT code, name, parent_code, unit_code, one_stop_point, provenance FROM agencies WHERE 1 = 1",
            );
            for w in &words {
                b.push(" AND search_text LIKE ").push_bind(format!("%{w}%"));
            }
            if let Some(x) = parent {
                b.push(" AND parent_code = ").push_bind(x.to_owned());
            }
            if let Some(x) = unit {
                b.push(" AND unit_code = ").push_bind(x.to_owned());
            }
            if let Some(c) = cursor {
                b.push(" AND code > ").push_bind(c.to_owned());
            }
            b.push(" ORDER BY code LIMIT ").push_bind(i64::from(limit) + 1);
            b.build_query_as().fetch_all(p).await?
        });
        let rows = rows
            .into_iter()
            .map(|r| Ok((r.code.clone(), r.into_agency()?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(page(rows, limit, |r| r.0.clone(), |r| r.1))
    }
}

/// Cuts `rows` (fetched with one extra) into a page with the cursor of the next.
pub(crate) fn page<R, T>(
    mut rows: Vec<R>,
    limit: u32,
    key: impl Fn(&R) -> String,
    item: impl Fn(R) -> T,
) -> Page<T> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(&key) } else { None };
    Page {
        items: rows.into_iter().map(item).collect(),
        next_cursor,
    }
}

#[derive(sqlx::FromRow)]
struct AgencyRow {
    code: String,
    name: String,
    parent_code: Option<String>,
    unit_code: Option<String>,
    one_stop_point: bool,
    provenance: Option<String>,
}

impl AgencyRow {
    fn into_agency(self) -> Result<Agency> {
        Ok(Agency {
            code: AgencyCode::parse(&self.code)?,
            name: self.name,
            parent_code: self
                .parent_code
                .as_deref()
                .map(AgencyCode::parse)
                .transpose()?,
            unit_code: self.unit_code,
            one_stop_point: self.one_stop_point,
            provenance: self.provenance,
        })
    }
}

impl Store {
    /// Procedures of the catalogue implemented at `level` (`province`, `commune`, …; `None`:
    /// all): how many, and how many are published.
    pub async fn procedure_publication(&self, level: Option<&str>) -> Result<(i64, i64)> {
        let pattern = level.map_or_else(|| "%".to_owned(), |l| format!("%,{l},%"));
        on_db!(self, p => {
            let (total, published): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN published THEN 1 ELSE 0 END), 0) \
                 FROM procedures WHERE levels LIKE $1",
            )
            .bind(pattern)
            .fetch_one(p)
            .await?;
            Ok((total, published))
        })
    }
}
