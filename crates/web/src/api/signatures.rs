//! `/api/v1/signatures/verify`: the signatures of any PDF checked, for anyone.

use crate::AppState;
use crate::error::ApiResult;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use motcua_domain::signatures::SignatureReport;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
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
    request_body(content = Vec<u8>, content_type = "application/pdf", description = "The PDF"),
    responses((status = 200, body = Verification), (status = 413, body = crate::Problem),
        (status = 422, body = crate::Problem)))]
async fn verify(State(s): State<AppState>, body: Bytes) -> ApiResult<Json<Verification>> {
    let signatures = s.verify_pdf(body.to_vec()).await?;
    Ok(Json(Verification {
        valid: !signatures.is_empty() && signatures.iter().all(|r| r.valid),
        signatures,
    }))
}
