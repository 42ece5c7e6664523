//! `/api/v1/signatures/verify`: the signatures of any PDF checked, for anyone.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiJson, ApiPath, ApiResult};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use motcua_domain::signatures::SignatureReport;
use motcua_service::actor_of;
use motcua_service::signing::QueuedResult;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(queue))
        .routes(routes!(sign))
        .routes(routes!(refuse))
        .routes(routes!(verify))
        .layer(axum::extract::DefaultBodyLimit::max(
            super::files::UPLOAD_BODY_LIMIT,
        ))
}

/// What verifying a PDF found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// The document has at least one signature and every one is valid.
    pub valid: bool,
    /// Each signature, in the order they were made.
    pub signatures: Vec<SignatureReport>,
}

/// Verifies every signature of a PDF — uploaded by a citizen, received from another agency, or
/// issued here: the integrity of the signed bytes, the chain to the trusted roots configured
/// on this server, validity at the signing time (the RFC 3161 timestamp's, when there is one),
/// what changed after each signature, and whether it covers the whole document. No sign-in is
/// needed. A PDF without signatures gives an empty list (`valid` false).
#[utoipa::path(post, path = "/signatures/verify", tag = "signatures",
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The PDF (any Content-Type, e.g. application/pdf: the content is read)"),
    responses((status = 200, body = Verification), (status = 413, body = crate::Problem),
        (status = 422, body = crate::Problem)))]
async fn verify(State(s): State<AppState>, body: Bytes) -> ApiResult<Json<Verification>> {
    let signatures = s.verify_pdf(body.to_vec()).await?;
    Ok(Json(Verification {
        valid: !signatures.is_empty() && signatures.iter().all(|r| r.valid),
        signatures,
    }))
}

/// The leader's signing queue: the results of the dossiers of their agency at a deciding step,
/// each with its signature's state (`unsigned`, `queued`, `signing` — waiting for the approval
/// on the leader's device —, `signed`, `refused`, `failed`) and the reason of a refusal.
#[utoipa::path(get, path = "/signing/queue", tag = "signatures",
    responses((status = 200, body = Vec<QueuedResult>), (status = 403, body = crate::Problem)),
    security(("bearer" = [])))]
async fn queue(State(s): State<AppState>, user: AuthUser) -> ApiResult<Json<Vec<QueuedResult>>> {
    Ok(Json(s.signing_queue(&actor_of(&user.0)).await?))
}

/// Results to sign.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignResults {
    /// Result file ids (1–200).
    #[schema(min_items = 1, max_items = 200)]
    #[serde(deserialize_with = "integers")]
    pub files: Vec<i64>,
}

/// How many were queued (a result already queued, signing or signed is not queued again).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub queued: usize,
}

/// Signs results as the leader, then seals them with the agency's certificate: each becomes a
/// `result.sign` job (a remote signer approves on their device; follow the state in the
/// queue). A signed result joins the applicant's data warehouse as a signed electronic result.
#[utoipa::path(post, path = "/signing/sign", tag = "signatures",
    request_body = SignResults,
    responses((status = 202, body = Queued), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 409, body = crate::Problem),
        (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn sign(
    State(s): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<SignResults>,
) -> ApiResult<(StatusCode, Json<Queued>)> {
    let by = s.acting(actor_of(&user.0));
    let queued = s.sign_results(&by, &body.files).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { queued })))
}

/// Why the leader refuses to sign.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    /// 1–1000 characters, not only spaces.
    #[schema(min_length = 1, max_length = 1000, pattern = "\\S")]
    pub reason: String,
}

/// The leader refuses to sign a result, with the reason (shown in the queue and to officers).
#[utoipa::path(post, path = "/signing/results/{file_id}/refuse", tag = "signatures",
    params(("file_id" = i64, Path, description = "The result file")),
    request_body = Refusal,
    responses((status = 204, description = "Refused"), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 409, body = crate::Problem),
        (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn refuse(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(file_id): ApiPath<i64>,
    ApiJson(body): ApiJson<Refusal>,
) -> ApiResult<StatusCode> {
    let by = s.acting(actor_of(&user.0));
    s.refuse_result(&by, file_id, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Integers as JSON Schema counts them: `3` and `3.0` alike (a number with no fraction).
fn integers<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
    let numbers = Vec::<serde_json::Number>::deserialize(d)?;
    numbers
        .into_iter()
        .map(|n| {
            n.as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                })
                .ok_or_else(|| serde::de::Error::custom(format!("{n} is not an integer id")))
        })
        .collect()
}
