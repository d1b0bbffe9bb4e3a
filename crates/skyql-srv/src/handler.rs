//! One connection's query handling, for both protocols: each statement is
//! classified (`command.rs`), translated (`translate.rs`) and answered by
//! the session's engine, its catalog database, or the session itself
//! (settings, transactions, cursors); results become PostgreSQL rows
//! (`encode.rs`) and errors PostgreSQL errors (`sqlstate.rs`).

use crate::Shared;
use crate::catalog::{self, Settings, default_setting, setting};
use crate::command::{Command, classify};
use crate::encode::ResultSet;
use crate::pg_client::{QueryClient, SendError, StartupClient};
use crate::session::EngineSession;
use crate::sqlstate::{engine_error, sqlite_code, user_error};
use crate::translate::{Param, Target, TranslateError, param_count, translate};
use async_trait::async_trait;
use futures::sink::{Sink, SinkExt};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    DescribePortalResponse, DescribeStatementResponse, FieldInfo, QueryResponse, Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, DEFAULT_NAME, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::extendedquery::{Describe, Parse, ParseComplete, Sync as PgSync};
use pgwire::messages::response::{NoticeResponse, ReadyForQuery};
use skyql_engine::Table;
use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// What one statement produced.
#[derive(Debug, Clone)]
pub enum Outcome {
    Rows(ResultSet),
    Tag(Tag),
    Begin,
    Commit,
    Rollback,
}

pub struct ConnHandler {
    shared: Arc<Shared>,
    peer: SocketAddr,
    engine: Mutex<Option<Arc<EngineSession>>>,
    catalog: Arc<Mutex<Option<catalog::Session>>>,
    catalog_interrupt: Arc<Mutex<Option<Arc<rusqlite::InterruptHandle>>>>,
    settings: Settings,
    cursors: Mutex<HashMap<String, ResultSet>>,
    /// Results of portals run at Describe time, for their Execute.
    described: Mutex<HashMap<String, Outcome>>,
    /// Cursors declared or closed by the last statement, whose protocol
    /// portals (psycopg describes a cursor as a portal) are still to be
    /// made or dropped.
    cursor_changes: Mutex<Vec<(String, bool)>>,
    /// Result types given in answer to a Describe of a prepared statement,
    /// by statement name: its portals' rows are encoded with them.
    statement_types: Mutex<HashMap<String, Vec<Type>>>,
    parser: Arc<Parser>,
    /// Notes of statements that ran (missing or skipped request groups,
    /// retries) not yet sent to the client as NOTICEs.
    notices: Mutex<Vec<String>>,
}

impl ConnHandler {
    pub fn new(shared: Arc<Shared>, peer: SocketAddr) -> ConnHandler {
        ConnHandler {
            shared,
            peer,
            engine: Mutex::new(None),
            catalog: Arc::new(Mutex::new(None)),
            catalog_interrupt: Arc::new(Mutex::new(None)),
            settings: Arc::new(Mutex::new(HashMap::new())),
            cursors: Mutex::new(HashMap::new()),
            described: Mutex::new(HashMap::new()),
            cursor_changes: Mutex::new(Vec::new()),
            statement_types: Mutex::new(HashMap::new()),
            parser: Arc::new(Parser),
            notices: Mutex::new(Vec::new()),
        }
    }

    /// Sends the notes of the statements that ran as NOTICE messages
    /// (WARNING for an incomplete result), so that a client never takes a
    /// result for complete when skyql knows it is not.
    async fn send_notices<C>(&self, client: &mut C) -> PgWireResult<()>
    where
        C: Sink<PgWireBackendMessage> + Unpin + Send,
        PgWireError: From<SendError<C>>,
    {
        let notes = self
            .notices
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default();
        for note in notes {
            let severity = if note.starts_with("warning") {
                "WARNING"
            } else {
                "NOTICE"
            };
            let info = ErrorInfo::new(severity.into(), "01000".into(), note);
            client
                .send(PgWireBackendMessage::NoticeResponse(NoticeResponse::from(
                    info,
                )))
                .await?;
        }
        Ok(())
    }

