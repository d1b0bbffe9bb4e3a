//! Credentials: turning an [`AuthConfig`] into bearer tokens (service-account
//! JWT grant, authorized_user refresh, metadata server, gcloud), cached and
//! shared so that concurrent requests trigger one refresh, not a stampede.
//!
//! Credentials are resolved lazily, at the first request that needs a token:
//! metadata statements never need the network, so a missing key must not stop
//! them.

use crate::Error;
use crate::config::AuthConfig;
use crate::fetch::describe;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// The one scope skyql asks for.
pub(crate) const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Google's token endpoint, when a key file names none.
pub(crate) const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// How long the metadata server gets to answer when it is only a guess
/// (the last resort of [`AuthConfig::Default`]).
const METADATA_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// gcloud does not say how long its tokens live (an hour); refresh well before.
const GCLOUD_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// A failed resolution of default credentials is remembered this long, so that
/// a fan-out of requests does not probe the metadata server once each.
const FAILED_RESOLUTION_TTL: Duration = Duration::from_secs(10);

const EXPECTED_DEFAULT: &str = "set GOOGLE_CREDENTIALS (service-account key JSON) or \
GOOGLE_APPLICATION_CREDENTIALS (a key file path), run `gcloud auth application-default login`, \
or pass --auth '{\"google\":{\"type\":\"service_account\",\"credentialsfilepath\":\"key.json\"}}'";

/// Reads environment variables; the process environment unless a test or an
/// embedder supplies its own.
pub(crate) type EnvFn = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

