//! One test application for the web and CLI tests: the whole router in process (no TCP unless
//! a test needs a real client: [`TestApp::start_tcp`]), a fresh database per test on SQLite or
//! PostgreSQL, a fixed clock (28 January 2025, 09:00 in Vietnam: the day before Tết), helpers
//! to act as a given user, and [`TestApp::run_pending_jobs`] to run the job queue by hand.
//!
//! Every test runs on both databases with the store's `on_both!`:
//! `motcua_store::on_both!(motcua_web::testing::TestApp::start => my_test, other_test);`

use crate::AppState;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use chrono::{DateTime, TimeZone, Utc};
use motcua_domain::auth::Role;
use motcua_domain::clock::{Clock, FixedClock};
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::Actor;
use motcua_service::Service;
use motcua_service::jobs::{Runner, RunnerConfig};
use motcua_service::store::testing::TestDb;
use motcua_service::store::{Backend, ChangeBy, NewUser, Store, User};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

/// The password of every user a test adds.
pub const TEST_PASSWORD: &str = "mat-khau-thu-nghiem";

/// 28 January 2025, 09:00 in Vietnam (UTC+7).
pub fn day_before_tet() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 28, 2, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// The application under test.
pub struct TestApp {
    pub db: TestDb,
    pub clock: Arc<FixedClock>,
    pub svc: Arc<Service>,
    pub state: AppState,
    router: Router,
    /// The address and server task when started with TCP.
    tcp: Option<(String, tokio::task::JoinHandle<()>)>,
    runner: Runner,
}

/// An answer: status, headers and the body (as JSON when it is JSON, and as text).
#[derive(Debug)]
pub struct TestResponse {
    /// The body as sent.
    pub bytes: Vec<u8>,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A request being built; [`Req::send`] runs it through the router.
pub struct Req<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<u8>,
}

impl Req<'_> {
    /// Sends the bearer token.
    pub fn bearer(mut self, token: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
            self.headers.push((header::AUTHORIZATION, v));
        }
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.push((n, v));
        }
        self
    }

    pub fn json(mut self, v: &Value) -> Self {
        self.body = serde_json::to_vec(v).unwrap_or_default();
        self.header("content-type", "application/json")
    }

    pub fn body(mut self, bytes: impl Into<Vec<u8>>, content_type: &str) -> Self {
        self.body = bytes.into();
        self.header("content-type", content_type)
    }

    pub async fn send(self) -> TestResponse {
        let mut req = Request::builder().method(self.method).uri(&self.path);
        for (n, v) in self.headers {
            req = req.header(n, v);
        }
        let req = match req.body(Body::from(self.body)) {
            Ok(r) => r,
            Err(e) => panic!("bad test request {}: {e}", self.path),
        };
        let res = match self.app.router.clone().oneshot(req).await {
            Ok(r) => r,
            Err(e) => match e {},
        };
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        TestResponse {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text,
            bytes: bytes.to_vec(),
        }
    }
}

impl TestApp {
    /// A fresh application on `backend`, in process.
    pub async fn start(backend: Backend) -> TestApp {
        let db = match TestDb::new(backend).await {
            Ok(db) => db,
            Err(e) => panic!(
                "test database on {backend:?} (PostgreSQL must be running at MOTCUA_TEST_DATABASE_URL): {e}"
            ),
        };
        let clock = Arc::new(FixedClock::new(day_before_tet()));
        let svc = match Service::new(db.store.clone(), clock.clone(), Default::default()).await {
            Ok(s) => Arc::new(s),
            Err(e) => panic!("service: {e}"),
        };
        match motcua_service::store::LocalBlobs::new(db.objects_dir()) {
            Ok(b) => svc.set_blobs(Arc::new(b)),
            Err(e) => panic!("object store: {e}"),
        }
        if let Some(dir) = db.objects_dir().parent() {
            svc.set_upload_dir(dir.join("uploads"));
        }
        let mut state = AppState::new(svc.clone(), chrono::Duration::hours(8));
        // In process every request comes from one unknown address: no anonymous rate limit
        // unless a test sets one (see `TestApp::with_state`).
        state.edge.anonymous_per_second = 0.0;
        let router = crate::app(state.clone());
        let mut runner = Runner::new(svc.clone(), RunnerConfig::new("test", 4));
        runner.without_recurring();
        crate::slips::register_jobs(&mut runner, "http://localhost:8080".to_owned());
        TestApp {
            db,
            clock,
            svc,
            state,
            router,
            tcp: None,
            runner,
        }
    }

