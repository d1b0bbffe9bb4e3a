//! The authentication routes and the per-request check, bundled in [`Auth`] so that any
//! emulator on this crate serves the same token endpoint (`POST /token`, also
//! `/oauth2/v4/token` and `/o/oauth2/token`), the same metadata server
//! (`/computeMetadata/v1/...`, needing `Metadata-Flavor: Google`) and the same bearer
//! check, with Google's 401 shape.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Audience, BearerCheck, HostMatcher, Keys, RefreshCreds, TokenStore};
use super::{check_bearer, verify_jwt};
use crate::control::EmulatorState;
use crate::ids::project_number;
use crate::status::{ApiError, error_info};
use crate::wire::{Json, header_str, host_of, json_response, parse_pairs};

/// Which authentication route a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthRoute {
    /// The OAuth token endpoint.
    Token,
    /// The metadata server (its token route issues tokens too).
    Metadata,
}

/// The authentication route a path belongs to, if any.
pub fn auth_route(path: &str) -> Option<AuthRoute> {
    match path {
        "/token" | "/oauth2/v4/token" | "/o/oauth2/token" => Some(AuthRoute::Token),
        "/" => Some(AuthRoute::Metadata),
        p if p.starts_with("/computeMetadata/") => Some(AuthRoute::Metadata),
        _ => None,
    }
}

/// Vertex AI's hosts: the global one, `{location}-aiplatform.googleapis.com`, and the
/// regional endpoints `aiplatform.{us,eu}.rep.googleapis.com`.
pub fn is_aiplatform_host(host: &str) -> bool {
    host == "aiplatform.googleapis.com"
        || host.ends_with("-aiplatform.googleapis.com")
        || (host.starts_with("aiplatform.") && host.ends_with(".rep.googleapis.com"))
}

/// The credentials an emulator accepts and the routes that issue them.
pub struct Auth {
    pub keys: Keys,
    pub tokens: TokenStore,
    pub refresh: RefreshCreds,
    /// Lifetime of issued access tokens (real time).
    pub token_lifetime: Duration,
    /// The emulator's own base URL, when known (JWTs may be addressed to it).
    pub base_url: Option<String>,
    /// Hosts of the served API (self-signed JWTs may be addressed to `https://HOST/`).
    pub service_host: HostMatcher,
}

fn oauth_error(error: &str, description: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        Json::obj()
            .with("error", error)
            .with("error_description", description)
            .to_bytes(true),
    )
}

impl Auth {
    pub fn new(
        keys: Keys,
        refresh: RefreshCreds,
        token_lifetime: Duration,
        base_url: Option<String>,
        service_host: HostMatcher,
    ) -> Self {
        Self {
            keys,
            tokens: TokenStore::default(),
            refresh,
            token_lifetime,
            base_url,
            service_host,
        }
    }

    fn lifetime_secs(&self) -> i64 {
        i64::try_from(self.token_lifetime.as_secs()).unwrap_or(i64::MAX / 2)
    }

    /// Issues an access token.
    pub fn issue(&self) -> String {
        self.tokens.issue(self.lifetime_secs())
    }

    /// The URLs a JWT may name as the emulator itself, for a request to `host`.
    pub fn own_urls(&self, host: &str) -> Vec<String> {
        let mut v = vec![format!("http://{host}/"), format!("http://{host}/token")];
        if let Some(b) = &self.base_url {
            v.push(b.clone());
            v.push(format!("{}/token", b.trim_end_matches('/')));
        }
        v
    }

    /// Checks a request's credential: the `Authorization: Bearer` header, else the
    /// `access_token` query parameter.
    pub fn check(
        &self,
        parts: &axum::http::request::Parts,
        query_token: Option<&str>,
    ) -> BearerCheck {
        let token = bearer(&parts.headers).or(query_token);
        check_bearer(
            &self.keys,
            &self.tokens,
            token,
            &self.own_urls(&host_of(parts)),
            self.service_host,
        )
    }

