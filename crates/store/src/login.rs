//! Failed logins, counted per account (`user:NAME`) and per source address (`addr:IP`), so
//! that password guessing is slowed down and then stopped (see [`LoginPolicy`]).

use crate::{Result, Store, on_db, on_writer};
use chrono::{DateTime, Utc};

/// When failed logins slow down and lock an account or an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Failures after which each further attempt waits (doubling from one second).
    pub slow_after: i64,
    /// Failures after which the account or address is locked for `lock`.
    pub lock_after: i64,
    /// The longest wait between attempts while slowed down.
    pub max_delay: chrono::Duration,
    pub lock: chrono::Duration,
    /// Failures older than this are forgotten.
    pub forget_after: chrono::Duration,
}

/// The limits per account and per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    pub account: Throttle,
    pub address: Throttle,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            account: Throttle {
                slow_after: 3,
                lock_after: 10,
                max_delay: chrono::Duration::seconds(30),
                lock: chrono::Duration::minutes(15),
                forget_after: chrono::Duration::minutes(15),
            },
            address: Throttle {
                slow_after: 10,
                lock_after: 50,
                max_delay: chrono::Duration::seconds(30),
                lock: chrono::Duration::minutes(15),
                forget_after: chrono::Duration::minutes(15),
            },
        }
    }
}

/// The failures recorded for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failures {
    pub failures: i64,
    pub last_failure_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Throttle {
    /// Until when a new attempt must wait (`None`: it may go ahead now).
    pub fn wait_until(&self, f: &Failures, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if let Some(l) = f.locked_until
            && l > now
        {
            return Some(l);
        }
        if now - f.last_failure_at > self.forget_after || f.failures < self.slow_after {
            return None;
        }
        let exp = (f.failures - self.slow_after).clamp(0, 20) as u32;
        let delay = chrono::Duration::seconds(1i64 << exp).min(self.max_delay);
        let until = f.last_failure_at + delay;
        (until > now).then_some(until)
    }

    /// The failures after one more at `now`.
    pub fn after_failure(&self, f: Option<&Failures>, now: DateTime<Utc>) -> Failures {
        let previous = f
            .filter(|f| {
                now - f.last_failure_at <= self.forget_after
                    || f.locked_until.is_some_and(|l| l > now)
            })
            .map_or(0, |f| f.failures);
        let failures = previous + 1;
        Failures {
            failures,
            last_failure_at: now,
            locked_until: (failures >= self.lock_after).then(|| now + self.lock),
        }
    }
}

impl Store {
    /// The failures recorded for `key`.
    pub async fn login_failures(&self, key: &str) -> Result<Option<Failures>> {
        let row: Option<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = on_db!(self, p => {
            sqlx::query_as(
                "SELECT failures, last_failure_at, locked_until FROM login_throttle WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(p)
            .await?
        });
        Ok(
            row.map(|(failures, last_failure_at, locked_until)| Failures {
                failures,
                last_failure_at,
                locked_until,
            }),
        )
    }

    /// Stores the failures of `key`.
    pub async fn put_login_failures(&self, key: &str, f: &Failures) -> Result<()> {
        on_writer!(self, p => {
            sqlx::query(
                "INSERT INTO login_throttle (key, failures, last_failure_at, locked_until) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET \
                 failures = excluded.failures, last_failure_at = excluded.last_failure_at, \
                 locked_until = excluded.locked_until",
            )
            .bind(key)
            .bind(f.failures)
            .bind(f.last_failure_at)
            .bind(f.locked_until)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Forgets the failures of `key` (a successful login, or an administrator's unlock).
    pub async fn clear_login_failures(&self, key: &str) -> Result<bool> {
        let n = on_writer!(self, p => {
            sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                .bind(key)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn slows_down_then_locks() {
        let t = LoginPolicy::default().account;
        let t0 = Utc.with_ymd_and_hms(2025, 1, 28, 2, 0, 0).unwrap();
        let mut f: Option<Failures> = None;
        for i in 1..=10 {
            let next = t.after_failure(f.as_ref(), t0);
            assert_eq!(next.failures, i);
            f = Some(next);
        }
        let f = f.unwrap();
        assert_eq!(f.locked_until, Some(t0 + chrono::Duration::minutes(15)));
        assert_eq!(t.wait_until(&f, t0), f.locked_until);
        assert_eq!(
            t.wait_until(&f, t0 + chrono::Duration::minutes(16)),
            None,
            "the lock ends"
        );
        let slowed = Failures {
            failures: 4,
            last_failure_at: t0,
            locked_until: None,
        };
        assert_eq!(
            t.wait_until(&slowed, t0),
            Some(t0 + chrono::Duration::seconds(2))
        );
        // Old failures are forgotten.
        let old = t.after_failure(Some(&slowed), t0 + chrono::Duration::hours(1));
        assert_eq!(old.failures, 1);
    }
}
