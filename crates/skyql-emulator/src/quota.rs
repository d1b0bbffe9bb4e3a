//! Per-project quotas and disabled services, answered in Google's shapes, so that a
//! client's quota scheduling and error accounting can be tested offline.
//!
//! - [`Quotas`]: a token bucket per (service, consumer project) holding a minute's
//!   allowance (`--project-quota N` requests per minute: N tokens at most, refilled at
//!   N/60 per second). It runs on the emulator's clock, so a frozen clock makes tests
//!   exact (the bucket refills only when `POST /emulator/clock:advance` moves the clock)
//!   and a real clock makes it a wall-clock rate limit.
//! - [`rate_limit_exceeded`]: 429 `RESOURCE_EXHAUSTED` with an `ErrorInfo` of reason
//!   `RATE_LIMIT_EXCEEDED` (domain `googleapis.com`, metadata `quota_metric`,
//!   `quota_limit`, `quota_limit_value`, `quota_location`, `quota_unit`, `consumer`,
//!   `service`), a `Help` link, and `Retry-After` (whole seconds until a token is back).
//! - [`service_disabled`]: 403 `PERMISSION_DENIED` with an `ErrorInfo` of reason
//!   `SERVICE_DISABLED` (metadata `consumer`, `service`, `serviceTitle`, `containerInfo`,
//!   `activationUrl`), a `LocalizedMessage` and a `Help` link to the activation page.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::status::{ApiError, error_info};
use crate::wire::Json;

/// A minute in microseconds: a token is worth this many units, and a bucket of limit N
/// gains N units per microsecond (integers, so refills are exact).
const MINUTE_US: i128 = 60_000_000;

/// What a service's per-minute quota is called: (metric, metric title, limit, limit
/// title), as the service's own 429s name them.
fn quota_names(service: &str) -> (String, &'static str, &'static str, &'static str) {
    match service {
        "aiplatform.googleapis.com" => (
            "aiplatform.googleapis.com/resource_management_requests".into(),
            "Resource management (CRUD) requests",
            "ResourceManagementRequestsPerMinutePerProject",
            "Resource management (CRUD) requests per minute",
        ),
        "cloudresourcemanager.googleapis.com" => (
            "cloudresourcemanager.googleapis.com/read_requests".into(),
            "Read requests",
            "ReadRequestsPerMinutePerProject",
            "Read requests per minute",
        ),
        other => (
            format!("{other}/requests"),
            "Requests",
            "RequestsPerMinutePerProject",
            "Requests per minute",
        ),
    }
}

/// The title Google's errors give a service.
pub fn service_title(service: &str) -> String {
    match service {
        "aiplatform.googleapis.com" => "Vertex AI API".into(),
        "cloudresourcemanager.googleapis.com" => "Cloud Resource Manager API".into(),
        other => format!("{} API", other.split('.').next().unwrap_or(other)),
    }
}

/// One bucket: units left (a token is [`MINUTE_US`] units) and when they were counted
/// (emulator clock, µs).
struct Bucket {
    units: i128,
    at_us: i64,
}

/// Token buckets per (service, consumer project number).
pub struct Quotas {
    per_minute: Option<u32>,
    buckets: Mutex<HashMap<(String, u64), Bucket>>,
}

