//! The web application: server-rendered pages (askama) for citizens, the one-stop counter, the
//! back office and administrators. Every form is a plain HTML form that works without
//! JavaScript; htmx (vendored) only makes some of them quicker. Vietnamese first, English with
//! `?lang=en`.
//!
//! Adding a screen: a template under `templates/` that extends `base.html` and has a
//! `page: Page` field, a handler that builds it with [`Page::new`], and a route in the
//! screen group's `router()`.

use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use motcua_domain::auth::Role;
use motcua_service::store::User;

mod admin;
mod office;
mod portal;

pub const SESSION_COOKIE: &str = "motcua_session";
pub const CSRF_COOKIE: &str = "motcua_csrf";
pub const LANG_COOKIE: &str = "motcua_lang";

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(portal::router())
        .merge(office::router())
        .merge(admin::router())
        .route("/static/site.css", get(css))
        .route("/static/htmx-2.0.11.min.js", get(htmx))
        .route("/static/print.js", get(print_js))
}

async fn css() -> Response {
    crate::cached(
        "text/css; charset=utf-8",
        include_bytes!("../../assets/ui/site.css"),
    )
}

async fn htmx() -> Response {
    crate::cached(
        "application/javascript",
        include_bytes!("../../assets/ui/htmx-2.0.11.min.js"),
    )
}

async fn print_js() -> Response {
    crate::cached(
        "application/javascript",
        include_bytes!("../../assets/ui/print.js"),
    )
}

/// Security headers of every response: no framing (clickjacking), no sniffing, no referrer
/// to other sites, and a content security policy that allows only this site's own scripts,
/// styles and forms (the vendored Swagger UI keeps its own page).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/api/docs");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    if !docs {
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
                 form-action 'self'; frame-ancestors 'none'",
            ),
        );
    }
    res
}

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

/// Picks the text of the page's language: `tr.t("Tiếng Việt", "English")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        match self.0 {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    pub fn code(&self) -> &'static str {
        match self.0 {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The other language's code and name, for the switch in the header.
    pub fn other(&self) -> (&'static str, &'static str) {
        match self.0 {
            Lang::Vi => ("en", "English"),
            Lang::En => ("vi", "Tiếng Việt"),
        }
    }

    /// A bilingual message in this language.
    pub fn msg(&self, m: &motcua_domain::Msg) -> String {
        self.t(&m.vi, &m.en).to_owned()
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The anti-forgery token of this browser (a random value in an HttpOnly, SameSite=Strict
/// cookie, repeated in every form: a cross-site page can neither read nor set it).
#[derive(Debug, Clone)]
struct Csrf(String);

fn random_hex() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Gives every browser its anti-forgery cookie.
pub async fn csrf_layer(
    axum::extract::State(s): axum::extract::State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    // API clients, probes and static files have no forms.
    let path = req.uri().path();
    if ["/api/", "/static/", "/metrics", "/healthz", "/readyz"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        return next.run(req).await;
    }
    let existing = cookie(req.headers(), CSRF_COOKIE)
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let fresh = existing.is_none();
    let token = existing.unwrap_or_else(random_hex);
    req.extensions_mut().insert(Csrf(token.clone()));
    let secure = s.secure_cookies;
    let mut res = next.run(req).await;
    if fresh
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{}",
            if secure { "; Secure" } else { "" }
        ))
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// What every page needs: language, signed-in user, anti-forgery token, current path.
#[derive(Debug, Clone)]
pub struct Page {
    pub tr: Tr,
    pub user: Option<User>,
    pub csrf: String,
    pub path: String,
    pub title: String,
    pub secure_cookies: bool,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let lang = match cookie(&parts.headers, LANG_COOKIE) {
            Some("en") => Lang::En,
            _ => Lang::Vi,
        };
        let tr = Tr(lang);
        let csrf = parts
            .extensions
            .get::<Csrf>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        let user = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(token) => s
                .user_by_token(token)
                .await
                .map_err(|e| error_page(tr, ApiError::from(e)))?,
            None => None,
        };
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let secure_cookies = s.secure_cookies;
        Ok(Page {
            tr,
            user,
            csrf,
            path,
            title: String::new(),
            secure_cookies,
        })
    }
}

impl Page {
    pub fn titled(mut self, vi: &str, en: &str) -> Self {
        self.title = self.tr.t(vi, en).to_owned();
        self
    }

    /// The signed-in user with one of `roles`; otherwise the login page (or 403).
    // The error is the page to send back at once; its size does not matter.
    #[allow(clippy::result_large_err)]
    pub fn require(&self, roles: &[Role]) -> Result<&User, Response> {
        match &self.user {
            None => Err(
                Redirect::to(&format!("/dang-nhap?next={}", urlencode(&self.path))).into_response(),
            ),
            Some(u) if roles.contains(&u.role) => Ok(u),
            Some(_) => Err(error_page(
                self.tr,
                ApiError::forbidden("xem trang này", "see this page"),
            )),
        }
    }