    /// Answers an authentication route for the emulator whose state is `state`: the
    /// name the request is counted under (`token`, `metadata.token`; none for the
    /// metadata server's other routes) and the answer. A token issued marks the state
    /// changed, and it is persisted before the answer goes out.
    pub async fn serve(
        &self,
        route: AuthRoute,
        state: &impl EmulatorState,
        parts: &axum::http::request::Parts,
        body: Body,
        body_limit: usize,
    ) -> (Option<&'static str>, Response) {
        let path = parts.uri.path();
        let (stat, (resp, issued)) = match route {
            AuthRoute::Token => (
                Some("token"),
                self.token_endpoint(parts, body, body_limit).await,
            ),
            AuthRoute::Metadata => (
                path.ends_with("/token").then_some("metadata.token"),
                self.metadata(parts, path),
            ),
        };
        if issued {
            state.touch();
            state.persist().await;
        }
        (stat, resp)
    }

    /// Answers the token endpoint; the flag says whether a token was issued (the caller
    /// persists then).
    pub async fn token_endpoint(
        &self,
        parts: &axum::http::request::Parts,
        body: Body,
        body_limit: usize,
    ) -> (Response, bool) {
        if parts.method != Method::POST {
            return (
                oauth_error("invalid_request", "The token endpoint accepts POST only."),
                false,
            );
        }
        let bytes = match axum::body::to_bytes(body, body_limit).await {
            Ok(b) => b,
            Err(_) => {
                return (
                    oauth_error("invalid_request", "Request body too large."),
                    false,
                );
            }
        };
        let ct = header_str(&parts.headers, header::CONTENT_TYPE).unwrap_or("");
        let params: BTreeMap<String, String> = if ct.starts_with("application/json") {
            match serde_json::from_slice::<BTreeMap<String, Value>>(&bytes) {
                Ok(m) => m
                    .into_iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                    .collect(),
                Err(_) => return (oauth_error("invalid_request", "Invalid JSON body."), false),
            }
        } else {
            match parse_pairs(&String::from_utf8_lossy(&bytes)) {
                Some(p) => p.into_iter().collect(),
                None => return (oauth_error("invalid_request", "Invalid form body."), false),
            }
        };
        let grant = params.get("grant_type").map(String::as_str).unwrap_or("");
        let refused = match grant {
            "urn:ietf:params:oauth:grant-type:jwt-bearer" => match params.get("assertion") {
                None => Some(oauth_error(
                    "invalid_request",
                    "Missing required parameter: assertion",
                )),
                Some(assertion) => {
                    let urls = self.own_urls(&host_of(parts));
                    verify_jwt(&self.keys, assertion, Audience::TokenEndpoint(&urls))
                        .err()
                        .map(|e| oauth_error("invalid_grant", &e))
                }
            },
            "refresh_token" => {
                let r = &self.refresh;
                let given = |k: &str| params.get(k).map(String::as_str);
                if given("refresh_token") != Some(r.refresh_token.as_str()) {
                    Some(oauth_error(
                        "invalid_grant",
                        "Token has been expired or revoked.",
                    ))
                } else if given("client_id").is_some_and(|c| c != r.client_id)
                    || given("client_secret").is_some_and(|c| c != r.client_secret)
                {
                    Some(oauth_error(
                        "invalid_client",
                        "The OAuth client was not found.",
                    ))
                } else {
                    None
                }
            }
            "" => Some(oauth_error(
                "invalid_request",
                "Missing required parameter: grant_type",
            )),
            other => Some(oauth_error(
                "unsupported_grant_type",
                &format!("Invalid grant_type: {other}"),
            )),
        };
        if let Some(resp) = refused {
            return (resp, false);
        }
        let token = self.issue();
        let body = Json::obj()
            .with("access_token", token)
            .with("expires_in", self.lifetime_secs())
            .with("scope", "https://www.googleapis.com/auth/cloud-platform")
            .with("token_type", "Bearer");
        (json_response(StatusCode::OK, body.to_bytes(true)), true)
    }

