//! Complete or loud: what every statement did (calls made, retried, lost)
//! and how each request group of its fan-outs ended, the `--on-error`
//! policy that decides whether a failed group fails the statement, and
//! `--shard I/N`, which splits a fan-out's groups across machines.

use crate::Error;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a failed request group does to its statement.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(into = "String")]
pub enum OnError {
    /// The statement fails, naming the groups that failed.
    #[default]
    Fail,
    /// The rows that came back are returned, with a warning naming what is
    /// missing.
    Warn,
    /// Groups that failed with one of these codes (a google.rpc status such
    /// as `PERMISSION_DENIED`, an ErrorInfo reason such as
    /// `SERVICE_DISABLED`, or an HTTP status) are left out and reported;
    /// any other failure fails the statement.
    Skip(Vec<String>),
}

impl std::str::FromStr for OnError {
    type Err = Error;

    fn from_str(s: &str) -> Result<OnError, Error> {
        let t = s.trim();
        let bad = || {
            Error::BadParam(format!(
                "--on-error `{s}`: give fail, warn, or skip:CODES (e.g. skip:SERVICE_DISABLED,PERMISSION_DENIED)"
            ))
        };
        if t.eq_ignore_ascii_case("fail") {
            return Ok(OnError::Fail);
        }
        if t.eq_ignore_ascii_case("warn") {
            return Ok(OnError::Warn);
        }
        let (head, codes) = t.split_once(':').ok_or_else(bad)?;
        if !head.eq_ignore_ascii_case("skip") {
            return Err(bad());
        }
        let codes: Vec<String> = codes
            .split(',')
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())
            .collect();
        if codes.is_empty() {
            return Err(bad());
        }
        Ok(OnError::Skip(codes))
    }
}

impl fmt::Display for OnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OnError::Fail => f.write_str("fail"),
            OnError::Warn => f.write_str("warn"),
            OnError::Skip(codes) => write!(f, "skip:{}", codes.join(",")),
        }
    }
}

impl From<OnError> for String {
    fn from(p: OnError) -> String {
        p.to_string()
    }
}

impl OnError {
    /// How a group that failed with `codes` ends under this policy.
    pub fn status_for(&self, codes: &[String]) -> PartStatus {
        match self {
            OnError::Skip(skip) if codes.iter().any(|c| skip.contains(c)) => PartStatus::Skipped,
            _ => PartStatus::Failed,
        }
    }

    /// Whether the statement goes on past a group that ended so.
    pub fn tolerates(&self, status: PartStatus) -> bool {
        match status {
            PartStatus::Ok | PartStatus::Running | PartStatus::Skipped => true,
            PartStatus::Failed | PartStatus::Cancelled => *self == OnError::Warn,
        }
    }
}

