//! Quota-aware scheduling: token buckets per (service, project) and per
//! service, so an organisation-wide fan-out stays under Google's published
//! quotas instead of falling over on them. Each request waits only for the
//! buckets it goes through: a throttled project never stalls the others.
//!
//! Rates are data ([`DEFAULT_RATES`], per minute as Google publishes them),
//! overridden by a [`Quotas`] value the CLI reads from `--qps` and
//! `<home>/quotas.json`. A 429 (RESOURCE_EXHAUSTED / RATE_LIMIT_EXCEEDED)
//! halves the rate of the narrowest bucket the request went through and
//! holds it for the Retry-After; successes bring it back up step by step.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Google's published default quotas, requests per minute: (service,
/// per project, per service). `None` is "no limit of that kind".
/// Resource Manager's and Service Usage's limits are per calling (consumer)
/// project, so one skyql process sees them as per-service limits; Compute
/// Engine's read limit (about 20/s) is per project read.
pub const DEFAULT_RATES: &[(&str, Option<f64>, Option<f64>)] = &[
    ("cloudresourcemanager", None, Some(600.0)),
    ("serviceusage", None, Some(240.0)),
    ("compute", Some(1200.0), None),
];

/// Per project and minute, for services the table does not name.
pub const DEFAULT_PER_PROJECT_PER_MINUTE: f64 = 600.0;

/// The rates of one service, requests per minute.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ServiceRate {
    pub per_project_per_minute: Option<f64>,
    pub per_service_per_minute: Option<f64>,
}

/// The rate limits in force: the defaults, overrides by service, and an
/// optional cap on all requests together (`--qps`). The file format
/// (`quotas.json`) is this type's serde shape:
/// `{"qps": 50, "default_per_project_per_minute": 600, "services":
/// {"compute": {"per_project_per_minute": 1200}}}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Quotas {
    /// All requests together, per second.
    pub qps: Option<f64>,
    pub default_per_project_per_minute: Option<f64>,
    pub services: BTreeMap<String, ServiceRate>,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            qps: None,
            default_per_project_per_minute: Some(DEFAULT_PER_PROJECT_PER_MINUTE),
            services: DEFAULT_RATES
                .iter()
                .map(|(s, p, v)| {
                    (
                        s.to_string(),
                        ServiceRate {
                            per_project_per_minute: *p,
                            per_service_per_minute: *v,
                        },
                    )
                })
                .collect(),
        }
    }
}

impl Quotas {
    /// No limits at all (tests, `--qps 0`-style opt-outs by embedders).
    pub fn unlimited() -> Quotas {
        Quotas {
            qps: None,
            default_per_project_per_minute: None,
            services: BTreeMap::new(),
        }
    }

    /// The defaults with a `quotas.json` laid over them: services it names
    /// replace the defaults' entry; `qps` and the default rate replace theirs.
    pub fn from_json(text: &str, origin: &str) -> Result<Quotas, crate::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            qps: Option<f64>,
            default_per_project_per_minute: Option<f64>,
            #[serde(default)]
            services: BTreeMap<String, ServiceRate>,
        }
        let f: File = serde_json::from_str(text).map_err(|e| {
            crate::Error::Config(format!(
                "{origin}: {e}; expected {{\"qps\": N, \"default_per_project_per_minute\": N, \
                 \"services\": {{\"compute\": {{\"per_project_per_minute\": N, \
                 \"per_service_per_minute\": N}}}}}}"
            ))
        })?;
        let mut q = Quotas::default();
        if f.qps.is_some() {
            q.qps = f.qps;
        }
        if f.default_per_project_per_minute.is_some() {
            q.default_per_project_per_minute = f.default_per_project_per_minute;
        }
        for (k, v) in f.services {
            q.services.insert(k, v);
        }
        q.check(origin)?;
        Ok(q)
    }

    /// Every rate positive and finite.
    pub fn check(&self, origin: &str) -> Result<(), crate::Error> {
        let mut rates: Vec<(String, f64)> = Vec::new();
        rates.extend(self.qps.map(|r| ("qps".to_string(), r)));
        rates.extend(
            self.default_per_project_per_minute
                .map(|r| ("default_per_project_per_minute".to_string(), r)),
        );
        for (s, r) in &self.services {
            rates.extend(
                r.per_project_per_minute
                    .map(|x| (format!("{s}.per_project_per_minute"), x)),
            );
            rates.extend(
                r.per_service_per_minute
                    .map(|x| (format!("{s}.per_service_per_minute"), x)),
            );
        }
        match rates.iter().find(|(_, r)| !(r.is_finite() && *r > 0.0)) {
            Some((name, r)) => Err(crate::Error::Config(format!(
                "{origin}: {name} is {r}; a rate must be a positive number"
            ))),
            None => Ok(()),
        }
    }

    fn rate(&self, service: &str) -> (Option<f64>, Option<f64>) {
        match self.services.get(service) {
            Some(r) => (r.per_project_per_minute, r.per_service_per_minute),
            None => (self.default_per_project_per_minute, None),
        }
    }
}

