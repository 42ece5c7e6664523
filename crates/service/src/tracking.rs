//! Public tracking — the most-hit public endpoint — served from memory when it can be, and
//! kept correct: a dossier filed here is remembered with its first step; a change made here
//! forgets the dossier (and the cases linked to it) at once; a change made by another instance
//! or process arrives as a notice with the dossier's new version ([`motcua_store::changes`]:
//! PostgreSQL LISTEN/NOTIFY, SQLite's audit log) and forgets a view showing an older one; a lost notice connection forgets everything. What
//! depends on the time (`overdue`) is computed at each answer.

use crate::dossiers::{Tracking, TrackingStep};
use crate::{Result, Service};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::{Dossier, Snapshot};
use motcua_store::StoredDossier;
use motcua_store::changes::Changed;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Views kept by default (two generations of half as many).
pub const DEFAULT_VIEWS: usize = 200_000;

/// A remembered view with what `overdue` needs.
#[derive(Debug, Clone)]
struct Entry {
    view: Arc<Tracking>,
    paused_at: Option<DateTime<Utc>>,
    /// The dossier version the view shows.
    version: i64,
}

/// Two generations of views: new views go to the young one; when it is full it becomes the
/// old one and the previous old one is dropped; a view read from the old generation moves back
/// to the young one. So the views read lately stay, memory is bounded, and a full cache never
/// empties at once (which sent every lookup to the database together).
#[derive(Debug)]
struct Generations<V> {
    young: HashMap<String, V>,
    old: HashMap<String, V>,
    /// Entries per generation (0: nothing is kept).
    size: usize,
}

impl<V> Generations<V> {
    /// Room for about `total` entries in all.
    fn new(total: usize) -> Self {
        Generations {
            young: HashMap::new(),
            old: HashMap::new(),
            size: total.div_ceil(2),
        }
    }

    fn insert(&mut self, code: String, e: V) {
        if self.size == 0 {
            return;
        }
        self.old.remove(&code);
        if self.young.len() >= self.size && !self.young.contains_key(&code) {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(code, e);
    }

    /// The entry, moved to the young generation if it was in the old one.
    fn get(&mut self, code: &str) -> Option<&V> {
        if let Some(e) = self.old.remove(code) {
            self.insert(code.to_owned(), e);
        }
        self.young.get(code)
    }

    fn remove(&mut self, code: &str) {
        self.young.remove(code);
        self.old.remove(code);
    }

    fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }
}

#[derive(Debug)]
pub struct TrackingCache {
    map: RwLock<Generations<Entry>>,
}

impl Default for TrackingCache {
    fn default() -> Self {
        TrackingCache {
            map: RwLock::new(Generations::new(DEFAULT_VIEWS)),
        }
    }
}

impl TrackingCache {
    /// Keeps about `views` views from now on (0: none; every lookup reads the database),
    /// forgetting those kept so far.
    pub fn set_capacity(&self, views: usize) {
        if let Ok(mut m) = self.map.write() {
            *m = Generations::new(views);
        }
    }

    fn get(&self, code: &str) -> Option<Entry> {
        {
            // Most lookups find a young view under the shared lock.
            let m = self.map.read().ok()?;
            if let Some(e) = m.young.get(code) {
                return Some(e.clone());
            }
            if !m.old.contains_key(code) {
                return None;
            }
        }
        self.map.write().ok()?.get(code).cloned()
    }

    fn put(&self, code: String, e: Entry) {
        if let Ok(mut m) = self.map.write() {
            m.insert(code, e);
        }
    }

    /// Forgets one dossier's view.
    pub fn forget(&self, code: &str) {
        if let Ok(mut m) = self.map.write() {
            m.remove(code);
        }
    }

    /// Forgets a dossier's view if it shows a version older than `version`.
    pub fn forget_older(&self, code: &str, version: i64) {
        if let Ok(mut m) = self.map.write() {
            let stale = |e: Option<&Entry>| e.is_some_and(|e| e.version < version);
            if stale(m.young.get(code)) || stale(m.old.get(code)) {
                m.remove(code);
            }
        }
    }

    /// Forgets every view.
    pub fn clear(&self) {
        if let Ok(mut m) = self.map.write() {
            // New maps, not cleared ones: their memory goes back.
            m.young = HashMap::new();
            m.old = HashMap::new();
        }
    }

    pub fn len(&self) -> usize {
        self.map.read().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remembers a dossier just filed here: its view is its state and its first step.
    pub(crate) async fn remember_new(&self, svc: &Service, d: &Dossier, version: i64) {
        let s = d.snapshot();
        let step = svc.step_of(d, d.submitted_at, first_event(d), &s).await;
        let view = svc.view_of(d, vec![step]).await;
        self.put(
            d.code.clone(),
            Entry {
                view: Arc::new(view),
                paused_at: d.paused_at,
                version,
            },
        );
    }
}

/// The name of a new dossier's first event.
fn first_event(d: &Dossier) -> &'static str {
    if d.received_at.is_some() {
        "receive"
    } else {
        "submit"
    }
}

impl Service {
    pub fn tracking_cache(&self) -> &TrackingCache {
        &self.tracking
    }

    async fn step_of(
        &self,
        d: &Dossier,
        at: DateTime<Utc>,
        action: &str,
        after: &Snapshot,
    ) -> TrackingStep {
        TrackingStep {
            at,
            action: action.to_owned(),
            status: after.status,
            step: d.process.step_name(&after.step),
            agency_name: self.agency_name(&after.agency).await,
            agency: after.agency.to_string(),
        }
    }

