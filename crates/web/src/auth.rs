//! Bearer-token authentication and role checks.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use motcua_domain::auth::Role;
use motcua_service::store::User;

/// The user of a request, if it carries a valid token.
pub struct MaybeUser(pub Option<User>);

/// The authenticated user of a request (401 without a valid token).
pub struct AuthUser(pub User);

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = bearer(parts) else {
            return Ok(MaybeUser(None));
        };
        match state.user_by_token(token).await? {
            Some(u) => Ok(MaybeUser(Some(u))),
            // A token that was sent but is not valid is an error, not anonymity.
            None => Err(ApiError::unauthorized()),
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match MaybeUser::from_request_parts(parts, state).await?.0 {
            // A password an administrator set works for changing it, nothing else.
            Some(u) if u.must_change_password => Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "password-change-required",
                "Mật khẩu đã được đặt lại: hãy đổi mật khẩu (trang /doi-mat-khau) trước khi tiếp tục",
                "the password was reset: change it (page /doi-mat-khau) before going on",
            )),
            Some(u) => Ok(AuthUser(u)),
            None => Err(ApiError::unauthorized()),
        }
    }
}

impl AuthUser {
    /// 403 unless the user has one of `roles`.
    pub fn require(
        &self,
        roles: &[Role],
        action_vi: &str,
        action_en: &str,
    ) -> Result<&User, ApiError> {
        if roles.contains(&self.0.role) {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden(action_vi, action_en))
        }
    }

    pub fn require_admin(&self, action_vi: &str, action_en: &str) -> Result<&User, ApiError> {
        self.require(&[Role::Admin], action_vi, action_en)
    }
}
