//! `/api/v1/dossiers/{code}/slips/{kind}`: the slips of a dossier as PDF.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiPath, ApiResult};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use motcua_domain::slips::SlipKind;
use motcua_service::actor_of;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(slip))
        .routes(routes!(kept))
        .routes(routes!(kept_pdf))
        .routes(routes!(register))
}

/// A PDF, shown in the browser (`inline`) under a name for saving.
pub fn pdf_response(name: &str, bytes: Vec<u8>) -> Response {
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// A slip the API renders.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlipName {
    Receipt,
    SupplementRequest,
    Refusal,
    Apology,
    Stopping,
    Control,
}

impl From<SlipName> for SlipKind {
    fn from(n: SlipName) -> SlipKind {
        match n {
            SlipName::Receipt => SlipKind::Receipt,
            SlipName::SupplementRequest => SlipKind::SupplementRequest,
            SlipName::Refusal => SlipKind::Refusal,
            SlipName::Apology => SlipKind::Apology,
            SlipName::Stopping => SlipKind::Stopping,
            SlipName::Control => SlipKind::Control,
        }
    }
}

/// A slip of a dossier as PDF, in the form of the set in force on its date (Circular
/// 03/2025/TT-VPCP from 15 September 2025, 01/2018/TT-VPCP before): the receipt and
/// appointment (01: national heading, agency, applicant, components received, appointment,
/// register entry, both signature blocks), the supplement request (02), the refusal (03), the
/// apology and new appointment (04), the notice of stopping (05) — each from the event that
/// called for it (409 if there is none) — and the control slip with every hand-off. Every slip
/// carries the tracking URL as text and as a QR code.
#[utoipa::path(get, path = "/dossiers/{code}/slips/{kind}", tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code"),
        ("kind" = inline(SlipName), Path, description = "The slip")),
    responses((status = 200, description = "The slip", content_type = "application/pdf"),
        (status = 404, body = crate::Problem), (status = 409, body = crate::Problem)),
    security(("bearer" = [])))]
async fn slip(
    State(s): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiPath((code, kind)): ApiPath<(String, SlipName)>,
) -> ApiResult<Response> {
    let kind = SlipKind::from(kind);
    let base = crate::ui::public_base(&s, &headers);
    let data = crate::slips::slip(&s, &actor_of(&user.0), kind, &code, &base).await?;
    let pdf = s.render_slip(kind, data).await?;
    Ok(pdf_response(&format!("{}-{code}.pdf", kind.as_str()), pdf))
}

/// The slips kept with a dossier: each slip a workflow step issued (receipt, supplement
/// request, refusal, apology, notice of stopping), rendered and signed by the officer who
/// issued it (when they have a certificate), oldest first.
#[utoipa::path(get, path = "/dossiers/{code}/signed-slips", tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, body = Vec<motcua_service::store::KeptSlip>), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn kept(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<axum::Json<Vec<motcua_service::store::KeptSlip>>> {
    Ok(axum::Json(s.kept_slips(&actor_of(&user.0), &code).await?))
}

/// A signed slip kept with the dossier, as PDF.
#[utoipa::path(get, path = "/dossiers/{code}/signed-slips/{id}", tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code"),
        ("id" = i64, Path, description = "The kept slip")),
    responses((status = 200, description = "The signed slip", content_type = "application/pdf"),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn kept_pdf(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath((code, id)): ApiPath<(String, i64)>,
) -> ApiResult<Response> {
    let (slip, bytes) = s.kept_slip(&actor_of(&user.0), &code, id).await?;
    Ok(pdf_response(
        &format!("{}-{code}-ky-so.pdf", slip.kind),
        bytes,
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterPeriod {
    /// First day of receipt (local).
    #[param(value_type = String, format = Date)]
    pub from: chrono::NaiveDate,
    /// Last day of receipt (local, included); at most a year after `from`.
    #[param(value_type = String, format = Date)]
    pub to: chrono::NaiveDate,
}

/// The agency's dossier register as PDF (form 06 of Circular 01/2018, 07 of 03/2025, by the
/// set in force on the last day): every dossier it received in the period, in the order
/// received — code, procedure, applicant, received, appointment, the agency deciding it, when
/// it ended and was returned, and how (at most 5,000 lines). For its officers and
/// administrators.
#[utoipa::path(get, path = "/agencies/{code}/register", tag = "units",
    params(("code" = String, Path, description = "Agency code"), RegisterPeriod),
    responses((status = 200, description = "The register", content_type = "application/pdf"),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem)),
    security(("bearer" = [])))]
async fn register(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    crate::error::ApiQuery(p): crate::error::ApiQuery<RegisterPeriod>,
) -> ApiResult<Response> {
    let data = crate::slips::register(&s, &actor_of(&user.0), &code, p.from, p.to).await?;
    let pdf = s.render_slip(SlipKind::Register, data).await?;
    Ok(pdf_response(
        &format!("so-theo-doi-{code}-{}-{}.pdf", p.from, p.to),
        pdf,
    ))
}
