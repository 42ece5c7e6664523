//! Defences at the edge that every request passes: who the client is (its address), a rate
//! limit for anonymous callers per address, refusal of NUL characters, no caching of personal
//! data, HSTS, and the checks of redirect targets.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

/// Limits of the HTTP edge, from the configuration.
#[derive(Debug, Clone)]
pub struct EdgeLimits {
    /// Requests per second an anonymous caller may make from one address (0: no limit).
    pub anonymous_per_second: f64,
    /// Requests an anonymous caller may make at once before the rate applies.
    pub anonymous_burst: f64,
    /// Take the client's address from the last `X-Forwarded-For` entry (behind a reverse
    /// proxy that sets it); otherwise the connection's peer address.
    pub trust_forwarded_for: bool,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        EdgeLimits {
            anonymous_per_second: 20.0,
            anonymous_burst: 100.0,
            trust_forwarded_for: false,
        }
    }
}

/// The client's address, as the edge sees it (put in the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl ClientAddr {
    pub fn of(req: &Request, trust_forwarded_for: bool) -> ClientAddr {
        if trust_forwarded_for
            && let Some(ip) = req
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok())
        {
            return ClientAddr(ip.to_string());
        }
        match req.extensions().get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(a)) => ClientAddr(a.ip().to_string()),
            None => ClientAddr("unknown".into()),
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientAddr>()
            .cloned()
            .unwrap_or_else(|| ClientAddr("unknown".into())))
    }
}

/// Token buckets per address.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

const MAX_TRACKED: usize = 100_000;

impl RateLimiter {
    /// Takes one token from `addr`'s bucket; `Err(seconds to wait)` when it is empty.
    pub fn take(&self, addr: &str, rate: f64, burst: f64) -> Result<(), u64> {
        if rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let Ok(mut m) = self.buckets.lock() else {
            return Ok(());
        };
        if m.len() >= MAX_TRACKED {
            // Forget the full buckets (those that have not been seen for a while).
            m.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = m.entry(addr.to_owned()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

fn is_exempt(path: &str) -> bool {
    ["/healthz", "/readyz", "/metrics", "/static/", "/api/docs/"]
        .iter()
        .any(|p| path.starts_with(p))
}

fn has_credentials(req: &Request) -> bool {
    req.headers().contains_key(header::AUTHORIZATION)
        || crate::ui::cookie(req.headers(), crate::ui::SESSION_COOKIE).is_some()
}

/// The first layer inside: the client's address, the anonymous rate limit, NUL characters.
pub async fn edge(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let addr = ClientAddr::of(&req, s.edge.trust_forwarded_for);
    if !is_exempt(req.uri().path())
        && !has_credentials(&req)
        && let Err(wait) = s
            .rate
            .take(&addr.0, s.edge.anonymous_per_second, s.edge.anonymous_burst)
    {
        metrics::counter!("motcua_rate_limited_total").increment(1);
        let mut res = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Quá nhiều yêu cầu từ địa chỉ này; vui lòng thử lại sau ít giây",
            "too many requests from this address; try again in a few seconds",
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    if has_nul(req.uri().path()) || req.uri().query().is_some_and(has_nul) {
        return nul_refused().into_response();
    }
    req.extensions_mut().insert(addr);
    next.run(req).await
}

/// Whether a URI part carries a NUL character (`%00`) or another control character that no
/// text field may hold.
fn has_nul(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// The answer to a NUL character in a request.
pub fn nul_refused() -> ApiError {
    ApiError::bad_request(
        "Yêu cầu chứa ký tự NUL (\\0), không được phép trong dữ liệu văn bản",
        "the request contains a NUL character (\\0), which no text may hold",
    )
}

/// Whether JSON text carries an escaped NUL (`\u0000`), the only way JSON can hold one.
pub fn json_has_nul(bytes: &[u8]) -> bool {
    bytes
        .windows(6)
        .any(|w| w[0] == b'\\' && (w[1] == b'u' || w[1] == b'U') && &w[2..] == b"0000")
}

/// Personal data is never cached (pages, API answers): `Cache-Control: no-store` on every
/// answer that did not set its own caching (static files do); HSTS when cookies are secure.
pub async fn no_store(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if s.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

/// A redirect target given by the visitor (`next=`): only a normalised path of this site —
/// starting with one `/`, printable ASCII only (no spaces, tabs, line breaks or backslashes,
/// which browsers strip or turn into `/`), no `//` anywhere at its start after decoding, no
/// `..` segment. Anything else gives no target (the caller's default).
pub fn safe_next(next: Option<&str>) -> String {
    let Some(n) = next else {
        return String::new();
    };
    let ok = n.len() <= 2000
        && n.starts_with('/')
        && !n.starts_with("//")
        && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        && !n
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .split('/')
            .any(|seg| seg == ".." || seg == ".")
        && !decoded_starts_with_two_slashes(n);
    if ok { n.to_owned() } else { String::new() }
}

/// `/%2F/host` and `/%5C/host` decode to `//host` or `/\host`: refused too.
fn decoded_starts_with_two_slashes(n: &str) -> bool {
    let lower = n.to_ascii_lowercase();
    lower.starts_with("/%2f") || lower.starts_with("/%5c") || lower.contains("%00")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_targets() {
        for good in [
            "/ho-so",
            "/thu-tuc/1.001193?x=1&y=%C4%90",
            "/",
            "/xu-ly?loc=overdue",
        ] {
            assert_eq!(safe_next(Some(good)), good);
        }
        for bad in [
            "//evil.example/x",
            "/\t/evil.example/x",
            "/\n",
            "/\\evil.example",
            "https://evil.example/",
            "/%2F/evil.example",
            "/%5c/evil.example",
            "/a b",
            "/../x",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "", "{bad:?}");
        }
    }

    #[test]
    fn buckets() {
        let r = RateLimiter::default();
        for _ in 0..5 {
            assert!(r.take("a", 1.0, 5.0).is_ok());
        }
        assert!(r.take("a", 1.0, 5.0).is_err());
        assert!(r.take("b", 1.0, 5.0).is_ok());
        assert!(r.take("a", 0.0, 5.0).is_ok());
    }

    #[test]
    fn nul() {
        assert!(has_nul("/api/v1/tracking/x%00y"));
        assert!(!has_nul("/api/v1/tracking/x%200y"));
        assert!(json_has_nul(br#"{"u":"a\u0000b"}"#));
    }
}
