//! Credentials: the emulator's service-account key, the tokens it issues and the checks
//! every API request goes through.
//!
//! Three ways in, as with Google:
//! - the token endpoint (`POST /token`): a JWT-bearer grant signed (RS256) with the key
//!   that `--credentials-out` writes, or a `refresh_token` grant with the `authorized_user`
//!   credentials the emulator writes; it returns an opaque access token;
//! - the metadata server's token route, which needs `Metadata-Flavor: Google`;
//! - self-signed JWTs (AIP-4111) sent directly as bearer tokens.
//!
//! Token lifetimes follow real time, never the emulator's job clock.
//!
//! [`Auth`] (in `routes`) bundles the key, the token store and the refresh credentials
//! with the token endpoint, the metadata server and the per-request bearer check, so that
//! every emulator built on this crate authenticates the same way.

mod routes;

pub use routes::{Auth, AuthRoute, auth_route, is_aiplatform_host, unauthenticated};

use std::collections::HashMap;
use std::sync::RwLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Error;

/// Google's token endpoint: Google's auth libraries sign for it whatever `token_uri` says.
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Clock skew tolerated on `iat` and `exp`.
const LEEWAY_SECS: i64 = 60;

/// The emulator's signing key and the identity it belongs to.
pub struct Keys {
    pub private_key_pem: String,
    pub key_id: String,
    pub client_email: String,
    pub client_id: String,
    pub project_id: String,
    decoding: DecodingKey,
}

impl Keys {
    /// Uses the given PKCS#8 PEM key, or generates a 2048-bit one.
    pub fn new(pem: Option<&str>, project_id: &str) -> Result<Self, Error> {
        let key = match pem {
            Some(pem) => rsa::PrivateKey::from_pkcs8_pem(pem)
                .map_err(|e| Error::Key(format!("cannot read the signing key: {e}")))?,
            None => generate_key()?,
        };
        let private_key_pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Key(format!("cannot encode the signing key: {e}")))?
            .to_string();
        let public = key.to_public_key();
        let decoding = DecodingKey::from_rsa_raw_components(
            &public.n().to_be_bytes(),
            &public.e().to_be_bytes(),
        );
        // A stable key id: a hash of the public modulus, 40 hex digits like Google's.
        let digest = {
            use sha2::Digest;
            sha2::Sha256::digest(public.n().to_be_bytes())
        };
        let key_id: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
        let client_id = {
            let mut n: u128 = 0;
            for b in digest.iter().skip(20).take(8) {
                n = n * 256 + u128::from(*b);
            }
            format!("1{:020}", n % 100_000_000_000_000_000_000)
        };
        Ok(Self {
            private_key_pem,
            key_id,
            client_email: format!("skyql-emulator@{project_id}.iam.gserviceaccount.com"),
            client_id,
            project_id: project_id.to_string(),
            decoding,
        })
    }

    /// The service-account key file for an emulator at `base_url`.
    pub fn service_account_json(&self, base_url: &str) -> Value {
        let base = base_url.trim_end_matches('/');
        json!({
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": self.key_id,
            "private_key": self.private_key_pem,
            "client_email": self.client_email,
            "client_id": self.client_id,
            "auth_uri": format!("{base}/o/oauth2/auth"),
            "token_uri": format!("{base}/token"),
            "auth_provider_x509_cert_url": format!("{base}/oauth2/v1/certs"),
            "client_x509_cert_url": format!("{base}/robot/v1/metadata/x509/{}", self.client_email),
            "universe_domain": "googleapis.com"
        })
    }
}

fn generate_key() -> Result<rsa::PrivateKey, Error> {
    let mut rng = rand::rngs::SysRng;
    rsa::PrivateKey::new(&mut rng, 2048)
        .map_err(|e| Error::Key(format!("cannot generate a signing key: {e}")))
}

/// The `authorized_user` credentials the refresh-token grant accepts.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct RefreshCreds {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

