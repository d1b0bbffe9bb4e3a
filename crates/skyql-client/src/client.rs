//! The API client: one reqwest client, a concurrency limit, credentials, the
//! endpoint override, retries and the mapping of answers to values or errors.

use crate::Error;
use crate::auth::{Auth, EnvFn, process_env};
use crate::config::{ClientConfig, DryRunRequest};
use crate::fetch::{Capped, describe, read_capped};
use crate::quota::{Scheduler, project_of, service_of};
use crate::target::{check_base, is_loopback, may_carry_token, request_url};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// First retry waits about this long; each next one twice as long.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// No computed wait is longer.
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// A server's Retry-After is honoured up to this long.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);
/// How much of a body goes into an error message.
const SNIPPET_CHARS: usize = 200;

/// One API request, already expanded by the engine.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// "GET", "POST", "DELETE", "PATCH", "PUT"
    pub method: String,
    /// e.g. "https://us-central1-aiplatform.googleapis.com/"
    pub root_url: String,
    /// e.g. "v1/projects/p/locations/us-central1/customJobs"
    pub path: String,
    /// Repeated keys allowed.
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

/// Cheap to clone; all clones share the connection pool, the token cache and
/// the concurrency limit.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    /// The checked `--endpoint`.
    endpoint: Option<url::Url>,
    http: reqwest::Client,
    permits: Semaphore,
    auth: Auth,
    scheduler: Scheduler,
    stats: Counters,
}

/// The counters behind [`ClientStats`].
#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    attempts: AtomicU64,
    retries: AtomicU64,
    failed: AtomicU64,
    throttled: AtomicU64,
    waits: AtomicU64,
    wait_millis: AtomicU64,
}

/// What a client has done: calls asked for, HTTP attempts, retries, calls
/// that ended in an error, rate-limit answers (429) and waits for a
/// rate-limit bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub requests: u64,
    pub attempts: u64,
    pub retries: u64,
    pub failed: u64,
    pub throttled: u64,
    pub waits: u64,
    pub wait_millis: u64,
}

