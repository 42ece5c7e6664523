//! `/api/v1/auth` and `/api/v1/users`.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use motcua_domain::auth::Role;
use motcua_domain::codes::AgencyCode;
use motcua_store::{NewUser, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token))
        .routes(routes!(me))
        .routes(routes!(list_users, create_user))
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
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem)))]
async fn token(
    State(s): State<AppState>,
    ApiJson(r): ApiJson<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let Some(user) = s.store.authenticate(r.username.trim(), &r.password).await? else {
        metrics::counter!("motcua_login_failures_total").increment(1);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid-credentials",
            "Sai tên đăng nhập hoặc mật khẩu",
            "wrong username or password",
        ));
    };
    let (access_token, expires_at) = s
        .store
        .issue_token(&user, s.clock.now(), s.token_ttl)
        .await?;
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
    pub username: String,
    #[serde(default)]
    pub full_name: String,
    pub password: String,
    pub role: Role,
    #[schema(value_type = Option<String>)]
    pub agency_code: Option<AgencyCode>,
}

/// All users (admin).
#[utoipa::path(get, path = "/users", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Vec<User>), (status = 403, body = crate::error::Problem)))]
async fn list_users(State(s): State<AppState>, user: AuthUser) -> ApiResult<Json<Vec<User>>> {
    user.require_admin("xem danh sách người dùng", "list users")?;
    Ok(Json(s.store.users().await?))
}

/// Creates a user (admin).
#[utoipa::path(post, path = "/users", tag = "auth", request_body = NewUserRequest, security(("bearer" = [])),
    responses((status = 201, body = User), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn create_user(
    State(s): State<AppState>,
    user: AuthUser,
    ApiJson(r): ApiJson<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    user.require_admin("tạo người dùng", "create users")?;
    let u = s
        .store_by(&user.0.username)
        .create_user(
            NewUser {
                username: r.username,
                full_name: r.full_name,
                password: r.password,
                role: r.role,
                agency_code: r.agency_code,
            },
            s.clock.now(),
        )
        .await?;
    tracing::info!(username = %u.username, role = %u.role, by = %user.0.username, "user created");
    Ok((StatusCode::CREATED, Json(u)))
}
