//! The calendar's yearly tables: seeded from the shipped official data, editable by an admin.

use crate::catalogue::enum_text;
use crate::{ChangeBy, Result, Store, StoreError, on_db, on_writer};
use chrono::NaiveDate;
use motcua_domain::calendar::{CalendarEntry, HolidayKey, YearTable, official_tables};

#[derive(sqlx::FromRow)]
struct EntryRow {
    year: i32,
    date: NaiveDate,
    key: String,
    name: String,
    note: Option<String>,
}

fn parse_key(k: &str) -> Result<HolidayKey> {
    serde_json::from_value(serde_json::Value::String(k.to_owned())).map_err(|_| {
        StoreError::Invalid(motcua_domain::Error::field(
            "key",
            format!("Loại ngày «{k}» trong cơ sở dữ liệu không hợp lệ"),
            format!("stored calendar key «{k}» is invalid"),
        ))
    })
}

impl Store {
    /// Every stored year table.
    pub async fn calendar_tables(&self) -> Result<Vec<YearTable>> {
        let years: Vec<(i32, String)> = on_db!(self, p => {
            sqlx::query_as("SELECT year, source FROM calendar_years ORDER BY year")
                .fetch_all(p)
                .await?
        });
        let rows: Vec<EntryRow> = on_db!(self, p => {
            sqlx::query_as("SELECT year, date, key, name, note FROM calendar_entries ORDER BY date")
                .fetch_all(p)
                .await?
        });
        let mut tables: Vec<YearTable> = years
            .into_iter()
            .map(|(year, source)| YearTable {
                year,
                source,
                entries: Vec::new(),
            })
            .collect();
        for r in rows {
            if let Some(t) = tables.iter_mut().find(|t| t.year == r.year) {
                t.entries.push(CalendarEntry {
                    date: r.date,
                    key: parse_key(&r.key)?,
                    name: r.name,
                    note: r.note,
                });
            }
        }
        Ok(tables)
    }

    /// Replaces the table of one year (validated) in one transaction.
    pub async fn put_calendar_table(&self, table: YearTable, by: &ChangeBy) -> Result<YearTable> {
        let table = table.validate()?;
        self.write_calendar_table(&table, Some(by)).await?;
        Ok(table)
    }

    /// Audit record of a year's table being replaced or removed.
    fn calendar_record(
        &self,
        year: i32,
        action: &str,
        after: Option<&YearTable>,
        by: &ChangeBy,
    ) -> crate::audit::AuditRecord {
        by.record(
            "calendar_year",
            &year.to_string(),
            action,
            None,
            after.and_then(|t| serde_json::to_string(t).ok()),
            serde_json::json!({}),
        )
    }

    /// Removes a year's table: the computed rules apply to it again.
    pub async fn delete_calendar_table(&self, year: i32, by: &ChangeBy) -> Result<bool> {
        let n = on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            sqlx::query("DELETE FROM calendar_entries WHERE year = $1").bind(year).execute(&mut *tx).await?;
            let n = sqlx::query("DELETE FROM calendar_years WHERE year = $1").bind(year).execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                let record = self.calendar_record(year, "delete", None, by);
                crate::audit::append_reference_change!(self, tx, record)?;
            }
            tx.commit().await?;
            n
        });
        Ok(n > 0)
    }

    /// Writes a year's table: replacing it, by `by`; or, with no author, seeding the shipped
    /// table where the year has none (stamped 1970-01-01: never edited).
    async fn write_calendar_table(&self, t: &YearTable, by: Option<&ChangeBy>) -> Result<bool> {
        let replace = by.is_some();
        let now = by.map_or(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH, |b| b.at);
        let written = on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let exists: Option<(i32,)> = sqlx::query_as("SELECT year FROM calendar_years WHERE year = $1")
                .bind(t.year)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_some() && !replace {
                false
            } else {
                sqlx::query("DELETE FROM calendar_entries WHERE year = $1").bind(t.year).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO calendar_years (year, source, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (year) DO UPDATE SET source = excluded.source, updated_at = excluded.updated_at",
                )
                .bind(t.year)
                .bind(&t.source)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                for e in &t.entries {
                    sqlx::query("INSERT INTO calendar_entries (year, date, key, name, note) VALUES ($1, $2, $3, $4, $5)")
                        .bind(t.year)
                        .bind(e.date)
                        .bind(enum_text(&e.key))
                        .bind(&e.name)
                        .bind(&e.note)
                        .execute(&mut *tx)
                        .await?;
                }
                // Seeding shipped data at migration is not anybody's change.
                if let Some(by) = by {
                    let record = self.calendar_record(t.year, "replace", Some(t), by);
                    crate::audit::append_reference_change!(self, tx, record)?;
                }
                tx.commit().await?;
                true
            }
        });
        Ok(written)
    }

    /// Inserts the shipped official tables for years that have no table yet; an admin's edits
    /// are never overwritten.
    pub(crate) async fn seed_official_calendar(&self) -> Result<()> {
        for t in official_tables()? {
            self.write_calendar_table(&t, None).await?;
        }
        Ok(())
    }
}