pub(crate) fn process_env() -> EnvFn {
    Arc::new(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

/// A resolved credential: where tokens come from.
#[derive(Clone)]
enum Source {
    ServiceAccount(ServiceAccountKey),
    AuthorizedUser(AuthorizedUser),
    /// Only ever the last resort of [`AuthConfig::Default`].
    Metadata {
        host: String,
    },
    Gcloud,
    Static(String),
    Anonymous,
}

#[derive(Clone)]
struct ServiceAccountKey {
    /// Where the key came from, for messages ("key.json", "GOOGLE_CREDENTIALS").
    origin: String,
    client_email: String,
    private_key: String,
    private_key_id: Option<String>,
    token_uri: String,
}

#[derive(Clone)]
struct AuthorizedUser {
    origin: String,
    client_id: String,
    client_secret: String,
    refresh_token: String,
    token_uri: String,
}

impl Source {
    /// Names the source in messages.
    fn name(&self) -> String {
        match self {
            Source::ServiceAccount(k) => {
                format!("service account {} ({})", k.client_email, k.origin)
            }
            Source::AuthorizedUser(u) => format!("authorized_user credentials ({})", u.origin),
            Source::Metadata { host, .. } => format!("metadata server at {host}"),
            Source::Gcloud => "gcloud auth print-access-token".into(),
            Source::Static(_) => "the access token given".into(),
            Source::Anonymous => "anonymous".into(),
        }
    }
}

struct Cached {
    token: String,
    /// When to fetch a new one (a little before it expires); `None`: never.
    refresh_at: Option<Instant>,
}

#[derive(Default)]
struct State {
    source: Option<Source>,
    failed: Option<(Instant, String, String)>,
    cached: Option<Cached>,
}

pub(crate) struct Auth {
    config: AuthConfig,
    http: reqwest::Client,
    env: EnvFn,
    state: Mutex<State>,
}

impl Auth {
    pub(crate) fn new(config: AuthConfig, http: reqwest::Client, env: EnvFn) -> Self {
        Auth {
            config,
            http,
            env,
            state: Mutex::new(State::default()),
        }
    }

    /// Whether a 401 is worth a new token (fixed tokens and anonymous are not).
    pub(crate) fn refreshable(&self) -> bool {
        !matches!(
            self.config,
            AuthConfig::AccessToken(_) | AuthConfig::Anonymous
        )
    }

    /// Whether requests carry a bearer token at all (not anonymous).
    pub(crate) fn sends_token(&self) -> bool {
        !matches!(self.config, AuthConfig::Anonymous)
    }

    /// The bearer token to send, or `None` for anonymous requests. Holding the
    /// lock while fetching makes concurrent callers share one refresh.
    pub(crate) async fn token(&self) -> Result<Option<String>, Error> {
        let mut state = self.state.lock().await;
        if let Some(c) = &state.cached
            && c.refresh_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(Some(c.token.clone()));
        }
        let source = match &state.source {
            Some(s) => s.clone(),
            None => {
                if let Some((at, name, message)) = &state.failed
                    && at.elapsed() < FAILED_RESOLUTION_TTL
                {
                    return Err(Error::Auth {
                        source_name: name.clone(),
                        message: message.clone(),
                    });
                }
                match self.resolve().await {
                    Ok(s) => {
                        state.source = Some(s.clone());
                        state.failed = None;
                        s
                    }
                    Err(e) => {
                        if let Error::Auth {
                            source_name,
                            message,
                        } = &e
                        {
                            state.failed =
                                Some((Instant::now(), source_name.clone(), message.clone()));
                        }
                        return Err(e);
                    }
                }
            }
        };
        let (token, lifetime) = match self.fetch(&source).await {
            Ok(t) => t,
            Err(e) => {
                // No metadata server means no credentials at all: resolve
                // again later (a key may appear), and fail fast meanwhile.
                if let Source::Metadata { .. } = source {
                    state.source = None;
                    if let Error::Auth {
                        source_name,
                        message,
                    } = &e
                    {
                        state.failed = Some((Instant::now(), source_name.clone(), message.clone()));
                    }
                }
                return Err(e);
            }
        };
        let Some(token) = token else {
            return Ok(None);
        };
        // checked_add: an absurd expires_in from a server must not panic.
        let refresh_at = lifetime.and_then(|l| {
            Instant::now().checked_add(l.saturating_sub((l / 4).min(Duration::from_secs(60))))
        });
        state.cached = Some(Cached {
            token: token.clone(),
            refresh_at,
        });
        Ok(Some(token))
    }

    /// Forgets `token` after the API rejected it (401); a token refreshed
    /// meanwhile by another request is kept.
    pub(crate) async fn invalidate(&self, token: &str) {
        let mut state = self.state.lock().await;
        if state.cached.as_ref().is_some_and(|c| c.token == token) {
            state.cached = None;
        }
    }

    /// From the configuration to a source of tokens (reads files and the environment).
    async fn resolve(&self) -> Result<Source, Error> {
        match &self.config {
            AuthConfig::Anonymous => Ok(Source::Anonymous),
            AuthConfig::AccessToken(t) => {
                let t = t.trim();
                if t.is_empty() {
                    return Err(auth_err("access token", "the access token given is empty"));
                }
                Ok(Source::Static(t.to_string()))
            }
            AuthConfig::Interactive => Ok(Source::Gcloud),
            AuthConfig::ServiceAccountJson(text) => parse_credentials(text, "the key JSON given"),
            AuthConfig::ServiceAccountFile(path) => read_credentials(path),
            AuthConfig::Default => self.resolve_default().await,
        }
    }

    async fn resolve_default(&self) -> Result<Source, Error> {
        let env = &self.env;
        if let Some(text) = env("GOOGLE_CREDENTIALS") {
            return parse_credentials(&text, "GOOGLE_CREDENTIALS");
        }
        if let Some(path) = env("GOOGLE_APPLICATION_CREDENTIALS") {
            return read_credentials(Path::new(&path)).map_err(|e| match e {
                Error::Auth {
                    source_name,
                    message,
                } => Error::Auth {
                    source_name: format!("GOOGLE_APPLICATION_CREDENTIALS={source_name}"),
                    message,
                },
                other => other,
            });
        }
        if let Some(path) = well_known_file(env.as_ref())
            && path.is_file()
        {
            return read_credentials(&path);
        }
        let host = env("GCE_METADATA_HOST").unwrap_or_else(|| "metadata.google.internal".into());
        Ok(Source::Metadata { host })
    }

    /// A token and how long it lives (`None`: for ever); `Ok((None, _))` for anonymous.
    async fn fetch(&self, source: &Source) -> Result<(Option<String>, Option<Duration>), Error> {
        match source {
            Source::Anonymous => Ok((None, None)),
            Source::Static(t) => Ok((Some(t.clone()), None)),
            Source::Gcloud => gcloud_token(self.env.as_ref())
                .await
                .map(|t| (Some(t), Some(GCLOUD_TOKEN_LIFETIME))),
            Source::ServiceAccount(key) => {
                let assertion = sign_assertion(key)?;
                let form = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
                    .append_pair("assertion", &assertion)
                    .finish();
                self.token_request(source, &key.token_uri, form).await
            }
            Source::AuthorizedUser(u) => {
                let form = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "refresh_token")
                    .append_pair("client_id", &u.client_id)
                    .append_pair("client_secret", &u.client_secret)
                    .append_pair("refresh_token", &u.refresh_token)
                    .finish();
                self.token_request(source, &u.token_uri, form).await
            }
            Source::Metadata { host } => self.metadata_token(source, host).await,
        }
    }

    /// POSTs a grant to a token endpoint.
    async fn token_request(
        &self,
        source: &Source,
        token_uri: &str,
        form: String,
    ) -> Result<(Option<String>, Option<Duration>), Error> {
        let name = source.name();
        let mut attempt = 0u32;
        let resp = loop {
            let sent = self
                .http
                .post(token_uri)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(form.clone())
                .send()
                .await;
            let transient = match &sent {
                Ok(r) => matches!(r.status().as_u16(), 429 | 500 | 502 | 503 | 504),
                Err(e) => e.is_connect() || e.is_timeout(),
            };
            // Token grants are idempotent: retry transient failures a little.
            if transient && attempt < 2 {
                tokio::time::sleep(crate::client::backoff(attempt, None)).await;
                attempt += 1;
                continue;
            }
            break sent.map_err(|e| {
                auth_err(
                    &name,
                    &format!(
                        "cannot reach the token endpoint {token_uri}: {}",
                        describe(&e)
                    ),
                )
            })?;
        };
        let status = resp.status();
        let body = read_token_answer(resp, &name, token_uri).await?;
        parse_token_response(&name, token_uri, status.as_u16(), &body)
    }

    async fn metadata_token(
        &self,
        source: &Source,
        host: &str,
    ) -> Result<(Option<String>, Option<Duration>), Error> {
        let name = source.name();
        let host = host.trim_end_matches('/');
        let base = if host.starts_with("http://") || host.starts_with("https://") {
            host.to_string()
        } else {
            format!("http://{host}")
        };
        let url = format!("{base}/computeMetadata/v1/instance/service-accounts/default/token");
        let req = self
            .http
            .get(&url)
            .header("Metadata-Flavor", "Google")
            .timeout(METADATA_PROBE_TIMEOUT);
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return Err(auth_err(
                    "no credentials found",
                    &format!(
                        "{EXPECTED_DEFAULT}. (Tried GOOGLE_CREDENTIALS, GOOGLE_APPLICATION_CREDENTIALS, \
                         gcloud's application_default_credentials.json, and the metadata server at {host}: {})",
                        short_cause(&e)
                    ),
                ));
            }
        };
        let status = resp.status();
        let body = read_token_answer(resp, &name, &url).await?;
        parse_token_response(&name, &url, status.as_u16(), &body)
    }
}

