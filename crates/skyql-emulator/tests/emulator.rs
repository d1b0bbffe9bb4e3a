//! Integration tests of the emulator: each test starts a real server on loopback and talks
//! HTTP to it (reqwest for ordinary requests, a raw socket where reqwest would normalize
//! the request away). The submodules under `tests/emulator/` hold the tests of the
//! operations routes, proto3 JSON, partial responses, validation, edge cases, the
//! organisation (Resource Manager v3), quotas and disabled services, and the schema's
//! agreement with the embedded Discovery snapshot; they share [`Env`].

mod emulator {
    pub mod edges;
    pub mod operations;
    pub mod org;
    pub mod properties;
    pub mod proto_json;
    pub mod quota;
    pub mod schema_sync;
    pub mod validation;
}

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skyql_emulator::{ClockMode, Config, Running, project_number, spawn};

/// A signing key made once per test binary (key generation is slow in debug builds).
fn key_in(cell: &'static OnceLock<String>) -> String {
    cell.get_or_init(|| {
        skyql_emulator::auth::Keys::new(None, "demo-project")
            .expect("key")
            .private_key_pem
    })
    .clone()
}

/// The emulator's key in every test.
fn shared_key() -> String {
    static KEY: OnceLock<String> = OnceLock::new();
    key_in(&KEY)
}

/// A second, unrelated key (for tokens the emulator must reject).
fn other_key() -> String {
    static KEY: OnceLock<String> = OnceLock::new();
    key_in(&KEY)
}

fn base_config() -> Config {
    Config {
        clock: ClockMode::Frozen,
        start_time: Some("2025-06-01T12:00:00Z".parse().expect("time")),
        signing_key_pem: Some(shared_key()),
        ..Config::default()
    }
}

struct Env {
    running: Running,
    client: reqwest::Client,
    token: String,
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Signs a JWT as Google's libraries do.
fn sign(pem: &str, kid: Option<&str>, claims: &Value) -> String {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let key = rsa::PrivateKey::from_pkcs8_pem(pem).expect("pem");
    let der = key.to_pkcs1_der().expect("der");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(String::from);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der.as_bytes())).expect("sign")
}

impl Env {
    async fn start(config: Config) -> Env {
        let mut env = Env::with_token(spawn(config).await.expect("spawn"), String::new());
        env.token = env.token_via_endpoint().await;
        env
    }

    /// Talks to `running` with `token`.
    fn with_token(running: Running, token: String) -> Env {
        Env {
            running,
            client: reqwest::Client::new(),
            token,
        }
    }

