//! The web layer's one error type and its single mapping to RFC 9457 problem+json.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use motcua_domain::catalogue::RowError;
use motcua_domain::{Error as DomainError, FieldError, Msg};
use motcua_service::ServiceError;
use motcua_service::store::StoreError;
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable problem type, e.g. `validation`, `not-found`.
    pub kind: &'static str,
    pub message: Msg,
    pub errors: Vec<FieldError>,
    pub rows: Vec<RowError>,
    /// Seconds to wait before trying again (`Retry-After`).
    pub retry_after: Option<std::num::NonZeroU16>,
}

/// Body of an error response (RFC 9457), with the message in Vietnamese and English.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A stable URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, in Vietnamese.
    pub detail: String,
    /// What went wrong, in English.
    pub detail_en: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Bad lines of an imported file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowError>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        vi: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            message: Msg::new(vi, en),
            errors: Vec::new(),
            rows: Vec::new(),
            retry_after: None,
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Cần đăng nhập (thiếu, sai hoặc hết hạn mã truy cập)",
            "authentication required (missing, invalid or expired access token)",
        )
    }

    pub fn forbidden(action_vi: &str, action_en: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("Bạn không có quyền {action_vi}"),
            format!("you are not allowed to {action_en}"),
        )
    }

    pub fn bad_request(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", vi, en)
    }

    pub fn invalid(field: &str, vi: impl Into<String>, en: impl Into<String>) -> Self {
        DomainError::field(field, vi, en).into()
    }

    pub fn not_found(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", vi, en)
    }

    fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, message = %self.message.en, "request failed");
        }
        let body = Problem {
            kind: format!("/problems/{}", self.kind),
            title: self.title().to_owned(),
            status: self.status.as_u16(),
            detail: self.message.vi,
            detail_en: self.message.en,
            errors: self.errors,
            rows: self.rows,
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let message = e.message();
        let errors = match e {
            DomainError::Invalid(errs) => errs,
            DomainError::OutOfRange(_) => Vec::new(),
        };
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "validation",
            message,
            errors,
            rows: Vec::new(),
            retry_after: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl ApiError {
    fn with(status: StatusCode, kind: &'static str, message: Msg) -> Self {
        ApiError {
            status,
            kind,
            message,
            errors: Vec::new(),
            rows: Vec::new(),
            retry_after: None,
        }
    }
}

/// The one mapping from the service's errors to HTTP.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(m) => ApiError::with(StatusCode::NOT_FOUND, "not-found", m),
            ServiceError::Forbidden(m) => ApiError::with(StatusCode::FORBIDDEN, "forbidden", m),
            ServiceError::Conflict(m) => ApiError::with(StatusCode::CONFLICT, "conflict", m),
            ServiceError::Transition(m) => {
                ApiError::with(StatusCode::CONFLICT, "invalid-transition", m)
            }
            ServiceError::Invalid(d) => d.into(),
            ServiceError::Unauthenticated(m) => {
                ApiError::with(StatusCode::UNAUTHORIZED, "invalid-credentials", m)
            }
            ServiceError::Throttled {
                message,
                retry_after,
                ..
            } => ApiError {
                retry_after: std::num::NonZeroU16::new(
                    u16::try_from(retry_after.max(1)).unwrap_or(u16::MAX),
                ),
                ..ApiError::with(StatusCode::TOO_MANY_REQUESTS, "too-many-attempts", message)
            },
            ServiceError::Stale { current } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "stale",
                format!(
                    "Hồ sơ vừa được người khác cập nhật (phiên bản hiện tại \"v{current}\"); hãy tải lại rồi thực hiện lại"
                ),
                format!(
                    "the dossier was changed by someone else (now \"v{current}\"); reload and try again"
                ),
            ),
            ServiceError::Import(rows) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                kind: "import-rejected",
                message: Msg::new(
                    format!("{} dòng không hợp lệ; không nhập bản ghi nào", rows.len()),
                    format!("{} bad rows; nothing was imported", rows.len()),
                ),
                errors: Vec::new(),
                rows,
                retry_after: None,
            },
            ServiceError::File(refusal) => {
                use motcua_domain::files::FileRefusal as R;
                let (status, kind) = match &refusal {
                    R::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "file-too-large"),
                    R::Unsupported(_) => {
                        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
                    }
                    R::Empty(_) | R::Unusable(_) => {
                        (StatusCode::UNPROCESSABLE_ENTITY, "unusable-file")
                    }
                };
                ApiError::with(status, kind, refusal.message().clone())
            }
            ServiceError::Storage(other) => {
                tracing::error!(error = %other, "storage failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Lỗi hệ thống khi truy cập dữ liệu; vui lòng thử lại",
                    "internal storage error; please retry",
                )
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let text = r.body_text();
        match r {
            JsonRejection::JsonDataError(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                format!("Dữ liệu JSON không đúng cấu trúc: {text}"),
                format!("JSON does not match the expected shape: {text}"),
            ),
            JsonRejection::JsonSyntaxError(_) => ApiError::bad_request(
                format!("JSON không hợp lệ: {text}"),
                format!("malformed JSON: {text}"),
            ),
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Cần Content-Type: application/json",
                "expected Content-Type: application/json",
            ),
            _ => ApiError::new(
                r.status(),
                "bad-request",
                format!("Không đọc được nội dung yêu cầu: {text}"),
                format!("cannot read the request body: {text}"),
            ),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        let text = r.body_text();
        ApiError::bad_request(
            format!("Tham số truy vấn không hợp lệ: {text}"),
            format!("invalid query parameters: {text}"),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        let text = r.body_text();
        ApiError::bad_request(
            format!("Đường dẫn không hợp lệ: {text}"),
            format!("invalid path parameter: {text}"),
        )
    }
}

/// JSON body extractor whose rejections are problem+json; a NUL character (`\u0000`) in any
/// string is refused at the edge.
pub struct ApiJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        if !json_type {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Cần Content-Type: application/json",
                "expected Content-Type: application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| {
                ApiError::new(
                    r.status(),
                    "bad-request",
                    format!("Không đọc được nội dung yêu cầu: {}", r.body_text()),
                    format!("cannot read the request body: {}", r.body_text()),
                )
            })?;
        if crate::security::json_has_nul(&bytes) {
            return Err(crate::security::nul_refused());
        }
        let axum::Json(v) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(ApiJson(v))
    }
}

/// Query extractor whose rejections are problem+json.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Path extractor whose rejections are problem+json.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

pub type ApiResult<T> = Result<T, ApiError>;

/// A page size as asked: 1 to `max`, or the default when absent.
pub fn page_size(limit: Option<u32>, max: u32) -> ApiResult<Option<u32>> {
    match limit {
        Some(n) if n == 0 || n > max => Err(ApiError::invalid(
            "limit",
            format!("Số bản ghi mỗi trang từ 1 đến {max}"),
            format!("limit must be within 1–{max}"),
        )),
        other => Ok(other),
    }
}

/// A free-text parameter of at most `max` characters.
pub fn short_text(field: &str, v: Option<&str>, max: usize) -> ApiResult<()> {
    match v {
        Some(t) if t.chars().count() > max => Err(ApiError::invalid(
            field,
            format!("«{field}» dài tối đa {max} ký tự"),
            format!("«{field}» is at most {max} characters"),
        )),
        _ => Ok(()),
    }
}