impl RefreshCreds {
    pub fn generate() -> Self {
        Self {
            client_id: format!("{}.apps.googleusercontent.com", random_token(12)),
            client_secret: format!("GOCSPX-{}", random_token(21)),
            refresh_token: format!("1//emu-{}", random_token(32)),
        }
    }

    /// The `authorized_user` file for an emulator at `base_url`.
    pub fn json(&self, base_url: &str) -> Value {
        json!({
            "type": "authorized_user",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
            "token_uri": format!("{}/token", base_url.trim_end_matches('/')),
            "universe_domain": "googleapis.com"
        })
    }
}

/// URL-safe random text with `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    for chunk in buf.chunks_mut(8) {
        let r: u64 = rand::random();
        let b = r.to_le_bytes();
        chunk.copy_from_slice(&b[..chunk.len()]);
    }
    URL_SAFE_NO_PAD.encode(buf)
}

/// The claims Google's libraries put in their JWTs.
#[derive(Deserialize, Debug)]
struct Claims {
    iss: Option<String>,
    #[serde(default)]
    aud: Option<Value>,
    #[serde(default)]
    scope: Option<String>,
    iat: Option<i64>,
    exp: Option<i64>,
}

/// Why a JWT was refused.
pub type JwtError = String;

/// Whether a host (no scheme, no port) is one of the served service's hosts.
pub type HostMatcher = fn(&str) -> bool;

