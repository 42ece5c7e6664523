//! The use cases of motcua, called by every entry point: the JSON API, the web pages, the CLI
//! and background jobs. A [`Service`] holds the store, the clock, the working calendar and the
//! reference-data cache; it asks the one authorisation policy
//! ([`motcua_domain::policy::authorize`]) before every read of personal data and every write,
//! and it has its own error type ([`ServiceError`]) with no HTTP in it.
//!
//! Writes take who acts and when as one explicit parameter ([`Acting`]): nothing here reads
//! the wall clock, and nothing is silently attributed to `system`.

use chrono::{DateTime, Utc};
use motcua_domain::calendar::{HolidayRules, OfficeHours, WorkCalendar};
use motcua_domain::clock::Clock;
use motcua_domain::dossier::{Actor, Refusal};
use motcua_domain::policy::{Denied, Permission, authorize};
use motcua_domain::{Error as DomainError, Msg};
use motcua_store::{ChangeBy, Store, StoreError, User};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

pub mod background;
pub mod batch;
pub mod cache;
pub mod dashboard;
pub mod documents;
pub mod dossiers;
pub mod evaluation;
pub mod files;
pub mod jobs;
pub mod login;
pub mod ocr;
pub mod reference;
pub mod results;
pub mod satisfaction;
pub mod search;
pub mod sessions;
pub mod signing;
pub mod slips;
pub mod stats;
pub mod tracking;
pub mod uploads;
pub mod warehouse;

pub use dossiers::{Found, HistoryEntry, ListFilter, NewDossier, Tracking, TrackingStep};
pub use motcua_store as store;

/// Who acts, and when: the one parameter of every write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    pub actor: Actor,
    pub at: DateTime<Utc>,
}

impl Acting {
    pub fn new(actor: Actor, at: DateTime<Utc>) -> Self {
        Acting { actor, at }
    }

    /// The audit stamp of a reference-data change.
    pub fn stamp(&self) -> ChangeBy {
        ChangeBy::new(self.actor.name.clone(), self.at)
    }
}

/// The workflow actor a signed-in user is.
pub fn actor_of(u: &User) -> Actor {
    Actor {
        name: u.username.clone(),
        user_id: Some(u.id),
        role: Some(u.role),
        agency: u.agency_code.clone(),
    }
}

/// Why a use case did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("not found: {0}")]
    NotFound(Msg),
    /// The authorisation policy refused.
    #[error("forbidden: {0}")]
    Forbidden(Msg),
    /// A record with this key exists, or a state that does not allow the change.
    #[error("conflict: {0}")]
    Conflict(Msg),
    /// The dossier's state does not allow the action.
    #[error("invalid transition: {0}")]
    Transition(Msg),
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The dossier changed since the version the client read.
    #[error("stale version; now {current}")]
    Stale { current: i64 },
    /// A file to import has bad rows; nothing was imported.
    #[error("{} bad rows", .0.len())]
    Import(Vec<motcua_domain::catalogue::RowError>),
    /// Not signed in, or the credentials are wrong.
    #[error("unauthenticated: {0}")]
    Unauthenticated(Msg),
    /// Too many attempts: wait until then.
    #[error("throttled until {until}: {message}")]
    Throttled {
        until: DateTime<Utc>,
        /// Seconds from now until then.
        retry_after: i64,
        message: Msg,
    },
    /// A file refused for its content (type, size, pages, pixels, damage).
    #[error("file refused: {0}")]
    File(motcua_domain::files::FileRefusal),
    /// The database failed (logged; shown as a generic message).
    #[error("storage: {0}")]
    Storage(StoreError),
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => ServiceError::NotFound(m),
            StoreError::Conflict(m) => ServiceError::Conflict(m),
            StoreError::Invalid(d) => ServiceError::Invalid(d),
            StoreError::Refused(r) => r.into(),
            StoreError::Stale { current } => ServiceError::Stale { current },
            StoreError::Import(rows) => ServiceError::Import(rows),
            other => ServiceError::Storage(other),
        }
    }
}

impl From<Refusal> for ServiceError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Forbidden(m) => ServiceError::Forbidden(m),
            Refusal::Conflict(m) => ServiceError::Transition(m),
            Refusal::Invalid(d) => ServiceError::Invalid(d),
        }
    }
}

impl From<Denied> for ServiceError {
    fn from(d: Denied) -> Self {
        ServiceError::Forbidden(d.0)
    }
}

impl ServiceError {
    pub fn invalid(field: &str, vi: impl Into<String>, en: impl Into<String>) -> Self {
        ServiceError::Invalid(DomainError::field(field, vi, en))
    }