impl Quotas {
    /// Buckets of `per_minute` requests per minute; `None` (or 0) for no quota.
    pub fn new(per_minute: Option<u32>) -> Self {
        Self {
            per_minute: per_minute.filter(|n| *n > 0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The limit, if there is one.
    pub fn per_minute(&self) -> Option<u32> {
        self.per_minute
    }

    /// Takes a token for a request of `service` charged to project `consumer` at
    /// `now_us`; the 429 to answer when the bucket is empty.
    pub fn take(&self, service: &str, consumer: u64, now_us: i64) -> Result<(), ApiError> {
        let Some(limit) = self.per_minute else {
            return Ok(());
        };
        let rate = i128::from(limit);
        let capacity = rate * MINUTE_US;
        let Ok(mut buckets) = self.buckets.lock() else {
            return Err(ApiError::internal(
                "Internal error: the emulator's quota lock is poisoned.",
            ));
        };
        let bucket = buckets
            .entry((service.to_string(), consumer))
            .or_insert(Bucket {
                units: capacity,
                at_us: now_us,
            });
        let elapsed = i128::from(now_us.saturating_sub(bucket.at_us).max(0));
        bucket.units = (bucket.units + elapsed.saturating_mul(rate)).min(capacity);
        bucket.at_us = bucket.at_us.max(now_us);
        if bucket.units >= MINUTE_US {
            bucket.units -= MINUTE_US;
            return Ok(());
        }
        let wait_us = (MINUTE_US - bucket.units + rate - 1) / rate;
        let retry_after = u64::try_from((wait_us + 999_999) / 1_000_000)
            .unwrap_or(u64::MAX)
            .max(1);
        Err(rate_limit_exceeded(service, consumer, limit, retry_after))
    }

    /// Forgets every bucket (`POST /emulator/reset`).
    pub fn clear(&self) {
        if let Ok(mut b) = self.buckets.lock() {
            b.clear();
        }
    }
}

fn help(description: &str, url: &str) -> Json {
    Json::obj()
        .with("@type", "type.googleapis.com/google.rpc.Help")
        .with(
            "links",
            vec![
                Json::obj()
                    .with("description", description)
                    .with("url", url),
            ],
        )
}

/// Google's 429 for a per-minute, per-project quota of `service` used up by project
/// number `consumer`, telling the client to come back in `retry_after` seconds.
pub fn rate_limit_exceeded(service: &str, consumer: u64, limit: u32, retry_after: u64) -> ApiError {
    let (metric, metric_title, limit_name, limit_title) = quota_names(service);
    let limit_value = limit.to_string();
    let consumer_name = format!("projects/{consumer}");
    ApiError::new(
        429,
        "RESOURCE_EXHAUSTED",
        format!(
            "Quota exceeded for quota metric '{metric_title}' and limit '{limit_title}' of service '{service}' for consumer 'project_number:{consumer}'."
        ),
    )
    .with_detail(error_info(
        "RATE_LIMIT_EXCEEDED",
        "googleapis.com",
        &[
            ("quota_metric", &metric),
            ("quota_limit", limit_name),
            ("quota_limit_value", &limit_value),
            ("quota_location", "global"),
            ("quota_unit", "1/min/{project}"),
            ("consumer", &consumer_name),
            ("service", service),
        ],
    ))
    .with_detail(help(
        "Request a higher quota limit.",
        "https://cloud.google.com/docs/quotas/help/request_increase",
    ))
    .with_header("retry-after", retry_after.to_string())
}

/// Google's 403 for a call to `service` from project number `consumer`, where the
/// service is not enabled.
pub fn service_disabled(service: &str, consumer: u64) -> ApiError {
    let title = service_title(service);
    let url = format!(
        "https://console.developers.google.com/apis/api/{service}/overview?project={consumer}"
    );
    let message = format!(
        "{title} has not been used in project {consumer} before or it is disabled. Enable it by visiting {url} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry."
    );
    let consumer_name = format!("projects/{consumer}");
    let container = consumer.to_string();
    ApiError::new(403, "PERMISSION_DENIED", message.clone())
        .with_detail(error_info(
            "SERVICE_DISABLED",
            "googleapis.com",
            &[
                ("consumer", &consumer_name),
                ("service", service),
                ("serviceTitle", &title),
                ("containerInfo", &container),
                ("activationUrl", &url),
            ],
        ))
        .with_detail(
            Json::obj()
                .with("@type", "type.googleapis.com/google.rpc.LocalizedMessage")
                .with("locale", "en-US")
                .with("message", message),
        )
        .with_detail(help("Google developers console API activation", &url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_holds_a_minute_and_refills_on_the_clock() {
        let q = Quotas::new(Some(6));
        let svc = "aiplatform.googleapis.com";
        for _ in 0..6 {
            assert!(q.take(svc, 1, 0).is_ok());
        }
        let e = q.take(svc, 1, 0).err().unwrap();
        assert_eq!((e.http, e.status), (429, "RESOURCE_EXHAUSTED"));
        assert_eq!(e.headers, vec![("retry-after", "10".to_string())]);
        // Another project, another bucket.
        assert!(q.take(svc, 2, 0).is_ok());
        // One token every ten seconds.
        assert!(q.take(svc, 1, 9_000_000).is_err());
        assert!(q.take(svc, 1, 10_000_000).is_ok());
        assert!(Quotas::new(None).take(svc, 1, 0).is_ok());
        assert!(Quotas::new(Some(0)).take(svc, 1, 0).is_ok());
    }
}
