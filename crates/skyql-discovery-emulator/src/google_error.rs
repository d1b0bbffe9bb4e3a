//! Errors as Google's front ends write them. AIP-style services answer a
//! `google.rpc.Status` (`code`, `message`, `status`, `details`); compute, storage and the
//! other older APIs answer the legacy shape with an `errors` array (`message`, `domain`,
//! `reason`) beside `code` and `message`. The shape follows the service's family.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An API error on its way to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    /// `google.rpc.Code` name, e.g. `NOT_FOUND`.
    pub status: &'static str,
    /// The legacy `errors[].reason`, e.g. `notFound`.
    pub reason: &'static str,
    pub message: String,
    pub details: Vec<Value>,
    /// Written in the legacy shape (compute, storage, ...) rather than as a google.rpc.Status.
    pub legacy: bool,
}

impl ApiError {
    pub fn new(
        code: u16,
        status: &'static str,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            status,
            reason,
            message: message.into(),
            details: Vec::new(),
            legacy: false,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_ARGUMENT", "invalid", message)
    }

    /// Google's 400 for a request body or query that does not bind.
    pub fn bad_payload(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::invalid(message.clone()).with_detail(json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": field, "description": message}]
        }))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "NOT_FOUND", "notFound", message)
    }

    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(409, "ALREADY_EXISTS", "alreadyExists", message)
    }

    pub fn aborted(message: impl Into<String>) -> Self {
        Self::new(409, "ABORTED", "conflict", message)
    }

    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(400, "FAILED_PRECONDITION", "failedPrecondition", message)
    }

    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(501, "UNIMPLEMENTED", "notImplemented", message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(401, "UNAUTHENTICATED", "authError", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "INTERNAL", "backendError", message)
    }

    pub fn with_detail(mut self, detail: Value) -> Self {
        self.details.push(detail);
        self
    }

    /// Sets the shape from the service's family.
    pub fn legacy(mut self, legacy: bool) -> Self {
        self.legacy = legacy;
        self
    }

    /// The `error` object's content.
    pub fn body(&self) -> Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if self.legacy {
            error["errors"] = json!([{
                "message": self.message,
                "domain": "global",
                "reason": self.reason
            }]);
        } else {
            error["status"] = Value::String(self.status.to_string());
            if !self.details.is_empty() {
                error["details"] = Value::Array(self.details.clone());
            }
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec_pretty(&self.body()).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=UTF-8"),
        );
        if self.code == 401 {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"https://accounts.google.com/\""),
            );
        }
        if self.code == 429 {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_family() {
        let e = ApiError::not_found("The resource 'x' was not found").legacy(true);
        let b = e.body();
        assert_eq!(b["error"]["errors"][0]["reason"], "notFound");
        assert!(b["error"].get("status").is_none());
        let b = ApiError::not_found("KeyRing x not found.").body();
        assert_eq!(b["error"]["status"], "NOT_FOUND");
        assert!(b["error"].get("errors").is_none());
    }
}
