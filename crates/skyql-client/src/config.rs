//! What a [`crate::Client`] is told: endpoint override, credentials, limits.
//! Kept apart from the client so that the CLI can build it from flags and
//! StackQL's `--auth` JSON without touching the network.

use crate::Error;
use std::path::PathBuf;
use std::time::Duration;

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
    /// Print each request (method, URL, body) to stderr and send nothing;
    /// responses are `Value::Null`.
    pub dry_run: bool,
    /// Retries after the first attempt.
    pub max_retries: u32,
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
            max_retries: 5,
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
        let _ = (text, env);
        Err(Error::Config("--auth: not implemented yet".into()))
    }
}
