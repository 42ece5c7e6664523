//! Reference data read on every intake (procedures with their process, agencies with their
//! province, unit → province), cached. An edit through this instance clears the cache at once;
//! an edit on another instance bumps the reference version in its transaction, and this
//! instance's watcher ([`crate::Service::refresh_if_changed`]) clears the cache within a
//! second. [`TTL`] is the safety net. Dossiers are never cached.

use motcua_domain::catalogue::Procedure;
use motcua_domain::process::Process;
use motcua_domain::units::Agency;
use motcua_store::units::UnitBrief;
use motcua_store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long another instance's edit may take to be seen here.
pub const TTL: Duration = Duration::from_secs(60);

struct Map<V>(RwLock<HashMap<String, (Instant, V)>>);

impl<V: Clone> Map<V> {
    fn new() -> Self {
        Map(RwLock::new(HashMap::new()))
    }

    fn get(&self, key: &str) -> Option<V> {
        let m = self.0.read().ok()?;
        let (at, v) = m.get(key)?;
        (at.elapsed() < TTL).then(|| v.clone())
    }

    fn put(&self, key: &str, v: V) {
        if let Ok(mut m) = self.0.write() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(key.to_owned(), (Instant::now(), v));
        }
    }

    fn clear(&self) {
        if let Ok(mut m) = self.0.write() {
            m.clear();
        }
    }
}

pub struct RefCache {
    procedures: Map<(Procedure, Process)>,
    agencies: Map<(Agency, Option<String>)>,
    provinces: Map<Option<String>>,
    lineages: Map<Option<(UnitBrief, UnitBrief)>>,
}

impl Default for RefCache {
    fn default() -> Self {
        RefCache {
            procedures: Map::new(),
            agencies: Map::new(),
            provinces: Map::new(),
            lineages: Map::new(),
        }
    }
}

impl RefCache {
    /// A procedure and its process.
    pub async fn procedure(
        &self,
        store: &Store,
        code: &str,
    ) -> Result<(Procedure, Process), StoreError> {
        if let Some(v) = self.procedures.get(code) {
            return Ok(v);
        }
        let v = (store.procedure(code).await?, store.process_for(code).await?);
        self.procedures.put(code, v.clone());
        Ok(v)
    }

    /// The current province code of a unit code.
    pub async fn province_of(
        &self,
        store: &Store,
        unit: &str,
    ) -> Result<Option<String>, StoreError> {
        if let Some(v) = self.provinces.get(unit) {
            return Ok(v);
        }
        let v = store.province_of(unit).await?;
        self.provinces.put(unit, v.clone());
        Ok(v)
    }

    /// An agency and the province it is in.
    pub async fn agency(
        &self,
        store: &Store,
        code: &str,
    ) -> Result<(Agency, Option<String>), StoreError> {
        if let Some(v) = self.agencies.get(code) {
            return Ok(v);
        }
        let a = store.agency(code).await?;
        let province = match &a.unit_code {
            Some(u) => self.province_of(store, u).await?,
            None => None,
        };
        let v = (a, province);
        self.agencies.put(code, v.clone());
        Ok(v)
    }

    /// Forgets everything (after an edit of the catalogue, a process, a unit or an agency).
    pub fn clear(&self) {
        self.procedures.clear();
        self.agencies.clear();
        self.provinces.clear();
        self.lineages.clear();
    }

    /// A unit code as it was and its successor today (see [`Store::unit_lineage`]).
    pub async fn lineage(
        &self,
        store: &Store,
        unit: &str,
    ) -> Result<Option<(UnitBrief, UnitBrief)>, StoreError> {
        if let Some(v) = self.lineages.get(unit) {
            return Ok(v);
        }
        let v = store.unit_lineage(unit).await?;
        self.lineages.put(unit, v.clone());
        Ok(v)
    }
}
