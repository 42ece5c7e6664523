//! Users, roles and bearer tokens. Passwords are hashed with Argon2id; tokens are random and
//! stored only as their SHA-256, with an expiry checked against the caller's clock.

use crate::{ChangeBy, Result, Store, StoreError, on_db, on_writer};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use motcua_domain::Msg;
use motcua_domain::auth::{Role, check_password, check_username};
use motcua_domain::codes::AgencyCode;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub agency_code: Option<AgencyCode>,
    pub disabled: bool,
    /// The password was set by an administrator: the user must choose their own before
    /// doing anything else.
    #[serde(default)]
    pub must_change_password: bool,
}

/// A change of an account by an administrator.
#[derive(Debug, Clone)]
pub struct UserChange {
    pub full_name: String,
    pub role: Role,
    pub agency_code: Option<AgencyCode>,
}

/// Filters of the user list: words of the username or name (without diacritics), a role,
/// an agency; a page at a time by username.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub q: Option<String>,
    pub role: Option<Role>,
    pub agency: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub full_name: String,
    pub password: String,
    pub role: Role,
    pub agency_code: Option<AgencyCode>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    full_name: String,
    role: String,
    agency_code: Option<String>,
    disabled: bool,
    must_change_password: bool,
}

/// A user row with the expiry of the token that found it.
#[derive(sqlx::FromRow)]
struct UserWithExpiry {
    expires_at: DateTime<Utc>,
    #[sqlx(flatten)]
    user: UserRow,
}

impl UserRow {
    fn into_user(self) -> Result<User> {
        Ok(User {
            id: self.id,
            username: self.username,
            full_name: self.full_name,
            role: Role::parse(&self.role)?,
            agency_code: self
                .agency_code
                .as_deref()
                .map(AgencyCode::parse)
                .transpose()?,
            disabled: self.disabled,
            must_change_password: self.must_change_password,
        })
    }
}

const USER_COLUMNS: &str =
    "u.id, u.username, u.full_name, u.role, u.agency_code, u.disabled, u.must_change_password";

/// What the user search matches: username and name, folded.
fn user_search_text(username: &str, full_name: &str) -> String {
    motcua_domain::text::fold(&format!("{username} {full_name}"))
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Hash(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| StoreError::Hash(e.to_string()))?
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that a wrong username takes as
/// long as a wrong password.
async fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return h.clone();
    }
    let h = hash_password("not-a-real-password".into())
        .await
        .unwrap_or_default();
    DUMMY.get_or_init(|| h).clone()
}

