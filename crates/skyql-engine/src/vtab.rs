//! One generic SQLite virtual table serves every resource: the resource's
//! model rides along as the module's aux data. SELECT runs a get or list
//! method (IN lists fan out into concurrent requests; list pages stream
//! lazily), INSERT runs the create method, UPDATE the patch method (or, for
//! `REPLACE t SET ...`, the replace method) and DELETE the delete method,
//! per row SQLite found; `mutation.rs` sends those whose WHERE names the
//! key outright without reading first.
//!
//! Callbacks run on the SQLite thread and block on async work through the
//! runtime handle; they are never called from a runtime worker.

use crate::plan::{self, Choice, Offered, Plan, PlanParam, Plans};
use crate::pushdown::{self, Op};
use crate::request;
use crate::scan::{self, CacheKey, Discovered, Params, Row, Stream};
use crate::shape::Shape;
use crate::value::{json_to_sql, sql_to_body, sql_to_param};
use crate::{Error, ScanMode, StatementState};
use rusqlite::ffi;
use rusqlite::vtab::{
    Context, CreateVTab, Filters, IndexConstraintOp, IndexInfo, Inserts, UpdateVTab, Updates, VTab,
    VTabConnection, VTabCursor, VTabKind,
};
use serde_json::{Map, Value};
use skyql_client::Client;
use skyql_provider::{Method, Resource, Service, SqlVerb};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::{CStr, CString, c_int};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use tokio::runtime::Handle;

/// Everything a resource's table needs, shared by its cursors.
pub struct TableCtx {
    pub svc: Arc<Service>,
    /// Index of the resource in `svc.resources` (checked at registration).
    pub resource: usize,
    pub shape: Shape,
    pub rt: Handle,
    pub client: Client,
    pub state: Arc<Mutex<StatementState>>,
    /// Live counters for a progress line.
    pub progress: Arc<crate::report::Progress>,
    /// The conditions the resource's list `filter` takes, if declared.
    pub pushdown: Option<&'static pushdown::ResourcePushdown>,
}

impl TableCtx {
    pub(crate) fn resource(&self) -> &Resource {
        &self.svc.resources[self.resource]
    }

    /// The method of the first of `verbs` the resource has, for a statement
    /// that gives the parameters `given` says it does (the variant of a
    /// collection they name: `organizationsId` picks the organisation's), or
    /// the error that says there is none.
    fn method_for(
        &self,
        verbs: &[SqlVerb],
        name: &'static str,
        given: impl Fn(&str) -> bool,
    ) -> rusqlite::Result<&Method> {
        self.find_method(verbs, given).ok_or_else(|| {
            self.fail(Error::NoVerb {
                resource: self.resource().id.clone(),
                verb: name,
            })
        })
    }

    /// The method of the first of `verbs` the resource has (see `method_for`).
    pub(crate) fn find_method(
        &self,
        verbs: &[SqlVerb],
        given: impl Fn(&str) -> bool,
    ) -> Option<&Method> {
        let r = self.resource();
        verbs.iter().find_map(|v| r.method_for(*v, &given))
    }

    /// Checks the parameters, sends the request, records the response for
    /// RETURNING and AWAIT; returns the response's rowid.
    pub(crate) fn send(
        &self,
        m: &Method,
        params: &Params,
        body: Option<Value>,
    ) -> Result<i64, Error> {
        check_required(self.resource(), m, params)?;
        let req = request::build(&self.svc, m, params, body);
        let resp = self.rt.block_on(self.client.send(req))?;
        Ok(record_mutation(self, resp))
    }

    fn mutate(&self, m: &Method, params: &Params, body: Option<Value>) -> rusqlite::Result<i64> {
        self.send(m, params, body).map_err(|e| self.fail(e))
    }

    /// The verbs an UPDATE tries, in order: REPLACE (`REPLACE t SET ...`)
    /// runs the replace method (PUT) first, UPDATE the patch method.
    pub(crate) fn update_verbs(&self) -> [SqlVerb; 2] {
        let replacing = self.state.lock().map(|st| st.replace).unwrap_or(false);
        if replacing {
            [SqlVerb::Replace, SqlVerb::Update]
        } else {
            [SqlVerb::Update, SqlVerb::Replace]
        }
    }

