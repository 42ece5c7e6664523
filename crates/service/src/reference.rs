//! Edits of reference data (catalogue, administrative units, agencies, the calendar's yearly
//! tables) and of user accounts. Each asks the policy, writes with its audit record (and the
//! reference-version bump that tells every instance) in one transaction, and reloads this
//! instance's caches at once.

use crate::{Acting, Result, Service, ServiceError};
use motcua_domain::calendar::YearTable;
use motcua_domain::catalogue::Procedure;
use motcua_domain::dossier::{Actor, Applicant};
use motcua_domain::policy::{Permission, authorize};
use motcua_domain::units::{Agency, NewUnit, UnitLevel};
use motcua_store::{ImportReport, NewUser, Unit, User};

impl Service {
    /// Creates or replaces one procedure. Returns it and whether it is new.
    pub async fn put_procedure(&self, by: &Acting, p: Procedure) -> Result<(Procedure, bool)> {
        authorize(&by.actor, Permission::EditReference)?;
        let r = self.store().upsert_procedure(p, &by.stamp()).await?;
        self.reload_reference().await?;
        tracing::info!(procedure = %r.0.code, by = %by.actor.name, created = r.1, "procedure saved");
        Ok(r)
    }

    /// Imports a whole catalogue: all rows or none.
    pub async fn import_procedures(
        &self,
        by: &Acting,
        procedures: Vec<Procedure>,
    ) -> Result<ImportReport> {
        authorize(&by.actor, Permission::EditReference)?;
        let r = self
            .store()
            .import_procedures(procedures, &by.stamp())
            .await?;
        self.reload_reference().await?;
        tracing::info!(inserted = r.inserted, updated = r.updated, by = %by.actor.name, "catalogue imported");
        Ok(r)
    }

    /// Adds or updates an administrative unit.
    pub async fn put_unit(&self, by: &Acting, u: NewUnit) -> Result<Unit> {
        authorize(&by.actor, Permission::EditReference)?;
        let u = self.store().upsert_unit(u, &by.stamp()).await?;
        self.reload_reference().await?;
        Ok(u)
    }

    /// Imports units and their old→new links (the 2025 reference data).
    pub async fn import_units(
        &self,
        by: &Acting,
        g: &motcua_domain::units::UnitGraph,
    ) -> Result<(usize, usize)> {
        authorize(&by.actor, Permission::EditReference)?;
        let r = self.store().import_units(g, &by.stamp()).await?;
        self.reload_reference().await?;
        Ok(r)
    }

    /// Creates or replaces an agency; the unit it serves must be a current unit.
    pub async fn put_agency(&self, by: &Acting, a: Agency) -> Result<(Agency, bool)> {
        authorize(&by.actor, Permission::EditReference)?;
        if let Some(u) = &a.unit_code {
            let level = if u.len() == 2 {
                UnitLevel::Province
            } else {
                UnitLevel::Commune
            };
            if self.store().current_unit(level, u).await?.is_none() {
                return Err(ServiceError::invalid(
                    "unit_code",
                    format!("Không có đơn vị hành chính hiện hành mã {u}"),
                    format!("no current administrative unit has code {u}"),
                ));
            }
        }
        let r = self.store().upsert_agency(a, &by.stamp()).await?;
        self.reload_reference().await?;
        Ok(r)
    }

    /// Replaces a year's table of the working calendar.
    pub async fn put_calendar_year(&self, by: &Acting, t: YearTable) -> Result<YearTable> {
        authorize(&by.actor, Permission::EditReference)?;
        let year = t.year;
        let t = self.store().put_calendar_table(t, &by.stamp()).await?;
        self.reload_reference().await?;
        tracing::info!(year, by = %by.actor.name, "calendar year table replaced");
        Ok(t)
    }

    /// Removes a year's table (the computed rules apply again); `false` if it had none.
    pub async fn delete_calendar_year(&self, by: &Acting, year: i32) -> Result<bool> {
        authorize(&by.actor, Permission::EditReference)?;
        let gone = self
            .store()
            .delete_calendar_table(year, &by.stamp())
            .await?;
        self.reload_reference().await?;
        Ok(gone)
    }

