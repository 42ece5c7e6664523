//! Table upkeep the database server may leave undone: planner statistics and, on PostgreSQL,
//! the vacuum of dead row versions.
//!
//! PostgreSQL's autovacuum does this by itself when it is on, and then [`Store::maintain`]
//! leaves it alone. A server may run without it (this project's CI server does), and then
//! nothing ever analyzes or vacuums: the planner keeps its guesses for empty tables and chooses
//! plans that read an agency's million rows to list a hundred, and every update's dead row
//! stays in every index. `maintain` then does what autovacuum would, with its default
//! thresholds, one table at a time. SQLite keeps no dead rows; it gets `PRAGMA optimize`,
//! which analyzes the tables whose size changed enough to matter, sampling a bounded number
//! of rows of each index (SQLite's analysis limit).

use crate::{Db, Result, Store};

/// One table's counters, as PostgreSQL's statistics report them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableActivity {
    pub table: String,
    pub live: i64,
    pub dead: i64,
    pub modified_since_analyze: i64,
    pub inserted_since_vacuum: i64,
}

/// What a table needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upkeep {
    /// `VACUUM (ANALYZE)`: dead rows to reclaim (or pages to mark all-visible) and statistics
    /// to refresh.
    VacuumAnalyze,
    /// `VACUUM`: dead rows to reclaim, statistics still good.
    Vacuum,
    /// `ANALYZE`: statistics out of date.
    Analyze,
    /// SQLite's `PRAGMA optimize`, over the whole database.
    Optimize,
}

impl Upkeep {
    pub fn as_str(self) -> &'static str {
        match self {
            Upkeep::VacuumAnalyze => "vacuum_analyze",
            Upkeep::Vacuum => "vacuum",
            Upkeep::Analyze => "analyze",
            Upkeep::Optimize => "optimize",
        }
    }
}

/// What autovacuum would do to `t` with its default settings (`autovacuum_vacuum_threshold`
/// 50 and `_scale_factor` 0.2, `autovacuum_vacuum_insert_threshold` 1,000 and
/// `_scale_factor` 0.2, `autovacuum_analyze_threshold` 50 and `_scale_factor` 0.1).
pub fn upkeep_of(t: &TableActivity) -> Option<Upkeep> {
    let live = t.live.max(0) as f64;
    let vacuum =
        t.dead as f64 > 50.0 + 0.2 * live || t.inserted_since_vacuum as f64 > 1000.0 + 0.2 * live;
    let analyze = t.modified_since_analyze as f64 > 50.0 + 0.1 * live;
    match (vacuum, analyze) {
        (true, true) => Some(Upkeep::VacuumAnalyze),
        (true, false) => Some(Upkeep::Vacuum),
        (false, true) => Some(Upkeep::Analyze),
        (false, false) => None,
    }
}

/// `name` as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Store {
    /// Does the upkeep the server leaves undone (see the module's text) and returns what was
    /// done to which table. Nothing on a PostgreSQL server whose autovacuum is on.
    pub async fn maintain(&self) -> Result<Vec<(String, Upkeep)>> {
        match &self.db {
            Db::Sqlite(_) => {
                // 0x10012: analyze where it would help, looking at every table (not only the
                // ones this connection queried), each within SQLite's analysis limit (0x10).
                // Without that limit a table that grew tenfold was analyzed whole, every row
                // of it and of each index, while holding the one writer: seconds at a million
                // dossiers, with every intake waiting.
                crate::on_writer!(self, w => {
                    sqlx::query("PRAGMA optimize = 0x10012").execute(w).await?;
                });
                Ok(vec![("*".to_owned(), Upkeep::Optimize)])
            }
            Db::Postgres(p) => {
                let on: String = sqlx::query_scalar("SELECT current_setting('autovacuum')")
                    .fetch_one(p)
                    .await?;
                if on == "on" {
                    return Ok(Vec::new());
                }
                let rows: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
                    "SELECT relname::text, n_live_tup, n_dead_tup, n_mod_since_analyze, \
                     n_ins_since_vacuum FROM pg_stat_user_tables \
                     WHERE schemaname = current_schema() ORDER BY relname",
                )
                .fetch_all(p)
                .await?;
                // Paced as autovacuum paces itself (its default `autovacuum_vacuum_cost_delay`,
                // 2 ms after every 200 units of page work), where a manual VACUUM runs flat
                // out: in the 1,000,000 soak a vacuum of `dossiers` took 8 s of a core beside
                // the public tracking, whose p99 went from 20 ms to 1.3 s in that window.
                let mut c = p.acquire().await?;
                sqlx::query("SET vacuum_cost_delay = '2ms'")
                    .execute(&mut *c)
                    .await?;
                let done = upkeep_tables(&mut c, rows).await;
                sqlx::query("RESET vacuum_cost_delay")
                    .execute(&mut *c)
                    .await?;
                done
            }
        }
    }
}

/// Vacuums or analyzes each of `rows`' tables that needs it (see [`upkeep_of`]), on `c`.
async fn upkeep_tables(
    c: &mut sqlx::PgConnection,
    rows: Vec<(String, i64, i64, i64, i64)>,
) -> Result<Vec<(String, Upkeep)>> {
    let mut done = Vec::new();
    for (table, live, dead, modified, inserted) in rows {
        let t = TableActivity {
            table,
            live,
            dead,
            modified_since_analyze: modified,
            inserted_since_vacuum: inserted,
        };
        let Some(u) = upkeep_of(&t) else { continue };
        // Never truncating a table's empty tail, which takes a lock that the
        // writers of a busy table (the job queue, the sealer's list) would wait on.
        let verb = match u {
            Upkeep::VacuumAnalyze => "VACUUM (ANALYZE, TRUNCATE false)",
            Upkeep::Vacuum => "VACUUM (TRUNCATE false)",
            Upkeep::Analyze | Upkeep::Optimize => "ANALYZE",
        };
        // The name comes from the catalogue, quoted: not caller input.
        let sql = format!("{verb} {}", quoted(&t.table));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *c)
            .await?;
        done.push((t.table, u));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(live: i64, dead: i64, modified: i64, inserted: i64) -> TableActivity {
        TableActivity {
            table: "t".into(),
            live,
            dead,
            modified_since_analyze: modified,
            inserted_since_vacuum: inserted,
        }
    }

    #[test]
    fn the_thresholds_are_autovacuums() {
        assert_eq!(upkeep_of(&table(0, 0, 0, 0)), None);
        assert_eq!(upkeep_of(&table(1_000, 251, 0, 0)), Some(Upkeep::Vacuum));
        assert_eq!(
            upkeep_of(&table(1_000, 251, 200, 0)),
            Some(Upkeep::VacuumAnalyze)
        );
        assert_eq!(upkeep_of(&table(1_000, 250, 150, 1_200)), None);
        assert_eq!(upkeep_of(&table(1_000, 0, 151, 0)), Some(Upkeep::Analyze));
        // A table only inserted into: vacuumed to mark its pages all-visible, and analyzed.
        assert_eq!(
            upkeep_of(&table(1_000_000, 0, 150_000, 201_001)),
            Some(Upkeep::VacuumAnalyze)
        );
        // A new table never analyzed: its first rows count as modifications.
        assert_eq!(upkeep_of(&table(60, 0, 60, 60)), Some(Upkeep::Analyze));
    }

    #[test]
    fn table_names_are_quoted() {
        assert_eq!(quoted("jobs"), "\"jobs\"");
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }
}
