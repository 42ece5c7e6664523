//! Who a bearer token or session cookie belongs to, asked on every authenticated request: kept
//! in memory for [`TTL`] so that a request does not cost a database round trip for it. Logging
//! out and locking an account through this instance take effect here at once; on other
//! instances within [`TTL`].

use crate::{Result, Service};
use motcua_store::User;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long a token's answer is trusted before the database is asked again.
pub const TTL: Duration = Duration::from_secs(2);

/// At most this many tokens are remembered (then the cache starts afresh).
const CAPACITY: usize = 50_000;

/// When the answer was looked up, the user, and when the token expires.
type Remembered = (Instant, User, chrono::DateTime<chrono::Utc>);

#[derive(Debug, Default)]
pub struct SessionCache {
    map: RwLock<HashMap<String, Remembered>>,
    /// When (by the service's clock) this instance last renewed each session.
    renewed: RwLock<HashMap<String, chrono::DateTime<chrono::Utc>>>,
}

/// A session is renewed at most this often by one instance.
const RENEW_EVERY: chrono::Duration = chrono::Duration::seconds(60);

impl SessionCache {
    fn clear(&self) {
        if let Ok(mut m) = self.map.write() {
            m.clear();
        }
    }
}

impl Service {
    /// The active user a token belongs to, if it is valid now.
    pub async fn user_by_token(&self, token: &str) -> Result<Option<User>> {
        let now = self.now();
        if let Ok(m) = self.sessions.map.read()
            && let Some((at, user, expires)) = m.get(token)
            && at.elapsed() < TTL
        {
            return Ok((now < *expires).then(|| user.clone()));
        }
        let found = self.store().token_user(token, now).await?;
        if let Some((user, expires)) = &found
            && let Ok(mut m) = self.sessions.map.write()
        {
            if m.len() >= CAPACITY {
                m.clear();
            }
            m.insert(token.to_owned(), (Instant::now(), user.clone(), *expires));
        }
        Ok(found.map(|(u, _)| u))
    }

    /// A signed-in request of a web session: its idle expiry moves on (at most once a minute per
    /// instance, so that a busy page does not write on every request).
    pub async fn touch_session(&self, token: &str) -> Result<()> {
        let now = self.now();
        if let Ok(m) = self.sessions.renewed.read()
            && m.get(token).is_some_and(|at| now - *at < RENEW_EVERY)
        {
            return Ok(());
        }
        let renewed = self.store().renew_session(token, now).await?;
        if let Ok(mut m) = self.sessions.renewed.write() {
            if m.len() >= CAPACITY {
                m.clear();
            }
            m.insert(token.to_owned(), now);
        }
        if let (Some(expires), Ok(mut m)) = (renewed, self.sessions.map.write())
            && let Some(entry) = m.get_mut(token)
        {
            entry.2 = expires;
        }
        Ok(())
    }

    /// Logs a token out: it stops working at once.
    pub async fn revoke_token(&self, token: &str) -> Result<()> {
        if let Ok(mut m) = self.sessions.map.write() {
            m.remove(token);
        }
        Ok(self.store().revoke_token(token).await?)
    }

    /// Forgets every remembered token (after an account was locked or unlocked).
    pub(crate) fn forget_sessions(&self) {
        self.sessions.clear();
    }

    /// How many tokens are remembered.
    pub fn sessions_remembered(&self) -> usize {
        self.sessions.map.read().map_or(0, |m| m.len())
    }
}
