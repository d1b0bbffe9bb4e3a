//! The engine: takes SQL text, answers metadata statements (SHOW, DESCRIBE)
//! from the provider model, runs EXEC directly, and runs everything else in
//! an embedded SQLite where each cloud resource is a virtual table. It also
//! renders the generated reference page (`skyql docs`).

mod classify;
mod docs;
mod error;
mod exec;
mod functions;
mod joins;
mod local_files;
mod meta;
mod mutation;
mod operation;
mod paging;
mod plan;
#[cfg(test)]
mod properties;
mod pushdown;
mod report;
mod request;
mod rewrite;
mod scan;
mod scratch;
mod shape;
mod statement;
mod table;
mod value;
mod vtab;

pub use docs::{insert_template, reference_page};
pub use error::{Error, Fault};
pub use local_files::refuse_local_files;
pub use report::{OnError, PartReport, PartStatus, Progress, Shard, StatementReport, group_hash};
pub use statement::{Statement, split_statements};
pub use table::{Cell, ColumnType, Table};

use serde_json::Value;
use skyql_client::Client;
use skyql_provider::Service;
use skyql_registry::Registry;
use sqlparser::tokenizer::Token;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::runtime::Handle;

/// How scans behave during a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ScanMode {
    #[default]
    Normal,
    /// The first pass of a join: tables fed by other tables record what they
    /// will be asked for and return nothing.
    Discover,
}

/// What virtual-table callbacks report back to the statement that ran them.
#[derive(Default)]
pub(crate) struct StatementState {
    /// The first error, in full (SQLite only carries its text).
    pub error: Option<Error>,
    /// Responses of INSERT, UPDATE and DELETE calls, in order.
    pub responses: Vec<(Arc<Service>, Value)>,
    pub mode: ScanMode,
    /// Some plan took a parameter from another table (set while planning).
    pub saw_joined: bool,
    /// Discovery pass: what the joined tables will be asked for.
    pub discovered: Vec<scan::Discovered>,
    /// Rows already read in this statement, for `filter` calls to reuse.
    pub cache: std::collections::HashMap<scan::CacheKey, Vec<scan::Row>>,
    /// `labels.k="v"` filter terms found in the statement's WHERE.
    pub label_terms: Vec<String>,
    /// The statement is `REPLACE ... SET`: UPDATE runs the replace method.
    pub replace: bool,
    /// The statement's request groups (kept across the reset of a read).
    pub acct: Accounting,
}

/// What a statement's scans record about its request groups.
#[derive(Default)]
pub(crate) struct Accounting {
    /// Counts statements: a task of an earlier one never writes here.
    pub generation: u64,
    pub parts: Vec<report::PartReport>,
    /// List tasks still finishing the request they were in when their
    /// reader stopped: awaited before the statement ends.
    pub pending: Vec<tokio::task::JoinHandle<()>>,
    pub on_error: OnError,
    pub shard: Option<Shard>,
    pub sharded_table: Option<String>,
}

/// Where API calls go: the client and the runtime that drives it.
pub struct Remote {
    pub client: Client,
    pub rt: Handle,
    /// How long `/*+ AWAIT */` waits for an operation.
    pub await_timeout: Duration,
}

/// Stops an engine's running statement from another thread: SQLite gives
/// up at its next step, so a scan asks for no further pages or requests.
pub struct Interrupt(rusqlite::InterruptHandle);

impl Interrupt {
    pub fn interrupt(&self) {
        self.0.interrupt();
    }
}

/// Executes statements against a registry (and, with a [`Remote`], the cloud).
pub struct Engine {
    registry: Arc<Registry>,
    remote: Option<Remote>,
    sqlite: Option<rusqlite::Connection>,
    /// Resource tables registered on the connection, by id.
    tables: HashMap<String, Arc<vtab::TableCtx>>,
    state: Arc<Mutex<StatementState>>,
    /// SQL may reach local files (ATTACH, VACUUM INTO, load_extension).
    allow_local_files: bool,
    on_error: OnError,
    shard: Option<Shard>,
    progress: Arc<Progress>,
    last_report: Option<StatementReport>,
}

