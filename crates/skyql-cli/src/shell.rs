//! `skyql shell`: an interactive prompt with history (kept in the home
//! folder, readable by its owner only), multi-line statements ending at `;`,
//! and name completion. What is left without `;` at the end of input runs
//! (or is reported) rather than being dropped.

use crate::Global;
use crate::output::{self, Format};
use crate::term;
use anyhow::Result;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::{Context, Editor, Helper, Highlighter, Hinter, Validator};
use skyql_engine::Engine;
use skyql_registry::Registry;
use std::sync::Arc;

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "INSERT",
    "INTO",
    "DELETE",
    "UPDATE",
    "EXEC",
    "SHOW",
    "EXTENDED",
    "PROVIDERS",
    "SERVICES",
    "RESOURCES",
    "METHODS",
    "DESCRIBE",
    "GROUP",
    "BY",
    "ORDER",
    "LIMIT",
    "COUNT",
    "JOIN",
    "ON",
    "AS",
    "WITH",
    "RETURNING",
];

#[derive(Helper, Highlighter, Hinter, Validator)]
struct SkyqlHelper {
    registry: Arc<Registry>,
}

impl Completer for SkyqlHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map_or(0, |i| i + 1);
        let word = &line[start..pos];
        let mut out = Vec::new();
        let pair = |s: String| Pair {
            display: s.clone(),
            replacement: s,
        };
        if word.contains('.') {
            // google.<service>.<resource>: complete the last part.
            let parts: Vec<&str> = word.split('.').collect();
            match parts.as_slice() {
                [p, svc] if p.eq_ignore_ascii_case("google") => {
                    for s in self.registry.services() {
                        if s.name.starts_with(svc) {
                            out.push(pair(format!("google.{}", s.name)));
                        }
                    }
                }
                [p, svc, res] if p.eq_ignore_ascii_case("google") => {
                    if let Ok(service) = self.registry.service(svc) {
                        for r in &service.resources {
                            if r.name.starts_with(res) {
                                out.push(pair(r.id.clone()));
                            }
                        }
                    }
                }
                _ => {}
            }
        } else if !word.is_empty() {
            let upper = word.to_ascii_uppercase();
            for k in KEYWORDS.iter().filter(|k| k.starts_with(&upper)) {
                out.push(pair((*k).to_string()));
            }
            if "google".starts_with(word) {
                out.push(pair("google".into()));
            }
        }
        Ok((start, out))
    }
}

pub fn run(
    global: &Global,
    registry: Arc<Registry>,
    emulator: bool,
    on_error: skyql_engine::OnError,
) -> Result<()> {
    let mut rl: Editor<SkyqlHelper, rustyline::history::DefaultHistory> = Editor::new()?;
    rl.set_helper(Some(SkyqlHelper {
        registry: registry.clone(),
    }));
    let history = crate::home(global).join("history");
    let _ = rl.load_history(&history);
    let emulator = emulator.then(crate::remote::EmulatorOptions::default);
    let (_connection, remote) = crate::remote::connect(global, emulator)?;
    if let Some(e) = &_connection.emulator {
        term::out_line(format_args!(
            "in-process emulator at {} with sample jobs in project demo-project",
            e.base_url
        ))?;
    }
    let client = remote.client.clone();
    let mut engine = Engine::with_remote(registry, remote);
    engine.allow_local_files(global.allow_local_files);
    engine.set_on_error(on_error);
    let session = Session {
        client,
        quiet: global.quiet,
    };
    let format = Format::resolve(global.output);
    let mut buffer = String::new();
    term::out_line(format_args!(
        "skyql {} interactive shell; end statements with `;`, `.exit` or Ctrl-D to leave",
        env!("CARGO_PKG_VERSION")
    ))?;
    loop {
        let prompt = if buffer.is_empty() {
            "skyql>> "
        } else {
            "    ... "
        };
        match rl.readline(prompt) {
            Ok(line) => {
                if buffer.is_empty()
                    && matches!(line.trim(), ".exit" | ".quit" | "\\q" | "exit" | "quit")
                {
                    break;
                }
                buffer.push_str(&line);
                buffer.push('\n');
                if !line.trim_end().ends_with(';') {
                    continue;
                }
                let sql = std::mem::take(&mut buffer);
                let _ = rl.add_history_entry(sql.trim());
                run_text(&mut engine, &session, &sql, format)?;
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => {
                // A last statement without `;` still runs (or says why not).
                if !buffer.trim().is_empty() {
                    let sql = std::mem::take(&mut buffer);
                    let _ = rl.add_history_entry(sql.trim());
                    run_text(&mut engine, &session, &sql, format)?;
                }
                break;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(dir) = history.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // Statements may hold secrets: the history is the owner's only.
    if term::ensure_private(&history).is_ok() {
        let _ = rl.save_history(&history);
        let _ = term::ensure_private(&history);
    }
    Ok(())
}

/// Runs the statements of `sql`, printing results and errors; only a
/// failure to write the output ends the shell.
/// What each statement of the shell needs besides the engine.
struct Session {
    client: skyql_client::Client,
    quiet: bool,
}

fn run_text(engine: &mut Engine, session: &Session, sql: &str, format: Format) -> Result<()> {
    let stmts = match skyql_engine::split_statements(sql) {
        Ok(s) => s,
        Err(e) => {
            term::err_line(format_args!(
                "error: {}",
                output::visible(&e.to_string(), true)
            ));
            return Ok(());
        }
    };
    for stmt in stmts {
        let line = crate::progress::ProgressLine::start(
            crate::progress::enabled(session.quiet),
            engine.progress(),
            Some(session.client.clone()),
        );
        let result = engine.execute(&stmt);
        line.finish();
        match result {
            Ok(t) => {
                let mut out = std::io::stdout().lock();
                output::write(&mut out, &t, format)?;
                std::io::Write::flush(&mut out)?;
                if let Some(n) = &t.notice {
                    term::err_line(n);
                }
            }
            Err(e) => term::err_line(format_args!(
                "error: {}",
                output::visible(&e.to_string(), true)
            )),
        }
        // After the rows (or the error): what is missing, retries.
        crate::progress::after_statement(engine, format, session.quiet);
    }
    Ok(())
}