    /// The parameters and body of an UPDATE or REPLACE of one row: the
    /// row's key `params`, the columns `changed` says the statement SETs,
    /// and an `updateMask` of the body's fields where the method takes one.
    pub(crate) fn change_request(
        &self,
        m: &Method,
        mut params: Params,
        values: &[rusqlite::types::ValueRef<'_>],
        changed: impl Fn(usize) -> bool,
    ) -> Result<(Params, Value), Error> {
        let (set_params, body) = params_and_body(self, m, values, changed)?;
        params.extend(set_params);
        if body.is_empty() {
            return Err(Error::Mutation(format!(
                "UPDATE {} changes no request field: SET data__<field> = ... (or a field column)",
                self.resource().id
            )));
        }
        if m.param("updateMask").is_some() && !params.contains_key("updateMask") {
            params.insert(
                "updateMask".into(),
                body.keys().cloned().collect::<Vec<_>>().join(","),
            );
        }
        Ok((params, Value::Object(body)))
    }

    /// Keeps the rich error for the engine and gives SQLite a short one.
    fn fail(&self, e: Error) -> rusqlite::Error {
        let msg = e.to_string();
        if let Ok(mut st) = self.state.lock()
            && st.error.is_none()
        {
            st.error = Some(e);
        }
        rusqlite::Error::ModuleError(msg)
    }
}

#[repr(C)]
pub struct ResourceTab {
    base: ffi::sqlite3_vtab,
    ctx: Arc<TableCtx>,
    /// Parameters of rows whose rowid SQLite asked for (DELETE needs them).
    rows: Arc<Mutex<HashMap<i64, Params>>>,
    plans: Arc<Plans>,
}

unsafe impl<'vtab> VTab<'vtab> for ResourceTab {
    type Aux = Arc<TableCtx>;
    type Cursor = ResourceCursor<'vtab>;

    fn connect(
        _db: &mut VTabConnection,
        aux: Option<&Arc<TableCtx>>,
        _module_name: &[u8],
        _database_name: &[u8],
        _table_name: &[u8],
        _args: &[&[u8]],
    ) -> rusqlite::Result<(Cow<'static, CStr>, Self)> {
        let ctx = aux.cloned().ok_or_else(|| {
            rusqlite::Error::ModuleError("resource table without its model".into())
        })?;
        let decl = CString::new(ctx.shape.declaration())
            .map_err(|_| rusqlite::Error::ModuleError("column name with a NUL byte".into()))?;
        Ok((
            Cow::Owned(decl),
            ResourceTab {
                base: ffi::sqlite3_vtab::default(),
                ctx,
                rows: Arc::new(Mutex::new(HashMap::new())),
                plans: Arc::new(Plans::default()),
            },
        ))
    }