/// The service a request is for: the first label of its root URL's host,
/// without a regional prefix (`us-central1-aiplatform` → `aiplatform`).
pub fn service_of(root_url: &str) -> String {
    let host = url::Url::parse(root_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let first = host.split('.').next().unwrap_or("");
    first.rsplit('-').next().unwrap_or(first).to_string()
}

/// The project a request reads: `projects/<p>/…` in its path, else a
/// `project` query parameter.
pub fn project_of(path: &str, query: &[(String, String)]) -> Option<String> {
    let segs: Vec<&str> = path.split('/').collect();
    segs.windows(2)
        .find(|w| w[0] == "projects" && !w[1].is_empty())
        .map(|w| w[1].to_string())
        .or_else(|| {
            query
                .iter()
                .find(|(k, _)| k == "project")
                .map(|(_, v)| v.clone())
        })
}

/// Which bucket: the whole client, a service, or a service in a project.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BucketKey {
    Global,
    Service(String),
    Project(String, String),
}

impl BucketKey {
    /// How many requests may go at once. Google counts quotas per minute,
    /// so a quota's bucket holds one minute's allowance: a short statement
    /// runs at full speed and a long one settles at the quota's rate (a 429
    /// still halves it). `--qps` is a rate per second and holds one second.
    fn burst(&self, per_second: f64) -> f64 {
        match self {
            BucketKey::Global => per_second,
            BucketKey::Project(..) | BucketKey::Service(..) => per_second * 60.0,
        }
    }
}

/// A token bucket whose rate adapts: reservations may run the balance
/// negative (each caller then waits for its own slot, in order).
#[derive(Debug)]
struct Bucket {
    base: f64,
    rate: f64,
    tokens: f64,
    burst: f64,
    updated: Instant,
    hold_until: Option<Instant>,
}

impl Bucket {
    fn new(per_second: f64, burst: f64, now: Instant) -> Bucket {
        let burst = burst.max(1.0);
        Bucket {
            base: per_second,
            rate: per_second,
            tokens: burst,
            burst,
            updated: now,
            hold_until: None,
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        self.updated = now;
    }

    /// Takes one token; how long to wait before sending.
    fn reserve(&mut self, now: Instant) -> Duration {
        self.refill(now);
        self.tokens -= 1.0;
        let slot = if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        };
        let held = self
            .hold_until
            .map(|t| t.saturating_duration_since(now))
            .unwrap_or_default();
        slot.max(held)
    }

    /// A 429: half the rate (not below a sixteenth of the base), no burst,
    /// and nothing before `retry_after`.
    fn throttled(&mut self, now: Instant, retry_after: Option<Duration>) {
        self.refill(now);
        self.rate = (self.rate / 2.0).max(self.base / 16.0);
        self.tokens = self.tokens.min(0.0);
        if let Some(ra) = retry_after {
            let until = now + ra;
            self.hold_until = Some(self.hold_until.map_or(until, |h| h.max(until)));
        }
    }

    /// A success: a twentieth of the way back to the base rate.
    fn succeeded(&mut self) {
        if self.rate < self.base {
            self.rate = (self.rate + self.base / 20.0).min(self.base);
        }
    }
}

/// Every bucket of one client, created on first use.
#[derive(Debug)]
pub struct Scheduler {
    quotas: Quotas,
    buckets: Mutex<HashMap<BucketKey, Bucket>>,
}