    /// The signed-in user, if the authorisation policy grants them `p` (else the login page, or
    /// a 403 page in the visitor's language).
    #[allow(clippy::result_large_err)] // the error is the page to send back at once
    pub fn may(&self, p: motcua_domain::policy::Permission<'_>) -> Result<&User, Response> {
        match &self.user {
            None => Err(
                Redirect::to(&format!("/dang-nhap?next={}", urlencode(&self.path))).into_response(),
            ),
            Some(u) => match motcua_domain::policy::authorize(&motcua_service::actor_of(u), p) {
                Ok(()) => Ok(u),
                Err(d) => Err(error_page(
                    self.tr,
                    ApiError::from(motcua_service::ServiceError::from(d)),
                )),
            },
        }
    }

    /// The signed-in user's name (empty when nobody is signed in).
    pub fn username(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.username.as_str())
    }

    /// The signed-in user acting now. Pages call it after `require`; a visitor who is not
    /// signed in is an actor the policy grants nothing that needs an account.
    pub fn acting(&self, s: &AppState) -> motcua_service::Acting {
        let actor = match &self.user {
            Some(u) => motcua_service::actor_of(u),
            None => motcua_domain::dossier::Actor {
                name: "anonymous".into(),
                user_id: None,
                role: Some(Role::Citizen),
                agency: None,
            },
        };
        s.acting(actor)
    }

    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }

    pub fn is(&self, role: &str) -> bool {
        self.role().is_some_and(|r| r.as_str() == role)
    }

    pub fn is_officer(&self) -> bool {
        self.role().is_some_and(Role::works_at_agency)
    }
}

pub fn urlencode(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// Renders a template into a page response.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// A form page: 200, or 422 when it is shown again with the errors of what was sent.
pub fn render_form(t: &impl Template, has_errors: bool) -> Response {
    let mut res = render(t);
    if has_errors && res.status() == StatusCode::OK {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Page,
    status: u16,
    message: String,
    details: Vec<String>,
}

/// An error as a page in the visitor's language, with the right status.
pub fn error_page(tr: Tr, e: ApiError) -> Response {
    let page = Page {
        tr,
        user: None,
        csrf: String::new(),
        path: String::new(),
        title: tr.t("Có lỗi", "Something went wrong").to_owned(),
        secure_cookies: true,
    };
    let details = e.errors.iter().map(|f| tr.msg(&f.message)).collect();
    let mut res = render(&ErrorPage {
        status: e.status.as_u16(),
        message: tr.msg(&e.message),
        details,
        page,
    });
    *res.status_mut() = e.status;
    res
}

/// The messages of an error, for showing above a form.
pub fn messages(tr: Tr, e: &ApiError) -> Vec<String> {
    if e.errors.is_empty() {
        vec![tr.msg(&e.message)]
    } else {
        e.errors.iter().map(|f| tr.msg(&f.message)).collect()
    }
}

/// A posted form, checked against the anti-forgery token before the handler sees it.
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl FromRequest<AppState> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let page = Page::from_request_parts(&mut parts, s).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), s)
            .await
            .map_err(IntoResponse::into_response)?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            error_page(
                page.tr,
                ApiError::bad_request("Biểu mẫu không đọc được", "the form could not be read"),
            )
        })?;
        let sent = pairs
            .iter()
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.as_str());
        if page.csrf.is_empty() || sent != Some(page.csrf.as_str()) {
            return Err(error_page(
                page.tr,
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "Biểu mẫu đã hết hạn hoặc không gửi từ trang này; hãy tải lại trang và gửi lại",
                    "the form expired or did not come from this site; reload the page and send it again",
                ),
            ));
        }
        // NFC, as everywhere at the edge; line breaks kept (text areas: reasons, CSV, JSON);
        // passwords exactly as typed.
        let pairs = pairs
            .into_iter()
            .map(|(k, v)| {
                let v = if k.contains("password") {
                    v
                } else {
                    use unicode_normalization::UnicodeNormalization;
                    v.nfc().collect::<String>().trim().to_owned()
                };
                (k, v)
            })
            .collect();
        Ok(Form { pairs })
    }
}

impl Form {
    /// The first value of a field, trimmed; empty fields count as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    /// Every non-empty value of a repeated field (checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A local date and time for people: `07/02/2025 17:00`.
pub fn when(s: &AppState, t: &chrono::DateTime<chrono::Utc>) -> String {
    s.calendar()
        .to_local_fixed(*t)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// Sets the session cookie.
pub fn session_cookie(token: &str, secure: bool, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A redirect after a successful form (303: the browser then GETs the page).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}