    /// A fresh application that also listens on a local port, for tests that need a real
    /// HTTP client (cookies, redirects, several connections).
    pub async fn start_tcp(backend: Backend) -> TestApp {
        let mut app = TestApp::start(backend).await;
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("listen: {e}"),
        };
        let base = match listener.local_addr() {
            Ok(a) => format!("http://{a}"),
            Err(e) => panic!("address: {e}"),
        };
        let router = app.router.clone();
        let task = tokio::spawn(async move {
            let _ = crate::serve::serve(
                listener,
                router,
                // Short, so that a test of a slow client does not wait long.
                crate::serve::ServerLimits {
                    header_read: std::time::Duration::from_secs(2),
                    idle: std::time::Duration::from_secs(30),
                    max_connections: 1024,
                },
                std::future::pending(),
            )
            .await;
        });
        app.tcp = Some((base, task));
        app
    }

    /// The same application with its state changed by `f` (limits, keys, base URL).
    pub fn with_state(mut self, f: impl FnOnce(&mut AppState)) -> Self {
        f(&mut self.state);
        self.router = crate::app(self.state.clone());
        self
    }

    /// Stops the server and removes the database.
    pub async fn finish(self) {
        if let Some((_, t)) = &self.tcp {
            t.abort();
        }
        self.db.cleanup().await;
    }

    /// The full URL of `path` (only with [`TestApp::start_tcp`]).
    pub fn url(&self, path: &str) -> String {
        match &self.tcp {
            Some((base, _)) => format!("{base}{path}"),
            None => panic!("TestApp::url needs TestApp::start_tcp"),
        }
    }

    pub fn store(&self) -> &Store {
        &self.db.store
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The system acting now (a test's own set-up).
    pub fn setup_actor(&self) -> motcua_service::Acting {
        self.svc.acting(Actor::system("test-setup"))
    }

    /// Adds a user with [`TEST_PASSWORD`].
    pub async fn add_user(&self, username: &str, role: Role, agency: Option<&str>) -> User {
        let agency_code = agency.map(|a| match AgencyCode::parse(a) {
            Ok(c) => c,
            Err(e) => panic!("agency code {a}: {e}"),
        });
        match self
            .store()
            .create_user(
                NewUser {
                    username: username.into(),
                    full_name: format!("Người dùng {username}"),
                    password: TEST_PASSWORD.into(),
                    role,
                    agency_code,
                },
                &ChangeBy::new("test-setup", self.now()),
            )
            .await
        {
            Ok(u) => u,
            Err(e) => panic!("user {username}: {e}"),
        }
    }

    /// A long-lived bearer token of `username`.
    pub async fn token(&self, username: &str) -> String {
        let user = match self.store().user_by_name(username).await {
            Ok(Some(u)) => u,
            other => panic!("no user {username}: {other:?}"),
        };
        match self
            .store()
            .issue_token(&user, self.now(), chrono::Duration::days(3650))
            .await
        {
            Ok((t, _)) => t,
            Err(e) => panic!("token of {username}: {e}"),
        }
    }

    pub fn request(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            app: self,
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> Req<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Req<'_> {
        self.request(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Req<'_> {
        self.request(Method::PATCH, path)
    }

    pub fn put(&self, path: &str) -> Req<'_> {
        self.request(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> Req<'_> {
        self.request(Method::DELETE, path)
    }

    /// Runs every job that is due now (at the test clock) until none is left; returns how
    /// many ran. Recurring jobs are not scheduled by the test runner.
    pub async fn run_pending_jobs(&self) -> usize {
        match self.runner.run_pending().await {
            Ok(n) => n,
            Err(e) => panic!("running jobs: {e}"),
        }
    }

    /// The job runner, to register a test's own handlers.
    pub fn runner_mut(&mut self) -> &mut Runner {
        &mut self.runner
    }
}
