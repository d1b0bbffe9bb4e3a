//! Starting an emulator over the pinned documents and talking to it.

use std::path::PathBuf;

use reqwest::Method;
use serde_json::Value;
use skyql_discovery_emulator::{Config, Running, Sources};

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
    let running = skyql_discovery_emulator::spawn(config, apis)
        .await
        .expect("emulator starts");
    let token = running.emulator.issue_access_token();
    Some(Emu {
        running,
        token,
        http: reqwest::Client::new(),
    })
}

impl Emu {
    /// Sends a request; returns the status and the JSON body (`Null` when empty).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method: Method = method.parse().expect("method");
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.running.base_url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON body")
        };
        (status, value)
    }

    pub async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, body).await;
        assert!(status < 300, "{method} {path}: {status} {value:#}");
        value
    }
}