    fn log(&self, line: &str) {
        (self.shared.log)(&format!("{}: {line}", self.peer));
    }

    fn engine(&self, pid: i32) -> PgWireResult<Arc<EngineSession>> {
        let mut slot = self
            .engine
            .lock()
            .map_err(|_| internal("engine slot poisoned"))?;
        if let Some(e) = slot.as_ref() {
            return Ok(e.clone());
        }
        let e = Arc::new(
            EngineSession::start(&self.shared, format!("skyql-srv-{pid}"))
                .map_err(|e| internal(&format!("starting the session's engine thread: {e}")))?,
        );
        *slot = Some(e.clone());
        Ok(e)
    }

    /// Runs a query on the session's catalog database, on the runtime's
    /// blocking pool (a long query must not hold up a runtime worker);
    /// dropping the future (a cancel) interrupts it.
    async fn catalog_query(&self, pid: i32, sql: String) -> PgWireResult<ResultSet> {
        let slot = self.catalog.clone();
        let interrupt = self.catalog_interrupt.clone();
        let shared = self.shared.clone();
        let settings = self.settings.clone();
        let task = self.shared.rt.spawn_blocking(move || {
            let mut slot = slot.lock().map_err(|_| internal("catalog slot poisoned"))?;
            if slot.is_none() {
                let session =
                    catalog::Session::open(&shared.catalog, settings, pid, cancel_fn(&shared))
                        .map_err(|e| internal(&format!("building the catalog: {e}")))?;
                if let Ok(mut i) = interrupt.lock() {
                    *i = Some(Arc::new(session.interrupt_handle()));
                }
                *slot = Some(session);
            }
            let Some(session) = slot.as_ref() else {
                return Err(internal("no catalog"));
            };
            session.query(&sql).map_err(|e| {
                let msg = match e {
                    rusqlite::Error::SqliteFailure(_, Some(m)) => m,
                    other => other.to_string(),
                };
                user_error(
                    sqlite_code(&msg),
                    format!("{msg} (in a query answered from skyql's PostgreSQL catalog)"),
                )
            })
        });
        let mut guard = CatalogInterruptOnDrop {
            interrupt: self.catalog_interrupt.lock().ok().and_then(|i| i.clone()),
            armed: true,
        };
        let result = task
            .await
            .map_err(|e| internal(&format!("the catalog query stopped: {e}")));
        guard.armed = false;
        result?
    }

