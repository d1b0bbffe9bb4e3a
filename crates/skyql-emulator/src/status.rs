//! Errors as the real service writes them: `google.rpc.Status` JSON
//! (`{"error":{"code","message","status","details"}}`, in that order) with the matching
//! HTTP status, and the detail messages Google attaches (`ErrorInfo`, `BadRequest`).

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::wire::{Json, json_response};

/// An API error ready to be written.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub http: u16,
    pub status: &'static str,
    pub message: String,
    pub details: Vec<Json>,
    pub headers: Vec<(&'static str, String)>,
}

/// A `google.rpc.ErrorInfo` detail: reason, domain, metadata (in proto order).
pub fn error_info(reason: &str, domain: &str, metadata: &[(&str, &str)]) -> Json {
    let mut meta = Json::obj();
    for (k, v) in metadata {
        meta.push(k, *v);
    }
    Json::obj()
        .with("@type", "type.googleapis.com/google.rpc.ErrorInfo")
        .with("reason", reason)
        .with("domain", domain)
        .with("metadata", meta)
}

impl ApiError {
    pub fn new(http: u16, status: &'static str, message: impl Into<String>) -> Self {
        Self {
            http,
            status,
            message: message.into(),
            details: Vec::new(),
            headers: Vec::new(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_ARGUMENT", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "NOT_FOUND", message)
    }
    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(400, "FAILED_PRECONDITION", message)
    }
    /// 500 for a poisoned lock: a bug in the emulator, never the caller's fault.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "INTERNAL", message)
    }
    /// 404 for a route the API does not have, as Google's front end words it.
    pub fn no_route(path: &str) -> Self {
        Self::not_found(format!(
            "The requested URL {path} was not found on this server."
        ))
    }
    /// 400 with a `google.rpc.BadRequest` listing the violations, in the real service's
    /// "List of found errors" style.
    pub fn field_violations(violations: &[(String, String)]) -> Self {
        let mut message = String::from("List of found errors:\t");
        for (i, (field, desc)) in violations.iter().enumerate() {
            message.push_str(&format!("{}.Field: {field}; Message: {desc}\t", i + 1));
        }
        let fv: Vec<Json> = violations
            .iter()
            .map(|(f, d)| Json::obj().with("field", f).with("description", d))
            .collect();
        Self::invalid(message).with_detail(
            Json::obj()
                .with("@type", "type.googleapis.com/google.rpc.BadRequest")
                .with("fieldViolations", fv),
        )
    }
    /// 400 for a body or parameter that cannot be bound (a violation without a field).
    pub fn bad_payload(message: impl Into<String>) -> Self {
        let message = message.into();
        let fv = Json::obj().with("description", message.as_str());
        Self::invalid(message.clone()).with_detail(
            Json::obj()
                .with("@type", "type.googleapis.com/google.rpc.BadRequest")
                .with("fieldViolations", vec![fv]),
        )
    }
    pub fn with_detail(mut self, d: Json) -> Self {
        self.details.push(d);
        self
    }
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The error body, fields in Google's order.
    pub fn body(&self) -> Json {
        let mut error = Json::obj()
            .with("code", self.http)
            .with("message", self.message.as_str())
            .with("status", self.status);
        if !self.details.is_empty() {
            error.push("details", Json::Arr(self.details.clone()));
        }
        Json::obj().with("error", error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = json_response(
            StatusCode::from_u16(self.http).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            self.body().to_bytes(true),
        );
        let h = resp.headers_mut();
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(HeaderName::from_static(name), v);
            }
        }
        resp
    }
}