impl Engine {
    /// An engine for metadata statements and local SQL only.
    pub fn new(registry: Arc<Registry>) -> Engine {
        Engine {
            registry,
            remote: None,
            sqlite: None,
            tables: HashMap::new(),
            state: Arc::new(Mutex::new(StatementState::default())),
            allow_local_files: false,
            on_error: OnError::Fail,
            shard: None,
            progress: Arc::new(Progress::default()),
            last_report: None,
        }
    }

    /// An engine that also reads and changes cloud resources. Must be used
    /// from a thread that is not a worker of `remote.rt`.
    pub fn with_remote(registry: Arc<Registry>, remote: Remote) -> Engine {
        let mut e = Engine::new(registry);
        e.remote = Some(remote);
        e
    }

    /// Lets SQL reach the local file system (`ATTACH`, `DETACH`, `VACUUM
    /// INTO`, `load_extension`, file pragmas), which is refused by default.
    /// Takes effect for connections opened after the call. Never for an
    /// engine that serves statements from the network.
    pub fn allow_local_files(&mut self, allow: bool) {
        self.allow_local_files = allow;
    }

    /// What a failed request group does to a statement (`--on-error`).
    pub fn set_on_error(&mut self, policy: OnError) {
        self.on_error = policy;
    }

    /// Reads only this shard's request groups of a fan-out (`--shard I/N`).
    pub fn set_shard(&mut self, shard: Option<Shard>) {
        self.shard = shard.filter(|s| s.count > 1);
    }

