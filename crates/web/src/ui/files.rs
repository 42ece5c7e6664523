//! Files on the dossier page: upload (a plain multipart form, no JavaScript needed),
//! download, and the officer's digitisation view — the page beside its text and the fields
//! read from it, low-confidence values marked, corrected and confirmed with the keyboard.

use super::{Form, Page, error_page, messages, render, render_form, see_other};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use motcua_domain::extract::{DocumentKind, extract};
use motcua_domain::files::FileKind;
use motcua_service::actor_of;
use motcua_service::warehouse::ConfirmFile;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/ho-so/{code}/tep",
            post(upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::api::files::UPLOAD_BODY_LIMIT,
            )),
        )
        .route("/tep/{id}", get(download))
        .route(
            "/xac-thuc-chu-ky",
            get(verify_form)
                .post(verify)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::api::files::UPLOAD_BODY_LIMIT,
                )),
        )
        .route("/ho-so/{code}/tep/{id}/so-hoa", get(digitise).post(confirm))
}

/// A file as the dossier page lists it.
pub struct FileLine {
    pub id: i64,
    pub name: String,
    pub component: Option<usize>,
    /// `pending`, `done` or `failed`.
    pub ocr: String,
    pub pages: String,
    /// Its digitisation result code, once confirmed.
    pub document: String,
}

impl FileLine {
    pub fn is_for(&self, component: &usize) -> bool {
        self.component == Some(*component)
    }

    pub fn is_result(&self) -> bool {
        self.component.is_none()
    }
}

/// The files of a dossier with their digitisation codes, for its page.
pub async fn file_lines(s: &AppState, code: &str) -> Vec<FileLine> {
    let files = s.store().dossier_files(code).await.unwrap_or_default();
    let docs = s
        .store()
        .documents_of_dossier(code)
        .await
        .unwrap_or_default();
    files
        .into_iter()
        .map(|f| FileLine {
            document: docs
                .iter()
                .find(|d| d.file_id == f.id)
                .map(|d| d.code.clone())
                .unwrap_or_default(),
            id: f.id,
            name: f.name,
            component: f.component_index.map(|i| i as usize),
            ocr: f.ocr_status,
            pages: f.pages.map(|p| p.to_string()).unwrap_or_default(),
        })
        .collect()
}

/// A multipart upload from the dossier page: `_csrf`, `component` (a position, or `result`)
/// and `file`.
async fn upload(
    State(s): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    mut parts: Multipart,
) -> Response {
    let tr = page.tr;
    let Some(user) = page.user.clone() else {
        return see_other(&format!("/dang-nhap?next=/ho-so/{code}"));
    };
    let Ok(MultipartForm { csrf, fields, file }) = read_multipart(&mut parts).await else {
        return error_page(tr, too_large());
    };
    let component = fields.get("component").map(|c| c.trim().to_owned());
    if !super::csrf_matches(&page, &csrf) {
        return error_page(tr, csrf_refused());
    }
    let Some((name, bytes)) = file else {
        return error_page(
            tr,
            ApiError::invalid("file", "Chưa chọn tệp", "no file was chosen"),
        );
    };
    let component = match component.as_deref() {
        Some("result") | None => None,
        Some(c) => match c.parse::<usize>() {
            Ok(i) => Some(i),
            Err(_) => {
                return error_page(
                    tr,
                    ApiError::invalid("component", "Thành phần không hợp lệ", "invalid component"),
                );
            }
        },
    };
    let by = s.acting(actor_of(&user));
    match s.attach_file(&by, &code, component, &name, &bytes).await {
        Ok(_) => see_other(&format!("/ho-so/{code}?tep=1#components")),
        Err(e) => {
            let e = ApiError::from(e);
            let msgs = messages(tr, &e);
            match s.dossier(&by.actor, &code).await {
                Ok(d) => super::office::dossier_page(&s, page, d, String::new(), msgs, "").await,
                Err(_) => error_page(tr, e),
            }
        }
    }
}

/// A multipart form as the pages send it: the anti-forgery token, the text fields, and the
/// file of the field `file` (its name and bytes).
pub(super) struct MultipartForm {
    pub csrf: String,
    pub fields: BTreeMap<String, String>,
    pub file: Option<(String, Vec<u8>)>,
}

/// Reads a whole multipart form; `Err` when it is cut off or over the body limit.
pub(super) async fn read_multipart(parts: &mut Multipart) -> Result<MultipartForm, ()> {
    let mut form = MultipartForm {
        csrf: String::new(),
        fields: BTreeMap::new(),
        file: None,
    };
    while let Some(field) = parts.next_field().await.map_err(|_| ())? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|_| ())?;
        match name.as_str() {
            "_csrf" => form.csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "file" => form.file = Some((file_name.unwrap_or_default(), bytes.to_vec())),
            _ => {
                form.fields
                    .insert(name, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    Ok(form)
}

/// A change sent without this site's anti-forgery token.
pub(super) fn csrf_refused() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "csrf",
        "Biểu mẫu đã hết hạn hoặc không gửi từ trang này; hãy tải lại trang và gửi lại",
        "the form expired or did not come from this site; reload the page and send it again",
    )
}

