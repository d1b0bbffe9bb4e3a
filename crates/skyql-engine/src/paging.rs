//! Following `nextPageToken`, the one way every list read pages (scans and
//! EXEC of a `_list` twin alike): the request for each page, and the checks
//! that a server cannot make the engine loop forever or lose pages silently.

use crate::Error;
use crate::request;
use crate::scan::Params;
use serde_json::Value;
use skyql_client::ApiRequest;
use skyql_provider::{Method, Service};
use std::collections::HashSet;

/// Where a list read is: the parameters of its first page and the token of
/// the next.
pub struct Pager {
    /// The resource or method, for errors (`google.compute.disks`).
    what: String,
    base: Params,
    token: Option<String>,
    seen: HashSet<String>,
}

impl Pager {
    /// A read with `base` parameters (a `pageToken` among them is the first page's).
    pub fn new(what: impl Into<String>, mut base: Params) -> Pager {
        let token = base.remove("pageToken");
        Pager {
            what: what.into(),
            base,
            token,
            seen: HashSet::new(),
        }
    }

    /// The request for the current page.
    pub fn request(&self, svc: &Service, m: &Method) -> ApiRequest {
        let mut values = self.base.clone();
        if let Some(t) = &self.token {
            values.insert("pageToken".into(), t.clone());
        }
        request::build(svc, m, &values, None)
    }

    /// Moves to the page after `page`: `Ok(false)` at the last page; an
    /// error if the token is not text or comes back a second time (the
    /// server would have the engine read the same pages forever).
    pub fn advance(&mut self, page: &Value) -> Result<bool, Error> {
        let next = match page.get("nextPageToken") {
            None | Some(Value::Null) => return Ok(false),
            Some(Value::String(t)) if t.is_empty() => return Ok(false),
            Some(Value::String(t)) => t.clone(),
            Some(other) => {
                return Err(Error::Remote(format!(
                    "{}: the API's nextPageToken is {other}, not text; the remaining pages cannot be read",
                    self.what
                )));
            }
        };
        if let Some(t) = &self.token {
            self.seen.insert(t.clone());
        }
        if !self.seen.insert(next.clone()) {
            return Err(Error::Remote(format!(
                "{}: the API gave the page token `{next}` a second time; stopping instead of reading the same pages again",
                self.what
            )));
        }
        self.token = Some(next);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_advance_end_and_refuse_repeats() {
        let mut p = Pager::new("google.x.things", Params::new());
        assert!(p.advance(&json!({"nextPageToken": "a"})).expect("a"));
        assert!(p.advance(&json!({"nextPageToken": "b"})).expect("b"));
        let e = p
            .advance(&json!({"nextPageToken": "a"}))
            .expect_err("repeat")
            .to_string();
        assert!(
            e.starts_with("google.x.things: the API gave the page token `a` a second time"),
            "{e}"
        );
        let mut p = Pager::new("google.x.things", Params::new());
        assert!(!p.advance(&json!({"nextPageToken": ""})).expect("end"));
        assert!(!p.advance(&json!({})).expect("end"));
        let e = p
            .advance(&json!({"nextPageToken": 7}))
            .expect_err("number")
            .to_string();
        assert!(e.contains("nextPageToken is 7, not text"), "{e}");
        // The user's own first token counts as seen.
        let mut first = Params::new();
        first.insert("pageToken".into(), "t0".into());
        let mut p = Pager::new("google.x.things", first);
        assert!(p.advance(&json!({"nextPageToken": "t0"})).is_err());
    }
}
