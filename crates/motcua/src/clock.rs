//! The wall clock: the one place that reads the system time. Everything below the binary is
//! given this clock (or a fixed one in tests) and asks it.

use chrono::{DateTime, Utc};
use motcua_domain::clock::Clock;

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one allowed place
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