    /// Creates a user account.
    pub async fn create_user(&self, by: &Acting, u: NewUser) -> Result<User> {
        authorize(&by.actor, Permission::ManageUsers)?;
        let u = self
            .store()
            .create_user(u, &by.stamp())
            .await
            .map_err(|e| ServiceError::from(e).as_invalid("agency_code"))?;
        tracing::info!(username = %u.username, role = %u.role, by = %by.actor.name, "user created");
        Ok(u)
    }

    /// A page of accounts matching `q` (administrators).
    pub async fn user_page(
        &self,
        actor: &Actor,
        q: &motcua_store::UserQuery,
    ) -> Result<motcua_store::Page<User>> {
        authorize(actor, Permission::ManageUsers)?;
        Ok(self.store().user_page(q).await?)
    }

    /// Changes an account's name, role and agency; a changed role or agency ends its sessions.
    pub async fn update_user(
        &self,
        by: &Acting,
        username: &str,
        change: motcua_store::UserChange,
    ) -> Result<User> {
        authorize(&by.actor, Permission::ManageUsers)?;
        let u = self
            .store()
            .update_user(username, change, &by.stamp())
            .await?;
        self.forget_sessions();
        tracing::info!(username, role = %u.role, by = %by.actor.name, "user changed");
        Ok(u)
    }

    /// Gives an account a new random password, shown once to the administrator; the user must
    /// choose their own at the next login, and their sessions end now.
    pub async fn reset_password(&self, by: &Acting, username: &str) -> Result<String> {
        authorize(&by.actor, Permission::ManageUsers)?;
        let password = temporary_password();
        self.store()
            .set_password(username, password.clone(), true, &by.stamp())
            .await?;
        self.forget_sessions();
        tracing::info!(username, by = %by.actor.name, "password reset");
        Ok(password)
    }

    /// A user changes their own password (required after a reset): the current one must be
    /// right, the new one must not be common nor contain the username.
    pub async fn change_password(&self, by: &Acting, current: &str, new: &str) -> Result<()> {
        let username = by.actor.name.clone();
        if self
            .store()
            .authenticate(&username, current)
            .await?
            .is_none()
        {
            return Err(ServiceError::invalid(
                "current_password",
                "Mật khẩu hiện tại không đúng",
                "the current password is wrong",
            ));
        }
        if new == current {
            return Err(ServiceError::invalid(
                "password",
                "Mật khẩu mới phải khác mật khẩu hiện tại",
                "the new password must differ from the current one",
            ));
        }
        motcua_domain::auth::check_new_password(new, &username)?;
        self.store()
            .set_password(&username, new.to_owned(), false, &by.stamp())
            .await?;
        self.forget_sessions();
        Ok(())
    }

    /// Locks (or unlocks) an account: its sessions and tokens stop at once.
    pub async fn set_user_locked(&self, by: &Acting, username: &str, locked: bool) -> Result<()> {
        authorize(&by.actor, Permission::ManageUsers)?;
        self.store()
            .set_user_disabled(username, locked, &by.stamp())
            .await?;
        // Its sessions and tokens stop here at once.
        self.forget_sessions();
        tracing::info!(username, locked, by = %by.actor.name, "account lock changed");
        Ok(())
    }

    /// A citizen registers on the portal (the registrant is the actor: their citizen ID).
    pub async fn register_citizen(
        &self,
        at: chrono::DateTime<chrono::Utc>,
        applicant: Applicant,
        password: String,
    ) -> Result<User> {
        let by = motcua_store::ChangeBy::new(applicant.id_number.trim(), at);
        Ok(self
            .store()
            .register_citizen(applicant, password, &by)
            .await?)
    }
}

/// A random password of 12 characters without look-alikes (no 0/O, 1/l/I), for a reset.
fn temporary_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..12)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}