    /// Runs one statement with its parameters.
    fn run<'a>(
        &'a self,
        pid: i32,
        text: &'a str,
        params: &'a [Param],
    ) -> Pin<Box<dyn Future<Output = PgWireResult<Outcome>> + Send + 'a>> {
        Box::pin(async move {
            let registry = &self.shared.registry;
            let t = translate(text, params, registry, Target::Engine).map_err(translate_error)?;
            match classify(text, t.resources > 0) {
                Command::Engine => {
                    let engine = self.engine(pid)?;
                    let table = engine.run(t.sql).await.map_err(|e| engine_error(&e));
                    let notes = engine.take_notes();
                    if !notes.is_empty()
                        && let Ok(mut n) = self.notices.lock()
                    {
                        n.extend(notes);
                    }
                    Ok(outcome_of_table(table?))
                }
                Command::Catalog => {
                    let t = translate(text, params, registry, Target::Catalog)
                        .map_err(translate_error)?;
                    Ok(Outcome::Rows(self.catalog_query(pid, t.sql).await?))
                }
                Command::Begin => Ok(Outcome::Begin),
                Command::Commit => Ok(Outcome::Commit),
                Command::Rollback => Ok(Outcome::Rollback),
                Command::Set { name, value } => {
                    if let Ok(mut s) = self.settings.lock() {
                        s.insert(name, value);
                    }
                    Ok(Outcome::Tag(Tag::new("SET")))
                }
                Command::Show(name) => self.show(&name),
                Command::Declare { name, query } => {
                    let rows = match self.run(pid, &query, params).await? {
                        Outcome::Rows(r) => r,
                        _ => {
                            return Err(user_error(
                                "42P11",
                                format!("cursor \"{name}\": its query returns no rows"),
                            ));
                        }
                    };
                    if let Ok(mut c) = self.cursors.lock() {
                        c.insert(name.clone(), rows);
                    }
                    if let Ok(mut c) = self.cursor_changes.lock() {
                        c.push((name, true));
                    }
                    Ok(Outcome::Tag(Tag::new("DECLARE CURSOR")))
                }
                Command::Fetch { name, count } => {
                    let mut cursors = self
                        .cursors
                        .lock()
                        .map_err(|_| internal("cursors poisoned"))?;
                    let Some(c) = cursors.get_mut(&name) else {
                        return Err(user_error(
                            "34000",
                            format!("cursor \"{name}\" does not exist"),
                        ));
                    };
                    let mut rows = c.take(count);
                    rows.tag = "FETCH".into();
                    Ok(Outcome::Rows(rows))
                }
                Command::Close(name) => {
                    let mut cursors = self
                        .cursors
                        .lock()
                        .map_err(|_| internal("cursors poisoned"))?;
                    let closed: Vec<String> = match name {
                        None => cursors.drain().map(|(k, _)| k).collect(),
                        Some(n) => {
                            if cursors.remove(&n).is_none() {
                                return Err(user_error(
                                    "34000",
                                    format!("cursor \"{n}\" does not exist"),
                                ));
                            }
                            vec![n]
                        }
                    };
                    if let Ok(mut c) = self.cursor_changes.lock() {
                        c.extend(closed.into_iter().map(|n| (n, false)));
                    }
                    Ok(Outcome::Tag(Tag::new("CLOSE CURSOR")))
                }
                Command::Accept(tag) => Ok(Outcome::Tag(Tag::new(tag))),
                Command::Reset(name) => {
                    if let Ok(mut s) = self.settings.lock() {
                        match name {
                            Some(n) => {
                                s.remove(&n);
                            }
                            None => s.clear(),
                        }
                    }
                    Ok(Outcome::Tag(Tag::new("RESET")))
                }
                Command::Unsupported(what) => Err(user_error(
                    "0A000",
                    format!("{what} is not supported by skyql srv"),
                )),
            }
        })
    }

    fn show(&self, name: &str) -> PgWireResult<Outcome> {
        let (column, value) = match name {
            "all" => {
                let names = [
                    "client_encoding",
                    "datestyle",
                    "integer_datetimes",
                    "intervalstyle",
                    "search_path",
                    "server_encoding",
                    "server_version",
                    "standard_conforming_strings",
                    "timezone",
                    "transaction_isolation",
                ];
                let rows = names
                    .iter()
                    .map(|n| {
                        vec![
                            skyql_engine::Cell::from(*n),
                            skyql_engine::Cell::from(setting(&self.settings, n)),
                        ]
                    })
                    .collect();
                return Ok(Outcome::Rows(ResultSet {
                    columns: vec![("name".into(), Type::TEXT), ("setting".into(), Type::TEXT)],
                    rows,
                    tag: "SHOW".into(),
                }));
            }
            "transaction isolation level" => ("transaction_isolation", name),
            other => (other, other),
        };
        let known = default_setting(value).is_some()
            || self
                .settings
                .lock()
                .map(|s| s.contains_key(value))
                .unwrap_or(false);
        if !known {
            return Err(user_error(
                "42704",
                format!("unrecognized configuration parameter \"{name}\""),
            ));
        }
        Ok(Outcome::Rows(ResultSet {
            columns: vec![(column.to_string(), Type::TEXT)],
            rows: vec![vec![skyql_engine::Cell::from(setting(
                &self.settings,
                value,
            ))]],
            tag: "SHOW".into(),
        }))
    }

    /// The result columns of a parameterised read routed to the engine,
    /// without running it; `None` when it cannot be worked out.
    async fn describe_unbound(&self, pid: i32, text: &str, n: usize) -> Option<ResultSet> {
        let params: Vec<Param> = (1..=n).map(Param::Unbound).collect();
        let t = translate(text, &params, &self.shared.registry, Target::Engine).ok()?;
        if classify(text, t.resources > 0) != Command::Engine {
            return None;
        }
        let table = self.engine(pid).ok()?.describe(t.sql).await.ok()?;
        Some(ResultSet::of_table(table, "SELECT".into()))
    }

    /// Gives rows of a described statement the types its Describe announced.
    fn apply_statement_types(&self, statement: &str, outcome: &mut Outcome) {
        let Outcome::Rows(rs) = outcome else {
            return;
        };
        let types = self
            .statement_types
            .lock()
            .ok()
            .and_then(|t| t.get(statement).cloned());
        if let Some(types) = types
            && types.len() == rs.columns.len()
        {
            for (c, t) in rs.columns.iter_mut().zip(types) {
                c.1 = t;
            }
        }
    }

    /// Runs a statement and logs its failure (the client gets the error).
    async fn run_logged(&self, pid: i32, text: &str, params: &[Param]) -> PgWireResult<Outcome> {
        let r = self.run(pid, text, params).await;
        if let Err(e) = &r {
            let info = ErrorInfo::from(clone_error(e));
            self.log(&format!(
                "statement failed ({}): {}",
                info.code, info.message
            ));
        }
        r
    }
}

