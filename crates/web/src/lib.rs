//! HTTP layer of motcua: the JSON API (`/api/v1`, OpenAPI 3.1 at `/api/v1/openapi.json`),
//! API docs (`/api/docs`), health (`/healthz`, `/readyz`), Prometheus metrics (`/metrics`)
//! and the web pages. Handlers parse the request, call the service (`motcua-service`) and
//! render its answer; they hold no use-case logic and never write SQL.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use motcua_service::Service;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

pub mod api;
pub mod auth;
pub mod contract;
pub mod error;
pub mod export;
pub mod security;
pub mod serve;
pub mod slips;
pub mod testing;
pub mod ui;

pub use error::{ApiError, Problem};

/// Shared state of every handler: the service, and what only the web layer needs.
#[derive(Clone)]
pub struct AppState {
    pub svc: Arc<Service>,
    /// Lifetime of API bearer tokens.
    pub token_ttl: chrono::Duration,
    /// Web sessions end after this long without activity (renewed by use)…
    pub session_idle: chrono::Duration,
    /// …and at the latest this long after login.
    pub session_max: chrono::Duration,
    /// Whether cookies carry `Secure` (on by default; browsers accept it on localhost).
    pub secure_cookies: bool,
    /// The key anti-forgery tokens are derived with (from the server's secret key).
    pub csrf_key: Arc<[u8; 32]>,
    /// Where citizens reach this site (`https://dichvucong.example.gov.vn`), for the tracking
    /// links and QR codes printed on slips; empty: the address the request came to.
    pub public_base_url: String,
    /// Rate limits and the client's address.
    pub edge: security::EdgeLimits,
    pub rate: Arc<security::RateLimiter>,
    /// Every request is answered within this time (408 otherwise).
    pub request_timeout: Duration,
}

impl std::ops::Deref for AppState {
    type Target = Service;
    fn deref(&self) -> &Service {
        &self.svc
    }
}

impl AppState {
    pub fn new(svc: Arc<Service>, token_ttl: chrono::Duration) -> Self {
        Self {
            svc,
            token_ttl,
            session_idle: chrono::Duration::minutes(30),
            session_max: chrono::Duration::hours(12),
            secure_cookies: true,
            csrf_key: Arc::new(motcua_store_key()),
            public_base_url: String::new(),
            edge: security::EdgeLimits::default(),
            rate: Default::default(),
            request_timeout: Duration::from_secs(60),
        }
    }

    /// Derives the web layer's keys from the server's secret key.
    pub fn with_secret(mut self, master: &[u8; 32]) -> Self {
        self.csrf_key = Arc::new(motcua_domain::mac::derive_key(master, "csrf"));
        self
    }
}

/// A random key for a process that was given none (tests; a lone instance).
fn motcua_store_key() -> [u8; 32] {
    use rand::RngCore;
    let mut k = [0u8; 32];
    rand::rng().fill_bytes(&mut k);
    k
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "motcua API",
        description = "Hệ thống thông tin giải quyết thủ tục hành chính — electronic one-stop system. \
                       Errors are RFC 9457 problem+json with `detail` (Vietnamese) and `detail_en` (English).",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "calendar", description = "Lunar calendar, holidays, working days and deadlines"),
        (name = "catalogue", description = "Procedure catalogue"),
        (name = "units", description = "Administrative units and agencies"),
        (name = "auth", description = "Tokens and users"),
        (name = "dossiers", description = "Dossiers: intake, workflow actions, work queues, tracking"),
        (name = "files", description = "Files of dossiers: components and results"),
        (name = "warehouse", description = "Digitisation results and the applicants' electronic data warehouse"),
        (name = "statistics", description = "The figures of a period (docs/domain.md §Statistics)"),
        (name = "jobs", description = "The background job queue (administrators)"),
        (name = "signatures", description = "Digital signatures on PDFs: verification of any document, the leader's signing queue"),
        (name = "documents", description = "The official-document register: incoming and outgoing documents of an agency"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API router and its OpenAPI document.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api/v1",
            OpenApiRouter::new()
                .merge(api::calendar::router())
                .merge(api::catalogue::router())
                .merge(api::units::router())
                .merge(api::auth::router())
                .merge(api::dossiers::router())
                .merge(api::files::router())
                .merge(api::uploads::router())
                .merge(api::slips::router())
                .merge(api::signatures::router())
                .merge(api::results::router())
                .merge(api::documents::router())
                .merge(api::warehouse::router())
                .merge(api::stats::router())
                .merge(api::jobs::router()),
        )
        .split_for_parts();
    let (router, mut doc) = (router, doc);
    contract::complete_all(&mut doc);
    (router, doc)
}

/// The OpenAPI document as JSON.
pub fn openapi_json() -> String {
    api().1.to_pretty_json().unwrap_or_default()
}

fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                ])
                .map(|b| b.build_recorder())
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Only the first app of a process installs the global recorder (tests start many).
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("motcua_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("motcua_http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    res
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let (api, doc) = api();
    let doc = Arc::new(doc.to_pretty_json().unwrap_or_default());
    let metrics = prometheus();
    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], (*doc).clone()) }
            }),
        )
        .route("/api/docs", get(swagger_page))
        .route("/api/docs/swagger-ui.css", get(swagger_css))
        .route("/api/docs/swagger-ui-bundle.js", get(swagger_js))
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(move || async move { metrics.render() }))
        .merge(ui::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ui::csrf_layer,
        ))
        .layer(middleware::from_fn(ui::security_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::no_store,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::edge,
        ))
        .layer(middleware::from_fn(track))
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(32 * 1024 * 1024))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.request_timeout,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn readyz(State(s): State<AppState>) -> Response {
    match s.store().ping().await {
        Ok(()) => Json(serde_json::json!({"status": "ready"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Cơ sở dữ liệu chưa sẵn sàng",
                "the database is not reachable",
            )
            .into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found(
        "Không có trang hoặc tài nguyên này",
        "no such page or resource",
    )
}

const SWAGGER_HTML: &str = r##"<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>motcua API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/api/docs/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/api/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#ui"});</script>
</body></html>"##;

async fn swagger_page() -> Html<&'static str> {
    Html(SWAGGER_HTML)
}

pub(crate) fn cached(content_type: &'static str, body: &'static [u8]) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    res
}

async fn swagger_css() -> Response {
    cached(
        "text/css",
        include_bytes!("../assets/swagger-ui/swagger-ui.css"),
    )
}

async fn swagger_js() -> Response {
    cached(
        "application/javascript",
        include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js"),
    )
}
