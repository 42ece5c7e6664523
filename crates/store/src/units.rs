//! Administrative units with history: validity dates and old→new links.

use crate::catalogue::page;
use crate::{ChangeBy, Page, Result, Store, StoreError, on_db, on_writer, page_limit};
use chrono::NaiveDate;
use motcua_domain::Msg;
use motcua_domain::text::{fold, terms};
use motcua_domain::units::{NewUnit, UnitGraph, UnitKey, UnitLevel};
use serde::Serialize;
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// A stored unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Unit {
    pub id: i64,
    pub level: UnitLevel,
    pub code: String,
    pub name: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_to: Option<NaiveDate>,
    /// Units that took over this one (after a merger), with the published note.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub successors: Vec<UnitRef>,
    /// Units merged into this one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub predecessors: Vec<UnitRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnitRef {
    pub id: i64,
    pub level: UnitLevel,
    pub code: String,
    pub name: String,
    pub note: String,
}

#[derive(Debug, Clone, Default)]
pub struct UnitQuery {
    pub level: Option<UnitLevel>,
    pub code: Option<String>,
    pub parent_id: Option<i64>,
    pub q: Option<String>,
    /// Only units valid on this date (`None`: all, current and historical).
    pub as_of: Option<NaiveDate>,
    /// Only the units in force now (no end date), whatever the clock says.
    pub current: bool,
    pub cursor: Option<i64>,
    pub limit: Option<u32>,
}