impl Scheduler {
    pub fn new(quotas: Quotas) -> Scheduler {
        Scheduler {
            quotas,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The buckets a request to `service` (in `project`) goes through,
    /// narrowest first.
    pub fn keys(&self, service: &str, project: Option<&str>) -> Vec<(BucketKey, f64)> {
        let (per_project, per_service) = self.quotas.rate(service);
        let mut keys = Vec::new();
        if let (Some(p), Some(r)) = (project, per_project) {
            keys.push((
                BucketKey::Project(service.to_string(), p.to_string()),
                r / 60.0,
            ));
        }
        if let Some(r) = per_service {
            keys.push((BucketKey::Service(service.to_string()), r / 60.0));
        }
        if let Some(r) = self.quotas.qps {
            keys.push((BucketKey::Global, r));
        }
        keys
    }

    /// Reserves a slot in every bucket; the longest wait.
    pub fn reserve(&self, keys: &[(BucketKey, f64)]) -> Duration {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Duration::ZERO;
        };
        keys.iter()
            .map(|(k, rate)| {
                buckets
                    .entry(k.clone())
                    .or_insert_with(|| Bucket::new(*rate, k.burst(*rate), now))
                    .reserve(now)
            })
            .max()
            .unwrap_or_default()
    }

    /// A 429 on a request through `keys`: the narrowest bucket slows down.
    pub fn throttled(&self, keys: &[(BucketKey, f64)], retry_after: Option<Duration>) {
        let now = Instant::now();
        if let (Some((k, _)), Ok(mut buckets)) = (keys.first(), self.buckets.lock())
            && let Some(b) = buckets.get_mut(k)
        {
            b.throttled(now, retry_after);
        }
    }

    pub fn succeeded(&self, keys: &[(BucketKey, f64)]) {
        if let (Some((k, _)), Ok(mut buckets)) = (keys.first(), self.buckets.lock())
            && let Some(b) = buckets.get_mut(k)
        {
            b.succeeded();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_table_holds_googles_published_quotas() {
        let q = Quotas::default();
        q.check("defaults").expect("positive rates");
        assert_eq!(q.rate("cloudresourcemanager"), (None, Some(600.0)));
        assert_eq!(q.rate("serviceusage"), (None, Some(240.0)));
        // Compute Engine: about 20 requests a second per project.
        assert_eq!(q.rate("compute"), (Some(1200.0), None));
        assert_eq!(q.rate("aiplatform"), (Some(600.0), None));
        // Every service the table names is a real Google API host.
        for (s, _, _) in DEFAULT_RATES {
            assert_eq!(service_of(&format!("https://{s}.googleapis.com/")), *s);
        }
    }

    #[test]
    fn services_and_projects_of_requests() {
        assert_eq!(
            service_of("https://us-central1-aiplatform.googleapis.com/"),
            "aiplatform"
        );
        assert_eq!(
            service_of("https://compute.googleapis.com/compute/v1/"),
            "compute"
        );
        assert_eq!(
            project_of("v1/projects/p-1/locations/l/customJobs", &[]),
            Some("p-1".into())
        );
        assert_eq!(
            project_of("v1/things", &[("project".into(), "q".into())]),
            Some("q".into())
        );
        assert_eq!(project_of("v3/projects", &[]), None);
    }

    #[test]
    fn a_file_overrides_the_defaults_and_bad_rates_are_refused() {
        let q = Quotas::from_json(
            r#"{"qps": 50, "services": {"compute": {"per_project_per_minute": 60}}}"#,
            "quotas.json",
        )
        .expect("parses");
        assert_eq!(q.qps, Some(50.0));
        assert_eq!(q.rate("compute"), (Some(60.0), None));
        assert_eq!(q.rate("serviceusage"), (None, Some(240.0)));
        let e = Quotas::from_json(r#"{"qps": 0}"#, "quotas.json").expect_err("zero");
        assert!(e.to_string().contains("qps is 0"), "{e}");
        let e = Quotas::from_json(r#"{"qsp": 1}"#, "quotas.json").expect_err("typo");
        assert!(e.to_string().contains("unknown field `qsp`"), "{e}");
    }

    #[test]
    fn buckets_space_requests_and_adapt() {
        let now = Instant::now();
        let mut b = Bucket::new(10.0, 600.0, now);
        // A minute's allowance goes at once, then one slot every 100 ms.
        for _ in 0..600 {
            assert_eq!(b.reserve(now), Duration::ZERO);
        }
        let w = b.reserve(now);
        assert!(
            w > Duration::from_millis(90) && w <= Duration::from_millis(100),
            "{w:?}"
        );
        b.throttled(now, Some(Duration::from_secs(3)));
        assert_eq!(b.rate, 5.0);
        assert!(b.reserve(now) >= Duration::from_secs(3));
        for _ in 0..10 {
            b.throttled(now, None);
        }
        assert_eq!(b.rate, 10.0 / 16.0, "never below a sixteenth");
        for _ in 0..40 {
            b.succeeded();
        }
        assert_eq!(b.rate, 10.0, "recovers to the base");
    }

    #[test]
    fn one_projects_bucket_does_not_slow_another() {
        let s = Scheduler::new(Quotas::default());
        let a = s.keys("aiplatform", Some("a"));
        let b = s.keys("aiplatform", Some("b"));
        for _ in 0..600 {
            s.reserve(&a);
        }
        s.throttled(&a, Some(Duration::from_secs(30)));
        assert!(s.reserve(&a) >= Duration::from_secs(29));
        assert_eq!(s.reserve(&b), Duration::ZERO);
    }
}
