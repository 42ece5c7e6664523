//! `/api/v1/dossiers/{code}/files` and `/api/v1/files/{id}`: files of dossiers. The body of an
//! upload is the file itself (any `Content-Type`: the real type is read from the bytes).

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiPath, ApiQuery, ApiResult};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use motcua_service::actor_of;
use motcua_service::store::StoredFile;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload, list))
        // A file may be larger than the 2 MB other bodies may be (the whole request stays
        // under the server's 32 MiB limit; the file's own limit is `files.max_bytes`).
        .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_BODY_LIMIT))
        .routes(routes!(download))
        .routes(routes!(pages))
        .routes(routes!(fields))
        .routes(routes!(search))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words of the text, in any order, with or without diacritics (`đ` → `d`).
    #[param(min_length = 1, max_length = 500)]
    pub q: String,
}

/// Pages of files whose text (read or recognised) holds every word, of the dossiers the
/// caller may read (at most 50, newest files first).
#[utoipa::path(get, path = "/files/search", tag = "files", params(SearchParams),
    responses((status = 200, body = Vec<motcua_service::store::PageHit>), (status = 403, body = crate::Problem)),
    security(("bearer" = [])))]
async fn search(
    State(s): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<SearchParams>,
) -> ApiResult<Json<Vec<motcua_service::store::PageHit>>> {
    Ok(Json(s.search_files(&actor_of(&user.0), &q.q).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FieldsParams {
    /// What the document is.
    pub kind: motcua_domain::extract::DocumentKind,
}

/// The fields of a document read from a file's text — each with a confidence, its box on the
/// page and whether it passes its domain rule — for an officer to confirm or correct. 409
/// while the file is still being read.
#[utoipa::path(get, path = "/files/{id}/fields", tag = "files",
    params(("id" = i64, Path, description = "File id"), FieldsParams),
    responses((status = 200, body = motcua_domain::extract::Extraction),
        (status = 404, body = crate::Problem), (status = 409, body = crate::Problem)),
    security(("bearer" = [])))]
async fn fields(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<FieldsParams>,
) -> ApiResult<Json<motcua_domain::extract::Extraction>> {
    Ok(Json(s.file_fields(&actor_of(&user.0), id, q.kind).await?))
}

/// The text of a file's pages with each word's box and confidence (read in the background
/// after upload: `ocr_status` says whether it is done).
#[utoipa::path(get, path = "/files/{id}/pages", tag = "files",
    params(("id" = i64, Path, description = "File id")),
    responses((status = 200, body = FileText), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn pages(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<FileText>> {
    let (file, pages) = s.file_text(&actor_of(&user.0), id).await?;
    Ok(Json(FileText { file, pages }))
}

/// A file and the text of its pages.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct FileText {
    pub file: StoredFile,
    pub pages: Vec<motcua_service::store::PageText>,
}

/// The largest upload body (the server refuses larger requests anyway).
pub const UPLOAD_BODY_LIMIT: usize = 32 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The component the file is for (its position in the dossier's components, from 0);
    /// omitted: the file is the dossier's result.
    #[param(minimum = 0, maximum = 199)]
    pub component: Option<u32>,
    /// The file's name as the sender knows it (shown; its type is read from the content).
    #[param(max_length = 255)]
    pub name: Option<String>,
}

/// Adds a file to a dossier: a component's (the applicant while the dossier waits for
/// acceptance or a supplement; officers of its agencies while it is open) or the result
/// (officers of the agency holding it). PDF, JPEG, PNG or TIFF, checked from the bytes; size,
/// pages and pixels are limited. The content is stored durably before the answer.
#[utoipa::path(post, path = "/dossiers/{code}/files", tag = "files",
    params(("code" = String, Path, description = "Dossier code"), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses((status = 201, body = StoredFile), (status = 413, body = crate::Problem),
        (status = 415, body = crate::Problem), (status = 422, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn upload(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<UploadParams>,
    body: Bytes,
) -> ApiResult<Response> {
    let by = s.acting(actor_of(&user.0));
    let f = s
        .attach_file(
            &by,
            &code,
            q.component.map(|c| c as usize),
            q.name.as_deref().unwrap_or_default(),
            &body,
        )
        .await?;
    let mut res = (StatusCode::CREATED, Json(&f)).into_response();
    if let Ok(h) = HeaderValue::from_str(&format!("/api/v1/files/{}", f.id)) {
        res.headers_mut().insert(header::LOCATION, h);
    }
    Ok(res)
}

/// The files of a dossier, oldest first.
#[utoipa::path(get, path = "/dossiers/{code}/files", tag = "files",
    params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, body = Vec<StoredFile>), (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn list(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Vec<StoredFile>>> {
    Ok(Json(s.files_of(&actor_of(&user.0), &code).await?))
}

/// A file's content, with its real type and its name (`Content-Disposition: attachment`), for
/// those who may read its dossier; for anyone else it does not exist.
#[utoipa::path(get, path = "/files/{id}", tag = "files",
    params(("id" = i64, Path, description = "File id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
async fn download(
    State(s): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (f, bytes) = s.file_content(&actor_of(&user.0), id).await?;
    Ok(file_response(&f, bytes))
}

/// A file as an HTTP answer: its type from its content, its name for saving, never run by the
/// browser.
pub fn file_response(f: &StoredFile, bytes: Vec<u8>) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(f.kind.media_type()),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&content_disposition(&f.name))
            .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 / 5987).
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%' | ';') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_survive_in_both_forms() {
        assert_eq!(
            super::content_disposition("Giấy khai sinh.pdf"),
            "attachment; filename=\"Gi_y khai sinh.pdf\"; filename*=UTF-8''Gi%E1%BA%A5y%20khai%20sinh.pdf"
        );
        assert!(super::content_disposition("a\"b;c").starts_with("attachment; filename=\"a_b_c\""));
    }
}