/// A token answer is a few hundred bytes; more than this is not one.
const TOKEN_ANSWER_CAP: usize = 1 << 20;

/// Reads a token endpoint's answer, at most [`TOKEN_ANSWER_CAP`] bytes.
async fn read_token_answer(
    resp: reqwest::Response,
    name: &str,
    url: &str,
) -> Result<Vec<u8>, Error> {
    match crate::fetch::read_capped(resp, TOKEN_ANSWER_CAP).await {
        Ok(b) => Ok(b),
        Err(crate::fetch::Capped::Transport(e)) => Err(auth_err(
            name,
            &format!("reading the answer of {url}: {}", describe(&e)),
        )),
        Err(crate::fetch::Capped::TooLarge) => Err(auth_err(
            name,
            &format!("the answer of {url} is larger than 1 MiB: not a token response"),
        )),
    }
}

fn auth_err(source: &str, message: &str) -> Error {
    Error::Auth {
        source_name: source.to_string(),
        message: message.to_string(),
    }
}

/// The innermost cause of a transport error, for one-line messages.
fn short_cause(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer (timed out)".into();
    }
    let mut last = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        last = s.to_string();
        src = s.source();
    }
    last
}

/// `$CLOUDSDK_CONFIG/application_default_credentials.json`, else gcloud's
/// default configuration folder.
fn well_known_file(env: &(dyn Fn(&str) -> Option<String> + Send + Sync)) -> Option<PathBuf> {
    const FILE: &str = "application_default_credentials.json";
    if let Some(dir) = env("CLOUDSDK_CONFIG") {
        return Some(PathBuf::from(dir).join(FILE));
    }
    if cfg!(windows) {
        return env("APPDATA").map(|d| PathBuf::from(d).join("gcloud").join(FILE));
    }
    env("HOME").map(|h| PathBuf::from(h).join(".config").join("gcloud").join(FILE))
}