/// Interrupts the catalog query unless disarmed (it finished).
struct CatalogInterruptOnDrop {
    interrupt: Option<Arc<rusqlite::InterruptHandle>>,
    armed: bool,
}

impl Drop for CatalogInterruptOnDrop {
    fn drop(&mut self) {
        if self.armed
            && let Some(i) = &self.interrupt
        {
            i.interrupt();
        }
    }
}

impl ConnHandler {
    /// Runs a bound portal's statement: its cursors get their protocol
    /// portals, and its rows the types announced for the statement.
    async fn run_portal<C>(&self, client: &C, portal: &Portal<String>) -> PgWireResult<Outcome>
    where
        C: ClientInfo + ClientPortalStore,
        C::PortalStore: PortalStore<Statement = String>,
    {
        let pid = client.pid_and_secret_key().0;
        let params = params_of(portal)?;
        let outcome = self
            .run_logged(pid, &portal.statement.statement, &params)
            .await;
        sync_cursor_portals(self, client);
        let mut outcome = outcome?;
        self.apply_statement_types(&portal.statement.id, &mut outcome);
        Ok(outcome)
    }
}

/// Makes (or drops) the protocol portal of each cursor the last statement
/// declared (or closed), so that a Describe of the cursor's name works.
fn sync_cursor_portals<C>(handler: &ConnHandler, client: &C)
where
    C: ClientPortalStore,
    C::PortalStore: PortalStore<Statement = String>,
{
    let changes = match handler.cursor_changes.lock() {
        Ok(mut c) => std::mem::take(&mut *c),
        Err(_) => return,
    };
    for (name, declared) in changes {
        if declared {
            let stmt = Arc::new(StoredStatement::new(
                name.clone(),
                String::new(),
                Vec::new(),
            ));
            client
                .portal_store()
                .put_portal(Arc::new(Portal::new_cursor(name, stmt)));
        } else {
            client.portal_store().rm_portal(&name);
        }
    }
}

/// `pg_cancel_backend` for the catalog: cancels another connection's statement.
fn cancel_fn(shared: &Arc<Shared>) -> catalog::CancelFn {
    let weak = Arc::downgrade(shared);
    Arc::new(move |pid| weak.upgrade().is_some_and(|s| s.cancel_backend(pid)))
}

