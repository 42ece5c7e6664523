//! Resumable uploads (`/api/v1/dossiers/{code}/uploads`, `/api/v1/uploads/{id}`), in the manner
//! of the tus protocol: announce the file's size, then `PATCH` chunks with `Upload-Offset`;
//! after a dropped connection `GET` (or `HEAD`) the upload to learn the offset to resume from.
//! The last chunk answers 201 with the stored file. The web pages use the same service through
//! their own cookie-and-CSRF routes (`crate::ui::files`).

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiJson, ApiPath, ApiResult};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use motcua_service::actor_of;
use motcua_service::store::StoredFile;
use motcua_service::uploads::Upload;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The largest chunk accepted in one request.
pub const CHUNK_LIMIT: usize = 8 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(begin))
        .routes(routes!(status, append))
        .layer(axum::extract::DefaultBodyLimit::max(CHUNK_LIMIT))
}

/// An upload to begin.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeginUpload {
    /// The component (position from 0); omitted: the dossier's result.
    #[schema(minimum = 0, maximum = 199)]
    pub component: Option<u32>,
    /// The file's name as the sender knows it (shown; its type is read from the content).
    #[schema(max_length = 255)]
    #[serde(default)]
    pub name: String,
    /// The file's size in bytes (at most the configured `files.max_bytes`: 413 beyond).
    #[schema(minimum = 1, maximum = 1073741824)]
    pub size: u64,
}

/// The answer to a chunk: the upload, and the file once complete.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UploadProgress {
    pub upload: Upload,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<StoredFile>,
}

/// `Upload-Offset` and `Upload-Length` of an upload, never cached.
pub fn upload_headers(res: &mut Response, u: &Upload) {
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&u.offset.to_string()) {
        h.insert("upload-offset", v);
    }
    if let Ok(v) = HeaderValue::from_str(&u.size.to_string()) {
        h.insert("upload-length", v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The answer to a begun upload (201, `Location`).
pub fn begun(u: &Upload, location: &str) -> Response {
    let mut res = (StatusCode::CREATED, Json(u)).into_response();
    upload_headers(&mut res, u);
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// The answer to a chunk: 200 with the upload while incomplete, 201 with the file when done.
pub fn progressed(u: Upload, file: Option<StoredFile>) -> Response {
    let status = if file.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut res = (
        status,
        Json(UploadProgress {
            upload: u.clone(),
            file,
        }),
    )
        .into_response();
    upload_headers(&mut res, &u);
    res
}

/// The `Upload-Offset` header of a chunk.
pub fn offset_of(headers: &HeaderMap) -> Result<u64, ApiError> {
    headers
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::from(motcua_service::ServiceError::invalid(
                "Upload-Offset",
                "Thiếu tiêu đề Upload-Offset (số byte đã gửi trước phần này)",
                "the Upload-Offset header (bytes sent before this chunk) is missing",
            ))
        })
}

/// Begins a resumable upload of a file to a dossier: the same permission and limits as a
/// one-shot upload (`POST /dossiers/{code}/files`), the size checked now. Then send the bytes
/// with `PATCH /uploads/{id}`.
#[utoipa::path(post, path = "/dossiers/{code}/uploads", tag = "files",
    params(("code" = String, Path, description = "Dossier code")),
    request_body = BeginUpload,
    responses((status = 201, body = Upload, headers(("Location" = String), ("Upload-Offset" = u64))),
        (status = 413, body = crate::Problem), (status = 422, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn begin(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<BeginUpload>,
) -> ApiResult<Response> {
    let by = s.acting(actor_of(&user.0));
    let u = s
        .begin_upload(&by, &code, b.component.map(|c| c as usize), &b.name, b.size)
        .await?;
    let location = format!("/api/v1/uploads/{}", u.id);
    Ok(begun(&u, &location))
}

/// An upload of the caller's: how many bytes arrived (`offset`, also in `Upload-Offset`), and
/// the file once complete. `HEAD` gives the headers alone.
#[utoipa::path(get, path = "/uploads/{id}", tag = "files",
    params(("id" = String, Path, description = "Upload id")),
    responses((status = 200, body = Upload, headers(("Upload-Offset" = u64), ("Upload-Length" = u64))),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn status(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let u = s.upload_status(&s.acting(actor_of(&user.0)), &id).await?;
    let mut res = Json(&u).into_response();
    upload_headers(&mut res, &u);
    Ok(res)
}

/// Sends the next chunk (at most 8 MiB) at `Upload-Offset`, which must equal the bytes received
/// so far (409 otherwise: `GET` the upload and resume from its offset). Each chunk is synced
/// to disk before the answer. With the last byte the file is checked and stored: 201 with the
/// file; a refused file (type, pages, pixels) ends the upload.
#[utoipa::path(patch, path = "/uploads/{id}", tag = "files",
    params(("id" = String, Path, description = "Upload id"),
        ("Upload-Offset" = u64, Header, description = "Bytes sent before this chunk")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The chunk (any content type is taken as bytes; tus clients send application/offset+octet-stream)"),
    responses((status = 200, body = UploadProgress), (status = 201, body = UploadProgress),
        (status = 409, body = crate::Problem), (status = 413, body = crate::Problem),
        (status = 415, body = crate::Problem), (status = 422, body = crate::Problem),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn append(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let offset = offset_of(&headers)?;
    let (u, file) = s
        .append_upload(&s.acting(actor_of(&user.0)), &id, offset, &body)
        .await?;
    Ok(progressed(u, file))
}