/// Checks that `text` is a usable credentials document (for `--auth`).
pub(crate) fn check_credentials(text: &str, origin: &str) -> Result<(), Error> {
    parse_credentials(text, origin).map(|_| ())
}

fn read_credentials(path: &Path) -> Result<Source, Error> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| auth_err(&shown, &format!("cannot read the credentials file: {e}")))?;
    parse_credentials(&text, &shown)
}

/// Parses a credentials JSON document (a service-account key or gcloud's
/// `authorized_user` file). `origin` names it in errors.
fn parse_credentials(text: &str, origin: &str) -> Result<Source, Error> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        auth_err(
            origin,
            &format!(
                "not valid JSON ({e}); expected a service-account key file as downloaded from the Cloud console \
                 ({{\"type\":\"service_account\",\"client_email\":…,\"private_key\":…}})"
            ),
        )
    })?;
    let Some(obj) = value.as_object() else {
        return Err(auth_err(
            origin,
            "not a service account key (expected a JSON object with type, client_email and private_key)",
        ));
    };
    let field = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    };
    let token_uri = field("token_uri").unwrap_or_else(|| GOOGLE_TOKEN_URI.to_string());
    let ty = field("type");
    match ty.as_deref() {
        Some("service_account") | None => {
            let values = required(field, ["private_key", "client_email"]);
            let [private_key, client_email] = values.map_err(|missing| {
                auth_err(
                    origin,
                    &format!(
                        "not a service account key (missing {}); download a JSON key for the service account \
                         (IAM & Admin → Service Accounts → Keys)",
                        missing.join(" and ")
                    ),
                )
            })?;
            Ok(Source::ServiceAccount(ServiceAccountKey {
                origin: origin.to_string(),
                client_email,
                private_key,
                private_key_id: field("private_key_id"),
                token_uri,
            }))
        }
        Some("authorized_user") => {
            let values = required(field, ["client_id", "client_secret", "refresh_token"]);
            let [client_id, client_secret, refresh_token] = values.map_err(|missing| {
                auth_err(
                    origin,
                    &format!(
                        "authorized_user credentials without {}; run `gcloud auth application-default login` again",
                        missing.join(", ")
                    ),
                )
            })?;
            Ok(Source::AuthorizedUser(AuthorizedUser {
                origin: origin.to_string(),
                client_id,
                client_secret,
                refresh_token,
                token_uri,
            }))
        }
        Some(other) => Err(auth_err(
            origin,
            &format!(
                "credentials of type \"{other}\" are not supported; use a service account key \
                 (type \"service_account\") or gcloud's authorized_user credentials"
            ),
        )),
    }
}

/// The values of the fields `keys` (as `field` reads them), or the names
/// of those missing or empty.
fn required<const N: usize>(
    field: impl Fn(&str) -> Option<String>,
    keys: [&'static str; N],
) -> Result<[String; N], Vec<&'static str>> {
    let values = keys.map(&field);
    let missing: Vec<&'static str> = keys
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| *k)
        .collect();
    if missing.is_empty() {
        Ok(values.map(Option::unwrap_or_default))
    } else {
        Err(missing)
    }
}

