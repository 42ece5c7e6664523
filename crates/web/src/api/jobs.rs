//! `/api/v1/jobs`: the background job queue, for administrators — figures per kind, the jobs
//! themselves, and retrying or discarding a dead job.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiPath, ApiQuery, ApiResult};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use motcua_service::actor_of;
use motcua_service::store::{Job, KindStats};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stats))
        .routes(routes!(list))
        .routes(routes!(retry))
        .routes(routes!(discard))
}

/// Queued, running, failed (queued again after a failed attempt), dead and done jobs per
/// kind, with the age of the oldest due job and the last error (admin).
#[utoipa::path(get, path = "/jobs/stats", tag = "jobs", security(("bearer" = [])),
    responses((status = 200, body = Vec<KindStats>), (status = 401, body = crate::Problem),
        (status = 403, body = crate::Problem)))]
async fn stats(State(s): State<AppState>, user: AuthUser) -> ApiResult<Json<Vec<KindStats>>> {
    Ok(Json(s.job_stats(&actor_of(&user.0)).await?))
}

/// The state of a job.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Dead,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    state: Option<JobState>,
    kind: Option<String>,
    /// 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Jobs, newest first (admin).
#[utoipa::path(get, path = "/jobs", tag = "jobs", params(JobQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<Job>), (status = 401, body = crate::Problem),
        (status = 403, body = crate::Problem)))]
async fn list(
    State(s): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<JobQuery>,
) -> ApiResult<Json<Vec<Job>>> {
    crate::error::page_size(q.limit, 1000)?;
    Ok(Json(
        s.jobs(
            &actor_of(&user.0),
            q.state.map(JobState::as_str),
            q.kind.as_deref(),
            q.limit.unwrap_or(100),
        )
        .await?,
    ))
}

/// Queues a dead job again for a new round of attempts (admin).
#[utoipa::path(post, path = "/jobs/{id}/retry", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = Job), (status = 401, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem, description = "the job is not dead")))]
async fn retry(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Job>> {
    Ok(Json(s.retry_job(&s.acting(actor_of(&user.0)), id).await?))
}

/// Discards a dead job (admin).
#[utoipa::path(delete, path = "/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 204), (status = 401, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem, description = "the job is not dead")))]
async fn discard(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    s.discard_job(&s.acting(actor_of(&user.0)), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