impl ClientStats {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &ClientStats) -> ClientStats {
        ClientStats {
            requests: self.requests.saturating_sub(earlier.requests),
            attempts: self.attempts.saturating_sub(earlier.attempts),
            retries: self.retries.saturating_sub(earlier.retries),
            failed: self.failed.saturating_sub(earlier.failed),
            throttled: self.throttled.saturating_sub(earlier.throttled),
            waits: self.waits.saturating_sub(earlier.waits),
            wait_millis: self.wait_millis.saturating_sub(earlier.wait_millis),
        }
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        Self::build(config, process_env())
    }

    /// [`Client::new`] reading environment variables (`GOOGLE_CREDENTIALS`,
    /// `GOOGLE_APPLICATION_CREDENTIALS`, `HOME`, `CLOUDSDK_CONFIG`,
    /// `GCE_METADATA_HOST`, `PATH` for gcloud) through `env` instead of the
    /// process environment: for tests and embedders.
    pub fn with_env(
        config: ClientConfig,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Client, Error> {
        Self::build(config, Arc::new(env))
    }

    fn build(config: ClientConfig, env: EnvFn) -> Result<Client, Error> {
        let endpoint = match &config.endpoint {
            Some(e) => Some(check_base(e, "--endpoint")?),
            None => None,
        };
        let mut builder = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .pool_idle_timeout(Duration::from_secs(60));
        // Zero means no limit (a zero timeout would fail every request).
        if !config.timeout.is_zero() {
            builder = builder
                .timeout(config.timeout)
                .connect_timeout(config.timeout.min(Duration::from_secs(10)));
        }
        // An emulator on this machine is never reached through HTTP(S)_PROXY.
        if endpoint.as_ref().is_some_and(is_loopback) {
            builder = builder.no_proxy();
        }
        let http = builder
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let auth = Auth::new(config.auth.clone(), http.clone(), env);
        Ok(Client {
            inner: Arc::new(Inner {
                permits: Semaphore::new(config.concurrency.max(1)),
                scheduler: Scheduler::new(config.quotas.clone()),
                stats: Counters::default(),
                config,
                endpoint,
                http,
                auth,
            }),
        })
    }

    /// Sends one API request; retries 429/503 (any method), 502/504 and
    /// transport errors (idempotent methods; connection failures for any),
    /// with exponential backoff and jitter, honouring Retry-After, until
    /// `retry_deadline` has passed; refreshes the token once on 401. Waits
    /// for its rate-limit buckets first (a 429 slows its narrowest bucket
    /// down), then holds a concurrency permit while in flight (not while
    /// waiting). An error after retries says how many attempts it made
    /// ([`Error::GaveUp`]). An empty 2xx body is `{}`.
    pub async fn send(&self, req: ApiRequest) -> Result<Value, Error> {
        let started = std::time::Instant::now();
        let stats = &self.inner.stats;
        stats.requests.fetch_add(1, Ordering::Relaxed);
        let mut attempts = 0u32;
        let mut retries = 0u32;
        let result = self
            .send_attempts(req, started, &mut attempts, &mut retries)
            .await;
        if result.is_err() {
            stats.failed.fetch_add(1, Ordering::Relaxed);
        }
        result.map_err(|e| {
            if retries > 0 {
                Error::GaveUp {
                    attempts,
                    seconds: started.elapsed().as_secs_f64(),
                    last: Box::new(e),
                }
            } else {
                e
            }
        })
    }

    /// What the client has done so far (all statements together): the
    /// engine takes the difference around a statement.
    pub fn stats(&self) -> ClientStats {
        let s = &self.inner.stats;
        ClientStats {
            requests: s.requests.load(Ordering::Relaxed),
            attempts: s.attempts.load(Ordering::Relaxed),
            retries: s.retries.load(Ordering::Relaxed),
            failed: s.failed.load(Ordering::Relaxed),
            throttled: s.throttled.load(Ordering::Relaxed),
            waits: s.waits.load(Ordering::Relaxed),
            wait_millis: s.wait_millis.load(Ordering::Relaxed),
        }
    }

    async fn send_attempts(
        &self,
        req: ApiRequest,
        started: std::time::Instant,
        attempts: &mut u32,
        retries: &mut u32,
    ) -> Result<Value, Error> {
        let inner = &self.inner;
        let stats = &inner.stats;
        let method_name = req.method.trim().to_ascii_uppercase();
        let target = self.request_url(&req)?;
        let url = target.to_string();
        let method = reqwest::Method::from_bytes(method_name.as_bytes())
            .map_err(|_| Error::Config(format!("`{}` is not an HTTP method", req.method)))?;
        let idempotent = matches!(
            method_name.as_str(),
            "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS"
        );
        let body = match &req.body {
            Some(b) => Some(
                serde_json::to_vec(b)
                    .map_err(|e| Error::Config(format!("{method_name} {url}: body: {e}")))?,
            ),
            None => None,
        };
        if inner.config.dry_run {
            if let Some(sink) = &inner.config.dry_run_sink {
                (sink.0)(DryRunRequest {
                    method: method_name,
                    url,
                    body,
                });
            }
            return Ok(Value::Null);
        }
        let token_allowed = may_carry_token(&target, inner.endpoint.as_ref());
        let buckets = inner.scheduler.keys(
            &service_of(&req.root_url),
            project_of(&req.path, &req.query).as_deref(),
        );
        let deadline = inner.config.retry_deadline;
        // Whether another attempt may start after `wait`.
        let may_retry = |attempt: u32, wait: Duration| {
            attempt < inner.config.max_retries && started.elapsed() + wait <= deadline
        };
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        let mut wait = Duration::ZERO;
        loop {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            if attempt > *retries {
                *retries = attempt;
                stats.retries.fetch_add(1, Ordering::Relaxed);
            }
            // The rate buckets first: a throttled project waits here without
            // holding a permit that another project could use.
            let slot = inner.scheduler.reserve(&buckets);
            if !slot.is_zero() {
                stats.waits.fetch_add(1, Ordering::Relaxed);
                stats
                    .wait_millis
                    .fetch_add(slot.as_millis() as u64, Ordering::Relaxed);
                tokio::time::sleep(slot).await;
            }
            let _permit = inner
                .permits
                .acquire()
                .await
                .map_err(|_| Error::Config("the client is shutting down".into()))?;
            let token = if token_allowed || !inner.auth.sends_token() {
                inner.auth.token().await?
            } else {
                return Err(Error::Config(format!(
                    "{method_name} {url}: refusing to send credentials in clear text to {}: \
                     the service's root URL is plain http. Use an https root URL, or name that \
                     server with --endpoint if you trust it",
                    target.host_str().unwrap_or("?")
                )));
            };
            let mut rb = inner.http.request(method.clone(), target.clone());
            if let Some(t) = &token {
                rb = rb.bearer_auth(t);
            }
            if let Some(b) = &body {
                rb = rb
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(b.clone());
            }
            let transport = |e: &reqwest::Error| Error::Transport {
                method: method_name.clone(),
                url: url.clone(),
                message: describe(e),
            };
            *attempts += 1;
            stats.attempts.fetch_add(1, Ordering::Relaxed);
            let resp = match rb.send().await {
                Ok(r) => r,
                Err(e) => {
                    // A refused connection never reached the server: safe to
                    // repeat whatever the method.
                    let retry =
                        e.is_connect() || (idempotent && (e.is_timeout() || e.is_request()));
                    wait = backoff(attempt, None);
                    if retry && may_retry(attempt, wait) {
                        attempt += 1;
                        continue;
                    }
                    return Err(transport(&e));
                }
            };
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let bytes = match read_capped(resp, inner.config.max_response_bytes).await {
                Ok(b) => b,
                Err(Capped::TooLarge) => {
                    return Err(Error::TooLarge {
                        method: method_name.clone(),
                        url: url.clone(),
                        limit: inner.config.max_response_bytes,
                    });
                }
                Err(Capped::Transport(e)) => {
                    wait = backoff(attempt, None);
                    if idempotent && may_retry(attempt, wait) {
                        attempt += 1;
                        continue;
                    }
                    return Err(Error::Transport {
                        method: method_name.clone(),
                        url: url.clone(),
                        message: format!(
                            "HTTP {status}, but reading the body failed: {}",
                            describe(&e)
                        ),
                    });
                }
            };
            if (200..300).contains(&status) {
                inner.scheduler.succeeded(&buckets);
                return parse_success(&method_name, &url, status, &bytes);
            }
            if status == 401
                && !refreshed
                && inner.auth.refreshable()
                && let Some(t) = &token
            {
                inner.auth.invalidate(t).await;
                refreshed = true;
                wait = Duration::ZERO;
                continue;
            }
            let rate_limited = status == 429 || (status == 403 && is_rate_limit_body(&bytes));
            if rate_limited {
                stats.throttled.fetch_add(1, Ordering::Relaxed);
                inner.scheduler.throttled(&buckets, retry_after);
            }
            let retryable =
                rate_limited || status == 503 || (idempotent && matches!(status, 502 | 504));
            wait = backoff(attempt, retry_after);
            if retryable && may_retry(attempt, wait) {
                attempt += 1;
                continue;
            }
            return Err(error_from_response(&method_name, &url, status, &bytes));
        }
    }

    /// The URL a request goes to (endpoint override applied), with its query
    /// string: exactly what is sent, and what dry-run shows.
    pub fn url_for(&self, req: &ApiRequest) -> Result<String, Error> {
        self.request_url(req).map(String::from)
    }

    fn request_url(&self, req: &ApiRequest) -> Result<url::Url, Error> {
        let root = match &self.inner.endpoint {
            Some(e) => e.clone(),
            None => check_base(&req.root_url, "the service's root URL")?,
        };
        request_url(&root, &req.path, &req.query)
    }
}