    fn best_index(&self, info: &mut IndexInfo) -> rusqlite::Result<bool> {
        let mut offered = Vec::new();
        let mut limit: Option<usize> = None;
        for (i, c) in info.constraints().enumerate() {
            let op = c.operator();
            if op == IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_LIMIT && c.is_usable() {
                limit = Some(i);
            }
            offered.push(Offered {
                column: usize::try_from(c.column()).unwrap_or(usize::MAX),
                eq: op == IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_EQ,
                usable: c.is_usable(),
                op: match op {
                    IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_EQ => Some(Op::Eq),
                    IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_NE => Some(Op::Ne),
                    IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_GT => Some(Op::Gt),
                    IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_GE => Some(Op::Ge),
                    IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_LT => Some(Op::Lt),
                    IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_LE => Some(Op::Le),
                    _ => None,
                },
            });
        }
        let r = self.ctx.resource();
        match plan::choose(r, &self.ctx.shape, &offered) {
            Choice::Use {
                method,
                params,
                args,
            } => {
                let mut flags = Vec::with_capacity(args.len());
                let mut joined = false;
                for (n, &c) in args.iter().enumerate() {
                    let is_in = info.is_in_constraint(c).unwrap_or(false);
                    if is_in {
                        info.set_in_constraint(c, true)?;
                    } else if matches!(info.rhs_value(c), Ok(None)) {
                        // Not a constant: the value comes from another table.
                        joined = true;
                    }
                    flags.push(PlanParam {
                        name: params[n].clone(),
                        is_in,
                    });
                    let mut usage = info.constraint_usage(c);
                    usage.set_argv_index(c_int::try_from(n + 1).unwrap_or(c_int::MAX));
                    // The request carries this condition: every row it
                    // returns answers it, so SQLite must not compare the
                    // row's value again (compute's `zone` parameter is a
                    // bare name, the row's `zone` field a URL).
                    usage.set_omit(true);
                }
                let mut next_arg = args.len() + 1;
                if let Some(l) = limit {
                    info.constraint_usage(l)
                        .set_argv_index(c_int::try_from(next_arg).unwrap_or(c_int::MAX));
                    next_arg += 1;
                }
                let mut plan = Plan {
                    method,
                    params: flags,
                    has_limit: limit.is_some(),
                    joined,
                    ..Plan::default()
                };
                if joined && let Ok(mut st) = self.ctx.state.lock() {
                    st.saw_joined = true;
                }
                if let Some(m) = r.methods.get(method).filter(|m| m.is_list()) {
                    // WHERE conditions the list's filter can take.
                    if let Some(declared) =
                        self.ctx.pushdown.filter(|_| m.param("filter").is_some())
                    {
                        for (i, o) in offered.iter().enumerate() {
                            let Some(op) = o.op else { continue };
                            let Some(col) = self.ctx.shape.columns.get(o.column) else {
                                continue;
                            };
                            if !o.usable
                                || !col.response
                                || declared.column(&col.name, op).is_none()
                                || info.is_in_constraint(i).unwrap_or(true)
                                || args.contains(&i)
                            {
                                continue;
                            }
                            info.constraint_usage(i)
                                .set_argv_index(c_int::try_from(next_arg).unwrap_or(c_int::MAX));
                            next_arg += 1;
                            plan.pushes.push((col.name.clone(), op));
                        }
                    }
                    // The columns the query reads.
                    if m.param("readMask").is_some()
                        && !plan.params.iter().any(|p| p.name == "readMask")
                    {
                        plan.mask = read_mask(&self.ctx.shape, info.col_used());
                    }
                }
                info.set_idx_num(self.plans.number(plan));
                let is_get = r.methods.get(method).is_some_and(|m| !m.is_list());
                info.set_estimated_cost(
                    if is_get { 10.0 } else { 1000.0 } / (1 + args.len()) as f64,
                );
                info.set_estimated_rows(if is_get { 1 } else { 1000 });
                Ok(true)
            }
            Choice::Reject => Ok(false),
            Choice::Missing { message } => Err(self.ctx.fail(Error::MissingParams(message))),
        }
    }

    fn open(&'vtab mut self) -> rusqlite::Result<ResourceCursor<'vtab>> {
        Ok(ResourceCursor {
            base: ffi::sqlite3_vtab_cursor::default(),
            ctx: self.ctx.clone(),
            rows: self.rows.clone(),
            plans: self.plans.clone(),
            stream: None,
            current: None,
            rowid: 0,
            recording: None,
            phantom: PhantomData,
        })
    }
}

impl ResourceTab {
    /// The key parameters of the row SQLite calls `id` (recorded when the
    /// row was read), or none.
    fn row_params(&self, id: i64) -> Params {
        self.rows
            .lock()
            .ok()
            .and_then(|m| m.get(&id).cloned())
            .unwrap_or_default()
    }
}

impl CreateVTab<'_> for ResourceTab {
    const KIND: VTabKind = VTabKind::Eponymous;
}

impl UpdateVTab<'_> for ResourceTab {
    fn delete(&mut self, rowid: rusqlite::types::ValueRef<'_>) -> rusqlite::Result<()> {
        let params = self.row_params(rowid.as_i64().unwrap_or(-1));
        let ctx = self.ctx.clone();
        let m = ctx.method_for(&[SqlVerb::Delete], "DELETE", |p| params.contains_key(p))?;
        ctx.mutate(m, &params, None)?;
        Ok(())
    }

    fn insert(&mut self, args: &Inserts<'_>) -> rusqlite::Result<i64> {
        let ctx = self.ctx.clone();
        // args: [old rowid, new rowid, column 0, column 1, ...]
        let values: Vec<rusqlite::types::ValueRef<'_>> = args.iter().skip(2).collect();
        let given: Vec<&str> = values
            .iter()
            .zip(&ctx.shape.columns)
            .filter(|(v, _)| !matches!(v, rusqlite::types::ValueRef::Null))
            .map(|(_, c)| c.name.as_str())
            .collect();
        let m = ctx.method_for(&[SqlVerb::Insert], "INSERT", |p| given.contains(&p))?;
        let (params, body) =
            params_and_body(&ctx, m, &values, |_| true).map_err(|e| ctx.fail(e))?;
        ctx.mutate(m, &params, Some(Value::Object(body)))
    }