/// The RS256 JWT of the jwt-bearer grant.
fn sign_assertion(key: &ServiceAccountKey) -> Result<String, Error> {
    #[derive(serde::Serialize)]
    struct Claims<'a> {
        iss: &'a str,
        scope: &'a str,
        aud: &'a str,
        iat: u64,
        exp: u64,
    }
    let name = format!("{} ({})", key.client_email, key.origin);
    let der = pkcs1_der(&key.private_key).map_err(|why| {
        auth_err(
            &key.origin,
            &format!(
                "private_key is not a valid RSA private key in PEM form ({why}); download a new key"
            ),
        )
    })?;
    let encoding = jsonwebtoken::EncodingKey::from_rsa_der(&der);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = key.private_key_id.clone();
    let iat = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = Claims {
        iss: &key.client_email,
        scope: SCOPE,
        aud: &key.token_uri,
        iat,
        exp: iat + 3600,
    };
    jsonwebtoken::encode(&header, &claims, &encoding)
        .map_err(|e| auth_err(&name, &format!("cannot sign the token request: {e}")))
}

/// A PEM RSA key (PKCS#8 `PRIVATE KEY`, as Google writes them, or PKCS#1
/// `RSA PRIVATE KEY`) as the PKCS#1 DER that jsonwebtoken signs with.
fn pkcs1_der(pem: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
    use rsa::pkcs8::DecodePrivateKey;
    // Key JSON sometimes arrives with literal "\\n" (copied through a shell).
    let pem = pem.replace("\\n", "\n");
    let (label, b64) = pem_body(&pem).ok_or("no -----BEGIN … KEY----- block")?;
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("bad base64: {e}"))?;
    let key = match label.as_str() {
        "PRIVATE KEY" => rsa::PrivateKey::from_pkcs8_der(&der).map_err(|e| e.to_string())?,
        "RSA PRIVATE KEY" => rsa::PrivateKey::from_pkcs1_der(&der).map_err(|e| e.to_string())?,
        other => return Err(format!("a {other} block, not a private key")),
    };
    key.to_pkcs1_der()
        .map(|d| d.as_bytes().to_vec())
        .map_err(|e| e.to_string())
}