/// The wait before retry number `attempt` (0-based): exponential with jitter
/// (between half and all of the step), or the server's Retry-After if longer.
pub(crate) fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let step = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_CAP);
    let half = step / 2;
    let jitter = half.mul_f64(random_unit());
    let computed = half + jitter;
    match retry_after {
        Some(ra) => ra.min(RETRY_AFTER_CAP).max(computed),
        None => computed,
    }
}

/// A number in [0, 1) good enough for jitter (no cryptographic needs).
fn random_unit() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = STATE
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(nanos);
    // splitmix64
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// A 403 that is a rate limit, not a refusal: Google's older APIs answer
/// `rateLimitExceeded` / `userRateLimitExceeded` that way, newer ones carry
/// an ErrorInfo reason `RATE_LIMIT_EXCEEDED`.
fn is_rate_limit_body(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let e = &v["error"];
    let legacy = e["errors"].as_array().into_iter().flatten().any(|x| {
        matches!(
            x["reason"].as_str(),
            Some("rateLimitExceeded" | "userRateLimitExceeded")
        )
    });
    let info = e["details"].as_array().into_iter().flatten().any(|d| {
        matches!(
            d["reason"].as_str(),
            Some("RATE_LIMIT_EXCEEDED" | "RESOURCE_EXHAUSTED")
        )
    });
    legacy || info
}

/// A 2xx body: JSON, or `{}` when empty.
fn parse_success(method: &str, url: &str, status: u16, body: &[u8]) -> Result<Value, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(body).map_err(|e| Error::InvalidJson {
        method: method.into(),
        url: url.into(),
        status,
        message: e.to_string(),
        body: snippet(body),
    })
}

