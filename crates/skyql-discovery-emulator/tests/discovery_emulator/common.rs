//! Starting an emulator over the pinned documents and talking to it.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use skyql_discovery_emulator::{Api, Config, Running, Sources};
use skyql_emulator::ClockMode;

/// The pinned documents' folder, or `None` (with the reason printed) to skip.
pub fn discovery_dir() -> Option<PathBuf> {
    match std::env::var_os("SKYQL_DISCOVERY_DIR") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!(
                "skipped: SKYQL_DISCOVERY_DIR is not set (run cargo xtask fetch-discovery and point it at .discovery)"
            );
            None
        }
    }
}

pub struct Emu {
    pub running: Running,
    pub token: String,
    pub http: reqwest::Client,
}

/// A configuration whose long-running operations take `seconds`: on a frozen clock (which
/// moves only when a test advances it) when `seconds` is not zero.
pub fn operations_taking(seconds: u64) -> Config {
    Config {
        clock: if seconds == 0 {
            ClockMode::Real
        } else {
            ClockMode::Frozen
        },
        operation_duration: Duration::from_secs(seconds),
        ..Config::default()
    }
}

/// The message of a Google error body (empty without one).
pub fn message(err: &Value) -> &str {
    err["error"]["message"].as_str().unwrap_or_default()
}

/// Starts an emulator serving `services`, or `None` to skip.
pub async fn start(services: &[&str], config: Config) -> Option<Emu> {
    let dir = discovery_dir()?;
    let names: Vec<String> = services.iter().map(|s| s.to_string()).collect();
    let apis = skyql_discovery_emulator::load(
        &names,
        &Sources {
            registry: None,
            discovery_dir: Some(&dir),
        },
    )
    .expect("documents load");
    Some(Emu::spawn(config, apis).await)
}

impl Emu {
    /// Starts an emulator over `apis`, with a token issued directly.
    pub async fn spawn(config: Config, apis: Vec<Api>) -> Emu {
        let running = skyql_discovery_emulator::spawn(config, apis)
            .await
            .expect("emulator starts");
        let token = running.emulator.issue_access_token();
        Emu {
            running,
            token,
            http: reqwest::Client::new(),
        }
    }

    /// A request to `path`, without credentials.
    pub fn anonymous(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        let method: Method = method.parse().expect("method");
        self.http
            .request(method, format!("{}{path}", self.running.base_url))
    }

    /// A request to `path` with the emulator's token and, when given, a JSON body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::RequestBuilder {
        let req = self.anonymous(method, path).bearer_auth(&self.token);
        match body {
            Some(b) => req.json(b),
            None => req,
        }
    }

    /// Sends a request; returns the status and the JSON body (`Null` when empty).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let resp = self
            .request(method, path, body.as_ref())
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON body")
        };
        (status, value)
    }

    /// A POST of `body`, asserting success; returns the answer.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.ok("POST", path, Some(body)).await
    }

    /// The same, asserting success; returns the body.
    pub async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, body).await;
        assert!(status < 300, "{method} {path}: {status} {value:#}");
        value
    }
}