/// The label and the base64 text of the first PEM block.
fn pem_body(pem: &str) -> Option<(String, String)> {
    let start = pem.find("-----BEGIN ")?;
    let rest = &pem[start + "-----BEGIN ".len()..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_string();
    let body = &rest[label_end + 5..];
    let end = body.find(&format!("-----END {label}-----"))?;
    let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    Some((label, b64))
}

/// Reads `{"access_token","expires_in"}`, or quotes the endpoint's
/// `error`/`error_description`.
fn parse_token_response(
    name: &str,
    endpoint: &str,
    status: u16,
    body: &[u8],
) -> Result<(Option<String>, Option<Duration>), Error> {
    let value: Option<Value> = serde_json::from_slice(body).ok();
    if !(200..300).contains(&status) {
        let detail = match &value {
            Some(v) => oauth_error_text(v),
            None => None,
        }
        .unwrap_or_else(|| crate::client::snippet(body));
        let hint = match status {
            400 | 401 => {
                "; the credentials were rejected: check the key or run `gcloud auth application-default login` again"
            }
            403 => "; the credentials may lack permission",
            _ => "",
        };
        return Err(auth_err(
            name,
            &format!(
                "the token endpoint {endpoint} answered HTTP {status}: {}{hint}",
                detail.trim_end_matches('.')
            ),
        ));
    }
    let Some(v) = value else {
        return Err(auth_err(
            name,
            &format!(
                "the token endpoint {endpoint} answered with something that is not JSON: {}",
                crate::client::snippet(body)
            ),
        ));
    };
    let Some(token) = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return Err(auth_err(
            name,
            &format!(
                "the token endpoint {endpoint} answered without an access_token: {}",
                crate::client::snippet(body)
            ),
        ));
    };
    let expires = v
        .get("expires_in")
        .and_then(|e| {
            e.as_u64()
                .or_else(|| e.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(3600);
    Ok((Some(token.to_string()), Some(Duration::from_secs(expires))))
}

/// `invalid_grant: Invalid JWT Signature.` from an OAuth error, or a
/// google.rpc error's message.
fn oauth_error_text(v: &Value) -> Option<String> {
    match v.get("error")? {
        Value::String(code) => Some(match v.get("error_description").and_then(Value::as_str) {
            Some(d) => format!("{code}: {d}"),
            None => code.clone(),
        }),
        Value::Object(o) => {
            let msg = o.get("message").and_then(Value::as_str).unwrap_or("");
            let status = o.get("status").and_then(Value::as_str).unwrap_or("");
            Some(
                format!("{status}: {msg}")
                    .trim_start_matches(": ")
                    .to_string(),
            )
        }
        _ => None,
    }
}

/// Runs `gcloud auth print-access-token`.
async fn gcloud_token(
    env: &(dyn Fn(&str) -> Option<String> + Send + Sync),
) -> Result<String, Error> {
    const NAME: &str = "gcloud auth print-access-token";
    let program = if cfg!(windows) {
        "gcloud.cmd"
    } else {
        "gcloud"
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(["auth", "print-access-token"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(path) = env("PATH") {
        cmd.env("PATH", path);
    }
    let out = cmd.output().await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            auth_err(
                NAME,
                "gcloud is not installed or not on PATH; install the Google Cloud CLI and run \
                 `gcloud auth login`, or use --auth with a service-account key",
            )
        } else {
            auth_err(NAME, &format!("cannot run gcloud: {e}"))
        }
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let err = err.split_whitespace().collect::<Vec<_>>().join(" ");
        return Err(auth_err(
            NAME,
            &format!(
                "gcloud failed ({}): {}; run `gcloud auth login`",
                out.status,
                crate::client::truncate(&err, 300)
            ),
        ));
    }
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(auth_err(
            NAME,
            "gcloud printed no access token; run `gcloud auth login`",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_without_private_key_is_named() {
        let err = parse_credentials(
            r#"{"type":"service_account","client_email":"a@b"}"#,
            "key.json",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert_eq!(
            err.split(';').next().unwrap_or(""),
            "key.json: not a service account key (missing private_key)"
        );
    }

    #[test]
    fn unsupported_types_and_garbage() {
        for (text, want) in [
            (
                r#"{"type":"external_account"}"#,
                "\"external_account\" are not supported",
            ),
            ("[1,2]", "not a service account key"),
            ("{", "not valid JSON"),
            ("", "not valid JSON"),
            (
                r#"{"type":"authorized_user","client_id":"x"}"#,
                "without client_secret, refresh_token",
            ),
        ] {
            let err = parse_credentials(text, "k")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn bad_pem_is_a_clear_error() {
        let Ok(Source::ServiceAccount(key)) = parse_credentials(
            r#"{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#,
            "key.json",
        ) else {
            panic!("should parse");
        };
        let err = sign_assertion(&key)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("key.json: private_key is not a valid RSA private key"),
            "{err}"
        );
    }

    #[test]
    fn token_endpoint_errors_are_quoted() {
        let e = parse_token_response(
            "sa",
            "http://x/token",
            400,
            br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            e.contains("HTTP 400: invalid_grant: Invalid JWT Signature; the credentials"),
            "{e}"
        );
        let e = parse_token_response(
            "sa",
            "http://x/token",
            502,
            b"<html>\n<b>Bad   gateway</b></html>",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            e.contains("HTTP 502: <html> <b>Bad gateway</b></html>"),
            "{e}"
        );
        let ok = parse_token_response("sa", "u", 200, br#"{"access_token":"t","expires_in":"10"}"#);
        assert!(matches!(ok, Ok((Some(t), Some(d))) if t == "t" && d == Duration::from_secs(10)));
    }

    #[test]
    fn well_known_file_locations() {
        let env = |k: &str| match k {
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        if !cfg!(windows) {
            assert_eq!(
                well_known_file(&env),
                Some(PathBuf::from(
                    "/home/u/.config/gcloud/application_default_credentials.json"
                ))
            );
        }
        let env = |k: &str| (k == "CLOUDSDK_CONFIG").then(|| "/c".to_string());
        assert_eq!(
            well_known_file(&env),
            Some(PathBuf::from("/c/application_default_credentials.json"))
        );
    }
}