    fn update(&mut self, args: &Updates<'_>) -> rusqlite::Result<()> {
        let ctx = self.ctx.clone();
        let params = self.row_params(args.get::<i64>(0).unwrap_or(-1));
        let m = ctx.method_for(&ctx.update_verbs(), "UPDATE", |p| params.contains_key(p))?;
        let values: Vec<rusqlite::types::ValueRef<'_>> = args.iter().skip(2).collect();
        let (params, body) = ctx
            .change_request(m, params, &values, |i| !args.no_change(i + 2))
            .map_err(|e| ctx.fail(e))?;
        ctx.mutate(m, &params, Some(body))?;
        Ok(())
    }
}

/// Notes a mutation's response (for RETURNING and AWAIT); returns a rowid.
fn record_mutation(ctx: &TableCtx, resp: Value) -> i64 {
    match ctx.state.lock() {
        Ok(mut st) => {
            st.responses.push((ctx.svc.clone(), resp));
            i64::try_from(st.responses.len()).unwrap_or(i64::MAX)
        }
        Err(_) => 0,
    }
}

fn check_required(r: &Resource, m: &Method, params: &Params) -> Result<(), Error> {
    request::check_path_values(m, params)?;
    let missing: Vec<&str> = m
        .required_params()
        .into_iter()
        .filter(|p| !params.contains_key(*p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::MissingParams(format!(
        "{} ({} {}) needs {}",
        r.id,
        m.verb,
        m.name,
        missing.join(", ")
    )))
}

/// Splits a row of column values into URL parameters and a request body.
fn params_and_body(
    ctx: &TableCtx,
    m: &Method,
    values: &[rusqlite::types::ValueRef<'_>],
    changed: impl Fn(usize) -> bool,
) -> Result<(Params, Map<String, Value>), Error> {
    let mut params = Params::new();
    let mut body = Map::new();
    let mut from_data: Vec<String> = Vec::new();
    for (i, col) in ctx.shape.columns.iter().enumerate() {
        let Some(v) = values.get(i).copied() else {
            continue;
        };
        if !changed(i) {
            continue;
        }
        if col.param && m.param(&col.name).is_some() {
            if let Some(p) = sql_to_param(v) {
                params.insert(col.name.clone(), p);
            }
            continue;
        }
        let Some(field) = &col.body_field else {
            continue;
        };
        let explicit = col.name.starts_with("data__");
        if !explicit && from_data.contains(field) {
            continue;
        }
        let ty = ctx
            .svc
            .request_schema(m)
            .and_then(|s| s.properties.get(field))
            .map(|p| match (&p.ty, &p.reference) {
                (Some(t), _) => t.clone(),
                (None, Some(_)) => "object".into(),
                _ => "string".into(),
            })
            .unwrap_or_else(|| "string".into());
        if let Some(value) = sql_to_body(v, &ty, &col.name).map_err(Error::Mutation)? {
            body.insert(field.clone(), value);
            if explicit {
                from_data.push(field.clone());
            }
        }
    }
    Ok((params, body))
}

#[repr(C)]
pub struct ResourceCursor<'vtab> {
    base: ffi::sqlite3_vtab_cursor,
    ctx: Arc<TableCtx>,
    rows: Arc<Mutex<HashMap<i64, Params>>>,
    plans: Arc<Plans>,
    stream: Option<Stream>,
    current: Option<Row>,
    rowid: i64,
    /// In a join's discovery pass, rows of a table read by constants are kept
    /// for the real pass: (method, extra, combinations, rows so far).
    recording: Option<(usize, Params, Vec<Params>, Vec<Row>)>,
    phantom: PhantomData<&'vtab ResourceTab>,
}

impl ResourceCursor<'_> {
    fn advance(&mut self) -> Result<(), Error> {
        self.current = match self.stream.as_mut() {
            Some(stream) => stream.next_row(&self.ctx)?,
            None => None,
        };
        if self.current.is_some() {
            self.rowid += 1;
        }
        match (&self.current, self.recording.as_mut()) {
            (Some(row), Some((_, _, _, rows))) => rows.push(row.clone()),
            (None, Some(_)) => {
                // Read to the end: keep it for the real pass.
                if let Some((method, extra, combos, rows)) = self.recording.take() {
                    let table = self.ctx.resource().id.clone();
                    let entries = scan::cache_entries(&table, method, &extra, &combos, rows);
                    if let Ok(mut st) = self.ctx.state.lock() {
                        st.cache.extend(entries);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

unsafe impl VTabCursor for ResourceCursor<'_> {
    fn filter(
        &mut self,
        idx_num: c_int,
        _idx_str: Option<&str>,
        args: &Filters<'_>,
    ) -> rusqlite::Result<()> {
        let ctx = self.ctx.clone();
        let plan = self
            .plans
            .get(idx_num)
            .ok_or_else(|| ctx.fail(Error::Internal(format!("no query plan number {idx_num}"))))?;
        let mut lists = Vec::with_capacity(plan.params.len() + 2);
        for (i, p) in plan.params.iter().enumerate() {
            let (name, is_in) = (p.name.clone(), p.is_in);
            let mut values = Vec::new();
            if is_in {
                use rusqlite::fallible_streaming_iterator::FallibleStreamingIterator;
                let mut it = args.in_values(i)?;
                while let Some(v) = it.next()? {
                    if let Some(s) = sql_to_param(v.into())
                        && !values.contains(&s)
                    {
                        values.push(s);
                    }
                }
            } else if let Some(s) = args.iter().nth(i).and_then(sql_to_param) {
                values.push(s);
            }
            lists.push((name, values));
        }
        // Pushed conditions join the list's filter (AND the user's own).
        let first_push = plan.params.len() + usize::from(plan.has_limit);
        let mut terms: Vec<String> = Vec::new();
        for (k, (column, op)) in plan.pushes.iter().enumerate() {
            if let Some(v) = args.iter().nth(first_push + k)
                && let Some(t) = ctx
                    .pushdown
                    .and_then(|p| p.column(column, *op))
                    .and_then(|c| c.term(*op, v))
            {
                terms.push(t);
            }
        }
        // Label conditions the engine found in the WHERE clause.
        let r = ctx.resource();
        let labels = r
            .methods
            .get(plan.method)
            .is_some_and(|m| m.is_list() && m.param("filter").is_some())
            && ctx.pushdown.is_some_and(|p| p.labels);
        if labels && let Ok(st) = ctx.state.lock() {
            terms.extend(st.label_terms.iter().cloned());
        }
        // These go into requests only: rows keep the user's own values, which
        // SQLite checks its constraints against.
        let mut extra = Params::new();
        if !terms.is_empty() {
            extra.insert("filter".into(), terms.join(" AND "));
        }
        if !plan.mask.is_empty() {
            extra.insert("readMask".into(), plan.mask.join(","));
        }
        self.rowid = 0;
        self.current = None;
        self.stream = None;
        self.recording = None;
        let method = ctx
            .resource()
            .methods
            .get(plan.method)
            .ok_or_else(|| ctx.fail(Error::Internal(format!("no method {}", plan.method))))?;
        let table = ctx.resource().id.clone();
        let combos = shard_combos(&ctx, &table, scan::combinations(&lists));
        let (mode, hits, missing) = match ctx.state.lock() {
            Ok(mut st) => {
                if st.mode == ScanMode::Discover && plan.joined {
                    // A join's discovery pass: note what will be asked for
                    // and give no rows (the outer loop goes on regardless).
                    st.discovered.push(Discovered {
                        ctx: ctx.clone(),
                        method: plan.method,
                        extra,
                        combos,
                    });
                    return Ok(());
                }
                // Combinations an earlier pass already read come from the
                // cache; only the others are requested (a recursive walk
                // asks again for the nodes its first pass read).
                let mut hits: Vec<Row> = Vec::new();
                let mut missing: Vec<Params> = Vec::new();
                for combo in &combos {
                    let key = CacheKey {
                        table: table.clone(),
                        method: plan.method,
                        extra: extra.clone(),
                        combo: combo.clone(),
                    };
                    match st.cache.get(&key) {
                        Some(rows) => hits.extend(rows.iter().cloned()),
                        None => missing.push(combo.clone()),
                    }
                }
                (st.mode, hits, missing)
            }
            Err(_) => (ScanMode::Normal, Vec::new(), combos),
        };
        let stream = if missing.is_empty() {
            Stream::ready(hits)
        } else {
            if mode == ScanMode::Discover {
                self.recording = Some((plan.method, extra.clone(), missing.clone(), Vec::new()));
            }
            let mut stream = Stream::start(&ctx, method, missing, plan.has_limit, extra)
                .map_err(|e| ctx.fail(e))?;
            stream.prepend_ready(hits);
            stream
        };
        self.stream = Some(stream);
        self.advance().map_err(|e| ctx.fail(e))
    }

    fn next(&mut self) -> rusqlite::Result<()> {
        let ctx = self.ctx.clone();
        self.advance().map_err(|e| ctx.fail(e))
    }

    fn eof(&self) -> bool {
        self.current.is_none()
    }

    fn column(&self, out: &mut Context, i: c_int) -> rusqlite::Result<()> {
        // In an UPDATE, leaving unchanged columns unset lets `update` tell
        // what the statement SETs.
        if out.no_change() {
            return Ok(());
        }
        let Some(row) = &self.current else {
            return out.set_result(rusqlite::types::Null);
        };
        let Some(col) = usize::try_from(i)
            .ok()
            .and_then(|i| self.ctx.shape.columns.get(i))
        else {
            return out.set_result(rusqlite::types::Null);
        };
        if col.response
            && let Some(v) = row.item.get(&col.name)
        {
            return out.set_result(json_to_sql(Some(v)));
        }
        if col.param
            && let Some(v) = row
                .params
                .get(&col.name)
                .or_else(|| row.derived.get(&col.name))
        {
            return out.set_result(v);
        }
        out.set_result(rusqlite::types::Null)
    }

    fn rowid(&self) -> rusqlite::Result<i64> {
        if let Some(row) = &self.current
            && let Ok(mut rows) = self.rows.lock()
        {
            let mut params = row.derived.clone();
            params.extend(row.params.iter().map(|(k, v)| (k.clone(), v.clone())));
            // Paging parameters of the read are not the row's.
            params.remove("pageToken");
            rows.insert(self.rowid, params);
        }
        Ok(self.rowid)
    }
}

/// The response fields a query reads (always `name`, which rows are keyed
/// by); empty when it reads them all or SQLite cannot say (column 63 stands
/// for "63 and above").
fn read_mask(shape: &Shape, used: u64) -> Vec<String> {
    if used & (1 << 63) != 0 {
        return Vec::new();
    }
    let response: Vec<(usize, &str)> = shape
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.response)
        .map(|(i, c)| (i, c.name.as_str()))
        .collect();
    let mut mask: Vec<String> = response
        .iter()
        .filter(|(i, _)| *i < 63 && used & (1 << i) != 0)
        .map(|(_, n)| (*n).to_string())
        .collect();
    if mask.len() == response.len() {
        return Vec::new();
    }
    if !mask.iter().any(|m| m == "name") && response.iter().any(|(_, n)| *n == "name") {
        mask.push("name".into());
    }
    mask
}

/// `--shard I/N`: the first table whose read fans out (two or more request
/// groups in one call) is the one split, in every call; each group goes to
/// the shard its parameters hash to. Tables read before it, or fed by it,
/// are read in full by every shard, so the shards' rows together are the
/// whole result, each row once.
fn shard_combos(ctx: &TableCtx, table: &str, combos: Vec<Params>) -> Vec<Params> {
    let Ok(mut st) = ctx.state.lock() else {
        return combos;
    };
    let Some(shard) = st.acct.shard else {
        return combos;
    };
    if st.acct.sharded_table.is_none() && combos.len() >= 2 {
        st.acct.sharded_table = Some(table.to_string());
    }
    if st.acct.sharded_table.as_deref() != Some(table) {
        return combos;
    }
    combos.into_iter().filter(|c| shard.includes(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::TableColumn;

    fn col(name: &str, response: bool) -> TableColumn {
        TableColumn {
            name: name.into(),
            ty: "string".into(),
            col_type: crate::table::ColumnType::Text,
            hidden: !response,
            response,
            param: !response,
            body_field: None,
        }
    }

    #[test]
    fn read_mask_lists_used_fields_and_name() {
        let shape = Shape {
            columns: vec![
                col("displayName", true),
                col("name", true),
                col("state", true),
                col("projectsId", false),
            ],
        };
        assert_eq!(read_mask(&shape, 0b0001), ["displayName", "name"]);
        assert_eq!(read_mask(&shape, 0b1101), ["displayName", "state", "name"]);
        assert!(read_mask(&shape, 0b0111).is_empty(), "all fields: no mask");
        assert!(read_mask(&shape, 1 << 63).is_empty(), "unknown: no mask");
    }
}