fn clone_error(e: &PgWireError) -> PgWireError {
    match e {
        PgWireError::UserError(info) => PgWireError::UserError(Box::new(ErrorInfo::new(
            info.severity.clone(),
            info.code.clone(),
            info.message.clone(),
        ))),
        other => user_error("XX000", other.to_string()),
    }
}

fn internal(msg: &str) -> PgWireError {
    user_error("XX000", format!("internal error: {msg}"))
}

fn translate_error(e: TranslateError) -> PgWireError {
    match e {
        TranslateError::Syntax(_) => user_error("42601", e.to_string()),
        TranslateError::MissingParam(_) => user_error("08P01", e.to_string()),
    }
}

/// An engine result: rows, or a command tag from its notice (`INSERT 1`).
fn outcome_of_table(table: Table) -> Outcome {
    let (verb, count) = match table.notice.as_deref().and_then(|n| n.split_once(' ')) {
        Some((verb, n)) => (verb.to_string(), n.trim().parse::<usize>().ok()),
        None => ("SELECT".to_string(), None),
    };
    let verb = match verb.as_str() {
        "REPLACE" => "UPDATE".to_string(),
        "INSERT" | "UPDATE" | "DELETE" | "SELECT" => verb,
        _ => "SELECT".to_string(),
    };
    // PostgreSQL's INSERT tag carries an OID (always 0).
    let tag_word = if verb == "INSERT" {
        "INSERT 0".to_string()
    } else {
        verb.clone()
    };
    if table.columns.is_empty() {
        let mut tag = Tag::new(&tag_word);
        tag = tag.with_rows(count.unwrap_or(table.rows.len()));
        return Outcome::Tag(tag);
    }
    Outcome::Rows(ResultSet::of_table(table, tag_word))
}

fn response(outcome: Outcome, formats: &Format) -> PgWireResult<Response> {
    Ok(match outcome {
        Outcome::Rows(rs) => {
            let fields = Arc::new(rs.fields(formats));
            let rows = rs.data_rows(&fields)?;
            let mut q = QueryResponse::new(fields, futures::stream::iter(rows.into_iter().map(Ok)));
            q.set_command_tag(&rs.tag);
            Response::Query(q)
        }
        Outcome::Tag(t) => Response::Execution(t),
        Outcome::Begin => Response::TransactionStart(Tag::new("BEGIN")),
        Outcome::Commit => Response::TransactionEnd(Tag::new("COMMIT")),
        Outcome::Rollback => Response::TransactionEnd(Tag::new("ROLLBACK")),
    })
}

fn fields_of(outcome: &Outcome, formats: &Format) -> Vec<FieldInfo> {
    match outcome {
        Outcome::Rows(rs) => rs.fields(formats),
        _ => Vec::new(),
    }
}

