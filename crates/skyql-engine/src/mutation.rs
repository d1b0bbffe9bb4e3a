//! INSERT, UPDATE, REPLACE and DELETE on cloud resources, the StackQL way.
//!
//! A mutation whose WHERE clause names every required parameter of the
//! method (`column = constant`, ANDed, nothing else) is sent straight away:
//! no read comes first, so `--dry-run` shows exactly the mutation. Any other
//! mutation runs in SQLite, which reads the rows its WHERE selects and calls
//! the virtual table's update callbacks for each (`vtab.rs`).
//!
//! Then `/*+ AWAIT */` waits for the operations the calls returned
//! (`operation.rs`), and RETURNING (any expressions, with aliases) is
//! evaluated by SQLite over what the calls returned: the resources an
//! awaited INSERT, UPDATE or REPLACE made or changed, else the responses.

use crate::classify::{Mutation, Verb};
use crate::scan::Params;
use crate::statement::Statement;
use crate::table::ColumnType;
use crate::vtab::TableCtx;
use crate::{Engine, Error, StatementState, Table, exec, operation, rewrite, scratch};
use rusqlite::types::{Value as SqlValue, ValueRef};
use serde_json::Value;
use skyql_provider::SqlVerb;
use std::sync::Arc;

pub fn run(engine: &mut Engine, stmt: &Statement, m: Mutation) -> Result<Table, Error> {
    let Some(id) = crate::resource_id(&m.table) else {
        // Not a cloud resource (a temporary table, say): plain SQL.
        let mut t = engine.run_sqlite(stmt, None)?;
        t.notice = None;
        return Ok(t);
    };
    engine.registry.resolve(&id)?;
    let ctx = engine.register(&id)?;
    if let Ok(mut st) = engine.state.lock() {
        *st = StatementState::default();
        st.replace = m.verb == Verb::Replace;
    }
    let sent = match direct(engine, &ctx, &m)? {
        Some(()) => Ok(()),
        None => through_sqlite(engine, &m),
    };
    let (error, responses) = match engine.state.lock() {
        Ok(mut st) => (st.error.take(), std::mem::take(&mut st.responses)),
        Err(_) => (None, Vec::new()),
    };
    if let Err(e) = sent {
        let e = error.unwrap_or(e);
        // Say what already happened: those calls are not undone.
        if !responses.is_empty() {
            return Err(Error::Partial {
                done: responses.len(),
                verb: m.verb.as_str().to_string(),
                source: Box::new(e),
            });
        }
        return Err(e);
    }
    let count = responses.len();
    let mut objects = Vec::with_capacity(count);
    if m.awaits {
        let remote = engine.remote_or_err()?;
        for (svc, resp) in responses {
            let done = operation::wait(&svc, resp, remote)?;
            objects.push(if m.returning.is_some() && m.verb != Verb::Delete {
                operation::resource(done, remote)?
            } else {
                done
            });
        }
    } else {
        objects.extend(responses.into_iter().map(|(_, v)| v));
    }
    let mut table = match &m.returning {
        Some(list) => returning(engine, &ctx, &objects, list)?,
        None => Table::default(),
    };
    table.notice = Some(format!("{} {count}", m.verb.as_str()));
    Ok(table)
}

fn through_sqlite(engine: &mut Engine, m: &Mutation) -> Result<(), Error> {
    let stmts = crate::split_statements(&m.sql)?;
    let Some(stmt) = stmts.first() else {
        return Err(Error::Internal("a mutation without a statement".into()));
    };
    let rewritten = rewrite::rewrite(stmt, &engine.registry)?;
    for id in &rewritten.resources {
        engine.register(id)?;
    }
    engine.query(&rewritten.sql, false).map(|_| ())
}

/// Sends an UPDATE, REPLACE or DELETE whose WHERE is the method's key
/// outright; `None` if it is not (SQLite then reads the rows first).
fn direct(engine: &mut Engine, ctx: &Arc<TableCtx>, m: &Mutation) -> Result<Option<()>, Error> {
    let Some(d) = &m.direct else {
        return Ok(None);
    };
    let verbs: &[SqlVerb] = match m.verb {
        Verb::Insert => return Ok(None),
        Verb::Delete => &[SqlVerb::Delete],
        Verb::Update => &[SqlVerb::Update, SqlVerb::Replace],
        Verb::Replace => &[SqlVerb::Replace, SqlVerb::Update],
    };
    let given = |p: &str| d.keys.iter().any(|(k, _)| k == p);
    let Some(method) = ctx.find_method(verbs, given) else {
        return Ok(None);
    };
    // Every condition must be a parameter of the method (anything else
    // filters rows, which needs them read), and every required one given.
    let keyed = d.keys.iter().all(|(k, _)| method.param(k).is_some())
        && method.required_params().iter().all(|p| given(p));
    if !keyed {
        return Ok(None);
    }
    let params: Params = d.keys.iter().cloned().collect();
    if m.verb == Verb::Delete {
        ctx.send(method, &params, None)?;
        return Ok(Some(()));
    }
    // The SET values, computed by SQLite (they may be expressions; one that
    // reads a column needs the row, so the statement goes through SQLite).
    let columns = &ctx.shape.columns;
    let mut at = Vec::with_capacity(d.set.len());
    for (col, _) in &d.set {
        match columns.iter().position(|c| &c.name == col) {
            Some(i) => at.push(i),
            None => return Ok(None),
        }
    }
    let exprs: Vec<&str> = d.set.iter().map(|(_, e)| e.as_str()).collect();
    let sql = format!("SELECT {}", exprs.join(", "));
    let computed: Vec<SqlValue> = {
        let conn = engine.conn()?;
        let Ok(mut prepared) = conn.prepare(&sql) else {
            return Ok(None);
        };
        prepared.query_row([], |row| {
            (0..exprs.len())
                .map(|i| row.get::<_, SqlValue>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
        })?
    };
    let mut values: Vec<SqlValue> = vec![SqlValue::Null; columns.len()];
    for (i, v) in at.iter().zip(computed) {
        values[*i] = v;
    }
    let refs: Vec<ValueRef<'_>> = values.iter().map(ValueRef::from).collect();
    let (params, body) = ctx.change_request(method, params, &refs, |i| at.contains(&i))?;
    ctx.send(method, &params, Some(body))?;
    Ok(Some(()))
}

const RETURNED: &str = "skyql_returned";

/// RETURNING `list` over the returned objects: a temporary table with the
/// resource's fields (and any other field the objects have), queried by
/// SQLite, so that any expression and alias works as in a SELECT.
fn returning(
    engine: &mut Engine,
    ctx: &TableCtx,
    objects: &[Value],
    list: &str,
) -> Result<Table, Error> {
    if list.trim() == "*" {
        return Ok(exec::object_table(objects));
    }
    let known: Vec<(String, ColumnType)> = ctx
        .shape
        .columns
        .iter()
        .filter(|c| c.response)
        .map(|c| (c.name.clone(), c.col_type))
        .collect();
    scratch::load(engine.conn()?, RETURNED, known, objects)?;
    let result = engine.query(&format!("SELECT {list} FROM temp.\"{RETURNED}\""), false);
    if let Ok(conn) = engine.conn() {
        scratch::drop(conn, RETURNED);
    }
    result
}
