//! Plain GETs of public documents (Discovery documents need no auth).

use crate::Error;
use std::time::Duration;

/// Fetches a URL's body. Non-2xx answers are errors that carry the start of
/// the body (Google's JSON error, or an HTML page), so users see why.
pub async fn fetch_bytes(url: &str, timeout: Duration) -> Result<Vec<u8>, Error> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::BadUrl { url: url.into() });
    }
    let transport = |e: reqwest::Error| Error::Transport {
        method: "GET".into(),
        url: url.into(),
        message: describe(&e),
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("skyql/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(transport)?;
    let resp = client.get(url).send().await.map_err(transport)?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(transport)?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let snippet: String = text.chars().take(300).collect();
        return Err(Error::Status {
            method: "GET".into(),
            url: url.into(),
            status: status.as_u16(),
            body: snippet.split_whitespace().collect::<Vec<_>>().join(" "),
        });
    }
    Ok(body.to_vec())
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