pub(super) fn too_large() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        "file-too-large",
        "Tệp quá lớn hoặc tải lên bị gián đoạn",
        "the file is too large or the upload was cut off",
    )
}

async fn download(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> Response {
    let Some(user) = page.user.clone() else {
        return see_other(&format!("/dang-nhap?next=/tep/{id}"));
    };
    match s.file_content(&actor_of(&user), id).await {
        Ok((f, bytes)) => crate::api::files::file_response(&f, bytes),
        Err(e) => error_page(page.tr, e.into()),
    }
}

/// A field of the digitisation form.
pub struct FieldRow {
    pub name: String,
    pub label: String,
    pub value: String,
    /// Below 0.8 (or failing its rule): the officer should look twice.
    pub low: bool,
    pub note: String,
}

#[derive(Template)]
#[template(path = "digitise.html")]
struct DigitisePage {
    page: Page,
    code: String,
    id: i64,
    name: String,
    image: bool,
    text: String,
    kind: String,
    kinds: Vec<(&'static str, &'static str)>,
    fields: Vec<FieldRow>,
    pending: bool,
    errors: Vec<String>,
}

fn field_label(tr: super::Tr, name: &str) -> String {
    let (vi, en) = match name {
        "id_number" => ("Số định danh", "ID number"),
        "full_name" => ("Họ và tên", "Full name"),
        "date_of_birth" => ("Ngày sinh (YYYY-MM-DD)", "Date of birth (YYYY-MM-DD)"),
        "sex" => ("Giới tính", "Sex"),
        "nationality" => ("Quốc tịch", "Nationality"),
        "place_of_origin" => ("Quê quán", "Place of origin"),
        "place_of_residence" => ("Nơi thường trú", "Place of residence"),
        "expiry" => ("Có giá trị đến (YYYY-MM-DD)", "Valid until (YYYY-MM-DD)"),
        "enterprise_code" => ("Mã số doanh nghiệp", "Enterprise code"),
        "name" => ("Tên", "Name"),
        "address" => ("Địa chỉ", "Address"),
        "legal_representative" => ("Người đại diện theo pháp luật", "Legal representative"),
        "certificate_number" => ("Số giấy chứng nhận", "Certificate number"),
        "parcel_number" => ("Thửa đất số", "Parcel number"),
        "map_sheet" => ("Tờ bản đồ số", "Map sheet"),
        "area_m2" => ("Diện tích (m²)", "Area (m²)"),
        "mrz_name" => ("Tên trong vùng MRZ", "Name in the MRZ"),
        other => return other.to_owned(),
    };
    tr.t(vi, en).to_owned()
}

/// The field names of each kind, in the order a form asks them.
fn kind_fields(kind: DocumentKind) -> &'static [&'static str] {
    match kind {
        DocumentKind::IdCard => &[
            "id_number",
            "full_name",
            "date_of_birth",
            "sex",
            "nationality",
            "place_of_origin",
            "place_of_residence",
            "expiry",
        ],
        DocumentKind::BusinessRegistration => {
            &["enterprise_code", "name", "address", "legal_representative"]
        }
        DocumentKind::LandUse => &[
            "certificate_number",
            "parcel_number",
            "map_sheet",
            "area_m2",
            "address",
        ],
    }
}

