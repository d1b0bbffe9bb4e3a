//! How a statement's progress and completeness reach stderr: a progress
//! line while it runs (only on a terminal, never under `--quiet`), then
//! what its report says the user must know (groups missing or skipped,
//! retries), under `--output json`/`jsonl` as the report itself in one
//! JSON line, so that scripts can check completeness.

use crate::output::Format;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use skyql_client::Client;
use skyql_engine::{Engine, Progress};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A statement shorter than this shows no progress line at all.
const SHOW_AFTER: Duration = Duration::from_millis(300);
const TICK: Duration = Duration::from_millis(100);

/// Whether progress lines are drawn: stderr is a terminal and not `--quiet`.
pub fn enabled(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// The progress line of one running statement; [`ProgressLine::finish`]
/// clears it.
pub struct ProgressLine {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressLine {
    pub fn start(enabled: bool, progress: Arc<Progress>, client: Option<Client>) -> ProgressLine {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = enabled.then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || draw(&stop, &progress, client.as_ref()))
        });
        ProgressLine { stop, thread }
    }

    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn draw(stop: &AtomicBool, progress: &Progress, client: Option<&Client>) {
    let started = Instant::now();
    let base = client.map(Client::stats).unwrap_or_default();
    while started.elapsed() < SHOW_AFTER {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep(TICK);
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    while !stop.load(Ordering::Relaxed) {
        let (started_groups, done, rows) = progress.snapshot();
        let s = client.map(Client::stats).unwrap_or_default().since(&base);
        bar.set_message(line(started_groups, done, rows, &s, started.elapsed()));
        bar.tick();
        std::thread::sleep(TICK);
    }
    bar.finish_and_clear();
}

/// `groups 12/40 · rows 1,234 · requests 56 · retries 3 · rate-limit waits 2 · 4.2 s`
fn line(
    started: u64,
    done: u64,
    rows: u64,
    s: &skyql_client::ClientStats,
    elapsed: Duration,
) -> String {
    let mut parts = Vec::new();
    if started > 0 {
        parts.push(format!("groups {done}/{started}"));
    }
    parts.push(format!("rows {rows}"));
    parts.push(format!("requests {}", s.requests));
    if s.retries > 0 {
        parts.push(format!("retries {}", s.retries));
    }
    if s.waits > 0 || s.throttled > 0 {
        parts.push(format!(
            "rate-limit waits {} (429s {})",
            s.waits, s.throttled
        ));
    }
    parts.push(format!("{:.1} s", elapsed.as_secs_f64()));
    parts.join(" · ")
}

/// After a statement with something to say (groups missing or skipped,
/// retries): under JSON output its report as one JSON line on stderr
/// (`{"report": {...}}`), otherwise the report's notes. Warnings about
/// missing or skipped groups are printed even under `--quiet`; the note
/// about retries is not.
pub fn after_statement(engine: &Engine, format: Format, quiet: bool) {
    let Some(report) = engine.last_report() else {
        return;
    };
    let notes = report.notes();
    if notes.is_empty() {
        return;
    }
    if matches!(format, Format::Json | Format::Jsonl) {
        if let Ok(text) = serde_json::to_string(&serde_json::json!({ "report": report })) {
            crate::term::err_line(text);
        }
        return;
    }
    for note in notes {
        if quiet && note.starts_with("note: ") && note.contains("retries") {
            continue;
        }
        crate::term::err_line(crate::output::visible(&note, true));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_groups_rows_retries_and_waits() {
        let s = skyql_client::ClientStats {
            requests: 56,
            retries: 3,
            waits: 2,
            throttled: 1,
            ..Default::default()
        };
        assert_eq!(
            line(40, 12, 1234, &s, Duration::from_millis(4200)),
            "groups 12/40 · rows 1234 · requests 56 · retries 3 · rate-limit waits 2 (429s 1) · 4.2 s"
        );
        let quiet = skyql_client::ClientStats::default();
        assert_eq!(
            line(0, 0, 0, &quiet, Duration::ZERO),
            "rows 0 · requests 0 · 0.0 s"
        );
    }
}
