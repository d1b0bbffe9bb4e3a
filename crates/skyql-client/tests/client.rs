//! Integration tests of the API client over loopback only: against the
//! in-process emulator (every credential flow, retries under injected faults,
//! Google's error shapes) and against tiny hand-written servers (HTML error
//! pages, broken bodies, 401 then 200, counting requests in flight).
//! Environment variables are never set: the client reads them through
//! `Client::with_env`, so tests stay independent of each other.

use serde_json::{Value, json};
use skyql_client::{
    ApiRequest, AuthConfig, Client, ClientConfig, DryRunRequest, DryRunSink, Error,
};
use skyql_emulator::{Config, Running};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers

/// One signing key for the whole binary (RSA key generation is slow in debug builds).
fn shared_key() -> String {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        skyql_emulator::auth::Keys::new(None, "demo-project")
            .expect("key")
            .private_key_pem
    })
    .clone()
}

async fn emulator(config: Config) -> Running {
    skyql_emulator::spawn(Config {
        signing_key_pem: Some(shared_key()),
        ..config
    })
    .await
    .expect("emulator")
}

/// A client for `endpoint` with an empty environment.
fn client_at(endpoint: &str, auth: AuthConfig, tweak: impl FnOnce(&mut ClientConfig)) -> Client {
    client_env(endpoint, auth, HashMap::new(), tweak)
}

fn client_env(
    endpoint: &str,
    auth: AuthConfig,
    env: HashMap<String, String>,
    tweak: impl FnOnce(&mut ClientConfig),
) -> Client {
    let mut config = ClientConfig {
        endpoint: Some(endpoint.to_string()),
        auth,
        timeout: Duration::from_secs(20),
        ..ClientConfig::default()
    };
    tweak(&mut config);
    Client::with_env(config, move |k| env.get(k).cloned()).expect("client")
}

/// A client for `endpoint` with the default settings and an empty environment.
fn client_for(endpoint: &str, auth: AuthConfig) -> Client {
    client_at(endpoint, auth, |_| {})
}

/// A client configured so, with an empty environment, or the error's text.
fn configured(config: ClientConfig) -> Result<Client, String> {
    Client::with_env(config, |_| None).map_err(|e| e.to_string())
}

fn sa_json(running: &Running) -> AuthConfig {
    AuthConfig::ServiceAccountJson(running.key_json().to_string())
}

fn get(path: &str) -> ApiRequest {
    ApiRequest {
        method: "GET".into(),
        root_url: "https://us-central1-aiplatform.googleapis.com/".into(),
        path: path.into(),
        query: Vec::new(),
        body: None,
    }
}

/// A create: `body` POSTed to the jobs collection.
fn post(body: Value) -> ApiRequest {
    ApiRequest {
        method: "POST".into(),
        body: Some(body),
        ..get(JOBS)
    }
}

const JOBS: &str = "v1/projects/demo-project/locations/us-central1/customJobs";

/// The error sending `req` ends in, as the user reads it (`what` says
/// which failure is expected).
async fn failure(client: &Client, req: ApiRequest, what: &str) -> String {
    client.send(req).await.expect_err(what).to_string()
}

/// Sends `n` GETs of `path` at once, each from its own task; their results
/// in order.
async fn send_concurrently(client: &Client, path: &str, n: usize) -> Vec<Result<Value, Error>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (c, req) = (client.clone(), get(path));
            tokio::spawn(async move { c.send(req).await })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("join"));
    }
    out
}

/// `/emulator/stats` as (method, status) → count.
async fn stats(running: &Running) -> BTreeMap<(String, u16), u64> {
    let v: Value = reqwest::get(format!("{}/emulator/stats", running.base_url))
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats json");
    v["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                (
                    r["method"].as_str().unwrap_or("").to_string(),
                    r["status"].as_u64().unwrap_or(0) as u16,
                ),
                r["count"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn count(stats: &BTreeMap<(String, u16), u64>, method: &str, status: Option<u16>) -> u64 {
    stats
        .iter()
        .filter(|((m, s), _)| m == method && status.is_none_or(|want| *s == want))
        .map(|(_, n)| n)
        .sum()
}

fn write_temp(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    path
}

/// A loopback HTTP/1.1 server on a std thread that answers each connection
/// with the next canned response (then closes it) and records the requests.
struct Canned {
    base_url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

fn canned(responses: Vec<Vec<u8>>) -> Canned {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("addr"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for response in responses {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let head = read_head(&mut stream);
            seen.lock().expect("lock").push(head);
            let _ = stream.write_all(&response);
            let _ = stream.flush();
        }
    });
    Canned { base_url, requests }
}

/// Reads a request's head and its body (by Content-Length); returns the head.
fn read_head(stream: &mut std::net::TcpStream) -> String {
    read_request(stream).0
}

/// Reads a request: its head, and the body bytes Content-Length announces.
fn read_request(stream: &mut std::net::TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    let _ = stream.read_exact(&mut body);
    (head, body)
}

fn http(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn bearer(head: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("authorization")
            .then(|| v.trim().trim_start_matches("Bearer ").to_string())
    })
}

/// A loopback port nobody listens on.
fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}")
}