/// The bound parameters of a portal, decoded by their types.
fn params_of(portal: &Portal<String>) -> PgWireResult<Vec<Param>> {
    let mut out = Vec::with_capacity(portal.parameter_len());
    for i in 0..portal.parameter_len() {
        let ty = portal
            .statement
            .parameter_types
            .get(i)
            .cloned()
            .flatten()
            .unwrap_or(Type::UNKNOWN);
        let p = match ty {
            Type::INT2 => portal
                .parameter::<i16>(i, &ty)?
                .map(|v| Param::Int(v.into())),
            Type::INT4 => portal
                .parameter::<i32>(i, &ty)?
                .map(|v| Param::Int(v.into())),
            Type::INT8 => portal.parameter::<i64>(i, &ty)?.map(Param::Int),
            Type::OID => portal
                .parameter::<u32>(i, &ty)?
                .map(|v| Param::Int(v.into())),
            Type::FLOAT4 => portal
                .parameter::<f32>(i, &ty)?
                .map(|v| Param::Float(v.into())),
            Type::FLOAT8 => portal.parameter::<f64>(i, &ty)?.map(Param::Float),
            Type::BOOL => portal.parameter::<bool>(i, &ty)?.map(Param::Bool),
            Type::JSON | Type::JSONB => portal
                .parameter::<serde_json::Value>(i, &ty)?
                .map(|v| Param::Text(v.to_string())),
            Type::TIMESTAMPTZ => portal
                .parameter::<chrono::DateTime<chrono::FixedOffset>>(i, &ty)?
                .map(|v| Param::Text(v.to_rfc3339())),
            // Text, and anything sent as text: its characters as written.
            ref t
                if !portal.parameter_format.is_binary(i)
                    || matches!(
                        *t,
                        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
                    ) =>
            {
                portal
                    .parameters
                    .get(i)
                    .cloned()
                    .flatten()
                    .map(|b| Param::Text(String::from_utf8_lossy(&b).into_owned()))
            }
            other => {
                return Err(user_error(
                    "22P03",
                    format!(
                        "parameter ${} is sent in binary as {}, which skyql srv does not read; send it as text",
                        i + 1,
                        other.name()
                    ),
                ));
            }
        };
        out.push(p.unwrap_or(Param::Null));
    }
    Ok(out)
}

#[async_trait]
impl SimpleQueryHandler for ConnHandler {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: StartupClient,
        PgWireError: From<SendError<C>>,
    {
        let pid = client.pid_and_secret_key().0;
        let statements = match skyql_engine::split_statements(query) {
            Ok(s) => s,
            Err(e) => return Ok(vec![Response::Error(Box::new(engine_error(&e).into()))]),
        };
        let mut out = Vec::with_capacity(statements.len());
        for stmt in statements {
            // (A cursor declared here gets its protocol portal at the next
            // extended-protocol message: this store holds other statements.)
            let outcome = self.run_logged(pid, &stmt.text, &[]).await;
            self.send_notices(client).await?;
            match outcome {
                Ok(o) => out.push(response(o, &Format::UnifiedText)?),
                Err(e) => {
                    // PostgreSQL runs nothing after the failing statement.
                    out.push(Response::Error(Box::new(e.into())));
                    break;
                }
            }
        }
        if out.is_empty() {
            out.push(Response::EmptyQuery);
        }
        Ok(out)
    }
}

/// The extended protocol's statements are kept as text; everything happens
/// at Describe (portal) or Execute, when the parameters are known.
pub struct Parser;

#[async_trait]
impl QueryParser for Parser {
    type Statement = String;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<String>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        Ok(Some(sql.trim().trim_end_matches(';').to_string()))
    }

    fn get_parameter_types(&self, stmt: &String) -> PgWireResult<Vec<Type>> {
        Ok(vec![Type::TEXT; param_count(stmt)])
    }

    fn get_result_schema(
        &self,
        _stmt: &String,
        _column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        Ok(Vec::new())
    }
}

/// Statements whose rows can be worked out before Execute without changing
/// anything: catalog queries, SHOW, skyql's metadata statements, and
/// queries (SELECT, WITH, VALUES) as sqlparser parses them.
fn is_read(text: &str) -> bool {
    use sqlparser::ast::Statement as Ast;
    use sqlparser::dialect::PostgreSqlDialect;
    match classify(text, false) {
        Command::Show(_) => true,
        Command::Catalog | Command::Engine => {
            let metadata = skyql_engine::split_statements(text)
                .ok()
                .and_then(|s| s.first().map(skyql_engine::is_metadata))
                .unwrap_or(false);
            metadata
                || matches!(
                    sqlparser::parser::Parser::parse_sql(&PostgreSqlDialect {}, text).as_deref(),
                    Ok([Ast::Query(_)])
                )
        }
        _ => false,
    }
}