impl Store {
    pub async fn create_user(&self, u: NewUser, by: &ChangeBy) -> Result<User> {
        check_username(&u.username)?;
        check_password(&u.password)?;
        if u.role.needs_agency() && u.agency_code.is_none() {
            return Err(StoreError::Invalid(motcua_domain::Error::field(
                "agency",
                format!("Vai trò {} phải gắn với một cơ quan", u.role),
                format!("role {} must belong to an agency", u.role),
            )));
        }
        if let Some(a) = &u.agency_code {
            self.agency(a.as_str()).await?;
        }
        let hash = hash_password(u.password).await?;
        let full_name = motcua_domain::text::clean(&u.full_name);
        let (id,): (i64,) = on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let row: (i64,) = sqlx::query_as(
                "INSERT INTO users (username, full_name, password_hash, role, agency_code, disabled, created_at, search_text) \
                 VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7) RETURNING id",
            )
            .bind(&u.username)
            .bind(&full_name)
            .bind(&hash)
            .bind(u.role.as_str())
            .bind(u.agency_code.as_ref().map(AgencyCode::as_str))
            .bind(by.at)
            .bind(user_search_text(&u.username, &full_name))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict(Msg::new(
                    format!("Tên đăng nhập {} đã có người dùng", u.username),
                    format!("username {} is taken", u.username),
                )),
                e => e,
            })?;
            let record = by.record(
                "user",
                &u.username,
                "create",
                None,
                None,
                serde_json::json!({"role": u.role, "agency_code": u.agency_code, "full_name": full_name}),
            );
            crate::audit::append_audit!(self, tx, record)?;
            tx.commit().await?;
            row
        });
        Ok(User {
            id,
            username: u.username,
            full_name,
            role: u.role,
            agency_code: u.agency_code,
            disabled: false,
            must_change_password: false,
        })
    }

    /// Users matching `q`, by username, a page at a time.
    pub async fn user_page(&self, q: &UserQuery) -> Result<crate::Page<User>> {
        let limit = crate::page_limit(q.limit);
        let words =
            q.q.as_deref()
                .map(motcua_domain::text::terms)
                .unwrap_or_default();
        let rows: Vec<UserRow> = on_db!(self, p => {
            let mut b = sqlx::QueryBuilder::new(format!("SELECT {USER_COLUMNS} FROM users u WHERE 1 = 1"));
            for w in &words {
                b.push(" AND u.search_text LIKE ").push_bind(format!("%{w}%"));
            }
            if let Some(r) = q.role {
                b.push(" AND u.role = ").push_bind(r.as_str());
            }
            if let Some(a) = &q.agency {
                b.push(" AND u.agency_code = ").push_bind(a.clone());
            }
            if let Some(c) = &q.cursor {
                b.push(" AND u.username > ").push_bind(c.clone());
            }
            b.push(" ORDER BY u.username LIMIT ").push_bind(i64::from(limit) + 1);
            b.build_query_as().fetch_all(p).await?
        });
        let users = rows
            .into_iter()
            .map(UserRow::into_user)
            .collect::<Result<Vec<_>>>()?;
        Ok(crate::catalogue::page(
            users,
            limit,
            |u| u.username.clone(),
            |u| u,
        ))
    }

    /// Changes an account's name, role and agency (an administrator's edit), with an audit
    /// record of before and after. Its sessions end: the new role applies from the next login.
    pub async fn update_user(&self, username: &str, c: UserChange, by: &ChangeBy) -> Result<User> {
        if c.role.needs_agency() && c.agency_code.is_none() {
            return Err(StoreError::Invalid(motcua_domain::Error::field(
                "agency_code",
                format!("Vai trò «{}» phải gắn với một cơ quan", c.role.label().0),
                format!("role {} must belong to an agency", c.role),
            )));
        }
        if let Some(a) = &c.agency_code {
            self.agency(a.as_str()).await?;
        }
        let full_name = motcua_domain::text::clean(&c.full_name);
        if full_name.is_empty() || full_name.chars().count() > 300 {
            return Err(StoreError::Invalid(motcua_domain::Error::field(
                "full_name",
                "Họ tên không được để trống (tối đa 300 ký tự)",
                "the name must not be empty (at most 300 characters)",
            )));
        }
        let Some(before) = self.user_by_name(username).await? else {
            return Err(no_user(username));
        };
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            sqlx::query(
                "UPDATE users SET full_name = $1, role = $2, agency_code = $3, search_text = $4 WHERE id = $5",
            )
            .bind(&full_name)
            .bind(c.role.as_str())
            .bind(c.agency_code.as_ref().map(AgencyCode::as_str))
            .bind(user_search_text(username, &full_name))
            .bind(before.id)
            .execute(&mut *tx)
            .await?;
            if before.role != c.role || before.agency_code != c.agency_code {
                sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
                    .bind(before.id)
                    .execute(&mut *tx)
                    .await?;
            }
            let record = by.record(
                "user",
                username,
                "update",
                None,
                None,
                serde_json::json!({
                    "before": {"full_name": before.full_name, "role": before.role, "agency_code": before.agency_code},
                    "after": {"full_name": full_name, "role": c.role, "agency_code": c.agency_code},
                }),
            );
            crate::audit::append_audit!(self, tx, record)?;
            tx.commit().await?;
        });
        Ok(User {
            full_name,
            role: c.role,
            agency_code: c.agency_code,
            ..before
        })
    }

    /// Sets an account's password. Set by an administrator (`must_change`), the user must
    /// choose their own at the next login, and every session and token of the account ends.
    pub async fn set_password(
        &self,
        username: &str,
        password: String,
        must_change: bool,
        by: &ChangeBy,
    ) -> Result<()> {
        check_password(&password)?;
        let Some(user) = self.user_by_name(username).await? else {
            return Err(no_user(username));
        };
        let hash = hash_password(password).await?;
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3")
                .bind(&hash)
                .bind(must_change)
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
            if must_change {
                sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?;
            }
            let record = by.record(
                "user",
                username,
                if must_change { "password_reset" } else { "password_changed" },
                None,
                None,
                serde_json::json!({}),
            );
            crate::audit::append_audit!(self, tx, record)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Fills the search text of accounts created before it existed (migration 0007).
    pub async fn fill_user_search(&self) -> Result<()> {
        let rows: Vec<(i64, String, String)> = on_db!(self, p => {
            sqlx::query_as("SELECT id, username, full_name FROM users WHERE search_text IS NULL")
                .fetch_all(p)
                .await?
        });
        for (id, username, name) in rows {
            on_writer!(self, p => {
                sqlx::query("UPDATE users SET search_text = $1 WHERE id = $2")
                    .bind(user_search_text(&username, &name))
                    .bind(id)
                    .execute(p)
                    .await?;
            });
        }
        Ok(())
    }

    /// Registers a citizen on the portal: the username is the citizen ID; phone or email is
    /// required so that the citizen can be told about the dossier.
    pub async fn register_citizen(
        &self,
        r: motcua_domain::dossier::Applicant,
        password: String,
        by: &ChangeBy,
    ) -> Result<User> {
        let mut r = r.validate()?;
        if r.kind != motcua_domain::dossier::ApplicantKind::Person {
            return Err(StoreError::Invalid(motcua_domain::Error::field(
                "kind",
                "Tài khoản công dân đăng ký bằng số định danh cá nhân",
                "a citizen account registers with a citizen ID",
            )));
        }
        if r.phone.is_none() && r.email.is_none() {
            return Err(StoreError::Invalid(motcua_domain::Error::field(
                "phone",
                "Cần số điện thoại hoặc thư điện tử để nhận thông báo",
                "a phone number or an email address is needed for notices",
            )));
        }
        let user = self
            .create_user(
                NewUser {
                    username: std::mem::take(&mut r.id_number),
                    full_name: r.name.clone(),
                    password,
                    role: Role::Citizen,
                    agency_code: None,
                },
                by,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => StoreError::Conflict(Msg::new(
                    "Số định danh này đã có tài khoản; hãy đăng nhập",
                    "this citizen ID already has an account; log in",
                )),
                e => e,
            })?;
        on_writer!(self, p => {
            sqlx::query("UPDATE users SET phone = $1, email = $2 WHERE id = $3")
                .bind(&r.phone)
                .bind(&r.email)
                .bind(user.id)
                .execute(p)
                .await?;
        });
        Ok(user)
    }

    /// Disables (or enables again) an account; a disabled account's tokens stop working at once.
    pub async fn set_user_disabled(
        &self,
        username: &str,
        disabled: bool,
        by: &ChangeBy,
    ) -> Result<()> {
        let n = on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            let n = sqlx::query("UPDATE users SET disabled = $1 WHERE username = $2")
                .bind(disabled)
                .bind(username)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n > 0 {
                let record = by.record(
                    "user",
                    username,
                    if disabled { "lock" } else { "unlock" },
                    None,
                    None,
                    serde_json::json!({}),
                );
                crate::audit::append_audit!(self, tx, record)?;
            }
            tx.commit().await?;
            n
        });
        if n == 0 {
            return Err(no_user(username));
        }
        Ok(())
    }

    /// A user's phone and email.
    pub async fn user_contact(&self, id: i64) -> Result<(Option<String>, Option<String>)> {
        let row: Option<(Option<String>, Option<String>)> = on_db!(self, p => {
            sqlx::query_as("SELECT phone, email FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?
        });
        Ok(row.unwrap_or((None, None)))
    }

    /// The user with this username, if any.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        let row: Option<UserRow> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1"
            )))
            .bind(username)
            .fetch_optional(p)
            .await?
        });
        row.map(UserRow::into_user).transpose()
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.username")))
                .fetch_all(p)
                .await?
        });
        rows.into_iter().map(UserRow::into_user).collect()
    }

    /// The active accounts of an agency (who among them may do what is the policy's).
    pub async fn active_users_of(&self, agency: &AgencyCode) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = on_db!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.agency_code = $1 AND u.disabled = FALSE \
                 ORDER BY u.username"
            )))
            .bind(agency.as_str())
            .fetch_all(p)
            .await?
        });
        rows.into_iter().map(UserRow::into_user).collect()
    }

    /// Checks a username and password; `None` if they do not match an active user.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<Option<User>> {
        let row: Option<(String, UserRow)> = on_db!(self, p => {
            let r: Option<(String, i64)> = sqlx::query_as("SELECT password_hash, id FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(p)
                .await?;
            match r {
                Some((hash, id)) => {
                    let u: UserRow = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1")))
                        .bind(id)
                        .fetch_one(p)
                        .await?;
                    Some((hash, u))
                }
                None => None,
            }
        });
        let Some((hash, row)) = row else {
            verify_password(password.to_owned(), dummy_hash().await).await;
            return Ok(None);
        };
        if !verify_password(password.to_owned(), hash).await || row.disabled {
            return Ok(None);
        }
        row.into_user().map(Some)
    }

    /// Issues a bearer token for `user`, valid until `now + ttl`.
    pub async fn issue_token(
        &self,
        user: &User,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<(String, DateTime<Utc>)> {
        self.insert_token(user, now, now + ttl, None, None).await
    }

    /// Opens a web session for `user`: it ends after `idle` without activity (each use renews
    /// it, see [`Store::renew_session`]) and at the latest `max` after now.
    pub async fn issue_session(
        &self,
        user: &User,
        now: DateTime<Utc>,
        idle: chrono::Duration,
        max: chrono::Duration,
    ) -> Result<(String, DateTime<Utc>)> {
        let absolute = now + max;
        self.insert_token(
            user,
            now,
            (now + idle).min(absolute),
            Some(idle.num_seconds()),
            Some(absolute),
        )
        .await
    }

    async fn insert_token(
        &self,
        user: &User,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
        idle_seconds: Option<i64>,
        absolute: Option<DateTime<Utc>>,
    ) -> Result<(String, DateTime<Utc>)> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        on_writer!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await?;
            // Drop this user's expired tokens on the way.
            sqlx::query("DELETE FROM api_tokens WHERE user_id = $1 AND expires_at <= $2")
                .bind(user.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at, idle_seconds, absolute_expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(hash_token(&token))
            .bind(user.id)
            .bind(now)
            .bind(expires)
            .bind(idle_seconds)
            .bind(absolute)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok((token, expires))
    }

    /// Moves a session's expiry to `now + idle` (never past its absolute limit); API tokens
    /// keep theirs. Returns the new expiry, or `None` if the token is no longer valid.
    pub async fn renew_session(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        type Expiry = (DateTime<Utc>, Option<i64>, Option<DateTime<Utc>>);
        let row: Option<Expiry> = on_writer!(self, p => {
            sqlx::query_as(
                "SELECT expires_at, idle_seconds, absolute_expires_at FROM api_tokens \
                 WHERE token_hash = $1 AND expires_at > $2",
            )
            .bind(hash_token(token))
            .bind(now)
            .fetch_optional(p)
            .await?
        });
        let Some((expires, idle, absolute)) = row else {
            return Ok(None);
        };
        let (Some(idle), Some(absolute)) = (idle, absolute) else {
            return Ok(Some(expires));
        };
        let renewed = (now + chrono::Duration::seconds(idle)).min(absolute);
        if renewed <= expires {
            return Ok(Some(expires));
        }
        on_writer!(self, p => {
            sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE token_hash = $2")
                .bind(renewed)
                .bind(hash_token(token))
                .execute(p)
                .await?;
        });
        Ok(Some(renewed))
    }

    /// The active user of an unexpired token.
    pub async fn user_by_token(&self, token: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        Ok(self.token_user(token, now).await?.map(|(u, _)| u))
    }

    /// The active user of a valid token, and when the token expires.
    pub async fn token_user(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(User, DateTime<Utc>)>> {
        let row: Option<(DateTime<Utc>, UserRow)> = on_db!(self, p => {
            let r: Option<UserWithExpiry> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT t.expires_at, {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
                 WHERE t.token_hash = $1 AND t.expires_at > $2 AND u.disabled = FALSE"
            )))
            .bind(hash_token(token))
            .bind(now)
            .fetch_optional(p)
            .await?;
            r.map(|r| (r.expires_at, r.user))
        });
        row.map(|(e, r)| r.into_user().map(|u| (u, e))).transpose()
    }

    pub async fn revoke_token(&self, token: &str) -> Result<()> {
        on_writer!(self, p => {
            sqlx::query("DELETE FROM api_tokens WHERE token_hash = $1").bind(hash_token(token)).execute(p).await?;
        });
        Ok(())
    }
}

fn no_user(username: &str) -> StoreError {
    StoreError::NotFound(Msg::new(
        format!("Không có người dùng «{username}»"),
        format!("no user «{username}»"),
    ))
}
