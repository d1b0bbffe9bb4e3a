//! Test support shared by every emulator built on this crate: request counters, fault
//! injection, added latency, the persistence report, and the `/emulator/*` routes that
//! read and steer them (and the clock).
//!
//! The routes (all answered compactly, never delayed, never faulted):
//! - `GET stats`: `{"requests":[{"method","status","count"}...],"persistence":{...}}`;
//! - `GET clock`, `POST clock:advance?seconds=N`;
//! - `POST reset`: empties the counters; the emulator empties its own data
//!   ([`ControlAction::Reset`]);
//! - `GET faults`, `POST faults?rate=P&seed=S`: the fraction of API requests answered 429
//!   or 503, and the seed of that reproducible sequence;
//! - `GET latency`, `POST latency?ms=N`: a delay added to every API response.
//!
//! [`serve`] answers these routes for any emulator whose state implements
//! [`EmulatorState`], and carries out what they ask of the emulator's own data.
//!
//! The emulator never prints: a failure to write its state file is counted here and shown
//! by `GET stats` (and [`Control::persistence`]), for the caller to report.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::clock::{Clock, rfc3339};
use crate::error::Error;
use crate::ids::splitmix64;
use crate::status::{ApiError, error_info};
use crate::wire::{ok_plain, parse_pairs};

/// The largest latency `POST latency` accepts (ten minutes).
pub const MAX_LATENCY_MS: u64 = 600_000;

/// What the caller must do after a control route answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ControlAction {
    /// Empty the emulator's data (counters are already empty) and persist.
    Reset,
    /// The clock moved: persist.
    ClockAdvanced,
}

/// An emulator's state as the shared routes (`/emulator/*`, the token endpoint, the
/// metadata server) act on it.
pub trait EmulatorState: Send + Sync {
    fn control(&self) -> &Control;
    fn clock(&self) -> &Clock;
    /// Empties the emulator's data (`POST /emulator/reset`) and marks it changed.
    fn clear(&self);
    /// Marks the data as changed, so that the next [`EmulatorState::persist`] writes it.
    fn touch(&self);
    /// Writes the state file, if there is one and anything changed since the last write.
    fn persist(&self) -> impl Future<Output = ()> + Send;
}

/// Answers a request under `/emulator/` (`None` for any other path) and carries out its
/// action: a reset empties the emulator's data, a clock move marks it changed, and
/// either is persisted before the answer goes out.
pub async fn serve<S: EmulatorState>(state: &S, parts: &Parts) -> Option<Response> {
    let rest = parts.uri.path().strip_prefix("/emulator/")?;
    let (resp, action) =
        state
            .control()
            .handle(state.clock(), &parts.method, rest, parts.uri.query());
    match action {
        Some(ControlAction::Reset) => state.clear(),
        Some(ControlAction::ClockAdvanced) => state.touch(),
        None => return Some(resp),
    }
    state.persist().await;
    Some(resp)
}

/// How state-file writes have gone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistenceReport {
    pub writes: u64,
    pub failures: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

struct Faults {
    rate: f64,
    seed: u64,
    rng: u64,
}

/// Counters, faults and latency of one emulator.
pub struct Control {
    stats: Mutex<BTreeMap<(String, u16), u64>>,
    faults: Mutex<Faults>,
    latency_ms: AtomicU64,
    persistence: Mutex<PersistenceReport>,
}

fn check_rate(rate: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(format!("fault rate {rate} is not between 0 and 1"))
    }
}

impl Control {
    /// Fails when `fault_rate` is not a fraction or the latency is over [`MAX_LATENCY_MS`].
    pub fn new(latency: Duration, fault_rate: f64, fault_seed: u64) -> Result<Self, Error> {
        check_rate(fault_rate).map_err(Error::Config)?;
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        if ms > MAX_LATENCY_MS {
            return Err(Error::Config(format!(
                "latency {ms} ms is over the {MAX_LATENCY_MS} ms the emulator allows"
            )));
        }
        Ok(Self {
            stats: Mutex::new(BTreeMap::new()),
            faults: Mutex::new(Faults {
                rate: fault_rate,
                seed: fault_seed,
                rng: fault_seed,
            }),
            latency_ms: AtomicU64::new(ms),
            persistence: Mutex::new(PersistenceReport::default()),
        })
    }