    /// Live counters of the running statement (for a progress line on
    /// another thread).
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// What the last statement did: calls, retries, lost calls, and how
    /// every request group of its fan-outs ended.
    pub fn last_report(&self) -> Option<&StatementReport> {
        self.last_report.as_ref()
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// A handle that stops this engine's running statement from another
    /// thread (a server's cancel request).
    pub fn interrupt_handle(&mut self) -> Result<Interrupt, Error> {
        Ok(Interrupt(self.conn()?.get_interrupt_handle()))
    }

    /// Runs every statement of a script, in order, returning one table each.
    /// Stops at the first error.
    pub fn execute_script(&mut self, sql: &str) -> Result<Vec<Table>, Error> {
        let mut out = Vec::new();
        for stmt in split_statements(sql)? {
            out.push(self.execute(&stmt)?);
        }
        Ok(out)
    }

    /// Runs one statement. Complete or loud: when a request group failed,
    /// the statement is an error naming it (under `--on-error fail`, even
    /// when a LIMIT was met without it), or its rows come back and the
    /// report says what is missing (`warn`) or left out (`skip:`).
    pub fn execute(&mut self, stmt: &Statement) -> Result<Table, Error> {
        let before = self.remote.as_ref().map(|r| r.client.stats());
        self.progress.reset();
        if let Ok(mut st) = self.state.lock() {
            let generation = st.acct.generation.wrapping_add(1);
            st.acct = Accounting {
                generation,
                on_error: self.on_error.clone(),
                shard: self.shard,
                ..Accounting::default()
            };
        }
        let result = self.execute_statement(stmt);
        self.finish_statement(result, before)
    }

    /// Waits for groups still finishing (or stops them, after an error),
    /// makes the report and applies the policy to the result.
    fn finish_statement(
        &mut self,
        result: Result<Table, Error>,
        before: Option<skyql_client::ClientStats>,
    ) -> Result<Table, Error> {
        let pending = match self.state.lock() {
            Ok(mut st) => std::mem::take(&mut st.acct.pending),
            Err(_) => Vec::new(),
        };
        if let Some(remote) = &self.remote {
            if result.is_ok() {
                remote.rt.block_on(async {
                    for t in pending {
                        let _ = t.await;
                    }
                });
            } else {
                pending.iter().for_each(|t| t.abort());
            }
        }
        let (parts, sharded_table) = match self.state.lock() {
            Ok(mut st) => (
                std::mem::take(&mut st.acct.parts),
                st.acct.sharded_table.take(),
            ),
            Err(_) => (Vec::new(), None),
        };
        let stats = match (&self.remote, before) {
            (Some(r), Some(b)) => r.client.stats().since(&b),
            _ => skyql_client::ClientStats::default(),
        };
        let mut report = StatementReport {
            complete: false,
            calls: stats.requests,
            retries: stats.retries,
            lost: stats.failed,
            throttled: stats.throttled,
            rate_limit_waits: stats.waits,
            rows: 0,
            on_error: self.on_error.clone(),
            shard: self.shard,
            sharded_table,
            parts: dedupe_parts(parts, result.is_ok()),
        };
        let result = match result {
            Ok(mut table) => {
                // A shard whose statement had no fan-out to split: the
                // first shard returns the rows, the others none, so that
                // the shards together still hold each row once.
                if let Some(shard) = self.shard
                    && report.sharded_table.is_none()
                    && shard.index != 1
                    && !report.parts.is_empty()
                {
                    table.rows.clear();
                }
                report.rows = table.rows.len() as u64;
                match report.failure_text() {
                    Some(text) if self.on_error != OnError::Warn => {
                        let first = first_failure(&report);
                        Err(Error::Incomplete {
                            message: format!(
                                "{text} ({} rows had come back and are not returned; \
                                 --on-error warn returns them, --on-error skip:CODES leaves such groups out)",
                                report.rows
                            ),
                            first: Box::new(first),
                        })
                    }
                    _ => Ok(table),
                }
            }
            Err(e) => match report.failure_text() {
                Some(text) => {
                    let rows: u64 = report.parts.iter().map(|p| p.rows).sum();
                    Err(Error::Incomplete {
                        message: format!(
                            "{text} ({rows} rows had been read; none are returned; \
                             --on-error warn returns the rows that come back)"
                        ),
                        first: Box::new(e),
                    })
                }
                None => Err(e),
            },
        };
        report.complete = result.is_ok() && report.all_groups_ok();
        self.last_report = Some(report);
        result
    }

    fn execute_statement(&mut self, stmt: &Statement) -> Result<Table, Error> {
        if let Some(m) = meta::parse(stmt)? {
            return meta::run(&self.registry, &m);
        }
        let kind = classify::classify(stmt)?;
        // Every shard would send the same calls: N creates, N deletes.
        if let Some(shard) = self.shard
            && matches!(kind, classify::Kind::Exec | classify::Kind::Mutation(_))
        {
            return Err(Error::BadParam(format!(
                "--shard {shard} splits the reads of a fan-out; run EXEC, INSERT, UPDATE, \
                 REPLACE and DELETE without --shard"
            )));
        }
        match kind {
            classify::Kind::Exec => {
                let call = exec::parse(stmt)?;
                let remote = self.remote_or_err()?;
                exec::run(&self.registry, remote, stmt, call)
            }
            classify::Kind::Mutation(m) => mutation::run(self, stmt, m),
            classify::Kind::Read(r) => self.run_sqlite(stmt, Some(r)),
            classify::Kind::Other => self.run_sqlite(stmt, None),
        }
    }

    fn remote_or_err(&self) -> Result<&Remote, Error> {
        self.remote.as_ref().ok_or_else(|| {
            Error::Internal("this engine was built without an API client; statements on cloud resources need one".into())
        })
    }

    fn conn(&mut self) -> Result<&rusqlite::Connection, Error> {
        if self.sqlite.is_none() {
            let mut conn = rusqlite::Connection::open_in_memory()?;
            functions::register(&conn)?;
            if !self.allow_local_files {
                local_files::guard(&mut conn, self.state.clone())?;
            }
            self.sqlite = Some(conn);
        }
        self.sqlite
            .as_ref()
            .ok_or_else(|| Error::Internal("no SQLite connection".into()))
    }

    /// Whether `column` of `table` (as written) is a request parameter of a
    /// cloud resource.
    fn is_param(&mut self, table: &str, column: &str) -> Result<bool, Error> {
        let Some(id) = resource_id(table) else {
            return Ok(false);
        };
        let ctx = self.register(&id)?;
        Ok(ctx
            .shape
            .columns
            .iter()
            .any(|c| c.name == column && c.param))
    }

    /// Registers a resource's virtual table (once) and returns its context.
    fn register(&mut self, id: &str) -> Result<Arc<vtab::TableCtx>, Error> {
        if let Some(ctx) = self.tables.get(id) {
            return Ok(ctx.clone());
        }
        let (svc, name) = self.registry.resolve(id)?;
        let remote = self.remote_or_err()?;
        let r = svc.resource(&name)?;
        let index = svc
            .resources
            .iter()
            .position(|x| x.name == name)
            .ok_or_else(|| Error::Internal(format!("{id} vanished from its service")))?;
        let ctx = Arc::new(vtab::TableCtx {
            shape: shape::Shape::of(&svc, r),
            svc: svc.clone(),
            resource: index,
            rt: remote.rt.clone(),
            client: remote.client.clone(),
            state: self.state.clone(),
            progress: self.progress.clone(),
            pushdown: pushdown::declaration(id)?,
        });
        const MODULE: rusqlite::vtab::Module<vtab::ResourceTab> =
            rusqlite::vtab::Module::update_module();
        self.conn()?.create_module(id, &MODULE, Some(ctx.clone()))?;
        self.tables.insert(id.to_string(), ctx.clone());
        Ok(ctx)
    }

    /// Runs a read (or any other statement SQLite understands) in SQLite.
    fn run_sqlite(
        &mut self,
        stmt: &Statement,
        read: Option<classify::Read>,
    ) -> Result<Table, Error> {
        let (inlined, scratch_tables) = match read {
            Some(_) => self.inline_execs(stmt)?,
            None => (None, Vec::new()),
        };
        let result = match &inlined {
            // The rewritten text is parsed anew: its spans are its own.
            Some(s) => {
                let read = read.map(|r| classify::Read {
                    select: joins::parse_select(&s.text),
                    ..r
                });
                self.run_read(s, read.as_ref())
            }
            None => self.run_read(stmt, read.as_ref()),
        };
        if !scratch_tables.is_empty()
            && let Ok(conn) = self.conn()
        {
            for t in &scratch_tables {
                scratch::drop(conn, t);
            }
        }
        result
    }

    /// `(EXEC ...)` used as a table: each is run, its rows loaded into a
    /// temporary table, and the statement rewritten to read that instead.
    /// Returns the new statement and the temporary tables to drop.
    fn inline_execs(
        &mut self,
        stmt: &Statement,
    ) -> Result<(Option<Statement>, Vec<String>), Error> {
        let t = &stmt.tokens;
        let is_exec = |tok: &Token| matches!(tok, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("EXEC"));
        let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
        let mut tables = Vec::new();
        let mut i = 0;
        while i + 1 < t.len() {
            if !(matches!(t[i], Token::LParen) && is_exec(&t[i + 1])) {
                i += 1;
                continue;
            }
            let mut depth = 0i32;
            let mut close = None;
            for (j, tok) in t.iter().enumerate().skip(i) {
                match tok {
                    Token::LParen => depth += 1,
                    Token::RParen => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(j);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(j) = close else {
                return Err(Error::syntax_at(
                    stmt,
                    i,
                    "`(EXEC ...` has no closing parenthesis",
                ));
            };
            let inner = &stmt.text[stmt.spans[i + 1].start..stmt.spans[j].start];
            let Some(exec_stmt) = split_statements(inner)?.pop() else {
                return Err(Error::Internal("an EXEC without a statement".into()));
            };
            let call = exec::parse(&exec_stmt)?;
            let rows = exec::rows(&self.registry, self.remote_or_err()?, &exec_stmt, call)?;
            let name = format!("skyql_exec_{}", tables.len());
            scratch::load(self.conn()?, &name, Vec::new(), &rows)?;
            edits.push((
                stmt.spans[i].start..stmt.spans[j].end,
                format!("(SELECT * FROM temp.\"{name}\")"),
            ));
            tables.push(name);
            i = j + 1;
        }
        if edits.is_empty() {
            return Ok((None, tables));
        }
        let mut text = stmt.text.clone();
        for (range, with) in edits.into_iter().rev() {
            text.replace_range(range, &with);
        }
        Ok((split_statements(&text)?.pop(), tables))
    }

    fn run_read(
        &mut self,
        stmt: &Statement,
        read: Option<&classify::Read>,
    ) -> Result<Table, Error> {
        let select = read.and_then(|r| r.select.as_deref());
        let moved = match select {
            Some(select) => joins::move_parameters(stmt, select, &mut |t, c| self.is_param(t, c))?,
            None => None,
        };
        let moved = match moved {
            Some(text) => split_statements(&text)?.pop(),
            None => None,
        };
        let stmt = moved.as_ref().unwrap_or(stmt);
        let rewritten = rewrite::rewrite(stmt, &self.registry)?;
        for id in &rewritten.resources {
            self.register(id)?;
        }
        if let Ok(mut st) = self.state.lock() {
            let acct = std::mem::take(&mut st.acct);
            *st = StatementState::default();
            st.acct = acct;
            // A statement whose conditions moved has joins, so no labels.
            if let (Some(select), None) = (select, &moved) {
                st.label_terms = pushdown::label_terms(select);
            }
        }
        // A read without LIMIT is safe to run twice, and worth a discovery
        // pass when it joins (a LIMIT could make that pass read far more
        // than the query needs).
        let join_prefetch = read.is_some_and(|r| !r.has_limit);
        let result = self.query(&rewritten.sql, join_prefetch);
        let error = self.state.lock().ok().and_then(|mut st| st.error.take());
        match (result, error) {
            (Ok(t), _) => Ok(t),
            (Err(e), rich) => Err(rich.unwrap_or(e)),
        }
    }

    /// The result columns of a read, without running it (a server's
    /// Describe of a prepared statement): SQLite prepares the statement,
    /// `$n` parameters unbound, and names its columns; the type is the
    /// resource schema's where a column is read straight from a resource.
    pub fn describe(
        &mut self,
        stmt: &Statement,
    ) -> Result<Vec<(String, Option<ColumnType>)>, Error> {
        let rewritten = rewrite::rewrite(stmt, &self.registry)?;
        for id in &rewritten.resources {
            self.register(id)?;
        }
        let conn = self.conn()?;
        let prepared = conn
            .prepare(&rewritten.sql)
            .map_err(|e| table::sqlite_error(e, &rewritten.sql))?;
        Ok(prepared
            .columns()
            .map(|c| {
                (
                    c.name().to_string(),
                    c.decl_type().and_then(ColumnType::from_declared),
                )
            })
            .collect())
    }

    /// Prepares and runs SQL on the connection (resource tables already
    /// registered), with a join's discovery pass first if asked.
    fn query(&mut self, sql: &str, join_prefetch: bool) -> Result<Table, Error> {
        let state = self.state.clone();
        let rt = self.remote.as_ref().map(|r| r.rt.clone());
        let conn = self.conn()?;
        match conn.prepare(sql) {
            Err(e) => Err(table::sqlite_error(e, sql)),
            Ok(mut prepared) => {
                let joined = state.lock().map(|st| st.saw_joined).unwrap_or(false);
                if join_prefetch && joined {
                    discover_and_prefetch(&state, &mut prepared, rt.as_ref());
                }
                table::run(&mut prepared)
            }
        }
    }
}

/// The semi-join prefetch. A join runs `filter` on the inner table once per
/// outer row, one after another. So first run the statement with joined
/// tables answering nothing (they only note the parameters they are asked
/// for; tables read by constants keep their rows), then fetch everything
/// noted concurrently, then let the real run read it all from the cache.
/// Anything that fails here is simply not cached: the real run meets it,
/// and only its outcome is in the statement's report.
fn discover_and_prefetch(
    state: &Arc<Mutex<StatementState>>,
    prepared: &mut rusqlite::Statement<'_>,
    rt: Option<&Handle>,
) {
    let first_part = match state.lock() {
        Ok(mut st) => {
            st.mode = ScanMode::Discover;
            st.acct.parts.len()
        }
        Err(_) => return,
    };
    if let Ok(mut rows) = prepared.query([]) {
        while let Ok(Some(_)) = rows.next() {}
    }
    let discovered = match state.lock() {
        Ok(mut st) => {
            st.mode = ScanMode::Normal;
            st.error = None;
            std::mem::take(&mut st.discovered)
        }
        Err(_) => return,
    };
    let entries = scan::prefetch(discovered);
    let pending = match state.lock() {
        Ok(mut st) => {
            st.cache.extend(entries);
            std::mem::take(&mut st.acct.pending)
        }
        Err(_) => return,
    };
    if let Some(rt) = rt {
        rt.block_on(async {
            for t in pending {
                let _ = t.await;
            }
        });
    }
    if let Ok(mut st) = state.lock() {
        let mut i = 0;
        st.acct.parts.retain(|p| {
            i += 1;
            i <= first_part || p.status == PartStatus::Ok
        });
    }
}

/// One entry per (table, parameters): a group read again (a join's real
/// pass after its discovery pass) keeps its last outcome. Groups still
/// running when a statement failed were stopped: cancelled.
fn dedupe_parts(parts: Vec<PartReport>, finished: bool) -> Vec<PartReport> {
    let mut out: Vec<PartReport> = Vec::with_capacity(parts.len());
    let mut at: HashMap<(String, std::collections::BTreeMap<String, String>), usize> =
        HashMap::new();
    for mut p in parts {
        if p.status == PartStatus::Running && !finished {
            p.status = PartStatus::Cancelled;
        }
        match at.get(&(p.table.clone(), p.params.clone())) {
            Some(&i) => out[i] = p,
            None => {
                at.insert((p.table.clone(), p.params.clone()), out.len());
                out.push(p);
            }
        }
    }
    out
}

/// The first failed group's error, as an engine error for `fault()`.
fn first_failure(report: &StatementReport) -> Error {
    Error::Remote(
        report
            .failed()
            .next()
            .and_then(|p| p.error.clone())
            .unwrap_or_else(|| "a request group failed".into()),
    )
}

/// The resource id a table name as written stands for (`google.svc.res`,
/// any case of the provider), if it names one.
fn resource_id(table: &str) -> Option<String> {
    let mut parts = table.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(p), Some(s), Some(r), None) if p.eq_ignore_ascii_case(skyql_provider::PROVIDER) => {
            Some(format!("{}.{s}.{r}", skyql_provider::PROVIDER))
        }
        _ => None,
    }
}

/// One column of a resource's table, as SQL sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceColumn {
    pub name: String,
    pub col_type: ColumnType,
    /// Left out of `SELECT *`: a parameter or a request-body field.
    pub hidden: bool,
    /// A method parameter of this name exists.
    pub param: bool,
}

/// A resource's columns in table order (for a server's catalog).
pub fn resource_columns(svc: &Service, r: &skyql_provider::Resource) -> Vec<ResourceColumn> {
    shape::Shape::of(svc, r)
        .columns
        .into_iter()
        .map(|c| ResourceColumn {
            name: c.name,
            col_type: c.col_type,
            hidden: c.hidden,
            param: c.param,
        })
        .collect()
}

/// True for metadata statements (SHOW, DESCRIBE), which never need the network.
pub fn is_metadata(stmt: &Statement) -> bool {
    matches!(meta::parse(stmt), Ok(Some(_)))
}