#[async_trait]
impl ExtendedQueryHandler for ConnHandler {
    type Statement = String;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    async fn do_describe_statement<C>(
        &self,
        client: &mut C,
        target: &StoredStatement<String>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: QueryClient,
        PgWireError: From<SendError<C>>,
    {
        let n = param_count(&target.statement).max(target.parameter_types.len());
        let params: Vec<Type> = (0..n)
            .map(|i| {
                target
                    .parameter_types
                    .get(i)
                    .cloned()
                    .flatten()
                    .unwrap_or(Type::TEXT)
            })
            .collect();
        // A read without parameters is described by running it; one with
        // parameters by preparing it in the engine, and its rows will be
        // encoded with the types announced here.
        let pid = client.pid_and_secret_key().0;
        let fields = if !is_read(&target.statement) {
            Vec::new()
        } else if n == 0 {
            let outcome = self.run_logged(pid, &target.statement, &[]).await?;
            fields_of(&outcome, &Format::UnifiedText)
        } else {
            match self.describe_unbound(pid, &target.statement, n).await {
                Some(rs) => {
                    if let Ok(mut t) = self.statement_types.lock() {
                        t.insert(
                            target.id.clone(),
                            rs.columns.iter().map(|c| c.1.clone()).collect(),
                        );
                    }
                    rs.fields(&Format::UnifiedText)
                }
                None => Vec::new(),
            }
        };
        Ok(DescribeStatementResponse::new(params, fields))
    }

    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        portal: &Portal<String>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: QueryClient,
        PgWireError: From<SendError<C>>,
    {
        if let Some(fields) = self.cursors.lock().ok().and_then(|c| {
            c.get(&portal.name)
                .map(|rs| rs.fields(&portal.result_column_format))
        }) {
            return Ok(DescribePortalResponse::new(fields));
        }
        let outcome = self.run_portal(client, portal).await?;
        let fields = fields_of(&outcome, &portal.result_column_format);
        if let Ok(mut d) = self.described.lock() {
            d.insert(portal.name.clone(), outcome);
        }
        Ok(DescribePortalResponse::new(fields))
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<String>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: QueryClient,
        PgWireError: From<SendError<C>>,
    {
        let cached = self
            .described
            .lock()
            .ok()
            .and_then(|mut d| d.remove(&portal.name));
        let outcome = match cached {
            Some(o) => o,
            None => self.run_portal(client, portal).await?,
        };
        self.send_notices(client).await?;
        response(outcome, &portal.result_column_format)
    }

    async fn on_parse<C>(&self, client: &mut C, message: Parse) -> PgWireResult<()>
    where
        C: QueryClient,
        PgWireError: From<SendError<C>>,
    {
        // A statement parsed again under a name forgets what was announced
        // for the old one.
        let name = message
            .name
            .clone()
            .unwrap_or_else(|| DEFAULT_NAME.to_owned());
        if let Ok(mut t) = self.statement_types.lock() {
            t.remove(&name);
        }
        match StoredStatement::parse(client, &message, self.parser.clone()).await? {
            Some(stmt) => client.portal_store().put_statement(Arc::new(stmt)),
            None => client.portal_store().put_empty_statement(&name),
        }
        client
            .send(PgWireBackendMessage::ParseComplete(ParseComplete::new()))
            .await?;
        Ok(())
    }

    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: QueryClient,
        PgWireError: From<SendError<C>>,
    {
        sync_cursor_portals(self, client);
        self._on_describe(client, message).await
    }

    async fn on_sync<C>(&self, client: &mut C, _message: PgSync) -> PgWireResult<()>
    where
        C: QueryClient,
        PgWireError: From<SendError<C>>,
    {
        // A portal described but never executed must not answer a later one.
        if let Ok(mut d) = self.described.lock() {
            d.clear();
        }
        client.portal_store().rm_portal(DEFAULT_NAME);
        client
            .send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
                client.transaction_status(),
            )))
            .await?;
        client.flush().await?;
        Ok(())
    }
}
