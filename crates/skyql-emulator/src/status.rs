//! Errors as the real service writes them: `google.rpc.Status` JSON
//! (`{"error":{"code","message","status","details"}}`) with the matching HTTP status.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An API error ready to be written.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub http: u16,
    pub status: &'static str,
    pub message: String,
    pub details: Vec<Value>,
    pub headers: Vec<(&'static str, String)>,
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
    /// 400 with a `google.rpc.BadRequest` listing the violations, in the real service's
    /// "List of found errors" style.
    pub fn field_violations(violations: &[(String, String)]) -> Self {
        let mut message = String::from("List of found errors:\t");
        for (i, (field, desc)) in violations.iter().enumerate() {
            message.push_str(&format!("{}.Field: {field}; Message: {desc}\t", i + 1));
        }
        let fv: Vec<Value> = violations
            .iter()
            .map(|(f, d)| json!({"field": f, "description": d}))
            .collect();
        let mut e = Self::invalid(message);
        e.details.push(json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": fv
        }));
        e
    }
    /// 400 for a body or parameter that cannot be bound (a violation without a field).
    pub fn bad_payload(message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = Self::invalid(message.clone());
        e.details.push(json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"description": message}]
        }));
        e
    }
    pub fn with_detail(mut self, d: Value) -> Self {
        self.details.push(d);
        self
    }
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(&self) -> Value {
        let mut error = json!({
            "code": self.http,
            "message": self.message,
            "status": self.status,
        });
        if !self.details.is_empty() {
            error["details"] = Value::Array(self.details.clone());
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec_pretty(&self.body()).unwrap_or_default();
        let mut resp = (
            StatusCode::from_u16(self.http).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        )
            .into_response();
        let h = resp.headers_mut();
        h.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=UTF-8"),
        );
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(HeaderName::from_static(name), v);
            }
        }
        resp
    }
}
