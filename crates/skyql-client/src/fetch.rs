//! Plain GETs of public documents (Discovery documents need no auth), and
//! reading any response body under a size cap.

use crate::Error;
use crate::target::{check_base, redact};
use std::time::Duration;

/// Why a capped read stopped.
pub(crate) enum Capped {
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads a response body, giving up as soon as it passes `cap` bytes (an
/// endless or huge answer never grows memory past the cap).
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, Capped> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(Capped::TooLarge);
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(Capped::Transport)? {
        if out.len() + chunk.len() > cap {
            return Err(Capped::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Fetches a URL's body, at most `max_bytes` of it. Non-2xx answers are
/// errors that carry the start of the body (Google's JSON error, or an HTML
/// page), so users see why. URLs with userinfo, a query or a fragment are
/// refused like `--endpoint`s.
pub async fn fetch_bytes(url: &str, timeout: Duration, max_bytes: usize) -> Result<Vec<u8>, Error> {
    let shown = redact(url);
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::BadUrl { url: shown });
    }
    let parsed = check_document_url(url)?;
    let transport = |e: reqwest::Error| Error::Transport {
        method: "GET".into(),
        url: shown.clone(),
        message: describe(&e),
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("skyql/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(transport)?;
    let resp = client.get(parsed).send().await.map_err(transport)?;
    let status = resp.status();
    let body = match read_capped(resp, max_bytes).await {
        Ok(b) => b,
        Err(Capped::Transport(e)) => return Err(transport(e)),
        Err(Capped::TooLarge) => {
            return Err(Error::TooLarge {
                method: "GET".into(),
                url: shown,
                limit: max_bytes,
            });
        }
    };
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let snippet: String = text.chars().take(300).collect();
        return Err(Error::Status {
            method: "GET".into(),
            url: shown,
            status: status.as_u16(),
            body: snippet.split_whitespace().collect::<Vec<_>>().join(" "),
        });
    }
    Ok(body)
}

/// A document URL may carry a query (`$discovery/rest?version=v1`), but no
/// userinfo or fragment.
fn check_document_url(url: &str) -> Result<url::Url, Error> {
    let parsed = url::Url::parse(url).map_err(|_| Error::BadUrl { url: redact(url) })?;
    let mut base = parsed.clone();
    base.set_query(None);
    check_base(base.as_str(), "the document URL")?;
    Ok(parsed)
}

/// reqwest's Display hides the cause ("error sending request"); walk the
/// chain, dropping the URL (the caller prints it) and repeated links.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    if let Some(u) = e.url() {
        msg = msg.replace(&format!(" for url ({u})"), "");
    }
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let link = s.to_string();
        if !msg.ends_with(&link) {
            msg.push_str(": ");
            msg.push_str(&link);
        }
        src = s.source();
    }
    if e.is_timeout() {
        msg.push_str(" (timed out; raise --timeout)");
    } else if e.is_connect() {
        msg.push_str(" (cannot connect: check the network, a proxy, or --endpoint)");
    }
    msg
}