    /// A reference named by a field of the request that does not exist is the request's fault.
    pub fn as_invalid(self, field: &str) -> Self {
        match self {
            ServiceError::NotFound(m) => ServiceError::invalid(field, m.vi, m.en),
            other => other,
        }
    }
}

/// The service: store, clock, calendar and caches. Cheap to share (`Arc<Service>`).
pub struct Service {
    store: Store,
    clock: Arc<dyn Clock>,
    calendar: RwLock<Arc<WorkCalendar>>,
    rules: HolidayRules,
    hours: OfficeHours,
    refs: cache::RefCache,
    /// The reference-data version the caches and calendar were built from.
    seen_version: AtomicI64,
    /// Public tracking views (see [`tracking`]).
    tracking: tracking::TrackingCache,
    /// Whose tokens are whose (see [`sessions`]).
    sessions: sessions::SessionCache,
    /// The object store and the limits of files (see [`files`]).
    files: files::FileSettings,
    slips: std::sync::RwLock<Option<Arc<dyn slips::SlipRenderer>>>,
    signatures: std::sync::RwLock<Option<Arc<dyn signing::PdfSignatures>>>,
    /// The evaluation index's groups, weights and thresholds (see [`evaluation`]).
    evaluation: std::sync::RwLock<Arc<motcua_domain::evaluation::IndexConfig>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("store", &self.store.backend())
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Builds the service, loading the calendar's year tables from the store.
    pub async fn new(store: Store, clock: Arc<dyn Clock>, hours: OfficeHours) -> Result<Self> {
        let hours = hours.validate()?;
        let rules = HolidayRules::default();
        let version = store.reference_version().await?;
        let cal = WorkCalendar::new(rules.clone(), hours.clone(), store.calendar_tables().await?);
        Ok(Service {
            store,
            clock,
            calendar: RwLock::new(Arc::new(cal)),
            rules,
            hours,
            refs: cache::RefCache::default(),
            seen_version: AtomicI64::new(version),
            tracking: tracking::TrackingCache::default(),
            sessions: sessions::SessionCache::default(),
            files: files::FileSettings::default(),
            slips: std::sync::RwLock::new(None),
            signatures: std::sync::RwLock::new(None),
            evaluation: std::sync::RwLock::new(Arc::default()),
        })
    }

    /// The store, for plain reads of reference data (catalogue, units, agencies, users).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The instant now, by the injected clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// `actor` acting now.
    pub fn acting(&self, actor: Actor) -> Acting {
        Acting::new(actor, self.now())
    }

    /// The working calendar in force.
    pub fn calendar(&self) -> Arc<WorkCalendar> {
        self.calendar
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub fn refs(&self) -> &cache::RefCache {
        &self.refs
    }

    /// Asks the authorisation policy.
    pub fn authorize(&self, actor: &Actor, p: Permission<'_>) -> Result<()> {
        Ok(authorize(actor, p)?)
    }

    /// An agency's name, or its code if unknown.
    pub async fn agency_name(&self, code: &motcua_domain::codes::AgencyCode) -> String {
        match self.refs.agency(&self.store, code.as_str()).await {
            Ok((a, _)) => a.name,
            Err(_) => code.to_string(),
        }
    }

    /// Rebuilds the calendar and forgets cached reference data (after an edit here).
    pub async fn reload_reference(&self) -> Result<()> {
        let version = self.store.reference_version().await?;
        let cal = WorkCalendar::new(
            self.rules.clone(),
            self.hours.clone(),
            self.store.calendar_tables().await?,
        );
        match self.calendar.write() {
            Ok(mut c) => *c = Arc::new(cal),
            Err(p) => *p.into_inner() = Arc::new(cal),
        }
        self.refs.clear();
        // Agency names in the tracking views may have changed.
        self.tracking.clear();
        self.seen_version.store(version, Ordering::SeqCst);
        Ok(())
    }

    /// Reloads reference data if another instance (or process) changed it since this one
    /// last looked; returns whether it did. Every instance runs it every
    /// [`jobs::REFERENCE_POLL`].
    pub async fn refresh_if_changed(&self) -> Result<bool> {
        let version = self.store.reference_version().await?;
        if version == self.seen_version.load(Ordering::SeqCst) {
            return Ok(false);
        }
        self.reload_reference().await?;
        metrics::counter!("motcua_reference_reloads_total").increment(1);
        tracing::info!(
            version,
            "reference data changed elsewhere: caches and calendar reloaded"
        );
        Ok(true)
    }
}
