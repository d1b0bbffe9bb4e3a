//! The emulator's clock, which drives job lifecycles and nothing else.
//!
//! Tests need time they can control: with [`ClockMode::Frozen`] the clock moves only when
//! `POST /emulator/clock:advance` moves it; with [`ClockMode::Real`] it follows the wall clock
//! plus whatever has been advanced. Token lifetimes never use this clock (they follow real
//! time, as Google's do). Times are kept as microseconds since the Unix epoch.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};

/// How the emulator clock moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// Wall-clock time plus any advance.
    #[default]
    Real,
    /// Stands still until advanced.
    Frozen,
}

impl std::str::FromStr for ClockMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "real" => Ok(Self::Real),
            "frozen" => Ok(Self::Frozen),
            other => Err(format!("unknown clock mode {other:?}: use real or frozen")),
        }
    }
}

/// The clock: for `Real`, `offset` is added to the wall clock; for `Frozen`, `offset` is the
/// current time itself.
pub struct Clock {
    mode: ClockMode,
    offset: AtomicI64,
}

/// Wall-clock microseconds since the epoch.
pub fn real_now_us() -> i64 {
    Utc::now().timestamp_micros()
}

/// Where an emulator's clock starts: the time configured, else now, to the second.
pub fn start_us(configured: Option<DateTime<Utc>>) -> i64 {
    configured
        .map(|t| t.timestamp_micros())
        .unwrap_or_else(|| real_now_us() / 1_000_000 * 1_000_000)
}

impl Clock {
    /// A clock reading `start_us` now.
    pub fn new(mode: ClockMode, start_us: i64) -> Self {
        let offset = match mode {
            ClockMode::Real => start_us - real_now_us(),
            ClockMode::Frozen => start_us,
        };
        Self {
            mode,
            offset: AtomicI64::new(offset),
        }
    }

    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// The emulator's current time.
    pub fn now_us(&self) -> i64 {
        let off = self.offset.load(Ordering::Relaxed);
        match self.mode {
            ClockMode::Real => real_now_us().saturating_add(off),
            ClockMode::Frozen => off,
        }
    }

    /// Moves the clock forward.
    pub fn advance_us(&self, us: i64) {
        self.offset.fetch_add(us, Ordering::Relaxed);
    }

    /// Sets the current time (used when restoring a state file).
    pub fn set_now_us(&self, now: i64) {
        let off = match self.mode {
            ClockMode::Real => now - real_now_us(),
            ClockMode::Frozen => now,
        };
        self.offset.store(off, Ordering::Relaxed);
    }
}

/// RFC 3339 UTC with 0, 3, 6 or 9 fractional digits, as protobuf JSON writes timestamps.
pub fn rfc3339(us: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(us)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses an RFC 3339 time into microseconds since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc).timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let c = Clock::new(ClockMode::Frozen, 1_000_000);
        assert_eq!(c.now_us(), 1_000_000);
        c.advance_us(5_000_000);
        assert_eq!(c.now_us(), 6_000_000);
    }

    #[test]
    fn formats_like_protobuf_json() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500_000), "1970-01-01T00:00:01.500Z");
        assert_eq!(rfc3339(1_000_001), "1970-01-01T00:00:01.000001Z");
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.5Z"), Some(1_500_000));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
    }
}