    fn key(&self) -> Value {
        self.running.key_json()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url)
    }

    fn assertion(&self, aud: &str) -> String {
        let key = self.key();
        let now = now_secs();
        sign(
            key["private_key"].as_str().expect("pem"),
            key["private_key_id"].as_str(),
            &json!({
                "iss": key["client_email"], "sub": key["client_email"],
                "aud": aud, "iat": now, "exp": now + 3600,
                "scope": "https://www.googleapis.com/auth/cloud-platform"
            }),
        )
    }

    async fn token_via_endpoint(&self) -> String {
        let (status, body) = self
            .form(
                "/token",
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    (
                        "assertion",
                        &self.assertion("https://oauth2.googleapis.com/token"),
                    ),
                ],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().expect("token").to_string()
    }

    /// A request to `path`, with `token` as its bearer token when one is given.
    fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let req = self.client.request(method, self.url(path));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Sends a request, with `body` as JSON when given.
    async fn send(req: reqwest::RequestBuilder, body: Option<&Value>) -> reqwest::Response {
        let req = match body {
            Some(b) => req.json(b),
            None => req,
        };
        req.send().await.expect("send")
    }

    async fn form(&self, path: &str, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
        let body: String = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = self
            .request(Method::POST, path, None)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        let resp = Env::send(req, None).await;
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// A request with an optional body and token, answered as status and JSON (the raw
    /// text as a JSON string when it is not JSON).
    async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let resp = Env::send(self.request(method, path, token), body).await;
        let status = resp.status();
        let text = resp.text().await.expect("text");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        self.call_with(method, path, body, Some(&self.token)).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// An authenticated request with an optional body, answered as status and raw text
    /// (for checks of the bytes: key order, number formats).
    async fn text(&self, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, String) {
        let resp = Env::send(self.request(method, path, Some(&self.token)), body).await;
        (resp.status(), resp.text().await.expect("text"))
    }

    /// A GET with extra headers and an optional token, answered as the raw response (for
    /// checks of headers, or requests with a `Host` of Google's).
    async fn get_as(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.request(Method::GET, path, token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Env::send(req, None).await
    }

    /// An authenticated GET with extra headers, answered as the raw response.
    async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        self.get_as(path, Some(&self.token), headers).await
    }

    /// A test-support route (`/emulator/{name}`), unauthenticated.
    async fn control(&self, method: Method, name: &str) -> (StatusCode, Value) {
        self.call_with(method, &format!("/emulator/{name}"), None, None)
            .await
    }

    async fn advance(&self, seconds: u64) {
        let (s, _) = self
            .control(Method::POST, &format!("clock:advance?seconds={seconds}"))
            .await;
        assert_eq!(s, 200);
    }

    async fn create(&self, location: &str, job: &Value) -> Value {
        let (s, b) = self
            .call(
                Method::POST,
                &format!("/v1/projects/demo-project/locations/{location}/customJobs"),
                Some(job),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        b
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn job(name: &str) -> Value {
    json!({
        "displayName": name,
        "jobSpec": {"workerPoolSpecs": [{
            "machineSpec": {"machineType": "n1-standard-4"},
            "replicaCount": 1,
            "containerSpec": {"imageUri": "gcr.io/p/trainer:1"}
        }]}
    })
}

fn id_of(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or("")
}

/// Sends raw bytes and returns (status, body): for requests reqwest would normalize.
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (
        status,
        serde_json::from_str(body).unwrap_or(Value::String(body.to_string())),
    )
}

fn assert_google_error(body: &Value, code: u16, status: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["status"], status, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

#[tokio::test]
async fn create_get_and_lifecycle() {
    let env = Env::start(base_config()).await;
    let created = env.create("us-central1", &job("train-1")).await;
    let name = created["name"].as_str().expect("name");
    let number = project_number("demo-project");
    assert!(
        name.starts_with(&format!(
            "projects/{number}/locations/us-central1/customJobs/"
        )),
        "{name}"
    );
    assert_eq!(id_of(name).len(), 19);
    assert_eq!(created["state"], "JOB_STATE_PENDING");
    assert_eq!(created["createTime"], "2025-06-01T12:00:00Z");
    assert_eq!(created["updateTime"], created["createTime"]);
    assert!(created.get("startTime").is_none());
    // Defaults filled in, int64 as string.
    assert_eq!(
        created["jobSpec"]["workerPoolSpecs"][0]["replicaCount"],
        "1"
    );
    assert_eq!(
        created["jobSpec"]["workerPoolSpecs"][0]["diskSpec"]["bootDiskSizeGb"],
        100
    );

    let id = id_of(name);
    for project in ["demo-project".to_string(), number.to_string()] {
        let (s, got) = env
            .get(&format!(
                "/v1/projects/{project}/locations/us-central1/customJobs/{id}"
            ))
            .await;
        assert_eq!(s, 200);
        assert_eq!(got["name"], name);
    }
    let path = format!("/v1/{name}");
    env.advance(5).await;
    let (_, got) = env.get(&path).await;
    assert_eq!(got["state"], "JOB_STATE_RUNNING");
    assert_eq!(got["startTime"], "2025-06-01T12:00:05Z");
    assert_eq!(got["updateTime"], "2025-06-01T12:00:05Z");
    env.advance(30).await;
    let (_, got) = env.get(&path).await;
    assert_eq!(got["state"], "JOB_STATE_SUCCEEDED");
    assert_eq!(got["endTime"], "2025-06-01T12:00:35Z");
    assert!(got.get("error").is_none());

    // The documented failure rule.
    let mut failing = job("will-fail");
    failing["labels"] = json!({"emulator-outcome": "failed"});
    let f = env.create("us-central1", &failing).await;
    env.advance(35).await;
    let (_, got) = env
        .get(&format!("/v1/{}", f["name"].as_str().expect("name")))
        .await;
    assert_eq!(got["state"], "JOB_STATE_FAILED");
    assert_eq!(got["error"]["code"], 3);
    assert!(got["endTime"].is_string());

    // Unknown job.
    let (s, body) = env
        .get("/v1/projects/demo-project/locations/us-central1/customJobs/1234567890123456789")
        .await;
    assert_eq!(s, 404);
    assert_google_error(&body, 404, "NOT_FOUND");
}

#[tokio::test]
async fn create_validation_table() {
    let env = Env::start(base_config()).await;
    let pool = |extra: Value| {
        let mut p = json!({"machineSpec": {"machineType": "n1-standard-4"}});
        if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        p
    };
    let container = json!({"containerSpec": {"imageUri": "gcr.io/x/y"}});
    // (case, body, expected status, expected text in the error (field or message))
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "missing display name",
            json!({"jobSpec": {"workerPoolSpecs": [pool(container.clone())]}}),
            400,
            "Field: display_name",
        ),
        (
            "display name too long",
            json!({"displayName": "x".repeat(129), "jobSpec": {"workerPoolSpecs": [pool(container.clone())]}}),
            400,
            "Field: display_name",
        ),
        (
            "display name of 128",
            json!({"displayName": "x".repeat(128), "jobSpec": {"workerPoolSpecs": [pool(container.clone())]}}),
            200,
            "",
        ),
        (
            "no job spec",
            json!({"displayName": "a"}),
            400,
            "Field: job_spec;",
        ),
        (
            "empty pools",
            json!({"displayName": "a", "jobSpec": {"workerPoolSpecs": []}}),
            400,
            "Field: job_spec.worker_pool_specs",
        ),
        (
            "no machine type",
            json!({"displayName": "a", "jobSpec": {"workerPoolSpecs": [container.clone()]}}),
            400,
            "machine_spec.machine_type",
        ),
        (
            "no task",
            json!({"displayName": "a", "jobSpec": {"workerPoolSpecs": [pool(json!({}))]}}),
            400,
            "worker_pool_specs[0].task",
        ),
        (
            "no image",
            json!({"displayName": "a", "jobSpec": {"workerPoolSpecs": [pool(json!({"containerSpec": {}}))]}}),
            400,
            "container_spec.image_uri",
        ),
        (
            "python incomplete",
            json!({"displayName": "a", "jobSpec": {"workerPoolSpecs": [pool(json!({"pythonPackageSpec": {"executorImageUri": "x"}}))]}}),
            400,
            "python_package_spec.package_uris",
        ),
        (
            "python ok",
            json!({"displayName": "a", "jobSpec": {"workerPoolSpecs": [pool(json!({"pythonPackageSpec": {"executorImageUri": "x", "packageUris": ["gs://b/p.tgz"], "pythonModule": "t.task"}}))]}}),
            200,
            "",
        ),
        (
            "bad label key",
            json!({"displayName": "a", "labels": {"Team": "x"}, "jobSpec": {"workerPoolSpecs": [pool(container.clone())]}}),
            400,
            "Field: labels[",
        ),
        (
            "bad label value",
            json!({"displayName": "a", "labels": {"team": "X Y"}, "jobSpec": {"workerPoolSpecs": [pool(container.clone())]}}),
            400,
            "Field: labels[",
        ),
        (
            "unknown field",
            json!({"displayName": "a", "colour": 1}),
            400,
            "Unknown name",
        ),
        ("wrong type", json!({"displayName": 7}), 400, "TYPE_STRING"),
        (
            "bad enum",
            json!({"displayName": "a", "jobSpec": {"scheduling": {"strategy": "CHEAP"}, "workerPoolSpecs": [pool(container.clone())]}}),
            400,
            "Strategy",
        ),
        (
            "snake case and enum number",
            json!({"display_name": "a", "job_spec": {"worker_pool_specs": [{"machine_spec": {"machine_type": "n1", "accelerator_type": 5, "accelerator_count": 1}, "container_spec": {"image_uri": "x"}}]}}),
            200,
            "",
        ),
        (
            "output only ignored",
            json!({"displayName": "a", "state": "JOB_STATE_SUCCEEDED", "name": "projects/x/locations/y/customJobs/1", "createTime": "2001-01-01T00:00:00Z", "jobSpec": {"workerPoolSpecs": [pool(container.clone())]}}),
            200,
            "",
        ),
    ];
    for (case, body, want, text) in cases {
        let (s, got) = env
            .call(
                Method::POST,
                "/v1/projects/demo-project/locations/us-central1/customJobs",
                Some(&body),
            )
            .await;
        assert_eq!(s.as_u16(), want, "{case}: {got}");
        if want == 400 {
            assert_google_error(&got, 400, "INVALID_ARGUMENT");
            let details = &got["error"]["details"][0];
            assert_eq!(
                details["@type"], "type.googleapis.com/google.rpc.BadRequest",
                "{case}"
            );
            assert!(got.to_string().contains(text), "{case}: {got}");
        } else {
            assert_eq!(got["state"], "JOB_STATE_PENDING", "{case}");
            assert_eq!(got["createTime"], "2025-06-01T12:00:00Z", "{case}");
        }
    }
    let (_, snake) = env
        .get("/v1/projects/demo-project/locations/us-central1/customJobs?filter=display_name%3Da")
        .await;
    let jobs = snake["customJobs"].as_array().expect("jobs");
    assert!(jobs.iter().any(
        |j| j["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]["acceleratorType"]
            == "NVIDIA_TESLA_T4"
    ));
}

#[tokio::test]
async fn cancel_and_delete() {
    let env = Env::start(Config {
        operation_polls: 2,
        ..base_config()
    })
    .await;
    let created = env.create("us-central1", &job("c")).await;
    let path = format!("/v1/{}", created["name"].as_str().expect("name"));
    // Deleting an unfinished job.
    let (s, body) = env.delete(&path).await;
    assert_eq!(s, 400);
    assert_google_error(&body, 400, "FAILED_PRECONDITION");

    let (s, body) = env
        .call(Method::POST, &format!("{path}:cancel"), Some(&json!({})))
        .await;
    assert_eq!((s.as_u16(), body.clone()), (200, json!({})));
    let (_, got) = env.get(&path).await;
    assert_eq!(got["state"], "JOB_STATE_CANCELLING");
    env.advance(2).await;
    let (_, got) = env.get(&path).await;
    assert_eq!(got["state"], "JOB_STATE_CANCELLED");
    assert_eq!(got["error"]["code"], 1);
    assert_eq!(got["endTime"], "2025-06-01T12:00:02Z");
    assert!(got.get("startTime").is_none());

    // Cancelling a finished job.
    let (s, body) = env
        .call(Method::POST, &format!("{path}:cancel"), None)
        .await;
    assert_eq!(s, 400);
    assert_google_error(&body, 400, "FAILED_PRECONDITION");

    // Delete: an operation, unfinished until its second poll.
    let (s, op) = env.delete(&path).await;
    assert_eq!(s, 200, "{op}");
    let op_name = op["name"].as_str().expect("op name");
    let number = project_number("demo-project");
    assert!(op_name.starts_with(&format!(
        "projects/{number}/locations/us-central1/operations/"
    )));
    assert_eq!(
        op["metadata"]["@type"],
        "type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata"
    );
    assert!(op["metadata"]["genericMetadata"]["createTime"].is_string());
    assert!(op.get("done").is_none());
    let (s, _) = env.get(&path).await;
    assert_eq!(s, 404);
    let (_, p1) = env.get(&format!("/ui/{op_name}")).await;
    assert!(p1.get("done").is_none(), "{p1}");
    let (_, p2) = env.get(&format!("/v1/{op_name}")).await;
    assert_eq!(p2["done"], true, "{p2}");
    assert_eq!(
        p2["response"]["@type"],
        "type.googleapis.com/google.protobuf.Empty"
    );
    let (_, list) = env
        .get("/ui/projects/demo-project/locations/us-central1/operations")
        .await;
    assert_eq!(list["operations"][0]["name"], op_name);
    let (s, body) = env
        .get("/v1/projects/demo-project/locations/us-central1/operations/999")
        .await;
    assert_eq!(s, 404);
    assert_google_error(&body, 404, "NOT_FOUND");
}

#[tokio::test]
async fn list_paging_and_tokens() {
    let env = Env::start(Config {
        seed_jobs: 250,
        ..base_config()
    })
    .await;
    let base = "/v1/projects/demo-project/locations/us-central1/customJobs";
    let (s, p1) = env.get(base).await;
    assert_eq!(s, 200);
    let jobs1 = p1["customJobs"].as_array().expect("jobs");
    assert_eq!(jobs1.len(), 100);
    let token = p1["nextPageToken"].as_str().expect("token");
    let (_, p2) = env.get(&format!("{base}?pageToken={token}")).await;
    let jobs2 = p2["customJobs"].as_array().expect("jobs");
    assert_eq!(jobs2.len(), 25);
    assert!(p2.get("nextPageToken").is_none());
    // Newest first, no duplicates.
    let times: Vec<&str> = jobs1
        .iter()
        .chain(jobs2)
        .map(|j| j["createTime"].as_str().expect("t"))
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    let names: std::collections::HashSet<&str> = jobs1
        .iter()
        .chain(jobs2)
        .map(|j| j["name"].as_str().expect("n"))
        .collect();
    assert_eq!(names.len(), 125);

    // Page size: small, capped, invalid.
    let (_, p) = env.get(&format!("{base}?pageSize=7")).await;
    assert_eq!(p["customJobs"].as_array().map(Vec::len), Some(7));
    let (_, p) = env.get(&format!("{base}?page_size=1000")).await;
    assert_eq!(p["customJobs"].as_array().map(Vec::len), Some(100));
    for bad in ["99999999999999", "-1", "abc"] {
        let (s, body) = env.get(&format!("{base}?pageSize={bad}")).await;
        assert_eq!(s, 400, "{bad}");
        assert_google_error(&body, 400, "INVALID_ARGUMENT");
    }
    // Tampered and foreign tokens.
    let mut tampered = token.to_string();
    let last = tampered.pop().expect("char");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let foreign_filter = format!("{base}?pageToken={token}&filter=state%3DJOB_STATE_RUNNING");
    let foreign_parent =
        format!("/v1/projects/demo-project/locations/europe-west4/customJobs?pageToken={token}");
    for path in [
        format!("{base}?pageToken={tampered}"),
        format!("{base}?pageToken=garbage"),
        foreign_filter,
        foreign_parent,
    ] {
        let (s, body) = env.get(&path).await;
        assert_eq!(s, 400, "{path}");
        assert_google_error(&body, 400, "INVALID_ARGUMENT");
    }
    // An empty location gives {}.
    let (s, empty) = env
        .get("/v1/projects/demo-project/locations/asia-east1/customJobs")
        .await;
    assert_eq!((s.as_u16(), empty), (200, json!({})));
    // readMask.
    let (_, masked) = env
        .get(&format!("{base}?readMask=display_name,state&pageSize=3"))
        .await;
    for j in masked["customJobs"].as_array().expect("jobs") {
        let keys: Vec<&String> = j.as_object().expect("obj").keys().collect();
        assert_eq!(keys.len(), 2, "{j}");
        assert!(j["displayName"].is_string() && j["state"].is_string());
    }
    let (_, nested) = env
        .get(&format!(
            "{base}?readMask=jobSpec.workerPoolSpecs.machineSpec&pageSize=1"
        ))
        .await;
    let spec = &nested["customJobs"][0]["jobSpec"];
    assert!(
        spec["workerPoolSpecs"][0]["machineSpec"]["machineType"].is_string(),
        "{nested}"
    );
    assert!(spec["workerPoolSpecs"][0].get("containerSpec").is_none());
    assert!(spec.get("baseOutputDirectory").is_none());
    let (s, _) = env.get(&format!("{base}?readMask=nope")).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn list_filters_table() {
    let env = Env::start(Config {
        seed_jobs: 200,
        ..base_config()
    })
    .await;
    let base = "/v1/projects/demo-project/locations/europe-west4/customJobs";
    // Everything, to check each filter against a local evaluation.
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("{base}?pageToken={t}"),
            None => base.to_string(),
        };
        let (_, page) = env.get(&path).await;
        all.extend(page["customJobs"].as_array().cloned().unwrap_or_default());
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(all.len(), 100);
    let mid_time = all[50]["createTime"].as_str().expect("t").to_string();
    type Pred = Box<dyn Fn(&Value) -> bool>;
    let s = |j: &Value, k: &str| j[k].as_str().unwrap_or("").to_string();
    let cases: Vec<(String, Pred)> = vec![
        (
            "state=JOB_STATE_SUCCEEDED".into(),
            Box::new(move |j| s(j, "state") == "JOB_STATE_SUCCEEDED"),
        ),
        (
            "state!=\"JOB_STATE_SUCCEEDED\"".into(),
            Box::new(move |j| s(j, "state") != "JOB_STATE_SUCCEEDED"),
        ),
        (
            "display_name:\"bert-*\"".into(),
            Box::new(move |j| s(j, "displayName").starts_with("bert-")),
        ),
        (
            "display_name=\"bert-finetune-00001\"".into(),
            Box::new(move |j| s(j, "displayName") == "bert-finetune-00001"),
        ),
        (
            "NOT display_name:\"*1\"".into(),
            Box::new(move |j| !s(j, "displayName").ends_with('1')),
        ),
        (format!("create_time>\"{mid_time}\""), {
            let t = mid_time.clone();
            Box::new(move |j| s(j, "createTime") > t)
        }),
        (format!("create_time<={mid_time}"), {
            let t = mid_time.clone();
            Box::new(move |j| s(j, "createTime") <= t)
        }),
        (
            "labels.team=nlp".into(),
            Box::new(|j| j["labels"]["team"] == "nlp"),
        ),
        (
            "labels.owner:*".into(),
            Box::new(|j| j["labels"].get("owner").is_some()),
        ),
        (
            "labels.team=nlp AND (state=JOB_STATE_RUNNING OR state=JOB_STATE_FAILED)".into(),
            Box::new(|j| {
                j["labels"]["team"] == "nlp"
                    && (j["state"] == "JOB_STATE_RUNNING" || j["state"] == "JOB_STATE_FAILED")
            }),
        ),
        (
            "-labels.env=prod state=JOB_STATE_SUCCEEDED".into(),
            Box::new(|j| j["labels"]["env"] != "prod" && j["state"] == "JOB_STATE_SUCCEEDED"),
        ),
    ];
    for (filter, pred) in cases {
        let want: Vec<&Value> = all.iter().filter(|j| pred(j)).map(|j| &j["name"]).collect();
        let (st, page) = env
            .get(&format!(
                "{base}?pageSize=100&filter={}",
                urlencode(&filter)
            ))
            .await;
        assert_eq!(st, 200, "{filter}: {page}");
        let got: Vec<&Value> = page["customJobs"]
            .as_array()
            .map(|a| a.iter().map(|j| &j["name"]).collect())
            .unwrap_or_default();
        assert_eq!(got, want, "{filter}");
        assert!(
            !want.is_empty() || filter.contains("00001"),
            "{filter} matched nothing"
        );
    }
    // Filter paging keeps the filter.
    let (_, p) = env
        .get(&format!(
            "{base}?pageSize=5&filter={}",
            urlencode("state=JOB_STATE_SUCCEEDED")
        ))
        .await;
    let t = p["nextPageToken"].as_str().expect("token");
    let (s2, p2) = env
        .get(&format!(
            "{base}?pageSize=5&pageToken={t}&filter={}",
            urlencode("state=JOB_STATE_SUCCEEDED")
        ))
        .await;
    assert_eq!(s2, 200);
    assert_eq!(p2["customJobs"].as_array().map(Vec::len), Some(5));
    // Malformed filters name the position.
    for (bad, pos) in [
        ("state=", 7),
        ("(state=JOB_STATE_FAILED", 1),
        ("colour=red", 1),
        ("create_time>soon", 13),
    ] {
        let (st, body) = env.get(&format!("{base}?filter={}", urlencode(bad))).await;
        assert_eq!(st, 400, "{bad}");
        assert_google_error(&body, 400, "INVALID_ARGUMENT");
        let msg = body["error"]["message"].as_str().expect("msg");
        assert!(msg.contains(&format!("position {pos}")), "{bad}: {msg}");
    }
}

#[tokio::test]
async fn wire_format() {
    let env = Env::start(Config {
        seed_jobs: 4,
        ..base_config()
    })
    .await;
    let mut j = job("enums");
    j["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]["acceleratorType"] = json!("NVIDIA_L4");
    j["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]["acceleratorCount"] = json!(1);
    let created = env.create("us-central1", &j).await;
    let path = format!("/v1/{}", created["name"].as_str().expect("name"));
    let (s, got) = env
        .get(&format!("{path}?%24alt=json%3Benum-encoding%3Dint"))
        .await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(got["state"], 2);
    assert_eq!(
        got["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]["acceleratorType"],
        11
    );
    assert_eq!(got["jobSpec"]["workerPoolSpecs"][0]["replicaCount"], "1");
    let (_, listed) = env
        .get("/v1/projects/demo-project/locations/us-central1/customJobs?$alt=json;enum-encoding=int")
        .await;
    assert!(
        listed["customJobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .all(|j| j["state"].is_number())
    );
    // GET and DELETE with a JSON content type and no body.
    let resp = env
        .get_with(&path, &[("content-type", "application/json")])
        .await;
    assert_eq!(resp.status(), 200);
    // Pretty by default, compact on request.
    let (_, text) = env.text(Method::GET, &path, None).await;
    assert!(text.contains("\n  \"name\""));
    let (_, text) = env
        .text(Method::GET, &format!("{path}?prettyPrint=false"), None)
        .await;
    assert!(!text.contains('\n'));
    // Unknown routes and parameters.
    for p in [
        "/v1/projects/demo-project/locations/us-central1/models",
        "/nothing",
        "/v2/x",
    ] {
        let (s, body) = env.get(p).await;
        assert_eq!(s, 404, "{p}");
        assert_google_error(&body, 404, "NOT_FOUND");
    }
    let (s, body) = env.get(&format!("{path}?colour=red")).await;
    assert_eq!(s, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("m")
            .contains("colour")
    );
    // Locations, under /v1 and /ui.
    let (_, locs) = env.get("/v1/projects/demo-project/locations").await;
    let list = locs["locations"].as_array().expect("locations");
    assert!(list.iter().any(|l| l["locationId"] == "europe-west4"));
    let (s, loc) = env
        .get("/ui/projects/demo-project/locations/us-central1")
        .await;
    assert_eq!(s, 200);
    assert_eq!(loc["name"], "projects/demo-project/locations/us-central1");
    let (_, page) = env
        .get("/v1/projects/demo-project/locations?pageSize=10")
        .await;
    let t = page["nextPageToken"].as_str().expect("token");
    let (_, page2) = env
        .get(&format!(
            "/v1/projects/demo-project/locations?pageSize=10&pageToken={t}"
        ))
        .await;
    assert_ne!(page["locations"][0], page2["locations"][0]);
    let (s, _) = env
        .get("/v1/projects/demo-project/locations/mars-north1")
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn auth_flows() {
    let env = Env::start(Config {
        token_lifetime: Duration::from_secs(1),
        projects: vec!["demo-project".into(), "other-allowed".into()],
        ..base_config()
    })
    .await;
    let path = "/v1/projects/demo-project/locations/us-central1/customJobs";
    let key = env.key();
    assert_eq!(key["type"], "service_account");
    assert_eq!(key["token_uri"], format!("{}/token", env.running.base_url));
    for field in [
        "project_id",
        "private_key_id",
        "private_key",
        "client_email",
    ] {
        assert!(key[field].is_string(), "{field}");
    }
    // Missing, unknown tokens.
    let (s, body) = env.call_with(Method::GET, path, None, None).await;
    assert_eq!(s, 401);
    assert_google_error(&body, 401, "UNAUTHENTICATED");
    let (s, _) = env
        .call_with(Method::GET, path, None, Some("ya29.nope"))
        .await;
    assert_eq!(s, 401);
    // The issued token works, then expires (lifetime 1 s, real time).
    let (s, _) = env.get(path).await;
    assert_eq!(s, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (s, body) = env.get(path).await;
    assert_eq!(s, 401);
    assert!(body.to_string().contains("ACCESS_TOKEN_EXPIRED"));

    // Token endpoint: audiences and assertion checks.
    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let own_aud = format!("{}/token", env.running.base_url);
    for (aud, ok) in [
        ("https://oauth2.googleapis.com/token", true),
        (own_aud.as_str(), true),
        ("https://evil.example/token", false),
    ] {
        let (s, body) = env
            .form(
                "/token",
                &[("grant_type", grant), ("assertion", &env.assertion(aud))],
            )
            .await;
        assert_eq!(s == 200, ok, "{aud}: {body}");
        if ok {
            assert_eq!(body["token_type"], "Bearer");
            assert_eq!(body["expires_in"], 1);
        } else {
            assert_eq!(body["error"], "invalid_grant");
        }
    }
    let now = now_secs();
    let email = key["client_email"].as_str().expect("email");
    let pem = key["private_key"].as_str().expect("pem");
    let kid = key["private_key_id"].as_str();
    let bad_assertions = [
        (
            "expired",
            sign(
                pem,
                kid,
                &json!({"iss": email, "aud": "https://oauth2.googleapis.com/token", "iat": now - 7200, "exp": now - 3600}),
            ),
        ),
        (
            "too long",
            sign(
                pem,
                kid,
                &json!({"iss": email, "aud": "https://oauth2.googleapis.com/token", "iat": now, "exp": now + 7200}),
            ),
        ),
        (
            "other key",
            sign(
                &other_key(),
                kid,
                &json!({"iss": email, "aud": "https://oauth2.googleapis.com/token", "iat": now, "exp": now + 3600}),
            ),
        ),
        (
            "wrong issuer",
            sign(
                pem,
                kid,
                &json!({"iss": "x@y", "aud": "https://oauth2.googleapis.com/token", "iat": now, "exp": now + 3600}),
            ),
        ),
        ("garbage", "a.b.c".to_string()),
    ];
    for (case, a) in bad_assertions {
        let (s, body) = env
            .form("/token", &[("grant_type", grant), ("assertion", &a)])
            .await;
        assert_eq!(s, 400, "{case}");
        assert_eq!(body["error"], "invalid_grant", "{case}");
    }
    let (s, body) = env.form("/token", &[("grant_type", "password")]).await;
    assert_eq!(
        (s.as_u16(), body["error"].clone()),
        (400, json!("unsupported_grant_type"))
    );

    // Refresh-token grant for the authorized_user file.
    let user = env.running.authorized_user_json();
    assert_eq!(user["type"], "authorized_user");
    let (s, body) = env
        .form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", user["refresh_token"].as_str().expect("rt")),
                ("client_id", user["client_id"].as_str().expect("id")),
                (
                    "client_secret",
                    user["client_secret"].as_str().expect("secret"),
                ),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = env
        .form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "1//wrong"),
            ],
        )
        .await;
    assert_eq!(s, 400);

    // Self-signed JWTs (AIP-4111): service audience, or a scope claim.
    let self_signed = [
        (
            "aud",
            sign(
                pem,
                kid,
                &json!({"iss": email, "sub": email, "aud": "https://aiplatform.googleapis.com/", "iat": now, "exp": now + 3600}),
            ),
            true,
        ),
        (
            "regional aud",
            sign(
                pem,
                kid,
                &json!({"iss": email, "sub": email, "aud": "https://us-central1-aiplatform.googleapis.com/", "iat": now, "exp": now + 3600}),
            ),
            true,
        ),
        (
            "scope",
            sign(
                pem,
                kid,
                &json!({"iss": email, "sub": email, "scope": "https://www.googleapis.com/auth/cloud-platform", "iat": now, "exp": now + 3600}),
            ),
            true,
        ),
        (
            "other key",
            sign(
                &other_key(),
                kid,
                &json!({"iss": email, "sub": email, "aud": "https://aiplatform.googleapis.com/", "iat": now, "exp": now + 3600}),
            ),
            false,
        ),
        (
            "wrong kid",
            sign(
                pem,
                Some("0000"),
                &json!({"iss": email, "sub": email, "aud": "https://aiplatform.googleapis.com/", "iat": now, "exp": now + 3600}),
            ),
            false,
        ),
        (
            "no aud nor scope",
            sign(
                pem,
                kid,
                &json!({"iss": email, "sub": email, "iat": now, "exp": now + 3600}),
            ),
            false,
        ),
        (
            "expired",
            sign(
                pem,
                kid,
                &json!({"iss": email, "sub": email, "aud": "https://aiplatform.googleapis.com/", "iat": now - 7200, "exp": now - 3600}),
            ),
            false,
        ),
    ];
    for (case, jwt, ok) in self_signed {
        let (s, body) = env.call_with(Method::GET, path, None, Some(&jwt)).await;
        assert_eq!(s == 200, ok, "{case}: {body}");
        if !ok {
            assert_eq!(s, 401, "{case}");
        }
    }

    // Metadata server.
    let md = "/computeMetadata/v1/instance/service-accounts/default/token";
    let r = env.get_as(md, None, &[]).await;
    assert_eq!(r.status(), 403);
    let r = env.get_as(md, None, &[("Metadata-Flavor", "Google")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["metadata-flavor"], "Google");
    let body: Value = r.json().await.expect("json");
    let md_token = body["access_token"].as_str().expect("token");
    let (s, _) = env.call_with(Method::GET, path, None, Some(md_token)).await;
    assert_eq!(s, 200);

    // --projects: others are 403, by id or number; allowed ones work by number too.
    let fresh = env.token_via_endpoint().await;
    for (project, want) in [
        ("demo-project".to_string(), 200),
        (project_number("demo-project").to_string(), 200),
        ("other-allowed".to_string(), 200),
        ("forbidden-project".to_string(), 403),
        (project_number("forbidden-project").to_string(), 403),
    ] {
        let (s, body) = env
            .call_with(
                Method::GET,
                &format!("/v1/projects/{project}/locations/us-central1/customJobs"),
                None,
                Some(&fresh),
            )
            .await;
        assert_eq!(s.as_u16(), want, "{project}: {body}");
        if want == 403 {
            assert_google_error(&body, 403, "PERMISSION_DENIED");
        }
    }
}

#[tokio::test]
async fn regional_routing() {
    let env = Env::start(base_config()).await;
    let path = "/v1/projects/demo-project/locations/us-central1/customJobs";
    let r = env
        .get_with(path, &[("host", "europe-west4-aiplatform.googleapis.com")])
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert_google_error(&body, 400, "INVALID_ARGUMENT");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("m")
            .contains("doesn't match the endpoint"),
        "{body}"
    );
    assert_eq!(
        body["error"]["details"][0]["fieldViolations"][0]["field"],
        "parent"
    );
    let r = env
        .get_with(path, &[("host", "us-central1-aiplatform.googleapis.com")])
        .await;
    assert_eq!(r.status(), 200);
    // The emulator's own address accepts any location.
    for loc in ["europe-west4", "asia-east1", "us-central1"] {
        let (s, _) = env
            .get(&format!(
                "/v1/projects/demo-project/locations/{loc}/customJobs"
            ))
            .await;
        assert_eq!(s, 200, "{loc}");
    }
}

#[tokio::test]
async fn stats_reset_and_clock() {
    let env = Env::start(Config {
        seed_jobs: 6,
        ..base_config()
    })
    .await;
    let base = "/v1/projects/demo-project/locations/us-central1/customJobs";
    for _ in 0..3 {
        env.get(base).await;
    }
    env.get(&format!("{base}/1234567890123456789")).await;
    env.get("/ui/projects/demo-project/locations").await;
    let (_, text) = env.text(Method::GET, "/emulator/stats", None).await;
    // Exactly this shape, keys in this order.
    assert!(
        text.starts_with(r#"{"requests":[{"method":"customJobs.get","status":404,"count":1},"#),
        "{text}"
    );
    let stats: Value = serde_json::from_str(&text).expect("j");
    assert_eq!(
        stats,
        json!({"requests": [
            {"method": "customJobs.get", "status": 404, "count": 1},
            {"method": "customJobs.list", "status": 200, "count": 3},
            {"method": "locations.list", "status": 200, "count": 1},
            {"method": "token", "status": 200, "count": 1},
        ], "persistence": {"writes": 0, "failures": 0}})
    );
    // Clock.
    let (_, clock) = env.control(Method::GET, "clock").await;
    assert_eq!(clock["now"], "2025-06-01T12:00:00Z");
    env.advance(90).await;
    let (_, clock) = env.control(Method::GET, "clock").await;
    assert_eq!(clock["now"], "2025-06-01T12:01:30Z");
    let (s, _) = env.control(Method::POST, "clock:advance?seconds=-3").await;
    assert_eq!(s, 400);
    // Reset empties jobs and stats.
    let (s, _) = env.control(Method::POST, "reset").await;
    assert_eq!(s, 200);
    let (s, body) = env.get(base).await;
    assert_eq!((s.as_u16(), body), (200, json!({})));
    let (_, stats) = env.control(Method::GET, "stats").await;
    assert_eq!(
        stats["requests"],
        json!([{"method": "customJobs.list", "status": 200, "count": 1}])
    );
}

#[tokio::test]
async fn seeding_is_deterministic() {
    let a = Env::start(Config {
        seed_jobs: 40,
        ..base_config()
    })
    .await;
    let b = Env::start(Config {
        seed_jobs: 40,
        ..base_config()
    })
    .await;
    let mut seen_states = std::collections::HashSet::new();
    for loc in ["us-central1", "europe-west4"] {
        let path = format!("/v1/projects/demo-project/locations/{loc}/customJobs");
        let (_, ja) = a.get(&path).await;
        let (_, jb) = b.get(&path).await;
        assert_eq!(ja, jb);
        let jobs = ja["customJobs"].as_array().expect("jobs");
        assert_eq!(jobs.len(), 20);
        for j in jobs {
            seen_states.insert(j["state"].as_str().expect("state").to_string());
        }
    }
    for s in [
        "JOB_STATE_PENDING",
        "JOB_STATE_RUNNING",
        "JOB_STATE_SUCCEEDED",
        "JOB_STATE_FAILED",
        "JOB_STATE_CANCELLED",
    ] {
        assert!(seen_states.contains(s), "{s} missing from {seen_states:?}");
    }
}

#[tokio::test]
async fn discovery_document() {
    let with = Env::start(Config {
        discovery: Some("{\"name\":\"aiplatform\",\"version\":\"v1\"}".into()),
        ..base_config()
    })
    .await;
    let (s, doc) = with.get("/$discovery/rest?version=v1").await;
    assert_eq!(s, 200);
    assert_eq!(doc["name"], "aiplatform");
    let (s, _) = with.get("/$discovery/rest?version=v2").await;
    assert_eq!(s, 404);
    let without = Env::start(base_config()).await;
    let (s, _) = without.get("/$discovery/rest?version=v1").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn faults_and_latency() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let env = Env::start(Config {
            fault_rate: 0.5,
            fault_seed: seed,
            ..base_config()
        })
        .await;
        let mut out = Vec::new();
        for _ in 0..40 {
            let r = env
                .get_with(
                    "/v1/projects/demo-project/locations/us-central1/customJobs",
                    &[],
                )
                .await;
            let status = r.status().as_u16();
            if status == 429 {
                assert_eq!(r.headers()["retry-after"], "1");
                let body: Value = r.json().await.expect("json");
                assert_google_error(&body, 429, "RESOURCE_EXHAUSTED");
                let info = &body["error"]["details"][0];
                assert_eq!(info["reason"], "RATE_LIMIT_EXCEEDED");
                // A per-project quota's 429 names the project charged.
                assert_eq!(
                    info["metadata"]["consumer"],
                    format!("projects/{}", project_number("demo-project"))
                );
            } else if status == 503 {
                let body: Value = r.json().await.expect("json");
                assert_google_error(&body, 503, "UNAVAILABLE");
            }
            out.push(status);
        }
        out
    }
    let a = statuses(7).await;
    let b = statuses(7).await;
    assert_eq!(a, b);
    for code in [200, 429, 503] {
        assert!(a.contains(&code), "{code} never seen in {a:?}");
    }
    assert_ne!(a, statuses(8).await);

    let slow = Env::start(Config {
        latency: Duration::from_millis(150),
        ..base_config()
    })
    .await;
    let t = Instant::now();
    let (s, _) = slow
        .get("/v1/projects/demo-project/locations/us-central1/customJobs")
        .await;
    assert_eq!(s, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn bad_input_never_crashes() {
    let env = Env::start(Config {
        body_limit: 4096,
        seed_jobs: 2,
        ..base_config()
    })
    .await;
    let create = "/v1/projects/demo-project/locations/us-central1/customJobs";
    let auth = format!("Bearer {}", env.token);
    let post = |ct: &str, body: &str| -> Vec<u8> {
        format!(
            "POST {create} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let get = |path: &str| -> Vec<u8> {
        format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
        )
        .into_bytes()
    };
    let big = format!("{{\"displayName\":\"{}\"}}", "x".repeat(10_000));
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "malformed json",
            post("application/json", "{\"displayName\": "),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "not an object",
            post("application/json", "[1,2]"),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "wrong content type",
            post("text/plain", "{}"),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "too large",
            post("application/json", &big),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "dot dot",
            get("/v1/projects/demo-project/locations/us-central1/customJobs/../x"),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "encoded dot dot",
            get("/v1/projects/demo-project/locations/%2E%2E/customJobs"),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "encoded slash",
            get("/v1/projects/demo-project%2Flocations/us-central1/customJobs"),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "bad percent",
            get("/v1/projects/demo%zz/locations/us-central1/customJobs"),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "huge page size",
            get(&format!("{create}?pageSize=99999999999999999999999")),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "non-numeric id",
            get(&format!("{create}/abc")),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "huge id",
            get(&format!("{create}/99999999999999999999999999")),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "bad query encoding",
            get(&format!("{create}?filter=%zz")),
            400,
            "INVALID_ARGUMENT",
        ),
    ];
    for (case, req, want, status) in cases {
        let (got, body) = raw(env.running.addr, &req).await;
        assert_eq!(got, want, "{case}: {body}");
        assert_eq!(body["error"]["code"], want, "{case}: {body}");
        if !status.is_empty() {
            assert_eq!(body["error"]["status"], status, "{case}");
        }
    }
    // Garbage on the socket, then the server still answers with its state intact.
    let (_, _) = raw(env.running.addr, b"\x00\x01garbage\r\n\r\n").await;
    let (s, body) = env.get(create).await;
    assert_eq!(s, 200);
    assert_eq!(body["customJobs"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn state_file_survives_restart() {
    let dir = std::env::temp_dir().join(format!("skyql-emu-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let state = dir.join("state.json");
    let _ = std::fs::remove_file(&state);
    let config = || Config {
        state_file: Some(state.clone()),
        signing_key_pem: None,
        ..base_config()
    };
    let first = Env::start(config()).await;
    let key = first.key();
    let kept = first.create("us-central1", &job("kept")).await;
    let gone = first.create("europe-west4", &job("gone")).await;
    let gone_path = format!("/v1/{}", gone["name"].as_str().expect("name"));
    first
        .call(Method::POST, &format!("{gone_path}:cancel"), None)
        .await;
    first.advance(5).await;
    let (s, op) = first.call(Method::DELETE, &gone_path, None).await;
    assert_eq!(s, 200, "{op}");
    let token = first.token.clone();
    first.running.shutdown().await.expect("shutdown");
    assert!(state.exists());

    let second = Env::with_token(spawn(config()).await.expect("restart"), token);
    assert_eq!(second.key()["private_key"], key["private_key"]);
    // The old access token still works; the job, the operation and the clock are back.
    let (s, body) = second
        .get(&format!("/v1/{}", kept["name"].as_str().expect("n")))
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["displayName"], "kept");
    assert_eq!(body["state"], "JOB_STATE_RUNNING");
    let (s, _) = second
        .get(&format!("/v1/{}", op["name"].as_str().expect("n")))
        .await;
    assert_eq!(s, 200);
    let (s, _) = second.get(&gone_path).await;
    assert_eq!(s, 404);
    // A token issued in process (no HTTP call) is kept too.
    let direct = second.running.emulator.issue_access_token();
    second.running.shutdown().await.expect("shutdown");
    let third = Env::with_token(spawn(config()).await.expect("restart"), direct);
    let (s, _) = third
        .get(&format!("/v1/{}", kept["name"].as_str().expect("n")))
        .await;
    assert_eq!(s, 200, "the in-process token survived the restart");
    third.running.shutdown().await.expect("shutdown");
    // A corrupt state file is a clear error, not a panic.
    std::fs::write(&state, b"{not json").expect("write");
    let err = spawn(config()).await.err().expect("error");
    assert!(err.to_string().contains("state file"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