/// A non-2xx answer as an error: Google's error JSON when it is one, else the
/// status and the start of the body.
pub(crate) fn error_from_response(method: &str, url: &str, status: u16, body: &[u8]) -> Error {
    let value: Option<Value> = serde_json::from_slice(body).ok();
    // Google's shape, also inside a one-element array (older batch-style answers).
    let err = value.as_ref().and_then(|v| match v {
        Value::Array(a) => a.first().and_then(|x| x.get("error")),
        _ => v.get("error"),
    });
    match err {
        Some(Value::Object(o)) => Error::Api {
            method: method.into(),
            url: url.into(),
            status,
            code: o
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            message: o
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            details: o
                .get("details")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        },
        // OAuth-style {"error":"invalid_token","error_description":"…"}.
        Some(Value::String(code)) => Error::Api {
            method: method.into(),
            url: url.into(),
            status,
            code: code.clone(),
            message: value
                .as_ref()
                .and_then(|v| v.get("error_description"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            details: Vec::new(),
        },
        _ => Error::Status {
            method: method.into(),
            url: url.into(),
            status,
            body: if body.is_empty() {
                "(empty body)".into()
            } else {
                snippet(body)
            },
        },
    }
}

/// The first [`SNIPPET_CHARS`] characters of a body, whitespace collapsed.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&collapsed, SNIPPET_CHARS)
}

/// At most `n` characters, with `…` when cut.
pub(crate) fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        for attempt in 0..20 {
            let d = backoff(attempt, None);
            let step = BACKOFF_BASE
                .saturating_mul(1u32 << attempt.min(16))
                .min(BACKOFF_CAP);
            assert!(d >= step / 2 && d <= step, "{attempt}: {d:?}");
        }
        assert!(backoff(0, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
        assert_eq!(backoff(0, Some(Duration::from_secs(9999))), RETRY_AFTER_CAP);
    }

    #[test]
    fn errors_from_bodies() {
        let e = error_from_response(
            "GET",
            "https://x/v1/projects/p/locations/l/customJobs/1",
            404,
            br#"{"error":{"code":404,"message":"CustomJob 1 not found","status":"NOT_FOUND","details":[{"@type":"t"}]}}"#,
        );
        assert_eq!(
            e.to_string(),
            "GET https://x/v1/projects/p/locations/l/customJobs/1: 404 NOT_FOUND: CustomJob 1 not found"
        );
        assert!(matches!(&e, Error::Api { details, .. } if details.len() == 1));
        let e = error_from_response(
            "GET",
            "u",
            502,
            b"<html>\n  <body>Bad\n\nGateway</body></html>",
        );
        assert_eq!(
            e.to_string(),
            "GET u: HTTP 502: <html> <body>Bad Gateway</body></html>"
        );
        let long = "x".repeat(1000);
        let e = error_from_response("GET", "u", 500, long.as_bytes()).to_string();
        assert!(e.ends_with('…') && e.len() < 260, "{e}");
        let e = error_from_response("GET", "u", 500, b"");
        assert_eq!(e.to_string(), "GET u: HTTP 500: (empty body)");
        let e = error_from_response(
            "GET",
            "u",
            401,
            br#"{"error":"invalid_token","error_description":"Bad token"}"#,
        );
        assert_eq!(e.to_string(), "GET u: 401 invalid_token: Bad token");
        let e = error_from_response(
            "GET",
            "u",
            400,
            br#"[{"error":{"code":400,"message":"m","status":"INVALID_ARGUMENT"}}]"#,
        );
        assert_eq!(e.to_string(), "GET u: 400 INVALID_ARGUMENT: m");
    }

    #[test]
    fn success_bodies() {
        assert_eq!(
            parse_success("GET", "u", 200, b"").ok(),
            Some(serde_json::json!({}))
        );
        assert_eq!(
            parse_success("GET", "u", 200, b" \n").ok(),
            Some(serde_json::json!({}))
        );
        let e = parse_success("GET", "u", 200, b"{\"a\":")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("GET u: HTTP 200: the response is not valid JSON (EOF"),
            "{e}"
        );
    }

    #[test]
    fn loopback_endpoints() {
        let l = |s: &str| is_loopback(&url::Url::parse(s).expect("url"));
        assert!(l("http://127.0.0.1:8089"));
        assert!(l("http://localhost/"));
        assert!(l("http://[::1]:80/x"));
        assert!(!l("https://aiplatform.googleapis.com/"));
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("hé", 2), "hé");
    }
}