#[derive(sqlx::FromRow)]
struct UnitRow {
    id: i64,
    level: String,
    code: String,
    name: String,
    kind: String,
    parent_id: Option<i64>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

impl UnitRow {
    fn into_unit(self) -> Unit {
        Unit {
            id: self.id,
            level: UnitLevel::parse(&self.level).unwrap_or(UnitLevel::Commune),
            code: self.code,
            name: self.name,
            kind: self.kind,
            parent_id: self.parent_id,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            successors: Vec::new(),
            predecessors: Vec::new(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct RefRow {
    id: i64,
    level: String,
    code: String,
    name: String,
    note: String,
}

impl From<RefRow> for UnitRef {
    fn from(r: RefRow) -> Self {
        UnitRef {
            id: r.id,
            level: UnitLevel::parse(&r.level).unwrap_or(UnitLevel::Commune),
            code: r.code,
            name: r.name,
            note: r.note,
        }
    }
}

const UNIT_COLUMNS: &str = "id, level, code, name, kind, parent_id, valid_from, valid_to";

macro_rules! upsert_unit {
    ($exec:expr, $u:expr, $parent:expr) => {
        sqlx::query_as::<_, (i64,)>(
            "INSERT INTO admin_units (ref_key, level, code, name, kind, parent_id, valid_from, valid_to, search_text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (ref_key) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
             parent_id = excluded.parent_id, valid_to = excluded.valid_to, search_text = excluded.search_text \
             RETURNING id",
        )
        .bind($u.key().as_text())
        .bind($u.level.as_str())
        .bind(&$u.code)
        .bind(&$u.name)
        .bind(&$u.kind)
        .bind($parent)
        .bind($u.valid_from)
        .bind($u.valid_to)
        .bind(fold(&format!("{} {}", $u.code, $u.name)))
        .fetch_one($exec)
        .await
    };
}

impl Store {
    /// Imports units and links (e.g. the 2025 reference data) in one transaction; re-running it
    /// updates names and links in place.
    pub async fn import_units(&self, g: &UnitGraph, by: &ChangeBy) -> Result<(usize, usize)> {
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let mut ids: HashMap<UnitKey, i64> = HashMap::with_capacity(g.units.len());
            for (u, parent) in &g.units {
                let parent_id = match parent {
                    Some(k) => Some(match ids.get(k) {
                        Some(id) => *id,
                        None => {
                            let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM admin_units WHERE ref_key = $1")
                                .bind(k.as_text())
                                .fetch_optional(&mut *tx)
                                .await?;
                            row.ok_or_else(|| missing_parent(&u.code, k))?.0
                        }
                    }),
                    None => None,
                };
                let (id,) = upsert_unit!(&mut *tx, u, parent_id)?;
                ids.insert(u.key(), id);
            }
            for l in &g.links {
                let (Some(from), Some(to)) = (ids.get(&l.from), ids.get(&l.to)) else {
                    return Err(missing_parent(&l.from.code, &l.to));
                };
                sqlx::query(
                    "INSERT INTO admin_unit_links (from_id, to_id, note) VALUES ($1, $2, $3) \
                     ON CONFLICT (from_id, to_id) DO UPDATE SET note = excluded.note",
                )
                .bind(*from)
                .bind(*to)
                .bind(&l.note)
                .execute(&mut *tx)
                .await?;
            }
            let record = by.record(
                "admin_unit",
                "*",
                "import",
                None,
                None,
                serde_json::json!({"units": g.units.len(), "links": g.links.len()}),
            );
            crate::audit::append_reference_change!(self, tx, record)?;
            tx.commit().await?;
        });
        Ok((g.units.len(), g.links.len()))
    }

    /// Adds or updates one unit (the parent is the unit of the next level up with
    /// `parent_code` that is valid at the unit's start, or current).
    pub async fn upsert_unit(&self, u: NewUnit, by: &ChangeBy) -> Result<Unit> {
        let u = u.validate()?;
        let parent_level = match u.level {
            UnitLevel::Province => None,
            UnitLevel::District => Some(UnitLevel::Province),
            UnitLevel::Commune => Some(if u.valid_to.is_some() {
                UnitLevel::District
            } else {
                UnitLevel::Province
            }),
        };
        let id = on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let parent_id: Option<i64> = match (parent_level, &u.parent_code) {
                (Some(level), Some(code)) => {
                    let row: Option<(i64,)> = sqlx::query_as(
                        "SELECT id FROM admin_units WHERE code = $1 AND (level = $2 OR level = 'province') \
                         ORDER BY (valid_to IS NULL) DESC, id DESC LIMIT 1",
                    )
                    .bind(code)
                    .bind(level.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                    Some(row.ok_or_else(|| missing_parent(&u.code, &UnitKey { level, code: code.clone(), valid_from: None }))?.0)
                }
                _ => None,
            };
            let (id,) = upsert_unit!(&mut *tx, u, parent_id)?;
            let record = by.record(
                "admin_unit",
                &u.key().as_text(),
                "put",
                None,
                None,
                serde_json::json!({"id": id, "name": u.name, "parent_id": parent_id}),
            );
            crate::audit::append_reference_change!(self, tx, record)?;
            tx.commit().await?;
            id
        });
        self.unit(id).await
    }

    /// One unit with its successors and predecessors.
    pub async fn unit(&self, id: i64) -> Result<Unit> {
        let row: Option<UnitRow> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {UNIT_COLUMNS} FROM admin_units WHERE id = $1")))
                .bind(id)
                .fetch_optional(p)
                .await?
        });
        let mut unit = row.map(UnitRow::into_unit).ok_or_else(|| {
            StoreError::NotFound(Msg::new(
                format!("Không tìm thấy đơn vị hành chính {id}"),
                format!("administrative unit {id} not found"),
            ))
        })?;
        let (succ, pred): (Vec<RefRow>, Vec<RefRow>) = on_db!(self, p => {
            let succ = sqlx::query_as(
                "SELECT u.id, u.level, u.code, u.name, l.note FROM admin_unit_links l \
                 JOIN admin_units u ON u.id = l.to_id WHERE l.from_id = $1 ORDER BY u.code",
            )
            .bind(id)
            .fetch_all(p)
            .await?;
            let pred = sqlx::query_as(
                "SELECT u.id, u.level, u.code, u.name, l.note FROM admin_unit_links l \
                 JOIN admin_units u ON u.id = l.from_id WHERE l.to_id = $1 ORDER BY u.code",
            )
            .bind(id)
            .fetch_all(p)
            .await?;
            (succ, pred)
        });
        unit.successors = succ.into_iter().map(UnitRef::from).collect();
        unit.predecessors = pred.into_iter().map(UnitRef::from).collect();
        Ok(unit)
    }

