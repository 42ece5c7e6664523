//! `/api/v1/dossiers/{code}/slips/receipt`: the slips of a dossier as PDF.

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
    OpenApiRouter::new().routes(routes!(receipt))
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

/// The receipt and appointment slip of a dossier (form 01 of the form set in force on its date:
/// Circular 03/2025/TT-VPCP from 15 September 2025, 01/2018/TT-VPCP before), as PDF with the
/// national heading, the applicant, the components received, the appointment, the register
/// entry, both signature blocks and the tracking URL as text and as a QR code.
#[utoipa::path(get, path = "/dossiers/{code}/slips/receipt", tag = "dossiers",
    params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, description = "The slip", content_type = "application/pdf"),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn receipt(
    State(s): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Response> {
    let base = crate::ui::public_base(&s, &headers);
    let data = crate::slips::receipt(&s, &actor_of(&user.0), &code, &base).await?;
    let pdf = s.render_slip(SlipKind::Receipt, data).await?;
    Ok(pdf_response(&format!("giay-tiep-nhan-{code}.pdf"), pdf))
}
