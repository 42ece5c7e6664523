//! Signing in: passwords checked against failed attempts counted per account and per source
//! address (slowed down, then locked for a while; an administrator can unlock an account), every
//! failure and lock recorded in the audit chain with the address; web sessions renewed by use.

use crate::{Acting, Result, Service, ServiceError};
use chrono::{DateTime, Utc};
use motcua_domain::Msg;
use motcua_domain::policy::{Permission, authorize};
use motcua_store::User;
use motcua_store::audit::AuditRecord;
use motcua_store::login::{Failures, LoginPolicy};

fn account_key(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("addr:{address}")
}

/// Local time for messages: `09:15 28/01/2025`.
fn hhmm(s: &Service, t: DateTime<Utc>) -> String {
    s.calendar()
        .to_local_fixed(t)
        .format("%H:%M %d/%m/%Y")
        .to_string()
}

impl Service {
    /// Checks a username and password from `address`. Refused without looking at the password
    /// while the account or the address must wait; a wrong password counts against both.
    pub async fn login(&self, username: &str, password: &str, address: &str) -> Result<User> {
        let now = self.now();
        let policy = LoginPolicy::default();
        let (akey, ikey) = (account_key(username), address_key(address));
        let account = self.store().login_failures(&akey).await?;
        let from_address = self.store().login_failures(&ikey).await?;
        let waits = [
            account
                .as_ref()
                .and_then(|f| policy.account.wait_until(f, now).map(|u| (u, f))),
            from_address
                .as_ref()
                .and_then(|f| policy.address.wait_until(f, now).map(|u| (u, f))),
        ];
        if let Some((until, f)) = waits.into_iter().flatten().max_by_key(|(u, _)| *u) {
            metrics::counter!("motcua_login_throttled_total").increment(1);
            let locked = f.locked_until.is_some_and(|l| l > now);
            let at = hhmm(self, until);
            return Err(ServiceError::Throttled {
                until,
                retry_after: (until - now).num_seconds().max(1),
                message: if locked {
                    Msg::new(
                        format!(
                            "Đăng nhập tạm khoá do nhập sai mật khẩu nhiều lần; thử lại sau {at} hoặc nhờ quản trị viên mở khoá"
                        ),
                        format!(
                            "sign-in is locked after too many wrong passwords; try again after {at} or ask an administrator to unlock it"
                        ),
                    )
                } else {
                    Msg::new(
                        "Nhập sai mật khẩu nhiều lần; vui lòng chờ vài giây rồi thử lại",
                        "too many wrong passwords; wait a few seconds and try again",
                    )
                },
            });
        }
        if let Some(user) = self.store().authenticate(username.trim(), password).await? {
            if account.is_some() {
                self.store().clear_login_failures(&akey).await?;
            }
            return Ok(user);
        }
        metrics::counter!("motcua_login_failures_total").increment(1);
        let next_account = policy.account.after_failure(account.as_ref(), now);
        let next_address = policy.address.after_failure(from_address.as_ref(), now);
        self.store()
            .put_login_failures(&akey, &next_account)
            .await?;
        self.store()
            .put_login_failures(&ikey, &next_address)
            .await?;
        self.audit_login(username, "login_failed", address, &next_account, now)
            .await?;
        for (scope, before, after) in [
            ("account", &account, &next_account),
            ("address", &from_address, &next_address),
        ] {
            let was_locked = before
                .as_ref()
                .and_then(|f| f.locked_until)
                .is_some_and(|l| l > now);
            if after.locked_until.is_some() && !was_locked {
                tracing::warn!(username, address, scope, "sign-in locked after failures");
                self.audit_login(
                    username,
                    &format!("login_locked_{scope}"),
                    address,
                    after,
                    now,
                )
                .await?;
            }
        }
        Err(ServiceError::Unauthenticated(Msg::new(
            "Sai tên đăng nhập hoặc mật khẩu",
            "wrong username or password",
        )))
    }

    async fn audit_login(
        &self,
        username: &str,
        action: &str,
        address: &str,
        f: &Failures,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let data = serde_json::json!({
            "address": address,
            "failures": f.failures,
            "locked_until": f.locked_until,
        });
        Ok(self
            .store()
            .record_audit(&AuditRecord {
                at: now,
                actor: username.trim().chars().take(64).collect(),
                entity: "login",
                entity_key: username.trim().chars().take(64).collect(),
                action: action.to_owned(),
                before: None,
                after: None,
                data: data.to_string(),
            })
            .await?)
    }

    /// The failed logins counted against an account now (for the administrator).
    pub async fn login_lock(&self, username: &str) -> Result<Option<Failures>> {
        Ok(self.store().login_failures(&account_key(username)).await?)
    }

    /// An administrator lifts an account's sign-in lock (and forgets its failures).
    pub async fn unlock_login(&self, by: &Acting, username: &str) -> Result<bool> {
        authorize(&by.actor, Permission::ManageUsers)?;
        let cleared = self
            .store()
            .clear_login_failures(&account_key(username))
            .await?;
        self.store()
            .record_audit(&AuditRecord {
                at: by.at,
                actor: by.actor.name.clone(),
                entity: "login",
                entity_key: username.to_owned(),
                action: "login_unlocked".into(),
                before: None,
                after: None,
                data: "{}".into(),
            })
            .await?;
        tracing::info!(username, by = %by.actor.name, "sign-in unlocked");
        Ok(cleared)
    }
}