    /// Answers a metadata-server route; the flag says whether a token was issued.
    pub fn metadata(&self, parts: &axum::http::request::Parts, path: &str) -> (Response, bool) {
        let flavor = header_str(
            &parts.headers,
            header::HeaderName::from_static("metadata-flavor"),
        )
        .is_some_and(|v| v.eq_ignore_ascii_case("google"));
        let text = |status: StatusCode, body: String, ct: &'static str| {
            let mut r = (status, body).into_response();
            let h = r.headers_mut();
            h.insert("metadata-flavor", HeaderValue::from_static("Google"));
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            r
        };
        if !flavor {
            if path == "/" {
                return (ApiError::no_route(path).into_response(), false);
            }
            return (
                text(
                    StatusCode::FORBIDDEN,
                    "Missing required header \"Metadata-Flavor\": \"Google\"\n".into(),
                    "text/plain; charset=utf-8",
                ),
                false,
            );
        }
        let recursive = parse_pairs(parts.uri.query().unwrap_or(""))
            .unwrap_or_default()
            .iter()
            .any(|(k, v)| k == "recursive" && v == "true");
        let email = &self.keys.client_email;
        let sa = path
            .strip_prefix("/computeMetadata/v1/instance/service-accounts/")
            .map(|rest| rest.split_once('/').unwrap_or((rest, "")));
        let json_ct = "application/json";
        let plain = "application/text";
        let not_found = || text(StatusCode::NOT_FOUND, "Not Found\n".into(), plain);
        let resp = match (path, sa) {
            ("/", _) | ("/computeMetadata/", _) | ("/computeMetadata/v1/", _) => {
                text(StatusCode::OK, "computeMetadata/\n".into(), plain)
            }
            ("/computeMetadata/v1/project/project-id", _) => {
                text(StatusCode::OK, self.keys.project_id.clone(), plain)
            }
            ("/computeMetadata/v1/project/numeric-project-id", _) => text(
                StatusCode::OK,
                project_number(&self.keys.project_id).to_string(),
                plain,
            ),
            (_, Some((who, rest))) if who == "default" || who == email => match rest {
                "token" => {
                    let token = self.issue();
                    let body = json!({"access_token": token, "expires_in": self.lifetime_secs(), "token_type": "Bearer"});
                    return (text(StatusCode::OK, body.to_string(), json_ct), true);
                }
                "email" => text(StatusCode::OK, email.clone(), plain),
                "scopes" => text(
                    StatusCode::OK,
                    "https://www.googleapis.com/auth/cloud-platform\n".into(),
                    plain,
                ),
                "" if recursive => {
                    let body = json!({
                        "aliases": ["default"],
                        "email": email,
                        "scopes": ["https://www.googleapis.com/auth/cloud-platform"]
                    });
                    text(StatusCode::OK, body.to_string(), json_ct)
                }
                "" => text(
                    StatusCode::OK,
                    "aliases\nemail\nscopes\ntoken\n".into(),
                    plain,
                ),
                _ => not_found(),
            },
            _ => not_found(),
        };
        (resp, false)
    }
}

/// The `Authorization: Bearer` token of a request.
fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let v = header_str(headers, header::AUTHORIZATION)?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Google's 401 for a failed check: an `ErrorInfo` whose metadata has only `service` (the
/// API's host) and `method` (the RPC's full name), and `WWW-Authenticate`.
pub fn unauthenticated(service: &str, rpc: &str, check: &BearerCheck) -> ApiError {
    let invalid = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
    let (message, reason) = match check {
        BearerCheck::Missing => (
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "CREDENTIALS_MISSING",
        ),
        BearerCheck::Expired => (invalid, "ACCESS_TOKEN_EXPIRED"),
        _ => (invalid, "ACCESS_TOKEN_TYPE_UNSUPPORTED"),
    };
    ApiError::new(401, "UNAUTHENTICATED", message)
        .with_detail(error_info(
            reason,
            "googleapis.com",
            &[("method", rpc), ("service", service)],
        ))
        .with_header(
            "www-authenticate",
            "Bearer realm=\"https://accounts.google.com/\"",
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_routes() {
        for h in [
            "aiplatform.googleapis.com",
            "us-central1-aiplatform.googleapis.com",
            "aiplatform.us.rep.googleapis.com",
            "aiplatform.eu.rep.googleapis.com",
        ] {
            assert!(is_aiplatform_host(h), "{h}");
        }
        assert!(!is_aiplatform_host("compute.googleapis.com"));
        assert_eq!(auth_route("/token"), Some(AuthRoute::Token));
        assert_eq!(
            auth_route("/computeMetadata/v1/instance/service-accounts/default/token"),
            Some(AuthRoute::Metadata)
        );
        assert_eq!(auth_route("/v1/projects"), None);
    }
}
