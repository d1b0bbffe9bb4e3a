//! The API client: one reqwest client, a concurrency limit, credentials, the
//! endpoint override, retries and the mapping of answers to values or errors.

use crate::Error;
use crate::auth::Auth;
use crate::config::ClientConfig;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::Semaphore;

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
    http: reqwest::Client,
    permits: Semaphore,
    auth: Auth,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let auth = Auth::new(config.auth.clone(), http.clone());
        Ok(Client {
            inner: Arc::new(Inner {
                permits: Semaphore::new(config.concurrency.max(1)),
                config,
                http,
                auth,
            }),
        })
    }

    /// Sends one API request; retries 429/503/502/504 and connection errors
    /// with backoff (honouring Retry-After), refreshes the token once on 401.
    /// Holds a concurrency permit while in flight.
    pub async fn send(&self, req: ApiRequest) -> Result<Value, Error> {
        let _ = (&self.inner.http, &self.inner.permits, &self.inner.auth, req);
        Err(Error::Config("not implemented yet".into()))
    }

    /// The URL a request would go to (endpoint override applied).
    pub fn url_for(&self, req: &ApiRequest) -> String {
        let root = match &self.inner.config.endpoint {
            Some(e) => e.as_str(),
            None => req.root_url.as_str(),
        };
        format!(
            "{}/{}",
            root.trim_end_matches('/'),
            req.path.trim_start_matches('/')
        )
    }
}
