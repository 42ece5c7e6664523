//! A local remote-signing service for the demo and the tests: a real HTTP server holding test
//! keys, speaking the protocol [`RemoteSigner`](crate::RemoteSigner) uses, with an approval
//! delay, and refusals and failures that can be injected. It also answers RFC 3161 requests at
//! `/tsa` with the `tsa` key, as a development timestamp authority.
//!
//! - `GET /v1/users/{user}/certificate` — the user's chain;
//! - `POST /v1/requests` `{user, digest, algorithm, document}` — a request, pending;
//! - `GET /v1/requests/{id}` — pending, approved (with the signature) or refused;
//! - `GET /v1/requests?user=U` — the requests waiting on a user's device;
//! - `POST /v1/requests/{id}/approve`, `POST /v1/requests/{id}/refuse` `{reason}` — the device.

use crate::keys::{LocalKey, RemoteRequest, RemoteStatus, RemoteTicket, Signer};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use der::Encode;
use motcua_domain::clock::Clock;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the sandbox behaves.
#[derive(Debug, Clone, Default)]
pub struct SandboxConfig {
    /// Requests are approved by themselves this long after they arrive (unless `manual`).
    pub approval_delay: Duration,
    /// Requests wait for `/approve` or `/refuse`, as a person on their phone would.
    pub manual: bool,
    /// Users whose requests are refused.
    pub refuse: Vec<String>,
    /// Every n-th request to the service fails with 503 (0: never).
    pub fail_every: u64,
}

struct Pending {
    user: String,
    digest: [u8; 32],
    document: String,
    at: Instant,
    status: RemoteStatus,
}

struct Inner {
    keys: HashMap<String, LocalKey>,
    clock: Arc<dyn Clock>,
    config: SandboxConfig,
    requests: Mutex<HashMap<String, Pending>>,
    counter: AtomicU64,
}

/// The sandbox's state, shared by its handlers.
#[derive(Clone)]
pub struct Sandbox(Arc<Inner>);

impl Sandbox {
    /// Keys by user name (the `tsa` key, if any, stamps time).
    pub fn new(
        keys: HashMap<String, LocalKey>,
        config: SandboxConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Sandbox(Arc::new(Inner {
            keys,
            clock,
            config,
            requests: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
        }))
    }

    /// Loads every `NAME.p12` of a folder (as `motcua pki dev-ca` writes it) as user `NAME`.
    pub fn from_dir(
        dir: &std::path::Path,
        password: &str,
        config: SandboxConfig,
        clock: Arc<dyn Clock>,
    ) -> crate::Result<Self> {
        let mut keys = HashMap::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "p12")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
            {
                keys.insert(stem.to_owned(), LocalKey::from_file(&path, password)?);
            }
        }
        // An installation's folder keeps the authority's key beside `users/`.
        let beside = dir.join("../tsa.p12");
        if !keys.contains_key("tsa") && beside.exists() {
            keys.insert("tsa".into(), LocalKey::from_file(&beside, password)?);
        }
        Ok(Self::new(keys, config, clock))
    }

    pub fn router(&self) -> axum::Router {
        axum::Router::new()
            .route("/v1/users/{user}/certificate", get(certificate))
            .route("/v1/requests", post(submit).get(list))
            .route("/v1/requests/{id}", get(status))
            .route("/v1/requests/{id}/approve", post(approve))
            .route("/v1/requests/{id}/refuse", post(refuse))
            .route("/tsa", post(timestamp))
            .with_state(self.clone())
    }

    /// Serves until the process ends.
    pub async fn serve(&self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }

    fn injected_failure(&self) -> bool {
        let n = self.0.counter.fetch_add(1, Ordering::Relaxed) + 1;
        self.0.config.fail_every > 0 && n.is_multiple_of(self.0.config.fail_every)
    }

    fn sign(&self, p: &mut Pending) {
        let signed = self
            .0
            .keys
            .get(&p.user)
            .ok_or_else(|| "no key".to_owned())
            .and_then(|k| k.sign_now(&p.digest).map_err(|e| e.to_string()));
        p.status = match signed {
            Ok(sig) => RemoteStatus::Approved {
                signature: B64.encode(sig),
            },
            Err(e) => RemoteStatus::Refused { reason: e },
        };
    }
}

fn problem(status: StatusCode, detail: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "title": detail, "status": status.as_u16() })),
    )
        .into_response()
}

fn unavailable() -> Response {
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "injected failure: the service is unavailable",
    )
}