// ---------------------------------------------------------------- credentials

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_key_lists_jobs_and_caches_the_token() {
    let running = emulator(Config {
        seed_jobs: 4,
        ..Config::default()
    })
    .await;
    let client = client_for(&running.base_url, sa_json(&running));
    let page = client.send(get(JOBS)).await.expect("list");
    let jobs = page["customJobs"].as_array().expect("customJobs");
    assert_eq!(jobs.len(), 2, "{page}"); // 4 seeded, alternating two locations
    assert!(
        jobs.iter()
            .all(|j| j["name"].as_str().unwrap_or("").contains("/customJobs/"))
    );
    client.send(get(JOBS)).await.expect("list again");

    // The same through a key file.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_temp(&dir, "key.json", &running.key_json().to_string());
    let from_file = client_for(&running.base_url, AuthConfig::ServiceAccountFile(path));
    from_file.send(get(JOBS)).await.expect("list with key file");

    let s = stats(&running).await;
    assert_eq!(
        count(&s, "token", Some(200)),
        2,
        "one token per client: {s:?}"
    );
    assert_eq!(count(&s, "customJobs.list", Some(200)), 3, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_requests_share_one_token_fetch() {
    let running = emulator(Config::default()).await;
    let client = client_for(&running.base_url, sa_json(&running));
    for r in send_concurrently(&client, JOBS, 8).await {
        r.expect("send");
    }
    let s = stats(&running).await;
    assert_eq!(count(&s, "token", None), 1, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorized_user_via_application_credentials_and_well_known_file() {
    let running = emulator(Config::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_temp(
        &dir,
        "adc.json",
        &running.authorized_user_json().to_string(),
    );
    let env = HashMap::from([(
        "GOOGLE_APPLICATION_CREDENTIALS".to_string(),
        path.display().to_string(),
    )]);
    let client = client_env(&running.base_url, AuthConfig::Default, env, |_| {});
    client
        .send(get(JOBS))
        .await
        .expect("authorized_user via ADC");

    // gcloud's well-known file under $HOME.
    let home = tempfile::tempdir().expect("home");
    std::fs::create_dir_all(home.path().join(".config/gcloud")).expect("mkdir");
    write_temp(
        &home,
        ".config/gcloud/application_default_credentials.json",
        &running.authorized_user_json().to_string(),
    );
    let env = HashMap::from([("HOME".to_string(), home.path().display().to_string())]);
    let client = client_env(&running.base_url, AuthConfig::Default, env, |_| {});
    client.send(get(JOBS)).await.expect("well-known file");
    assert_eq!(count(&stats(&running).await, "token", Some(200)), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_credentials_env_comes_first() {
    let running = emulator(Config::default()).await;
    let env = HashMap::from([
        (
            "GOOGLE_CREDENTIALS".to_string(),
            running.key_json().to_string(),
        ),
        // Would fail if it were used.
        (
            "GOOGLE_APPLICATION_CREDENTIALS".to_string(),
            "/nonexistent/key.json".to_string(),
        ),
    ]);
    let client = client_env(&running.base_url, AuthConfig::Default, env, |_| {});
    client.send(get(JOBS)).await.expect("GOOGLE_CREDENTIALS");

    let env = HashMap::from([("GOOGLE_CREDENTIALS".to_string(), "{not json".to_string())]);
    let client = client_env(&running.base_url, AuthConfig::Default, env, |_| {});
    let err = failure(&client, get(JOBS), "bad GOOGLE_CREDENTIALS").await;
    assert!(
        err.starts_with("GOOGLE_CREDENTIALS: not valid JSON"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_server_via_gce_metadata_host() {
    let running = emulator(Config::default()).await;
    let host = running.base_url.trim_start_matches("http://").to_string();
    let env = HashMap::from([
        ("GCE_METADATA_HOST".to_string(), host),
        ("HOME".to_string(), "/nonexistent-home".to_string()),
    ]);
    let client = client_env(&running.base_url, AuthConfig::Default, env, |_| {});
    client.send(get(JOBS)).await.expect("metadata token");
    client.send(get(JOBS)).await.expect("cached metadata token");
    assert_eq!(
        count(&stats(&running).await, "metadata.token", Some(200)),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_fails_fast_with_what_to_do() {
    let env = HashMap::from([
        ("GCE_METADATA_HOST".to_string(), closed_port_url()),
        ("HOME".to_string(), "/nonexistent-home".to_string()),
    ]);
    let client = client_env(&closed_port_url(), AuthConfig::Default, env, |_| {});
    let started = Instant::now();
    let err = client.send(get(JOBS)).await.expect_err("no credentials");
    let text = err.to_string();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(
        text.starts_with("no credentials found: set GOOGLE_CREDENTIALS"),
        "{text}"
    );
    assert!(text.contains("--auth"), "{text}");
    assert!(text.contains("metadata server"), "{text}");
    // Remembered for a while: a fan-out does not probe once per request.
    let again = failure(&client, get(JOBS), "still none").await;
    assert_eq!(again, text);
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_key_files_name_the_file_and_the_problem() {
    let running = emulator(Config::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut key = running.key_json();
    key.as_object_mut().expect("object").remove("private_key");
    let path = write_temp(&dir, "key.json", &key.to_string());
    let client = client_for(
        &running.base_url,
        AuthConfig::ServiceAccountFile(path.clone()),
    );
    let err = failure(&client, get(JOBS), "no private key").await;
    assert!(
        err.starts_with(&format!(
            "{}: not a service account key (missing private_key)",
            path.display()
        )),
        "{err}"
    );

    let missing = dir.path().join("missing.json");
    let client = client_for(
        &running.base_url,
        AuthConfig::ServiceAccountFile(missing.clone()),
    );
    let err = failure(&client, get(JOBS), "missing").await;
    assert!(
        err.starts_with(&format!(
            "{}: cannot read the credentials file",
            missing.display()
        )),
        "{err}"
    );

    let mut key = running.key_json();
    key["private_key"] =
        json!("-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n");
    let client = client_for(
        &running.base_url,
        AuthConfig::ServiceAccountJson(key.to_string()),
    );
    let err = failure(&client, get(JOBS), "bad pem").await;
    assert!(
        err.contains("private_key is not a valid RSA private key"),
        "{err}"
    );
    assert_eq!(count(&stats(&running).await, "customJobs.list", None), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_errors_are_quoted() {
    let running = emulator(Config::default()).await;
    let mut user = running.authorized_user_json();
    user["refresh_token"] = json!("1//revoked");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_temp(&dir, "adc.json", &user.to_string());
    let client = client_for(&running.base_url, AuthConfig::ServiceAccountFile(path));
    let err = failure(&client, get(JOBS), "revoked").await;
    assert!(err.contains("authorized_user credentials"), "{err}");
    assert!(
        err.contains("answered HTTP 400: invalid_grant: Token has been expired or revoked; the credentials were rejected"),
        "{err}"
    );

    // A key whose email the emulator does not know signs a JWT it rejects.
    let mut key = running.key_json();
    key["client_email"] = json!("someone-else@demo-project.iam.gserviceaccount.com");
    let client = client_for(
        &running.base_url,
        AuthConfig::ServiceAccountJson(key.to_string()),
    );
    let err = failure(&client, get(JOBS), "unknown account").await;
    assert!(
        err.contains("someone-else@demo-project.iam.gserviceaccount.com"),
        "{err}"
    );
    assert!(err.contains("answered HTTP"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_access_token_and_anonymous() {
    let running = emulator(Config::default()).await;
    let token = running.emulator.issue_access_token();
    let client = client_for(&running.base_url, AuthConfig::AccessToken(token));
    client.send(get(JOBS)).await.expect("fixed token");

    let client = client_for(&running.base_url, AuthConfig::AccessToken("bogus".into()));
    let err = client.send(get(JOBS)).await.expect_err("bogus token");
    assert!(
        matches!(&err, Error::Api { status: 401, code, .. } if code == "UNAUTHENTICATED"),
        "{err:?}"
    );
    let client = client_for(&running.base_url, AuthConfig::Anonymous);
    let err = client.send(get(JOBS)).await.expect_err("anonymous");
    assert!(matches!(&err, Error::Api { status: 401, .. }), "{err:?}");
    // No refresh is attempted for either: one request each.
    let s = stats(&running).await;
    assert_eq!(count(&s, "customJobs.list", Some(401)), 2, "{s:?}");
    assert_eq!(count(&s, "token", None), 0, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_refreshed_after_expiry() {
    let running = emulator(Config {
        token_lifetime: Duration::from_secs(2),
        ..Config::default()
    })
    .await;
    let client = client_for(&running.base_url, sa_json(&running));
    client.send(get(JOBS)).await.expect("first");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    client.send(get(JOBS)).await.expect("after expiry");
    let s = stats(&running).await;
    assert_eq!(count(&s, "token", Some(200)), 2, "{s:?}");
    assert_eq!(
        count(&s, "customJobs.list", Some(401)),
        0,
        "refreshed before use: {s:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_refreshes_the_token_once() {
    let running = emulator(Config::default()).await;
    let unauth = http(
        "401 Unauthorized",
        "application/json",
        r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#,
    );
    // 401, then 200: one refresh, success.
    let server = canned(vec![
        unauth.clone(),
        http("200 OK", "application/json", r#"{"ok":true}"#),
    ]);
    let client = client_for(&server.base_url, sa_json(&running));
    let v = client.send(get(JOBS)).await.expect("after refresh");
    assert_eq!(v, json!({"ok": true}));
    let heads = server.requests.lock().expect("lock").clone();
    assert_eq!(heads.len(), 2);
    let (a, b) = (bearer(&heads[0]), bearer(&heads[1]));
    assert!(a.is_some() && b.is_some() && a != b, "{a:?} {b:?}");
    assert_eq!(count(&stats(&running).await, "token", Some(200)), 2);

    // 401 twice: the second is the answer.
    let server = canned(vec![unauth.clone(), unauth.clone(), unauth]);
    let client = client_for(&server.base_url, sa_json(&running));
    let err = client.send(get(JOBS)).await.expect_err("still 401");
    assert!(matches!(&err, Error::Api { status: 401, .. }), "{err:?}");
    assert_eq!(server.requests.lock().expect("lock").len(), 2);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_runs_gcloud() {
    use std::os::unix::fs::PermissionsExt;
    let running = emulator(Config::default()).await;
    let token = running.emulator.issue_access_token();
    let bin = tempfile::tempdir().expect("tempdir");
    let script = bin.path().join("gcloud");
    {
        let mut f = std::fs::File::create(&script).expect("create");
        writeln!(
            f,
            "#!/bin/sh\n[ \"$1 $2\" = \"auth print-access-token\" ] || exit 2\necho {token}"
        )
        .expect("write");
        f.sync_all().expect("sync");
    }
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let env = HashMap::from([("PATH".to_string(), bin.path().display().to_string())]);
    let client = client_env(&running.base_url, AuthConfig::Interactive, env, |_| {});
    // ETXTBSY can hit a just-written script while another thread forks; retry a little.
    let mut result = client.send(get(JOBS)).await;
    for _ in 0..5 {
        if matches!(&result, Err(e) if e.to_string().contains("busy")) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            result = client.send(get(JOBS)).await;
        }
    }
    result.expect("gcloud token");

    let empty = tempfile::tempdir().expect("tempdir");
    let env = HashMap::from([("PATH".to_string(), empty.path().display().to_string())]);
    let client = client_env(&running.base_url, AuthConfig::Interactive, env, |_| {});
    let err = failure(&client, get(JOBS), "no gcloud").await;
    assert!(
        err.starts_with("gcloud auth print-access-token: gcloud is not installed or not on PATH"),
        "{err}"
    );
}

// ---------------------------------------------------------------- --auth

#[test]
fn stackql_auth_json_good_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = json!({"type":"service_account","client_email":"a@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"});
    let path = write_temp(&dir, "key.json", &key.to_string());
    let text = json!({"google":{"type":"service_account","credentialsfilepath": path}}).to_string();
    assert_eq!(
        AuthConfig::from_stackql_json(&text).expect("file"),
        AuthConfig::ServiceAccountFile(path)
    );
    let env = |k: &str| (k == "MY_KEY").then(|| key.to_string());
    let text = r#"{"google":{"type":"service_account","credentialsenvvar":"MY_KEY"}}"#;
    assert_eq!(
        AuthConfig::from_stackql_json_with_env(text, env).expect("env var"),
        AuthConfig::ServiceAccountJson(key.to_string())
    );
    assert_eq!(
        AuthConfig::from_stackql_json(r#" {"google":{"type":"interactive"}} "#)
            .expect("interactive"),
        AuthConfig::Interactive
    );
    // Other providers' entries are ignored.
    assert_eq!(
        AuthConfig::from_stackql_json(
            r#"{"github":{"type":"basic"},"google":{"type":"interactive"}}"#
        )
        .expect("extra providers"),
        AuthConfig::Interactive
    );
}

#[test]
fn stackql_auth_json_bad_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_a_key = write_temp(
        &dir,
        "nokey.json",
        r#"{"type":"service_account","client_email":"a@b"}"#,
    );
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "--auth: not valid JSON"),
        ("{google".into(), "--auth: not valid JSON"),
        ("[]".into(), "--auth: not a JSON object"),
        (r#"{"aws":{"type":"x"}}"#.into(), "--auth: no \"google\" entry (found aws)"),
        (r#"{"google":"service_account"}"#.into(), "\"google\" is not an object"),
        (r#"{"google":{}}"#.into(), "\"google\" has no \"type\""),
        (r#"{"google":{"type":"oauth"}}"#.into(), "unknown auth type \"oauth\""),
        (r#"{"google":{"type":"service_account"}}"#.into(), "needs \"credentialsfilepath\" or \"credentialsenvvar\""),
        (r#"{"google":{"type":"service_account","credentialsfilepath":7}}"#.into(), "\"credentialsfilepath\" must be a string"),
        (
            r#"{"google":{"type":"service_account","credentialsfilepath":"/nonexistent/key.json"}}"#.into(),
            "--auth: cannot read credentialsfilepath /nonexistent/key.json",
        ),
        (
            json!({"google":{"type":"service_account","credentialsfilepath": not_a_key}}).to_string(),
            "not a service account key (missing private_key)",
        ),
        (
            r#"{"google":{"type":"service_account","credentialsenvvar":"UNSET_VAR"}}"#.into(),
            "credentialsenvvar names UNSET_VAR, which is not set",
        ),
    ];
    for (text, want) in cases {
        let err = AuthConfig::from_stackql_json_with_env(&text, |_| None)
            .expect_err(&text)
            .to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
    // The expected shape is shown for shape errors.
    let err = AuthConfig::from_stackql_json("{}")
        .expect_err("empty")
        .to_string();
    assert!(
        err.contains(r#"{"google":{"type":"service_account","credentialsfilepath":"key.json"}}"#),
        "{err}"
    );
}

// ---------------------------------------------------------------- requests and errors

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_carry_status_code_and_message() {
    let running = emulator(Config::default()).await;
    let client = client_for(&running.base_url, sa_json(&running));
    let err = client
        .send(get(&format!("{JOBS}/1234567890123456789")))
        .await
        .expect_err("missing job");
    let text = err.to_string();
    let Error::Api {
        status,
        code,
        message,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!((*status, code.as_str()), (404, "NOT_FOUND"));
    assert!(!message.is_empty());
    assert!(
        text.starts_with(&format!(
            "GET {}/{JOBS}/1234567890123456789: 404 NOT_FOUND: ",
            running.base_url
        )),
        "{text}"
    );

    // A bad create: 400 INVALID_ARGUMENT; not retried (POST).
    let err = client
        .send(post(json!({"displayName": "x"})))
        .await
        .expect_err("invalid job");
    assert!(
        matches!(&err, Error::Api { status: 400, code, .. } if code == "INVALID_ARGUMENT"),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("POST "), "{err}");

    // A good create returns the job.
    let job = client
        .send(post(json!({
            "displayName": "train-1",
            "jobSpec": {"workerPoolSpecs": [{
                "machineSpec": {"machineType": "n1-standard-4"},
                "replicaCount": "1",
                "containerSpec": {"imageUri": "gcr.io/p/i"}
            }]}
        })))
        .await
        .expect("create");
    assert_eq!(job["displayName"], "train-1");
    let s = stats(&running).await;
    assert_eq!(count(&s, "customJobs.create", None), 2, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_parameters_reach_the_server() {
    let running = emulator(Config {
        seed_jobs: 10,
        ..Config::default()
    })
    .await;
    let client = client_for(&running.base_url, sa_json(&running));
    let req = ApiRequest {
        query: vec![
            ("pageSize".into(), "2".into()),
            ("readMask".into(), "name,state".into()),
        ],
        ..get(JOBS)
    };
    assert_eq!(
        client.url_for(&req).expect("url"),
        format!(
            "{}/{JOBS}?pageSize=2&readMask=name%2Cstate",
            running.base_url
        )
    );
    let page = client.send(req).await.expect("page");
    assert_eq!(
        page["customJobs"].as_array().map(Vec::len),
        Some(2),
        "{page}"
    );
    assert!(page["nextPageToken"].is_string(), "{page}");
    assert!(
        page["customJobs"][0].get("displayName").is_none(),
        "readMask applied: {page}"
    );
}

#[test]
fn url_for_applies_the_endpoint_override() {
    let req = ApiRequest {
        query: vec![("a".into(), "1 2".into()), ("a".into(), "x&y".into())],
        ..get("v1/projects/p/locations")
    };
    let google = configured(ClientConfig::default()).expect("client");
    assert_eq!(
        google.url_for(&req).expect("url"),
        "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations?a=1+2&a=x%26y"
    );
    let local = client_for("http://127.0.0.1:8089/prefix/", AuthConfig::Anonymous);
    assert_eq!(
        local.url_for(&get("/v1/x")).expect("url"),
        "http://127.0.0.1:8089/prefix/v1/x"
    );
    let bad = configured(ClientConfig {
        endpoint: Some("localhost:8089".into()),
        ..ClientConfig::default()
    });
    let err = bad.err().unwrap_or_default();
    assert!(
        err.contains("--endpoint `localhost:8089` is not an http(s) URL"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_pages_and_broken_bodies_give_clear_errors() {
    let page = "<!DOCTYPE html>\n<html lang=en>\n  <title>Error 502 (Server Error)!!1</title>\n\n<p>The server encountered a temporary error.</p></html>";
    let server = canned(vec![
        http("502 Bad Gateway", "text/html", page),
        http("200 OK", "application/json", r#"{"customJobs": [ {"name": "#),
        http("200 OK", "application/json", ""),
        // Promises 100 bytes, sends 10, closes.
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"a\": \"bcd".to_vec(),
        http("404 Not Found", "text/plain", ""),
    ]);
    let client = client_at(&server.base_url, AuthConfig::Anonymous, |c| {
        c.max_retries = 0
    });
    let url = format!("{}/{JOBS}", server.base_url);

    let err = client.send(get(JOBS)).await.expect_err("html");
    assert_eq!(
        err.to_string(),
        format!(
            "GET {url}: HTTP 502: <!DOCTYPE html> <html lang=en> <title>Error 502 (Server Error)!!1</title> <p>The server encountered a temporary error.</p></html>"
        )
    );
    let err = client.send(get(JOBS)).await.expect_err("invalid json");
    assert!(
        matches!(err, Error::InvalidJson { status: 200, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "GET {url}: HTTP 200: the response is not valid JSON"
        )),
        "{err}"
    );
    assert_eq!(client.send(get(JOBS)).await.expect("empty"), json!({}));
    let err = client.send(get(JOBS)).await.expect_err("truncated");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("GET {url}: HTTP 200, but reading the body failed")),
        "{err}"
    );
    let err = client.send(get(JOBS)).await.expect_err("empty 404");
    assert_eq!(
        err.to_string(),
        format!("GET {url}: HTTP 404: (empty body)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_retried_then_reported() {
    let dead = closed_port_url();
    let client = client_at(&dead, AuthConfig::Anonymous, |c| c.max_retries = 1);
    let err = client.send(post(json!({}))).await.expect_err("refused");
    assert!(matches!(err.root(), Error::Transport { .. }), "{err:?}");
    assert!(matches!(err, Error::GaveUp { attempts: 2, .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("POST {dead}/{JOBS}: ")),
        "{err}"
    );
}

// ---------------------------------------------------------------- retries, limits, dry run

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_ride_out_injected_faults() {
    let running = emulator(Config {
        seed_jobs: 2,
        fault_rate: 0.5,
        fault_seed: 7,
        ..Config::default()
    })
    .await;
    let client = client_at(&running.base_url, sa_json(&running), |c| c.max_retries = 12);
    for _ in 0..6 {
        let page = client.send(get(JOBS)).await.expect("retried to success");
        assert!(page["customJobs"].is_array(), "{page}");
    }
    let s = stats(&running).await;
    assert_eq!(count(&s, "customJobs.list", Some(200)), 6, "{s:?}");
    let faults = count(&s, "customJobs.list", Some(429)) + count(&s, "customJobs.list", Some(503));
    assert!(faults > 0, "the seed injects faults: {s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_give_up_with_the_last_error() {
    let running = emulator(Config {
        fault_rate: 1.0,
        fault_seed: 3,
        ..Config::default()
    })
    .await;
    let client = client_at(&running.base_url, sa_json(&running), |c| c.max_retries = 2);
    let err = client.send(get(JOBS)).await.expect_err("always failing");
    assert!(
        matches!(err.root(), Error::Api { status: 429 | 503, code, .. } if code == "RESOURCE_EXHAUSTED" || code == "UNAVAILABLE"),
        "{err:?}"
    );
    assert!(matches!(&err, Error::GaveUp { attempts: 3, .. }), "{err:?}");
    assert!(
        err.to_string().contains("gave up after 3 attempts"),
        "{err}"
    );
    let s = stats(&running).await;
    assert_eq!(
        count(&s, "customJobs.list", None),
        3,
        "1 + max_retries attempts: {s:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_limit_is_respected() {
    // A server that counts requests in flight, each taking `LATENCY`.
    const LATENCY: Duration = Duration::from_millis(150);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let (f, m) = (in_flight.clone(), max.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (f, m) = (f.clone(), m.clone());
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(LATENCY).await;
                f.fetch_sub(1, Ordering::SeqCst);
                let _ = stream
                    .write_all(&http("200 OK", "application/json", "{}"))
                    .await;
            });
        }
    });
    let client = client_at(&base, AuthConfig::Anonymous, |c| c.concurrency = 2);
    let started = Instant::now();
    for r in send_concurrently(&client, JOBS, 8).await {
        r.expect("send");
    }
    let peak = max.load(Ordering::SeqCst);
    assert!((1..=2).contains(&peak), "at most 2 in flight, saw {peak}");
    // A lower bound only (it cannot flake): 8 requests, 2 at a time.
    assert!(started.elapsed() >= LATENCY * 4, "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_sends_nothing() {
    let running = emulator(Config::default()).await;
    let before = stats(&running).await;
    let client = client_at(&running.base_url, sa_json(&running), |c| c.dry_run = true);
    let v = client
        .send(post(json!({"displayName": "dry"})))
        .await
        .expect("dry run");
    assert_eq!(v, Value::Null);
    assert_eq!(client.send(get(JOBS)).await.expect("dry get"), Value::Null);
    assert_eq!(
        stats(&running).await,
        before,
        "no token request, no API request"
    );
    assert_eq!(running.emulator.job_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_rules_depend_on_method_and_status() {
    let create = || post(json!({"displayName": "x"}));
    let unavailable = http(
        "503 Service Unavailable",
        "application/json",
        r#"{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}"#,
    );
    let bad_gateway = http("502 Bad Gateway", "text/html", "<html>bad gateway</html>");
    let limited = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_vec();
    let ok = || http("200 OK", "application/json", r#"{"done":true}"#);
    let server = canned(vec![
        // POST: 503 and 429 (with Retry-After) are retried.
        unavailable,
        limited,
        ok(),
        // POST: 502 is not (the gateway may have passed it on).
        bad_gateway.clone(),
        // GET: 502 is.
        bad_gateway,
        ok(),
    ]);
    let client = client_for(&server.base_url, AuthConfig::Anonymous);
    let started = Instant::now();
    assert_eq!(
        client.send(create()).await.expect("retried"),
        json!({"done": true})
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    let err = client.send(create()).await.expect_err("502 on POST");
    assert!(matches!(err, Error::Status { status: 502, .. }), "{err:?}");
    assert_eq!(
        client.send(get(JOBS)).await.expect("GET retried"),
        json!({"done": true})
    );
    let heads = server.requests.lock().expect("lock").clone();
    assert_eq!(heads.len(), 6);
    assert!(
        heads[..4].iter().all(|h| h.starts_with("POST ")),
        "{heads:?}"
    );
    assert!(
        heads[0].contains("content-type: application/json"),
        "{}",
        heads[0]
    );
}

// ---------------------------------------------------------------- hardening

/// A loopback server that answers one request with `{}` and hands back the
/// request line and the body bytes it received.
fn capture_one() -> (String, std::sync::mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let (head, body) = read_request(&mut stream);
        let _ = stream.write_all(&http("200 OK", "application/json", "{}"));
        let line = head.lines().next().unwrap_or_default().to_string();
        let _ = tx.send((line, body));
    });
    (base_url, rx)
}

fn recording_sink() -> (DryRunSink, Arc<Mutex<Vec<DryRunRequest>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (
        DryRunSink(Arc::new(move |r| s.lock().expect("lock").push(r))),
        seen,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_shows_exactly_what_is_sent() {
    let (base_url, received) = capture_one();
    let req = ApiRequest {
        method: "post".into(),
        query: vec![
            ("updateMask".into(), "a,b c".into()),
            ("x".into(), "é&=?#".into()),
        ],
        body: Some(json!({"displayName": "dry \u{1b} run", "n": 1.5, "labels": {"k": "v"}})),
        ..get("v1/projects/p%2Fq/locations/l/customJobs/a:cancel")
    };
    let (sink, seen) = recording_sink();
    let dry = client_at(&base_url, AuthConfig::Anonymous, |c| {
        c.dry_run = true;
        c.dry_run_sink = Some(sink);
    });
    assert_eq!(dry.send(req.clone()).await.expect("dry"), Value::Null);
    let shown = seen
        .lock()
        .expect("lock")
        .pop()
        .expect("one dry-run request");
    let live = client_for(&base_url, AuthConfig::Anonymous);
    live.send(req).await.expect("sent");
    let (line, body) = received
        .recv_timeout(Duration::from_secs(10))
        .expect("received");
    // The request line carries the path and query; the URL adds the origin.
    let target = shown
        .url
        .strip_prefix(&base_url)
        .expect("dry-run URL at the endpoint");
    assert_eq!(line, format!("{} {target} HTTP/1.1", shown.method));
    assert_eq!(Some(body), shown.body);
    assert_eq!(
        shown.to_string().lines().next(),
        Some(format!("POST {}", shown.url).as_str())
    );
}

#[test]
fn endpoints_with_userinfo_query_or_fragment_are_refused_without_echoing_secrets() {
    for bad in [
        "http://user:hunter2@127.0.0.1:8089",
        "http://127.0.0.1:8089/?key=1",
        "http://127.0.0.1:8089/#f",
    ] {
        let err = configured(ClientConfig {
            endpoint: Some(bad.into()),
            ..ClientConfig::default()
        })
        .err()
        .unwrap_or_default();
        assert!(
            err.starts_with("--endpoint `http://127.0.0.1:8089"),
            "{err}"
        );
        assert!(!err.contains("hunter2") && !err.contains("user:"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_never_reach_the_wire() {
    let server = canned(vec![]);
    let (sink, seen) = recording_sink();
    for dry in [true, false] {
        let client = client_at(&server.base_url, AuthConfig::Anonymous, |c| {
            c.dry_run = dry;
            c.dry_run_sink = Some(sink.clone());
        });
        for path in [
            "v1/projects/p/datasets/important-dataset/savedQueries/..",
            "v1/projects/p/locations/l/customJobs/.",
            "v1/projects/p/locations/l/customJobs/%2e%2E",
            "v1/projects//locations",
        ] {
            let e = client
                .send(ApiRequest {
                    method: "DELETE".into(),
                    ..get(path)
                })
                .await
                .expect_err(path)
                .to_string();
            assert!(e.contains("refusing to send it"), "{e}");
        }
    }
    assert!(seen.lock().expect("lock").is_empty());
    assert!(server.requests.lock().expect("lock").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_go_in_clear_text_to_a_documents_host() {
    // A pulled document's rootUrl: plain http, not loopback, not --endpoint.
    // Refused before any connection (or DNS lookup) is made.
    let client = configured(ClientConfig {
        auth: AuthConfig::AccessToken("secret-token".into()),
        ..ClientConfig::default()
    })
    .expect("client");
    let e = failure(
        &client,
        ApiRequest {
            root_url: "http://widgets.skyql-test.invalid/".into(),
            ..get("v1/widgets")
        },
        "clear text",
    )
    .await;
    assert!(
        e.contains("refusing to send credentials in clear text"),
        "{e}"
    );
    assert!(!e.contains("secret-token"), "{e}");
    // A root URL with userinfo is refused and not echoed.
    let e = failure(
        &client,
        ApiRequest {
            root_url: "https://me:pw@widgets.skyql-test.invalid/".into(),
            ..get("v1/widgets")
        },
        "userinfo",
    )
    .await;
    assert!(!e.contains("me:pw"), "{e}");
    // To loopback (or the --endpoint) over http the token goes.
    let server = canned(vec![http("200 OK", "application/json", "{}")]);
    let local = client_for(
        &server.base_url,
        AuthConfig::AccessToken("secret-token".into()),
    );
    local.send(get("v1/widgets")).await.expect("loopback");
    let heads = server.requests.lock().expect("lock").clone();
    assert_eq!(bearer(&heads[0]).as_deref(), Some("secret-token"));
    assert_eq!(
        heads[0]
            .to_ascii_lowercase()
            .matches("authorization:")
            .count(),
        1
    );
}

/// An endless chunked body: the client stops reading at the cap.
fn endless_body_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for _ in 0..2 {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let _ = read_head(&mut stream);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            );
            let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
            // Bounded: far more than the caps below, far less than memory.
            for _ in 0..1024 {
                if stream.write_all(chunk.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    base_url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_and_documents_over_the_size_cap_are_errors() {
    let base_url = endless_body_server();
    let client = client_at(&base_url, AuthConfig::Anonymous, |c| {
        c.max_response_bytes = 1 << 20;
        c.max_retries = 0;
    });
    let e = client.send(get("v1/big")).await.expect_err("too large");
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    assert!(
        e.to_string().contains("larger than the limit of 1 MiB"),
        "{e}"
    );
    let e = skyql_client::fetch_bytes(
        &format!("{base_url}/$discovery/rest?version=v1"),
        Duration::from_secs(20),
        2 << 20,
    )
    .await
    .expect_err("too large");
    assert!(
        e.to_string().contains("larger than the limit of 2 MiB"),
        "{e}"
    );
    // A document URL with userinfo is refused without echoing it.
    let e = skyql_client::fetch_bytes("http://u:pw@127.0.0.1:9/x", Duration::from_secs(1), 1 << 20)
        .await
        .expect_err("userinfo")
        .to_string();
    assert!(!e.contains("u:pw"), "{e}");
}

#[path = "client/scheduling.rs"]
mod scheduling;
