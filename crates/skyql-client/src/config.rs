//! What a [`crate::Client`] is told: endpoint override, credentials, limits.
//! Kept apart from the client so that the CLI can build it from flags and
//! StackQL's `--auth` JSON without touching the network.

use crate::Error;
use crate::quota::Quotas;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Default cap on one response body (API answers and fetched documents).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;

/// A request the client would have sent in dry-run mode: exactly the method,
/// URL and body bytes it would put on the wire (headers aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRunRequest {
    pub method: String,
    pub url: String,
    pub body: Option<Vec<u8>>,
}

impl std::fmt::Display for DryRunRequest {
    /// `METHOD URL`, then the body on the next line when there is one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.url)?;
        if let Some(b) = &self.body {
            write!(f, "\n{}", String::from_utf8_lossy(b))?;
        }
        Ok(())
    }
}

/// Where dry-run requests go (the CLI prints them; the client never does).
#[derive(Clone)]
pub struct DryRunSink(pub Arc<dyn Fn(DryRunRequest) + Send + Sync>);

impl std::fmt::Debug for DryRunSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DryRunSink")
    }
}

/// Everything the client needs to know; `Default` is Google with
/// [`AuthConfig::Default`] credentials, 16 requests in flight, 60 s per request.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `--endpoint` / `SKYQL_GOOGLE_ENDPOINT`: every request goes to this base
    /// URL instead of the service root.
    pub endpoint: Option<String>,
    pub auth: AuthConfig,
    /// Max requests in flight.
    pub concurrency: usize,
    /// Per request (each attempt).
    pub timeout: Duration,
    /// Send nothing: hand each request (method, URL, body) to
    /// `dry_run_sink` instead; responses are `Value::Null`.
    pub dry_run: bool,
    /// Receives dry-run requests (without one they are dropped).
    pub dry_run_sink: Option<DryRunSink>,
    /// A response body (or fetched document) larger than this is an error.
    pub max_response_bytes: usize,
    /// Retries after the first attempt, at most (the deadline usually ends
    /// them first).
    pub max_retries: u32,
    /// No retry starts later than this after the first attempt: retries are
    /// budgeted by time, so a run of transient faults does not exhaust them.
    pub retry_deadline: Duration,
    /// Rate limits per (service, project), per service and overall.
    pub quotas: Quotas,
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            endpoint: None,
            auth: AuthConfig::Default,
            concurrency: 16,
            timeout: Duration::from_secs(60),
            dry_run: false,
            dry_run_sink: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_retries: 1000,
            retry_deadline: Duration::from_secs(120),
            quotas: Quotas::default(),
            user_agent: concat!("skyql/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// Where the bearer token comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum AuthConfig {
    /// `GOOGLE_CREDENTIALS` (key JSON text, StackQL's default), then
    /// Application Default Credentials: the `GOOGLE_APPLICATION_CREDENTIALS`
    /// file, gcloud's well-known file, the metadata server.
    Default,
    ServiceAccountFile(PathBuf),
    ServiceAccountJson(String),
    /// `gcloud auth print-access-token`.
    Interactive,
    /// A fixed bearer token.
    AccessToken(String),
    /// No `Authorization` header.
    Anonymous,
}

impl std::fmt::Debug for AuthConfig {
    // Never print secrets (key JSON, tokens) in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthConfig::Default => f.write_str("Default"),
            AuthConfig::ServiceAccountFile(p) => {
                f.debug_tuple("ServiceAccountFile").field(p).finish()
            }
            AuthConfig::ServiceAccountJson(_) => f.write_str("ServiceAccountJson(<redacted>)"),
            AuthConfig::Interactive => f.write_str("Interactive"),
            AuthConfig::AccessToken(_) => f.write_str("AccessToken(<redacted>)"),
            AuthConfig::Anonymous => f.write_str("Anonymous"),
        }
    }
}

impl AuthConfig {
    /// Parses StackQL's `--auth` JSON:
    /// `{"google":{"type":"service_account","credentialsfilepath":"key.json"}}`,
    /// `{"google":{"type":"service_account","credentialsenvvar":"VAR"}}` (an
    /// environment variable holding key JSON), `{"google":{"type":"interactive"}}`.
    pub fn from_stackql_json(text: &str) -> Result<AuthConfig, Error> {
        Self::from_stackql_json_with_env(text, |k| std::env::var(k).ok())
    }

    /// [`AuthConfig::from_stackql_json`] with the environment supplied by the caller.
    pub fn from_stackql_json_with_env(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<AuthConfig, Error> {
        let bad = |what: String| Error::Auth {
            source_name: "--auth".into(),
            message: format!("{what}; expected {EXPECTED_AUTH}"),
        };
        let value: Value =
            serde_json::from_str(text.trim()).map_err(|e| bad(format!("not valid JSON ({e})")))?;
        let Some(obj) = value.as_object() else {
            return Err(bad("not a JSON object".into()));
        };
        let Some(google) = obj.get("google") else {
            let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
            return Err(bad(if keys.is_empty() {
                "no \"google\" entry".to_string()
            } else {
                format!("no \"google\" entry (found {})", keys.join(", "))
            }));
        };
        let Some(google) = google.as_object() else {
            return Err(bad("\"google\" is not an object".into()));
        };
        let field = |k: &str| -> Result<Option<String>, Error> {
            match google.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
                Some(_) => Err(bad(format!("\"{k}\" must be a string"))),
            }
        };
        let ty = field("type")?;
        match ty.as_deref() {
            Some("service_account") => {
                if let Some(path) = field("credentialsfilepath")? {
                    let path = expand_home(&path, &env);
                    let text = std::fs::read_to_string(&path).map_err(|e| Error::Auth {
                        source_name: "--auth".into(),
                        message: format!("cannot read credentialsfilepath {}: {e}", path.display()),
                    })?;
                    // Fail now, not at the first request, on a file that is no key.
                    crate::auth::check_credentials(&text, &path.display().to_string())?;
                    return Ok(AuthConfig::ServiceAccountFile(path));
                }
                if let Some(var) = field("credentialsenvvar")? {
                    let Some(text) = env(&var).filter(|t| !t.trim().is_empty()) else {
                        return Err(Error::Auth {
                            source_name: "--auth".into(),
                            message: format!(
                                "credentialsenvvar names {var}, which is not set; export {var} with the \
                                 service-account key JSON as its value"
                            ),
                        });
                    };
                    crate::auth::check_credentials(&text, &var)?;
                    return Ok(AuthConfig::ServiceAccountJson(text));
                }
                Err(bad(
                    "a service_account entry needs \"credentialsfilepath\" or \"credentialsenvvar\"".into(),
                ))
            }
            Some("interactive") => Ok(AuthConfig::Interactive),
            Some("null_auth") => Ok(AuthConfig::Anonymous),
            Some(other) => Err(bad(format!(
                "unknown auth type \"{other}\" (known: service_account, interactive, null_auth)"
            ))),
            None => Err(bad("\"google\" has no \"type\"".into())),
        }
    }
}

const EXPECTED_AUTH: &str = r#"{"google":{"type":"service_account","credentialsfilepath":"key.json"}}, {"google":{"type":"service_account","credentialsenvvar":"VAR"}} or {"google":{"type":"interactive"}}"#;

/// `~/key.json` → `$HOME/key.json` (a shell would not expand it inside JSON).
fn expand_home(path: &str, env: &impl Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(rest) = path.strip_prefix("~/")
        && let Some(home) = env("HOME").or_else(|| env("USERPROFILE"))
    {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(path)
}