/// `--shard I/N`: this run reads the request groups whose parameters hash
/// to `I - 1` modulo `N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether a request group with these parameters is this shard's: a
    /// stable hash (FNV-1a over `name=value` pairs in name order), so every
    /// machine, build and run agrees.
    pub fn includes(&self, params: &BTreeMap<String, String>) -> bool {
        self.count <= 1 || group_hash(params) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl std::str::FromStr for Shard {
    type Err = Error;

    fn from_str(s: &str) -> Result<Shard, Error> {
        let bad = |why: &str| {
            Error::BadParam(format!(
                "--shard `{s}`: {why}; give I/N with 1 <= I <= N, e.g. --shard 2/4"
            ))
        };
        let (i, n) = s.trim().split_once('/').ok_or_else(|| bad("no `/`"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| bad("I is not a whole number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| bad("N is not a whole number"))?;
        if count == 0 || index == 0 || index > count {
            return Err(bad("out of range"));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// FNV-1a, 64 bits, over `name=value\n` for each parameter in name order.
pub fn group_hash(params: &BTreeMap<String, String>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in params {
        for b in k.bytes().chain([b'=']).chain(v.bytes()).chain([b'\n']) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// How one request group ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PartStatus {
    /// Still reading (only while the statement runs).
    Running,
    Ok,
    /// Failed with a code `--on-error skip:` names: left out, reported.
    Skipped,
    Failed,
    /// Stopped unfinished because the statement failed on another group.
    Cancelled,
}

/// One request group of a fan-out: the table, the parameters it was read
/// with, how it ended, the rows it gave and its error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartReport {
    pub table: String,
    pub params: BTreeMap<String, String>,
    pub status: PartStatus,
    pub rows: u64,
    pub error: Option<String>,
    /// The codes of its error (status, ErrorInfo reasons, HTTP status).
    pub codes: Vec<String>,
}

impl PartReport {
    /// `google.svc.res (projectsId=p, locationsId=l)`.
    pub fn name(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if params.is_empty() {
            self.table.clone()
        } else {
            format!("{} ({})", self.table, params.join(", "))
        }
    }
}

/// What a statement did: API calls made, retried and lost (ended in an
/// error), rate-limit answers and waits, rows returned, and every request
/// group of its fan-outs.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct StatementReport {
    /// Every request group answered in full (set when the statement ends).
    pub complete: bool,
    pub calls: u64,
    pub retries: u64,
    pub lost: u64,
    pub throttled: u64,
    pub rate_limit_waits: u64,
    pub rows: u64,
    pub on_error: OnError,
    pub shard: Option<Shard>,
    /// The table whose request groups the shard split.
    pub sharded_table: Option<String>,
    pub parts: Vec<PartReport>,
}

impl StatementReport {
    pub fn failed(&self) -> impl Iterator<Item = &PartReport> {
        self.parts.iter().filter(|p| p.status == PartStatus::Failed)
    }

    pub fn skipped(&self) -> impl Iterator<Item = &PartReport> {
        self.parts
            .iter()
            .filter(|p| p.status == PartStatus::Skipped)
    }

    /// Every request group answered in full.
    pub fn all_groups_ok(&self) -> bool {
        self.parts.iter().all(|p| p.status == PartStatus::Ok)
    }

    /// `2 of 6 request groups failed: A: error; B: error`.
    pub fn failure_text(&self) -> Option<String> {
        let failed: Vec<String> = self
            .failed()
            .map(|p| format!("{}: {}", p.name(), p.error.as_deref().unwrap_or("failed")))
            .collect();
        (!failed.is_empty()).then(|| {
            format!(
                "{} of {} request groups failed: {}",
                failed.len(),
                self.parts.len(),
                failed.join("; ")
            )
        })
    }

    /// The lines a user sees on stderr after the rows: missing or skipped
    /// groups, and retries (never silent).
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(f) = self.failure_text() {
            out.push(format!(
                "warning: incomplete result ({} rows returned): {f}",
                self.rows
            ));
        }
        let skipped: Vec<String> = self
            .skipped()
            .map(|p| {
                format!(
                    "{} ({})",
                    p.name(),
                    p.codes.first().map_or("?", String::as_str)
                )
            })
            .collect();
        if !skipped.is_empty() {
            out.push(format!(
                "note: {} request group(s) skipped by --on-error {}: {}",
                skipped.len(),
                self.on_error,
                skipped.join("; ")
            ));
        }
        if self.retries > 0 || self.throttled > 0 {
            out.push(format!(
                "note: {} API calls needed {} retries ({} rate-limit answers, {} rate-limit waits)",
                self.calls, self.retries, self.throttled, self.rate_limit_waits
            ));
        }
        out
    }
}

/// Live counters of the running statement, for a progress line: request
/// groups started and finished, rows read.
#[derive(Debug, Default)]
pub struct Progress {
    pub groups_started: AtomicU64,
    pub groups_done: AtomicU64,
    pub rows: AtomicU64,
}

impl Progress {
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.groups_started.load(Ordering::Relaxed),
            self.groups_done.load(Ordering::Relaxed),
            self.rows.load(Ordering::Relaxed),
        )
    }

    pub(crate) fn reset(&self) {
        self.groups_started.store(0, Ordering::Relaxed);
        self.groups_done.store(0, Ordering::Relaxed);
        self.rows.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(p: &str, l: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("projectsId".to_string(), p.to_string()),
            ("locationsId".to_string(), l.to_string()),
        ])
    }

    #[test]
    fn policies_parse_and_decide() {
        assert_eq!("fail".parse::<OnError>().ok(), Some(OnError::Fail));
        assert_eq!("WARN".parse::<OnError>().ok(), Some(OnError::Warn));
        let skip: OnError = "skip:service_disabled, PERMISSION_DENIED"
            .parse()
            .expect("skip");
        assert_eq!(skip.to_string(), "skip:SERVICE_DISABLED,PERMISSION_DENIED");
        assert!("skip:".parse::<OnError>().is_err());
        assert!("ignore".parse::<OnError>().is_err());
        let codes = vec!["PERMISSION_DENIED".to_string(), "403".to_string()];
        assert_eq!(skip.status_for(&codes), PartStatus::Skipped);
        assert_eq!(OnError::Fail.status_for(&codes), PartStatus::Failed);
        assert!(OnError::Warn.tolerates(PartStatus::Failed));
        assert!(!skip.tolerates(PartStatus::Failed));
    }

    #[test]
    fn shards_split_groups_exactly_once() {
        assert!("0/4".parse::<Shard>().is_err());
        assert!("5/4".parse::<Shard>().is_err());
        assert!("1-4".parse::<Shard>().is_err());
        let shards: Vec<Shard> = (1..=4).map(|i| Shard { index: i, count: 4 }).collect();
        let mut per_shard = [0usize; 4];
        for p in 0..1000 {
            for l in ["us-central1", "europe-west4"] {
                let g = params(&format!("demo-project-{p}"), l);
                let owners: Vec<usize> = (0..4).filter(|&i| shards[i].includes(&g)).collect();
                assert_eq!(owners.len(), 1, "{g:?}");
                per_shard[owners[0]] += 1;
            }
        }
        // Roughly even.
        assert!(per_shard.iter().all(|&n| n > 350), "{per_shard:?}");
        // Stable across builds: a fixed value.
        assert_eq!(group_hash(&params("p", "l")), group_hash(&params("p", "l")));
        assert_eq!(group_hash(&BTreeMap::new()), 0xcbf2_9ce4_8422_2325);
    }

    #[test]
    fn a_report_names_failed_and_skipped_groups_and_retries() {
        let mut r = StatementReport {
            calls: 4,
            retries: 3,
            rows: 5,
            on_error: OnError::Warn,
            ..Default::default()
        };
        r.parts.push(PartReport {
            table: "google.aiplatform.custom_jobs".into(),
            params: params("a", "l"),
            status: PartStatus::Failed,
            rows: 0,
            error: Some("403 PERMISSION_DENIED".into()),
            codes: vec!["PERMISSION_DENIED".into()],
        });
        let notes = r.notes();
        assert_eq!(
            notes[0],
            "warning: incomplete result (5 rows returned): 1 of 1 request groups failed: \
             google.aiplatform.custom_jobs (locationsId=l, projectsId=a): 403 PERMISSION_DENIED"
        );
        assert!(notes[1].contains("needed 3 retries"), "{notes:?}");
        assert!(!r.all_groups_ok());
    }
}
