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
mod dashboard;
mod documents;
mod files;
mod office;
pub(crate) mod portal;
mod signing;
mod uploads;
mod users;

pub const SESSION_COOKIE: &str = "motcua_session";
pub const CSRF_COOKIE: &str = "motcua_csrf";
pub const CSRF_COOKIE_HOST: &str = "__Host-motcua_csrf";
pub const LANG_COOKIE: &str = "motcua_lang";

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(portal::router())
        .merge(office::router())
        .merge(admin::router())
        .merge(users::router())
        .merge(files::router())
        .merge(uploads::router())
        .merge(signing::router())
        .merge(documents::router())
        .merge(dashboard::router())
        .route("/static/site.css", get(css))
        .route("/static/htmx-2.0.11.min.js", get(htmx))
        .route("/static/print.js", get(print_js))
        .route("/static/upload.js", get(upload_js))
}

async fn upload_js() -> Response {
    crate::cached(
        "application/javascript",
        include_bytes!("../../assets/ui/upload.js"),
    )
}

/// Whether `sent` is the page's anti-forgery token.
pub fn csrf_matches(page: &Page, sent: &str) -> bool {
    !page.csrf.is_empty()
        && motcua_domain::mac::constant_time_eq(sent.as_bytes(), page.csrf.as_bytes())
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

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The anti-forgery token this request's forms carry and its posts must send back: an HMAC,
/// under a key derived from the server's secret, of the session (when signed in) or of a
/// random per-browser value kept in a `__Host-` cookie (before login). A cookie planted by
/// another site or a sibling subdomain cannot produce a valid token: the token is not the
/// cookie's value, and `__Host-` cookies cannot be set for this host by anyone else.
#[derive(Debug, Clone)]
struct Csrf(String);

fn random_hex() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The anti-forgery cookie's name: with the `__Host-` prefix when cookies are secure (browsers
/// accept that prefix only on `Secure`, host-only, `Path=/` cookies).
pub fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure {
        CSRF_COOKIE_HOST
    } else {
        CSRF_COOKIE
    }
}

/// The token of a session, or of a browser not signed in.
pub fn csrf_token(key: &[u8], session: Option<&str>, nonce: &str) -> String {
    let subject = match session {
        Some(t) => format!("session:{t}"),
        None => format!("anonymous:{nonce}"),
    };
    motcua_domain::mac::hmac_hex(key, subject.as_bytes())
}

/// Gives every browser its anti-forgery cookie and every request its token.
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
    let name = csrf_cookie_name(s.secure_cookies);
    let existing = cookie(req.headers(), name)
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let fresh = existing.is_none();
    let nonce = existing.unwrap_or_else(random_hex);
    let token = csrf_token(
        &s.csrf_key[..],
        cookie(req.headers(), SESSION_COOKIE).filter(|t| !t.is_empty()),
        &nonce,
    );
    req.extensions_mut().insert(Csrf(token));
    let secure = s.secure_cookies;
    let mut res = next.run(req).await;
    if fresh
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{name}={nonce}; Path=/; HttpOnly; SameSite=Strict{}",
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
    /// The browser sent a session that has ended (idle or absolute timeout, logout elsewhere).
    pub expired: bool,
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
        let session = cookie(&parts.headers, SESSION_COOKIE).filter(|t| !t.is_empty());
        let user = match session {
            Some(token) => s
                .user_by_token(token)
                .await
                .map_err(|e| error_page(tr, ApiError::from(e)))?,
            None => None,
        };
        if let (Some(token), Some(_)) = (session, &user) {
            // Activity keeps the session alive (idle timeout).
            s.touch_session(token)
                .await
                .map_err(|e| error_page(tr, ApiError::from(e)))?;
        }
        let expired = session.is_some() && user.is_none();
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        // A password set by an administrator: the user chooses their own before anything else.
        if user.as_ref().is_some_and(|u| u.must_change_password)
            && !["/doi-mat-khau", "/dang-xuat"].contains(&parts.uri.path())
        {
            return Err(see_other(&format!(
                "/doi-mat-khau?next={}",
                urlencode(&path)
            )));
        }
        let secure_cookies = s.secure_cookies;
        Ok(Page {
            tr,
            user,
            csrf,
            path,
            title: String::new(),
            secure_cookies,
            expired,
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

/// Where citizens reach this site: the configured public base URL, else the address this
/// request came to (a host name of safe characters only; `https` only when a trusted proxy
/// says so), else the local default.
pub fn public_base(s: &AppState, headers: &axum::http::HeaderMap) -> String {
    if !s.public_base_url.is_empty() {
        return s.public_base_url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .unwrap_or("localhost:8080");
    // This server speaks plain HTTP; behind a trusted proxy, the proxy says what it serves.
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|_| s.edge.trust_forwarded_for);
    let scheme = if forwarded == Some("https") {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
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
        expired: false,
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
        if pairs
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(error_page(page.tr, crate::security::nul_refused()));
        }
        let sent = pairs
            .iter()
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.as_str());
        let valid = sent.is_some_and(|t| {
            motcua_domain::mac::constant_time_eq(t.as_bytes(), page.csrf.as_bytes())
        });
        if page.csrf.is_empty() || !valid {
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
        // A form posted after the session ended: log in again, keeping what was typed.
        let public = ["/dang-nhap", "/dang-ky", "/dang-xuat"];
        if page.expired && !public.contains(&page.path.split('?').next().unwrap_or_default()) {
            return Err(portal::expired_session_login(page, &pairs));
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
    /// Every field as sent (after NFC), in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

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

/// A redirect after a successful form (303: the browser then GETs the page). A target that
/// cannot be a header value sends the visitor home instead of failing.
pub fn see_other(to: &str) -> Response {
    let to = HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}