    /// Counts one answered request of `method` (a Discovery method path, e.g.
    /// `customJobs.list`).
    pub fn record(&self, method: &str, status: u16) {
        if let Ok(mut s) = self.stats.lock() {
            *s.entry((method.to_string(), status)).or_default() += 1;
        }
    }

    /// The count of answered requests of `method` with `status`.
    pub fn count(&self, method: &str, status: u16) -> u64 {
        self.stats
            .lock()
            .ok()
            .and_then(|s| s.get(&(method.to_string(), status)).copied())
            .unwrap_or(0)
    }

    /// The delay to add to an API response.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms.load(Ordering::Relaxed))
    }

    /// Draws the next fault, if this request gets one: 429 `RESOURCE_EXHAUSTED` (with
    /// `Retry-After: 1`) or 503 `UNAVAILABLE`. `service` is the API's host name, e.g.
    /// `aiplatform.googleapis.com`.
    pub fn fault(&self, service: &str) -> Option<ApiError> {
        self.fault_for(service, None)
    }

    /// The same, naming in the 429's `ErrorInfo` the project charged
    /// (`consumer: projects/N`), as a per-project quota's 429 does.
    pub fn fault_for(&self, service: &str, consumer: Option<u64>) -> Option<ApiError> {
        let mut f = self.faults.lock().ok()?;
        if f.rate <= 0.0 {
            return None;
        }
        let u = (splitmix64(&mut f.rng) >> 11) as f64 / (1u64 << 53) as f64;
        if u >= f.rate {
            return None;
        }
        Some(if splitmix64(&mut f.rng) & 1 == 0 {
            ApiError::new(
                429,
                "RESOURCE_EXHAUSTED",
                format!(
                    "Quota exceeded for quota metric 'Resource management (CRUD) requests' and limit 'Resource management (CRUD) requests per minute per region' of service '{service}'{}.",
                    consumer.map_or(String::new(), |n| format!(" for consumer 'project_number:{n}'"))
                ),
            )
            .with_detail(match consumer {
                Some(n) => error_info(
                    "RATE_LIMIT_EXCEEDED",
                    "googleapis.com",
                    &[("consumer", &format!("projects/{n}")), ("service", service)],
                ),
                None => error_info(
                    "RATE_LIMIT_EXCEEDED",
                    "googleapis.com",
                    &[("service", service)],
                ),
            })
            .with_header("retry-after", "1")
        } else {
            ApiError::new(503, "UNAVAILABLE", "The service is currently unavailable.")
        })
    }

    /// Records a successful state-file write.
    pub fn persisted(&self) {
        if let Ok(mut p) = self.persistence.lock() {
            p.writes += 1;
        }
    }

    /// Records a failed state-file write (shown by `GET /emulator/stats`).
    pub fn persist_failed(&self, message: String) {
        if let Ok(mut p) = self.persistence.lock() {
            p.failures += 1;
            p.last_error = Some(message);
        }
    }

    /// How state-file writes have gone so far.
    pub fn persistence(&self) -> PersistenceReport {
        self.persistence
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    fn clear_stats(&self) {
        if let Ok(mut s) = self.stats.lock() {
            s.clear();
        }
    }

    /// Answers `/emulator/{rest}`; the action, if any, is for the caller to carry out.
    pub(crate) fn handle(
        &self,
        clock: &Clock,
        method: &Method,
        rest: &str,
        query: Option<&str>,
    ) -> (Response, Option<ControlAction>) {
        let get = method == Method::GET;
        let post = method == Method::POST;
        let pairs = parse_pairs(query.unwrap_or("")).unwrap_or_default();
        let param = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let bad = |m: &str| (ApiError::invalid(m).into_response(), None);
        match rest {
            "stats" if get => (ok_plain(&self.stats_json()), None),
            "clock" if get => (
                ok_plain(&serde_json::json!({
                    "now": rfc3339(clock.now_us()),
                    "mode": format!("{:?}", clock.mode()).to_lowercase()
                })),
                None,
            ),
            "clock:advance" if post => {
                let seconds = param("seconds")
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 3.2e9);
                match seconds {
                    Some(s) => {
                        clock.advance_us((s * 1e6) as i64);
                        (
                            ok_plain(&serde_json::json!({"now": rfc3339(clock.now_us())})),
                            Some(ControlAction::ClockAdvanced),
                        )
                    }
                    None => bad("clock:advance needs ?seconds=N with N a non-negative number."),
                }
            }
            "reset" if post => {
                self.clear_stats();
                (ok_plain(&serde_json::json!({})), Some(ControlAction::Reset))
            }
            "faults" if get || post => {
                let Ok(mut f) = self.faults.lock() else {
                    return (
                        ApiError::internal("the fault state lock is poisoned").into_response(),
                        None,
                    );
                };
                if post {
                    if let Some(r) = param("rate") {
                        match r.parse::<f64>().map_err(|e| e.to_string()).and_then(|r| {
                            check_rate(r)?;
                            Ok(r)
                        }) {
                            Ok(rate) => f.rate = rate,
                            Err(_) => {
                                return bad("faults needs ?rate=P with P between 0 and 1.");
                            }
                        }
                    }
                    if let Some(s) = param("seed") {
                        match s.parse::<u64>() {
                            Ok(seed) => {
                                f.seed = seed;
                                f.rng = seed;
                            }
                            Err(_) => return bad("faults takes ?seed=S with S a whole number."),
                        }
                    }
                }
                (
                    ok_plain(&serde_json::json!({"rate": f.rate, "seed": f.seed})),
                    None,
                )
            }
            "latency" if get || post => {
                if post {
                    match param("ms").and_then(|v| v.parse::<u64>().ok()) {
                        Some(ms) if ms <= MAX_LATENCY_MS => {
                            self.latency_ms.store(ms, Ordering::Relaxed)
                        }
                        _ => {
                            return bad(&format!(
                                "latency needs ?ms=N with N a whole number up to {MAX_LATENCY_MS}."
                            ));
                        }
                    }
                }
                (
                    ok_plain(&serde_json::json!({"ms": self.latency_ms.load(Ordering::Relaxed)})),
                    None,
                )
            }
            _ => (
                ApiError::no_route(&format!("/emulator/{rest}")).into_response(),
                None,
            ),
        }
    }

    fn stats_json(&self) -> impl Serialize {
        // Fields in this order: method, status, count (as documented).
        #[derive(Serialize)]
        struct Count {
            method: String,
            status: u16,
            count: u64,
        }
        #[derive(Serialize)]
        struct Stats {
            requests: Vec<Count>,
            persistence: PersistenceReport,
        }
        let requests = self
            .stats
            .lock()
            .map(|s| {
                s.iter()
                    .map(|((m, st), n)| Count {
                        method: m.clone(),
                        status: *st,
                        count: *n,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Stats {
            requests,
            persistence: self.persistence(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_reproducible_and_bounded() {
        assert!(Control::new(Duration::ZERO, 1.5, 0).is_err());
        assert!(Control::new(Duration::from_secs(3600), 0.0, 0).is_err());
        let a = Control::new(Duration::ZERO, 0.5, 7).unwrap();
        let b = Control::new(Duration::ZERO, 0.5, 7).unwrap();
        let seq = |c: &Control| {
            (0..50)
                .map(|_| c.fault("x.googleapis.com").map(|e| e.http))
                .collect::<Vec<_>>()
        };
        let (sa, sb) = (seq(&a), seq(&b));
        assert_eq!(sa, sb);
        assert!(sa.iter().any(Option::is_some) && sa.iter().any(Option::is_none));
    }

    #[test]
    fn persistence_failures_are_counted() {
        let c = Control::new(Duration::ZERO, 0.0, 0).unwrap();
        c.persisted();
        c.persist_failed("disk full".into());
        let p = c.persistence();
        assert_eq!((p.writes, p.failures), (1, 1));
        assert_eq!(p.last_error.as_deref(), Some("disk full"));
    }
}