async fn certificate(State(s): State<Sandbox>, Path(user): Path<String>) -> Response {
    if s.injected_failure() {
        return unavailable();
    }
    let Some(key) = s.0.keys.get(&user) else {
        return problem(StatusCode::NOT_FOUND, "no such user");
    };
    let chain: Result<Vec<String>, _> = key
        .chain()
        .iter()
        .map(|c| c.to_der().map(|d| B64.encode(d)))
        .collect();
    match chain {
        Ok(chain) => Json(crate::keys::RemoteCertificate {
            algorithm: key.algorithm(),
            chain,
        })
        .into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn submit(State(s): State<Sandbox>, Json(req): Json<RemoteRequest>) -> Response {
    if s.injected_failure() {
        return unavailable();
    }
    let Some(key) = s.0.keys.get(&req.user) else {
        return problem(StatusCode::NOT_FOUND, "no such user");
    };
    if key.algorithm() != req.algorithm {
        return problem(
            StatusCode::BAD_REQUEST,
            "the algorithm does not fit the user's key",
        );
    }
    let digest: [u8; 32] = match B64.decode(&req.digest).ok().and_then(|d| d.try_into().ok()) {
        Some(d) => d,
        None => {
            return problem(
                StatusCode::BAD_REQUEST,
                "digest: 32 bytes in base64 expected",
            );
        }
    };
    let id = {
        let mut b = [0u8; 12];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
        hex::encode(b)
    };
    let status = if s.0.config.refuse.contains(&req.user) {
        RemoteStatus::Refused {
            reason: "Người ký từ chối ký trên thiết bị (signer refused on their device)".into(),
        }
    } else {
        RemoteStatus::Pending
    };
    let pending = Pending {
        user: req.user,
        digest,
        document: req.document,
        at: Instant::now(),
        status,
    };
    if let Ok(mut map) = s.0.requests.lock() {
        map.insert(id.clone(), pending);
    }
    (StatusCode::CREATED, Json(RemoteTicket { id })).into_response()
}

async fn status(State(s): State<Sandbox>, Path(id): Path<String>) -> Response {
    if s.injected_failure() {
        return unavailable();
    }
    let Ok(mut map) = s.0.requests.lock() else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "state lost");
    };
    let Some(p) = map.get_mut(&id) else {
        return problem(StatusCode::NOT_FOUND, "no such request");
    };
    if p.status == RemoteStatus::Pending
        && !s.0.config.manual
        && p.at.elapsed() >= s.0.config.approval_delay
    {
        s.sign(p);
    }
    Json(p.status.clone()).into_response()
}

#[derive(Deserialize)]
struct ListQuery {
    user: Option<String>,
}

#[derive(Serialize)]
struct Waiting {
    id: String,
    user: String,
    document: String,
}

async fn list(State(s): State<Sandbox>, Query(q): Query<ListQuery>) -> Response {
    let Ok(map) = s.0.requests.lock() else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "state lost");
    };
    let waiting: Vec<Waiting> = map
        .iter()
        .filter(|(_, p)| p.status == RemoteStatus::Pending)
        .filter(|(_, p)| q.user.as_ref().is_none_or(|u| u == &p.user))
        .map(|(id, p)| Waiting {
            id: id.clone(),
            user: p.user.clone(),
            document: p.document.clone(),
        })
        .collect();
    Json(waiting).into_response()
}

async fn approve(State(s): State<Sandbox>, Path(id): Path<String>) -> Response {
    let Ok(mut map) = s.0.requests.lock() else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "state lost");
    };
    let Some(p) = map.get_mut(&id) else {
        return problem(StatusCode::NOT_FOUND, "no such request");
    };
    if p.status == RemoteStatus::Pending {
        s.sign(p);
    }
    Json(p.status.clone()).into_response()
}

#[derive(Deserialize)]
struct RefuseBody {
    reason: Option<String>,
}

async fn refuse(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
    body: Option<Json<RefuseBody>>,
) -> Response {
    let Ok(mut map) = s.0.requests.lock() else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "state lost");
    };
    let Some(p) = map.get_mut(&id) else {
        return problem(StatusCode::NOT_FOUND, "no such request");
    };
    if p.status == RemoteStatus::Pending {
        p.status = RemoteStatus::Refused {
            reason: body
                .and_then(|b| b.0.reason)
                .unwrap_or_else(|| "Người ký từ chối (refused)".into()),
        };
    }
    Json(p.status.clone()).into_response()
}

async fn timestamp(State(s): State<Sandbox>, body: axum::body::Bytes) -> Response {
    if s.injected_failure() {
        return unavailable();
    }
    let Some(key) = s.0.keys.get("tsa") else {
        return problem(StatusCode::NOT_FOUND, "this sandbox has no timestamp key");
    };
    let serial = s.0.counter.load(Ordering::Relaxed);
    match crate::tsa::respond(key, &body, serial, s.0.clock.now()) {
        Ok(resp) => (
            [(header::CONTENT_TYPE, "application/timestamp-reply")],
            resp,
        )
            .into_response(),
        Err(e) => problem(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}