    /// Units matching the filters, by id, a page at a time.
    pub async fn units(&self, q: &UnitQuery) -> Result<Page<Unit>> {
        let limit = page_limit(q.limit);
        let words = q.q.as_deref().map(terms).unwrap_or_default();
        let rows: Vec<UnitRow> = on_db!(self, p => {
            let mut b = QueryBuilder::new(format!("SELECT {UNIT_COLUMNS} FROM admin_units WHERE 1 = 1"));
            if let Some(l) = q.level {
                b.push(" AND level = ").push_bind(l.as_str());
            }
            if let Some(c) = &q.code {
                b.push(" AND code = ").push_bind(c.clone());
            }
            if let Some(pid) = q.parent_id {
                b.push(" AND parent_id = ").push_bind(pid);
            }
            for w in &words {
                b.push(" AND search_text LIKE ").push_bind(format!("%{w}%"));
            }
            if let Some(d) = q.as_of {
                b.push(" AND (valid_from IS NULL OR valid_from <= ").push_bind(d);
                b.push(") AND (valid_to IS NULL OR valid_to >= ").push_bind(d);
                b.push(")");
            }
            if q.current {
                b.push(" AND valid_to IS NULL");
            }
            if let Some(c) = q.cursor {
                b.push(" AND id > ").push_bind(c);
            }
            b.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit) + 1);
            b.build_query_as().fetch_all(p).await?
        });
        Ok(page(rows, limit, |r| r.id.to_string(), UnitRow::into_unit))
    }

    /// The current unit (no end date) of a level and code.
    pub async fn current_unit(&self, level: UnitLevel, code: &str) -> Result<Option<Unit>> {
        let row: Option<UnitRow> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {UNIT_COLUMNS} FROM admin_units WHERE level = $1 AND code = $2 AND valid_to IS NULL"
            )))
            .bind(level.as_str())
            .bind(code)
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(UnitRow::into_unit))
    }
}

fn missing_parent(code: &str, parent: &UnitKey) -> StoreError {
    StoreError::Invalid(motcua_domain::Error::field(
        "parent_code",
        format!(
            "Đơn vị {code}: không tìm thấy đơn vị liên quan {}",
            parent.as_text()
        ),
        format!("unit {code}: related unit {} not found", parent.as_text()),
    ))
}

impl Store {
    /// The current province code of a current unit code (itself for a province).
    pub async fn province_of(&self, unit_code: &str) -> Result<Option<String>> {
        if motcua_domain::codes::is_province_code(unit_code) {
            return Ok(self
                .current_unit(UnitLevel::Province, unit_code)
                .await?
                .map(|u| u.code));
        }
        let row: Option<(String,)> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT p.code FROM admin_units c JOIN admin_units p ON p.id = c.parent_id \
                 WHERE c.level = 'commune' AND c.code = $1 AND c.valid_to IS NULL",
            )
            .bind(unit_code)
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(|r| r.0))
    }
}

/// A unit as a report names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnitBrief {
    pub level: UnitLevel,
    pub code: String,
    pub name: String,
}

impl Store {
    /// The unit of a code as it was (the current unit of that code if there is one, else the
    /// last abolished one) and its successor today: followed along the old → new links (a
    /// whole merge before a partial one), or up to the parent where a unit has no link (a
    /// district's successor is its province's).
    pub async fn unit_lineage(&self, code: &str) -> Result<Option<(UnitBrief, UnitBrief)>> {
        type Row = (i64, String, String, String, Option<i64>, Option<NaiveDate>);
        let brief = |r: &Row| UnitBrief {
            level: UnitLevel::parse(&r.1).unwrap_or(UnitLevel::Commune),
            code: r.2.clone(),
            name: r.3.clone(),
        };
        on_db!(self, p => {
            let first: Option<Row> = sqlx::query_as(
                "SELECT id, level, code, name, parent_id, valid_to FROM admin_units WHERE code = $1 \
                 ORDER BY (valid_to IS NULL) DESC, valid_to DESC, id DESC LIMIT 1",
            )
            .bind(code)
            .fetch_optional(p)
            .await?;
            let Some(first) = first else { return Ok(None) };
            let mut cur = first.clone();
            for _ in 0..8 {
                if cur.5.is_none() {
                    break;
                }
                let next: Option<Row> = sqlx::query_as(
                    "SELECT u.id, u.level, u.code, u.name, u.parent_id, u.valid_to FROM admin_unit_links l \
                     JOIN admin_units u ON u.id = l.to_id WHERE l.from_id = $1 \
                     ORDER BY (l.note = 'Nhập toàn bộ') DESC, (u.valid_to IS NULL) DESC, u.code LIMIT 1",
                )
                .bind(cur.0)
                .fetch_optional(p)
                .await?;
                let next = match (next, cur.4) {
                    (Some(n), _) => Some(n),
                    (None, Some(parent)) => {
                        sqlx::query_as(
                            "SELECT id, level, code, name, parent_id, valid_to FROM admin_units WHERE id = $1",
                        )
                        .bind(parent)
                        .fetch_optional(p)
                        .await?
                    }
                    (None, None) => None,
                };
                match next {
                    Some(n) => cur = n,
                    None => break,
                }
            }
            Ok(Some((brief(&first), brief(&cur))))
        })
    }
}
