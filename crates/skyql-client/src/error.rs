//! The client's single error type. Users read these: every variant names the
//! request (method and URL) or the credential source, and what to do.

use serde_json::Value;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// The request never got an HTTP answer (DNS, refused, reset, timeout).
    #[error("{method} {url}: {message}")]
    Transport {
        method: String,
        url: String,
        message: String,
    },
    /// A non-2xx answer whose body is not a Google error (an HTML page, a
    /// truncated body): status and the start of the body, whitespace collapsed.
    #[error("{method} {url}: HTTP {status}: {body}")]
    Status {
        method: String,
        url: String,
        status: u16,
        body: String,
    },
    /// A Google API error (`{"error":{"code","message","status","details"}}`).
    #[error("{}", api_display(method, url, *status, code, message, details))]
    Api {
        method: String,
        url: String,
        /// HTTP status.
        status: u16,
        /// google.rpc status name, e.g. `NOT_FOUND` (empty when absent).
        code: String,
        message: String,
        details: Vec<Value>,
    },
    /// A 2xx answer whose body is not JSON.
    #[error("{method} {url}: HTTP {status}: the response is not valid JSON ({message}): {body}")]
    InvalidJson {
        method: String,
        url: String,
        status: u16,
        message: String,
        body: String,
    },
    /// A response body over the configured size cap.
    #[error(
        "{method} {url}: the response is larger than the limit of {}; raise it with --max-response-mib if it is expected",
        size(*limit)
    )]
    TooLarge {
        method: String,
        url: String,
        limit: usize,
    },
    /// No token could be obtained; `source` names the credential source tried.
    #[error("{source_name}: {message}")]
    Auth {
        source_name: String,
        message: String,
    },
    /// Bad configuration (`--auth`, `--endpoint`, a request's URL).
    #[error("{0}")]
    Config(String),
    #[error("`{url}` is not an http(s) URL")]
    BadUrl { url: String },
    /// The last error of a request that was retried until its deadline (or
    /// its retry cap) ran out.
    #[error(
        "{last} (gave up after {attempts} attempts in {seconds:.1} s; \
         raise --retry-deadline to keep trying longer)"
    )]
    GaveUp {
        attempts: u32,
        seconds: f64,
        last: Box<Error>,
    },
}

impl Error {
    /// The error behind any [`Error::GaveUp`] wrapping.
    pub fn root(&self) -> &Error {
        match self {
            Error::GaveUp { last, .. } => last.root(),
            e => e,
        }
    }

    /// The HTTP status of an answer that was an error.
    pub fn http_status(&self) -> Option<u16> {
        match self.root() {
            Error::Api { status, .. } | Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The codes that name this error, for `--on-error skip:CODES`: the
    /// google.rpc status (`PERMISSION_DENIED`), the reasons of its
    /// ErrorInfo details (`SERVICE_DISABLED`) and the HTTP status (`403`).
    pub fn codes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Error::Api { code, details, .. } = self.root() {
            if !code.is_empty() {
                out.push(code.to_ascii_uppercase());
            }
            for d in details {
                if let Some(r) = d.get("reason").and_then(Value::as_str) {
                    out.push(r.to_ascii_uppercase());
                }
            }
        }
        if let Some(s) = self.http_status() {
            out.push(s.to_string());
        }
        if matches!(self.root(), Error::Transport { .. }) {
            out.push("TRANSPORT".into());
        }
        out
    }
}

/// `64 MiB`, or bytes when not a whole number of MiB.
fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// `GET url: 404 NOT_FOUND: message`, plus field violations of a
/// `google.rpc.BadRequest` detail (which say what to fix).
fn api_display(
    method: &str,
    url: &str,
    status: u16,
    code: &str,
    message: &str,
    details: &[Value],
) -> String {
    let mut out = format!("{method} {url}: {status}");
    if !code.is_empty() {
        out.push(' ');
        out.push_str(code);
    }
    // Some services put tabs and newlines in messages.
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if !message.is_empty() {
        out.push_str(": ");
        out.push_str(&message);
    }
    let violations: Vec<String> = details
        .iter()
        .filter(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("google.rpc.BadRequest"))
        })
        .filter_map(|d| d.get("fieldViolations").and_then(Value::as_array))
        .flatten()
        .filter_map(|v| {
            let field = v.get("field").and_then(Value::as_str).unwrap_or("");
            let desc = v.get("description").and_then(Value::as_str).unwrap_or("");
            // Already said by the message (Vertex AI lists them there).
            if (!field.is_empty() && message.contains(field))
                || (field.is_empty() && message.contains(desc))
            {
                return None;
            }
            Some(if field.is_empty() {
                desc.to_string()
            } else {
                format!("{field}: {desc}")
            })
        })
        .filter(|s| !s.is_empty())
        .collect();
    if !violations.is_empty() {
        out.push_str(" (");
        out.push_str(&violations.join("; "));
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn api_errors_show_field_violations_not_already_in_the_message() {
        let e = Error::Api {
            method: "POST".into(),
            url: "u".into(),
            status: 400,
            code: "INVALID_ARGUMENT".into(),
            message: "Request contains an invalid argument.\n".into(),
            details: vec![json!({
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [
                    {"field": "display_name", "description": "too long"},
                    {"description": "Request contains an invalid argument."}
                ]
            })],
        };
        assert_eq!(
            e.to_string(),
            "POST u: 400 INVALID_ARGUMENT: Request contains an invalid argument. (display_name: too long)"
        );
        let e = Error::Api {
            method: "GET".into(),
            url: "u".into(),
            status: 500,
            code: String::new(),
            message: String::new(),
            details: vec![],
        };
        assert_eq!(e.to_string(), "GET u: 500");
    }
}
