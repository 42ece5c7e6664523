//! `/api/v1/auth` and `/api/v1/users`.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiJson, ApiResult};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use motcua_domain::auth::Role;
use motcua_domain::codes::AgencyCode;
use motcua_domain::policy::Permission;
use motcua_service::actor_of;
use motcua_service::store::{NewUser, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token))
        .routes(routes!(me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(unlock_login))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// Exchanges a username and password for a bearer token.
#[utoipa::path(post, path = "/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem),
        (status = 429, body = crate::error::Problem, description = "too many wrong passwords for this account or from this address: wait (Retry-After) or ask an administrator to unlock")))]
async fn token(
    State(s): State<AppState>,
    addr: crate::security::ClientAddr,
    ApiJson(r): ApiJson<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let user = s.login(&r.username, &r.password, &addr.0).await?;
    let (access_token, expires_at) = s.store().issue_token(&user, s.now(), s.token_ttl).await?;
    Ok(Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_at,
        user,
    }))
}

/// The user of the bearer token.
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = crate::error::Problem)))]
async fn me(user: AuthUser) -> Json<User> {
    Json(user.0)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// 3–64 letters, digits or `.` `_` `-` `@`.
    #[schema(pattern = r"^[A-Za-z0-9._@-]{3,64}$")]
    pub username: String,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub full_name: String,
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    pub role: Role,
    /// Required for reception, specialist, leader and postal accounts.
    #[schema(value_type = Option<String>, pattern = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")]
    pub agency_code: Option<AgencyCode>,
}

/// All users (admin).
#[utoipa::path(get, path = "/users", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Vec<User>), (status = 403, body = crate::error::Problem)))]
async fn list_users(State(s): State<AppState>, user: AuthUser) -> ApiResult<Json<Vec<User>>> {
    s.authorize(&actor_of(&user.0), Permission::ManageUsers)?;
    Ok(Json(s.store().users().await?))
}

/// Creates a user (admin).
#[utoipa::path(post, path = "/users", tag = "auth", request_body = NewUserRequest, security(("bearer" = [])),
    responses((status = 201, body = User), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn create_user(
    State(s): State<AppState>,
    user: AuthUser,
    ApiJson(r): ApiJson<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let u = s
        .create_user(
            &s.acting(actor_of(&user.0)),
            NewUser {
                username: r.username,
                full_name: r.full_name,
                password: r.password,
                role: r.role,
                agency_code: r.agency_code,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(u)))
}

#[derive(Serialize, ToSchema)]
pub struct UnlockAnswer {
    /// Whether the account had failed logins counted (or a lock) that were lifted.
    pub unlocked: bool,
}

/// Lifts the sign-in lock of an account after too many wrong passwords (admin).
#[utoipa::path(post, path = "/users/{username}/unlock", tag = "auth", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 200, body = UnlockAnswer), (status = 403, body = crate::error::Problem)))]
async fn unlock_login(
    State(s): State<AppState>,
    user: AuthUser,
    crate::error::ApiPath(username): crate::error::ApiPath<String>,
) -> ApiResult<Json<UnlockAnswer>> {
    crate::error::short_text("username", Some(&username), 64)?;
    let unlocked = s
        .unlock_login(&s.acting(actor_of(&user.0)), &username)
        .await?;
    Ok(Json(UnlockAnswer { unlocked }))
}