async fn digitise_page(
    s: &AppState,
    page: Page,
    code: &str,
    id: i64,
    kind: DocumentKind,
    form: Option<&Form>,
    errors: Vec<String>,
) -> Response {
    let tr = page.tr;
    let Some(user) = page.user.clone() else {
        return see_other(&format!("/dang-nhap?next=/ho-so/{code}/tep/{id}/so-hoa"));
    };
    let (file, pages) = match s.file_text(&actor_of(&user), id).await {
        Ok(x) => x,
        Err(e) => return error_page(tr, e.into()),
    };
    if file.dossier_code != code {
        return error_page(tr, ApiError::not_found("Không có tệp này", "no such file"));
    }
    let found = extract(kind, &motcua_service::files::stored_pages(&pages));
    let fields = kind_fields(kind)
        .iter()
        .map(|name| {
            let f = found.fields.get(*name);
            let typed = form.and_then(|f| f.get(&format!("f:{name}")).map(str::to_owned));
            FieldRow {
                name: (*name).to_owned(),
                label: field_label(tr, name),
                value: typed
                    .or_else(|| f.map(|f| f.value.clone()))
                    .unwrap_or_default(),
                low: f.is_none_or(|f| f.confidence < 0.8 || !f.valid),
                note: f.and_then(|f| f.note.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let has_errors = !errors.is_empty();
    render_form(
        &DigitisePage {
            page: Page {
                title: format!("{} — {}", tr.t("Số hóa", "Digitise"), file.name),
                ..page
            },
            code: code.to_owned(),
            id,
            image: matches!(file.kind, FileKind::Png | FileKind::Jpeg),
            name: file.name.clone(),
            text: pages
                .iter()
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>()
                .join("\n\n"),
            kind: kind.as_str().to_owned(),
            kinds: vec![
                ("id_card", tr.t("Căn cước / CCCD", "Citizen ID card")),
                (
                    "business_registration",
                    tr.t(
                        "Giấy chứng nhận đăng ký doanh nghiệp",
                        "Business registration",
                    ),
                ),
                (
                    "land_use",
                    tr.t(
                        "Giấy chứng nhận quyền sử dụng đất",
                        "Land-use right certificate",
                    ),
                ),
            ],
            fields,
            pending: file.ocr_status == "pending",
            errors,
        },
        has_errors,
    )
}

#[derive(serde::Deserialize)]
struct KindQuery {
    kind: Option<String>,
}

async fn digitise(
    State(s): State<AppState>,
    page: Page,
    Path((code, id)): Path<(String, i64)>,
    axum::extract::Query(q): axum::extract::Query<KindQuery>,
) -> Response {
    let kind = q
        .kind
        .as_deref()
        .and_then(DocumentKind::parse)
        .unwrap_or(DocumentKind::IdCard);
    digitise_page(&s, page, &code, id, kind, None, Vec::new()).await
}

async fn confirm(
    State(s): State<AppState>,
    page: Page,
    Path((code, id)): Path<(String, i64)>,
    form: Form,
) -> Response {
    let Some(user) = page.user.clone() else {
        return see_other(&format!("/dang-nhap?next=/ho-so/{code}"));
    };
    let kind = DocumentKind::parse(&form.text("kind")).unwrap_or(DocumentKind::IdCard);
    let fields: BTreeMap<String, String> = kind_fields(kind)
        .iter()
        .filter_map(|n| {
            form.get(&format!("f:{n}"))
                .map(|v| ((*n).to_owned(), v.to_owned()))
        })
        .collect();
    let body = ConfirmFile {
        fields,
        document_kind: Some(kind.as_str().to_owned()),
        valid_until: None,
    };
    match s.confirm_file(&s.acting(actor_of(&user)), id, body).await {
        Ok(doc) => see_other(&format!(
            "/ho-so/{code}?so_hoa={}#components",
            super::urlencode(&doc.code)
        )),
        Err(e) => {
            let msgs = messages(page.tr, &ApiError::from(e));
            digitise_page(&s, page, &code, id, kind, Some(&form), msgs).await
        }
    }
}

/// One signature as the verification page shows it.
pub struct SignatureRow {
    pub field: String,
    pub signer: String,
    pub issuer: String,
    pub valid: bool,
    pub signed_at: String,
    pub timestamped: bool,
    pub covers: bool,
    pub verdict: String,
    pub purpose: String,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    page: Page,
    /// The file's name, once one was checked.
    checked: Option<String>,
    rows: Vec<SignatureRow>,
    errors: Vec<String>,
}

/// The public verification page: anyone may check a PDF's signatures.
async fn verify_form(page: Page) -> Response {
    let page = page.titled("Xác thực chữ ký số", "Verify digital signatures");
    render(&VerifyPage {
        page,
        checked: None,
        rows: Vec::new(),
        errors: Vec::new(),
    })
}

async fn verify(State(s): State<AppState>, page: Page, mut parts: Multipart) -> Response {
    let page = page.titled("Xác thực chữ ký số", "Verify digital signatures");
    let tr = page.tr;
    let Ok(MultipartForm { csrf, file, .. }) = read_multipart(&mut parts).await else {
        return error_page(tr, too_large());
    };
    if !super::csrf_matches(&page, &csrf) {
        return error_page(tr, csrf_refused());
    }
    let Some((name, bytes)) = file.filter(|f| !f.1.is_empty()) else {
        return error_page(
            tr,
            ApiError::invalid("file", "Chưa chọn tệp", "no file was chosen"),
        );
    };
    match s.verify_pdf(bytes).await {
        Ok(reports) => {
            let rows = reports
                .into_iter()
                .map(|r| SignatureRow {
                    verdict: tr.t(&r.reason_vi, &r.reason).to_owned(),
                    field: r.field,
                    signer: r.signer,
                    issuer: r.issuer,
                    valid: r.valid,
                    signed_at: r
                        .signed_at
                        .as_deref()
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| super::when(&s, &t.with_timezone(&chrono::Utc)))
                        .unwrap_or_default(),
                    timestamped: r.timestamped,
                    covers: r.covers_whole_document,
                    purpose: r.purpose,
                })
                .collect();
            render(&VerifyPage {
                page,
                checked: Some(name),
                rows,
                errors: Vec::new(),
            })
        }
        Err(e) => {
            let e = ApiError::from(e);
            let mut res = render(&VerifyPage {
                errors: messages(tr, &e),
                page,
                checked: Some(name),
                rows: Vec::new(),
            });
            *res.status_mut() = e.status;
            res
        }
    }
}
