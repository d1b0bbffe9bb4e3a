//! Where a request goes, decided once: the URL is built from the root and
//! the engine's already-encoded path without any resolution (a `.` or `..`
//! segment would send a get to the list URL or a delete to the parent), the
//! same `Url` is what dry-run shows and what is sent, and the bearer token
//! only goes where it is safe (https, loopback, or the `--endpoint` the user
//! named). URLs with userinfo are refused and never echoed.

use crate::Error;
use url::Url;

/// A URL for messages: without its userinfo (user name and password).
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) => {
            if !u.username().is_empty() || u.password().is_some() {
                let _ = u.set_username("");
                let _ = u.set_password(None);
            }
            u.to_string()
        }
        // Not a URL: drop everything up to an `@` before the first `/` after `//`.
        Err(_) => match (url.find("//"), url.find('@')) {
            (Some(s), Some(at)) if at > s && !url[s + 2..at].contains('/') => {
                format!("{}{}", &url[..s + 2], &url[at + 1..])
            }
            _ => url.to_string(),
        },
    }
}

/// Checks a base URL (`--endpoint`, a service's root URL, a document URL):
/// http or https with a host, and no userinfo, query or fragment (userinfo
/// would be sent as a second Authorization header and printed in errors).
pub(crate) fn check_base(url: &str, what: &str) -> Result<Url, Error> {
    let shown = redact(url);
    let parsed = Url::parse(url).map_err(|e| {
        Error::Config(format!(
            "{what} `{shown}` is not a URL ({e}); expected e.g. http://127.0.0.1:8089"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.has_host() {
        return Err(Error::Config(format!(
            "{what} `{shown}` is not an http(s) URL; expected e.g. http://127.0.0.1:8089"
        )));
    }
    let problem = if !parsed.username().is_empty() || parsed.password().is_some() {
        Some("a user name or password (credentials come from --auth, never from the URL)")
    } else if parsed.query().is_some() {
        Some("a query (`?...`)")
    } else if parsed.fragment().is_some() {
        Some("a fragment (`#...`)")
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(Error::Config(format!(
            "{what} `{shown}` has {problem}; give only scheme, host, port and path"
        )));
    }
    Ok(parsed)
}

/// A segment that URL parsers resolve away (`.`, `..`, also percent-encoded).
fn is_dot_segment(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."
    )
}

/// The URL of a request: `root`'s path, then `path` (already percent-encoded
/// by the engine) segment by segment, then the query. Refuses a path that
/// URL resolution would change instead of sending it somewhere else.
pub(crate) fn request_url(
    root: &Url,
    path: &str,
    query: &[(String, String)],
) -> Result<Url, Error> {
    let path = path.trim_start_matches('/');
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    if let Some(bad) = segments
        .iter()
        .enumerate()
        .find(|(i, s)| is_dot_segment(s) || (s.is_empty() && *i != last))
        .map(|(_, s)| *s)
    {
        return Err(Error::Config(format!(
            "the request path `{path}` has {} segment; refusing to send it, since URL \
             resolution would make it reach a different resource",
            if bad.is_empty() {
                "an empty".to_string()
            } else {
                format!("a `{bad}`")
            }
        )));
    }
    let want = format!("{}/{path}", root.path().trim_end_matches('/'));
    let mut url = root.clone();
    url.set_path(&want);
    if url.path() != want {
        return Err(Error::Config(format!(
            "the request path `{want}` would be sent as `{}`; refusing to send it",
            url.path()
        )));
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

/// Whether a URL names this machine (localhost, 127.0.0.0/8, ::1).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether a bearer token may be sent to `url`: over https, to loopback, or
/// to the `--endpoint` the user named. Never in clear text elsewhere (a
/// pulled document's plain-http rootUrl).
pub(crate) fn may_carry_token(url: &Url, endpoint: Option<&Url>) -> bool {
    url.scheme() == "https"
        || is_loopback(url)
        || endpoint.is_some_and(|e| e.origin() == url.origin())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn userinfo_is_never_shown() {
        assert_eq!(redact("http://user:pass@host:81/x"), "http://host:81/x");
        assert_eq!(redact("http://user:pass@"), "http://");
        assert_eq!(redact("https://h/a@b"), "https://h/a@b");
        let e = check_base("http://alice:hunter2@host", "--endpoint")
            .expect_err("userinfo")
            .to_string();
        assert!(!e.contains("hunter2") && !e.contains("alice"), "{e}");
        assert!(e.contains("user name or password"), "{e}");
        for bad in [
            "http://h/?a=1",
            "http://h/#f",
            "ftp://h/",
            "h:80",
            "http://",
        ] {
            assert!(check_base(bad, "--endpoint").is_err(), "{bad}");
        }
        check_base("http://127.0.0.1:8089/prefix/", "--endpoint").expect("ok");
    }

    #[test]
    fn paths_are_never_resolved() {
        let root = url("https://x.googleapis.com/base/");
        let u =
            request_url(&root, "v1/a%2Fb/c:cancel", &[("k".into(), "a b&c".into())]).expect("url");
        assert_eq!(
            u.as_str(),
            "https://x.googleapis.com/base/v1/a%2Fb/c:cancel?k=a+b%26c"
        );
        for bad in [
            "v1/datasets/d/savedQueries/..",
            "v1/jobs/.",
            "v1/jobs/%2E%2e",
            "v1//jobs",
            "v1/./jobs",
        ] {
            let e = request_url(&root, bad, &[]).expect_err(bad).to_string();
            assert!(e.contains("refusing to send it"), "{e}");
        }
    }

    #[test]
    fn tokens_only_over_https_loopback_or_the_endpoint() {
        assert!(may_carry_token(&url("https://evil.example/"), None));
        assert!(may_carry_token(&url("http://127.0.0.1:9/"), None));
        assert!(may_carry_token(&url("http://localhost/"), None));
        assert!(!may_carry_token(&url("http://evil.example/"), None));
        let ep = url("http://emulator.internal:8089/");
        assert!(may_carry_token(
            &url("http://emulator.internal:8089/v1/x"),
            Some(&ep)
        ));
        assert!(!may_carry_token(
            &url("http://emulator.internal:8090/v1/x"),
            Some(&ep)
        ));
    }
}