    async fn view_of(&self, d: &Dossier, history: Vec<TrackingStep>) -> Tracking {
        Tracking {
            receiving_agency_name: self.agency_name(&d.receiving_agency).await,
            overdue: false,
            code: d.code.clone(),
            procedure_code: d.procedure_code.to_string(),
            procedure_name: d.procedure_name.clone(),
            status: d.status,
            status_label: d.status.label().to_owned(),
            portal_status: d.status.portal_code(),
            channel: d.channel,
            receiving_agency: d.receiving_agency.to_string(),
            submitted_at: d.submitted_at,
            received_at: d.received_at,
            due_at: d.due_at,
            timeliness: d.timeliness,
            ended_at: d.ended_at,
            returned_at: d.returned_at,
            history,
        }
    }

    /// The public view of a dossier by its code, as typed from a receipt (spaces around it, a
    /// lower-case agency letter). No personal data.
    pub async fn tracking(&self, code: &str) -> Result<Tracking> {
        let code = code.trim().to_uppercase();
        let entry = match self.tracking.get(&code) {
            Some(e) => {
                metrics::counter!("motcua_tracking_cache_total", "result" => "hit").increment(1);
                e
            }
            None => {
                metrics::counter!("motcua_tracking_cache_total", "result" => "miss").increment(1);
                let e = self.load_tracking(&code).await?;
                self.tracking.put(code, e.clone());
                e
            }
        };
        let mut view = (*entry.view).clone();
        view.overdue = overdue(&view, entry.paused_at, self.now());
        Ok(view)
    }

    async fn load_tracking(&self, code: &str) -> Result<Entry> {
        let (
            StoredDossier {
                dossier: d,
                version,
            },
            trail,
        ) = self.store().dossier_with_trail(code).await?;
        let mut history = Vec::with_capacity(trail.len());
        for e in trail {
            let Some(after) = e
                .after
                .as_deref()
                .and_then(|a| serde_json::from_str::<Snapshot>(a).ok())
            else {
                continue;
            };
            let action = motcua_domain::dossier::EventRecord::from_stored(
                &e.action,
                &e.data,
                e.before.as_deref(),
            )
            .map_or(e.action.clone(), |r| r.event.name().to_owned());
            history.push(self.step_of(&d, e.at, &action, &after).await);
        }
        Ok(Entry {
            view: Arc::new(self.view_of(&d, history).await),
            paused_at: d.paused_at,
            version,
        })
    }
}

/// Past the appointment at `now` (as [`Dossier::overdue`], from the view's fields).
fn overdue(v: &Tracking, paused_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    if !v.status.is_open() {
        return false;
    }
    match (v.due_at, paused_at) {
        (Some(due), Some(paused)) => paused > due,
        (Some(due), None) => now > due,
        (None, _) => false,
    }
}

/// Forgets the tracking views of dossiers changed by other instances or processes, as their
/// notices arrive (runs on every instance).
pub async fn watch_dossier_changes(
    svc: Arc<Service>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let poll = std::time::Duration::from_millis(200);
    loop {
        let mut src = match svc.store().dossier_changes().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot follow dossier changes; will retry");
                svc.tracking.clear();
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                    _ = stop.changed() => return,
                }
            }
        };
        // Whatever changed before the source opened is unknown.
        svc.tracking.clear();
        loop {
            let next = tokio::select! {
                n = svc.store().next_dossier_changes(&mut src, poll) => n,
                _ = stop.changed() => return,
            };
            match next {
                Ok(Changed::Codes(codes)) => {
                    // Our own changes arrive too: a view already showing that version stays.
                    for (c, v) in codes {
                        svc.tracking.forget_older(&c, v);
                    }
                }
                Ok(Changed::Unknown) => svc.tracking.clear(),
                Err(e) => {
                    tracing::warn!(error = %e, "lost the dossier-change notices; reconnecting");
                    svc.tracking.clear();
                    break;
                }
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Generations;

    #[test]
    fn the_cache_keeps_what_is_read_and_never_empties_at_once() {
        // Six in all: generations of three.
        let mut g = Generations::new(6);
        for c in ["a", "b", "c"] {
            g.insert(c.into(), c.to_uppercase());
        }
        // Full: the next view starts a new generation; the three stay readable.
        g.insert("d".into(), "D".into());
        assert_eq!(g.len(), 4);
        assert_eq!(g.young.len(), 1);
        // Reading "a" moves it back to the young generation.
        assert_eq!(g.get("a").map(String::as_str), Some("A"));
        g.insert("e".into(), "E".into());
        // Young is full (d, a, e): "f" retires it, and b and c (never read again) are dropped.
        g.insert("f".into(), "F".into());
        assert_eq!(g.get("b"), None);
        assert_eq!(g.get("c"), None);
        for c in ["a", "d", "e", "f"] {
            assert!(g.get(c).is_some(), "{c} kept");
        }
        assert!(g.len() <= 6, "bounded by two generations");
        // A view written again replaces the one of either generation.
        g.insert("a".into(), "A2".into());
        assert_eq!(g.get("a").map(String::as_str), Some("A2"));
        assert_eq!(g.len(), 4);
        g.remove("a");
        assert_eq!(g.get("a"), None);
    }

    #[test]
    fn a_cache_of_no_views_keeps_nothing() {
        let mut g = Generations::new(0);
        g.insert("a".into(), "A".to_owned());
        assert_eq!(g.get("a"), None);
        assert_eq!(g.len(), 0);
    }
}