/// What a JWT must be addressed to.
pub enum Audience<'a> {
    /// The token endpoint: Google's URL or one of the emulator's own.
    TokenEndpoint(&'a [String]),
    /// A self-signed bearer JWT: `https://HOST/` for a host the matcher accepts, one of the
    /// emulator's own URLs, or any audience with a scope claim.
    Service(&'a [String], HostMatcher),
}

/// Issued access tokens and verified self-signed JWTs, with their expiry (real Unix seconds).
#[derive(Default)]
pub struct TokenStore {
    tokens: RwLock<HashMap<String, i64>>,
    jwts: RwLock<HashMap<String, i64>>,
}

impl TokenStore {
    /// Issues an access token valid for `lifetime_secs`.
    pub fn issue(&self, lifetime_secs: i64) -> String {
        let token = format!("ya29.emu-{}", random_token(30));
        let exp = now_secs() + lifetime_secs;
        if let Ok(mut t) = self.tokens.write() {
            if t.len() > 100_000 {
                let now = now_secs();
                t.retain(|_, e| *e > now);
            }
            t.insert(token.clone(), exp);
        }
        token
    }

    /// Whether an issued token is known and unexpired.
    pub fn check_issued(&self, token: &str) -> Option<bool> {
        let exp = *self.tokens.read().ok()?.get(token)?;
        Some(exp > now_secs())
    }

    /// Remembers a verified JWT until it expires (so each is checked once).
    fn remember_jwt(&self, token: &str, exp: i64) {
        if let Ok(mut j) = self.jwts.write() {
            if j.len() > 10_000 {
                let now = now_secs();
                j.retain(|_, e| *e > now);
            }
            j.insert(token.to_string(), exp);
        }
    }

    fn known_jwt(&self, token: &str) -> Option<i64> {
        self.jwts.read().ok()?.get(token).copied()
    }

    /// Unexpired issued tokens, for the state file.
    pub fn export(&self) -> std::collections::BTreeMap<String, i64> {
        let now = now_secs();
        self.tokens
            .read()
            .map(|t| {
                t.iter()
                    .filter(|(_, e)| **e > now)
                    .map(|(k, e)| (k.clone(), *e))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Restores issued tokens from the state file.
    pub fn import(&self, tokens: std::collections::BTreeMap<String, i64>) {
        if let Ok(mut t) = self.tokens.write() {
            t.extend(tokens);
        }
    }

    /// Forgets every token (used by tests of expiry, never by reset).
    pub fn clear(&self) {
        if let Ok(mut t) = self.tokens.write() {
            t.clear();
        }
        if let Ok(mut j) = self.jwts.write() {
            j.clear();
        }
    }
}

/// Real time in Unix seconds.
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Checks a JWT signed with the emulator's key: algorithm, `kid`, signature, `iss`,
/// `iat`/`exp` (at most one hour apart) and audience.
pub fn verify_jwt(keys: &Keys, token: &str, audience: Audience<'_>) -> Result<i64, JwtError> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("Invalid JWT: {e}."))?;
    if header.alg != Algorithm::RS256 {
        return Err("Invalid JWT: only RS256 is accepted.".into());
    }
    if let Some(kid) = &header.kid
        && kid != &keys.key_id
    {
        return Err(format!("Invalid JWT Signature: unknown key id {kid}."));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Claims>(token, &keys.decoding, &validation)
        .map_err(|_| "Invalid JWT Signature.".to_string())?;
    let c = data.claims;
    if c.iss.as_deref() != Some(keys.client_email.as_str()) {
        return Err(format!(
            "Invalid JWT: iss must be {}; got {}.",
            keys.client_email,
            c.iss.as_deref().unwrap_or("nothing")
        ));
    }
    let (Some(iat), Some(exp)) = (c.iat, c.exp) else {
        return Err("Invalid JWT: iat and exp are required.".into());
    };
    let now = now_secs();
    if iat > now + LEEWAY_SECS {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.".into());
    }
    if exp <= now - LEEWAY_SECS || exp <= iat || exp - iat > 3600 + LEEWAY_SECS {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.".into());
    }
    let auds: Vec<String> = match &c.aud {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    let norm = |s: &str| s.trim_end_matches('/').to_string();
    match audience {
        Audience::TokenEndpoint(own) => {
            let ok = auds.iter().any(|a| {
                a == GOOGLE_TOKEN_URL
                    || a == "https://www.googleapis.com/oauth2/v4/token"
                    || own.iter().any(|o| norm(o) == norm(a))
            });
            if !ok {
                return Err(format!(
                    "Invalid JWT: aud must be {GOOGLE_TOKEN_URL} or this emulator's token URL."
                ));
            }
        }
        Audience::Service(own, service_host) => {
            let scoped = c.scope.as_deref().is_some_and(|s| !s.trim().is_empty());
            let ok = scoped
                || auds.iter().any(|a| {
                    let a = norm(a);
                    a.strip_prefix("https://").is_some_and(service_host)
                        || own.iter().any(|o| norm(o) == a)
                });
            if !ok {
                return Err(
                    "Invalid JWT: aud must be the service URL, or a scope claim must be present."
                        .into(),
                );
            }
        }
    }
    Ok(exp)
}

/// The outcome of checking a bearer token.
#[derive(Debug, PartialEq, Eq)]
pub enum BearerCheck {
    Ok,
    Missing,
    Expired,
    Invalid(String),
}

/// Checks a bearer token: an issued access token, or a self-signed JWT.
pub fn check_bearer(
    keys: &Keys,
    store: &TokenStore,
    token: Option<&str>,
    own_urls: &[String],
    service_host: HostMatcher,
) -> BearerCheck {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return BearerCheck::Missing;
    };
    if let Some(ok) = store.check_issued(token) {
        return if ok {
            BearerCheck::Ok
        } else {
            BearerCheck::Expired
        };
    }
    if token.matches('.').count() != 2 {
        return BearerCheck::Invalid("unknown access token".into());
    }
    if let Some(exp) = store.known_jwt(token) {
        return if exp > now_secs() - LEEWAY_SECS {
            BearerCheck::Ok
        } else {
            BearerCheck::Expired
        };
    }
    match verify_jwt(keys, token, Audience::Service(own_urls, service_host)) {
        Ok(exp) => {
            store.remember_jwt(token, exp);
            BearerCheck::Ok
        }
        Err(e) => BearerCheck::Invalid(e),
    }
}
