//! Reading a resource: one request per combination of parameter values
//! (IN lists multiply), gets all at once, list pages through tasks and
//! channels, rows handed to the cursor one at a time. Every combination is
//! a request group whose outcome is recorded ([`Part`]), whether or not the
//! reader still wants its rows, so that a LIMIT never hides a failure.

use crate::paging::Pager;
use crate::report::{PartReport, PartStatus, Progress};
use crate::request;
use crate::vtab::TableCtx;
use crate::{Error, StatementState};
use serde_json::{Map, Value};
use skyql_client::Client;
use skyql_provider::{Method, Resource, Service, SqlVerb};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, mpsc};

/// Parameter values by name.
pub type Params = BTreeMap<String, String>;

/// One row: the item as the API returned it, and the parameters it was read with.
#[derive(Clone)]
pub struct Row {
    pub item: Map<String, Value>,
    pub params: Arc<Params>,
    pub derived: Params,
}

/// A page of items and the parameters it was read with; or how its group
/// ended (by the statement's `--on-error` policy) and why.
type PageResult = Result<(Arc<Params>, Vec<Value>), (PartStatus, Error)>;

/// One request group's entry in the statement's report, filled in as it
/// goes. Entries of an earlier statement (a stray task) are never touched.
pub struct Part {
    state: Arc<Mutex<StatementState>>,
    progress: Arc<Progress>,
    generation: u64,
    index: usize,
}

impl Part {
    /// Adds a running group to the statement's report.
    pub fn begin(ctx: &TableCtx, params: &Params) -> Part {
        let (generation, index) = match ctx.state.lock() {
            Ok(mut st) => {
                st.acct.parts.push(PartReport {
                    table: ctx.resource().id.clone(),
                    params: params.clone(),
                    status: PartStatus::Running,
                    rows: 0,
                    error: None,
                    codes: Vec::new(),
                });
                (st.acct.generation, st.acct.parts.len() - 1)
            }
            Err(_) => (u64::MAX, usize::MAX),
        };
        ctx.progress.groups_started.fetch_add(1, Ordering::Relaxed);
        Part {
            state: ctx.state.clone(),
            progress: ctx.progress.clone(),
            generation,
            index,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut PartReport, &crate::report::OnError) -> T) -> Option<T> {
        let mut st = self.state.lock().ok()?;
        if st.acct.generation != self.generation {
            return None;
        }
        let policy = st.acct.on_error.clone();
        st.acct.parts.get_mut(self.index).map(|p| f(p, &policy))
    }

    pub fn rows(&self, n: usize) {
        self.progress.rows.fetch_add(n as u64, Ordering::Relaxed);
        self.with(|p, _| p.rows += n as u64);
    }

    /// The group answered everything asked of it.
    pub fn ok(&self) {
        self.progress.groups_done.fetch_add(1, Ordering::Relaxed);
        self.with(|p, _| p.status = PartStatus::Ok);
    }

    /// The group failed: failed or skipped, as the policy says.
    pub fn failed(&self, e: &Error) -> PartStatus {
        self.progress.groups_done.fetch_add(1, Ordering::Relaxed);
        let codes = match e {
            Error::Client(c) => c.codes(),
            _ => Vec::new(),
        };
        let message = e.to_string();
        self.with(|p, policy| {
            p.status = policy.status_for(&codes);
            p.error = Some(message);
            p.codes = codes;
            p.status
        })
        .unwrap_or(PartStatus::Failed)
    }
}

enum Source {
    Ready(Vec<Row>),
    /// Pages from one or more list tasks. With `demand`, one list read
    /// lazily (a LIMIT may stop it early); without, every combination's task
    /// runs ahead into one shared channel and rows come in the order pages
    /// arrive, so that fan-out is concurrent with bounded memory.
    Pages {
        rx: mpsc::Receiver<PageResult>,
        demand: Option<Arc<Semaphore>>,
    },
}

pub struct Stream {
    sources: VecDeque<Source>,
    buffer: VecDeque<Row>,
    /// Rows left in the current page before the next page is asked for.
    until_prefetch: Option<usize>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Where unfinished tasks go when the reader stops early.
    state: Option<Arc<Mutex<StatementState>>>,
}

impl Drop for Stream {
    /// The reader is done (a LIMIT met, an error, the statement over): list
    /// tasks ask for no further page, but each finishes the request it is
    /// in, so the statement learns how every started group ended.
    fn drop(&mut self) {
        for s in &self.sources {
            if let Source::Pages {
                demand: Some(d), ..
            } = s
            {
                d.close();
            }
        }
        self.sources.clear();
        let tasks = std::mem::take(&mut self.tasks);
        match self.state.as_ref().and_then(|s| s.lock().ok()) {
            Some(mut st) => st.acct.pending.extend(tasks),
            None => tasks.iter().for_each(|t| t.abort()),
        }
    }
}

/// Every combination of the parameter values (IN lists multiply).
pub fn combinations(lists: &[(String, Vec<String>)]) -> Vec<Params> {
    let mut out = vec![Params::new()];
    for (name, values) in lists {
        let mut next = Vec::with_capacity(out.len() * values.len());
        for combo in &out {
            for v in values {
                let mut c = combo.clone();
                c.insert(name.clone(), v.clone());
                next.push(c);
            }
        }
        out = next;
    }
    out
}

/// Recovers path parameters from a resource name with the template of the
/// first single-row read it fits: `projects/1/locations/l/customJobs/7` →
/// customJobsId = 7, ...
///
/// A compute-style row's `name` is bare (`disk-1`); its `selfLink`
/// (`https://.../compute/v1/projects/p/zones/z/disks/disk-1`) names it in
/// full, so the longest tail of the link's path that fits wins when it
/// yields more (a row of an aggregated list learns its zone that way).
fn derive_params(r: &Resource, item: &Map<String, Value>) -> Params {
    let gets = || {
        r.methods
            .iter()
            .filter(|m| m.verb == SqlVerb::Select && !m.is_list())
    };
    let from_name = item
        .get("name")
        .and_then(Value::as_str)
        .and_then(|name| gets().find_map(|m| m.params_from_name(name)))
        .unwrap_or_default();
    let from_link = item
        .get("selfLink")
        .and_then(Value::as_str)
        .and_then(|link| link.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| {
            let segs: Vec<&str> = rest.split('/').skip(1).collect();
            (1..=segs.len()).rev().find_map(|k| {
                let tail = segs[segs.len() - k..].join("/");
                gets().find_map(|m| m.params_from_name(&tail))
            })
        })
        .unwrap_or_default();
    if from_link.len() > from_name.len() {
        from_link
    } else {
        from_name
    }
}

/// One list's pages for one combination of parameters, fetched in a task.
struct PageJob {
    client: Client,
    svc: Arc<Service>,
    method: Method,
    params: Arc<Params>,
    /// Request-only values: pushed-down filter terms, the read mask.
    extra: Params,
    tx: mpsc::Sender<PageResult>,
    /// If set, a permit per page after the first: the reader grants one
    /// when it is half-way through the current page.
    demand: Option<Arc<Semaphore>>,
    /// The resource, for errors.
    what: String,
    part: Part,
}

async fn fetch_pages(job: PageJob) {
    let PageJob {
        client,
        svc,
        method,
        params,
        extra,
        tx,
        demand,
        what,
        part,
    } = job;
    // The request's values: the row's parameters, with pushed-down terms
    // ANDed into the user's filter and the read mask added.
    let mut base = (*params).clone();
    for (k, v) in extra {
        let merged = match (k.as_str(), base.get(&k)) {
            ("filter", Some(user)) if !user.trim().is_empty() => format!("({user}) AND {v}"),
            _ => v,
        };
        base.insert(k, merged);
    }
    let mut pager = Pager::new(what.clone(), base);
    let mut first = true;
    // A page that fails after the reader stopped asking (a LIMIT was met)
    // is no loss; the first page always counts.
    let fail = |e: Error, first: bool, tx: &mpsc::Sender<PageResult>| {
        if !first && tx.is_closed() {
            part.ok();
            None
        } else {
            Some((part.failed(&e), e))
        }
    };
    loop {
        let page = match client.send(pager.request(&svc, &method)).await {
            Ok(v) => v,
            Err(e) => {
                if let Some(failure) = fail(e.into(), first, &tx) {
                    let _ = tx.send(Err(failure)).await;
                }
                return;
            }
        };
        if let Some(e) = unreachable(&what, &page) {
            if let Some(failure) = fail(e, first, &tx) {
                let _ = tx.send(Err(failure)).await;
            }
            return;
        }
        first = false;
        let more = pager.advance(&page);
        let items = page_items(&method, page);
        part.rows(items.len());
        if tx.send(Ok((params.clone(), items))).await.is_err() {
            part.ok();
            return;
        }
        match more {
            Ok(true) => {}
            Ok(false) => {
                part.ok();
                return;
            }
            Err(e) => {
                let status = part.failed(&e);
                let _ = tx.send(Err((status, e))).await;
                return;
            }
        }
        if let Some(demand) = &demand {
            match demand.acquire().await {
                Ok(p) => p.forget(),
                Err(_) => {
                    part.ok();
                    return;
                }
            }
        }
    }
}

/// An aggregated list that could not reach some scopes says so in
/// `unreachables`: its rows would be incomplete, so that is an error.
fn unreachable(what: &str, page: &Value) -> Option<Error> {
    let scopes: Vec<&str> = page
        .get("unreachables")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    (!scopes.is_empty()).then(|| {
        Error::Remote(format!(
            "{what}: the API could not reach {}, so the rows would be incomplete; \
             name the scopes it did reach in WHERE, or try again",
            scopes.join(", ")
        ))
    })
}

pub fn http_status(e: &skyql_client::Error) -> Option<u16> {
    e.http_status()
}

impl Stream {
    /// Starts reading with `m` for every combination of `args`: gets are
    /// sent at once (concurrently, a 404 is no row), lists start a task each.
    pub fn start(
        ctx: &TableCtx,
        m: &Method,
        combos: Vec<Params>,
        has_limit: bool,
        extra: Params,
    ) -> Result<Stream, Error> {
        for combo in &combos {
            request::check_path_values(m, combo)?;
        }
        let r = ctx.resource();
        let mut stream = Stream {
            sources: VecDeque::new(),
            buffer: VecDeque::new(),
            until_prefetch: None,
            tasks: Vec::new(),
            state: Some(ctx.state.clone()),
        };
        if m.is_list() {
            let _guard = ctx.rt.enter();
            let shared = (!has_limit).then(|| mpsc::channel(combos.len().max(2)));
            for combo in combos {
                let part = Part::begin(ctx, &combo);
                let job = |tx, demand| PageJob {
                    client: ctx.client.clone(),
                    svc: ctx.svc.clone(),
                    method: m.clone(),
                    params: Arc::new(combo),
                    extra: extra.clone(),
                    tx,
                    demand,
                    what: r.id.clone(),
                    part,
                };
                match &shared {
                    Some((tx, _)) => stream
                        .tasks
                        .push(ctx.rt.spawn(fetch_pages(job(tx.clone(), None)))),
                    None => {
                        let (tx, rx) = mpsc::channel(1);
                        let demand = Arc::new(Semaphore::new(0));
                        stream
                            .tasks
                            .push(ctx.rt.spawn(fetch_pages(job(tx, Some(demand.clone())))));
                        stream.sources.push_back(Source::Pages {
                            rx,
                            demand: Some(demand),
                        });
                    }
                }
            }
            // The shared channel closes when the last task drops its sender.
            if let Some((_, rx)) = shared {
                stream.sources.push_back(Source::Pages { rx, demand: None });
            }
        } else {
            let futures: Vec<_> = combos
                .into_iter()
                .map(|combo| {
                    let req = request::build(&ctx.svc, m, &combo, None);
                    let client = ctx.client.clone();
                    let part = Part::begin(ctx, &combo);
                    ctx.rt
                        .spawn(async move { (combo, part, client.send(req).await) })
                })
                .collect();
            let results = ctx.rt.block_on(async {
                let mut out = Vec::with_capacity(futures.len());
                for f in futures {
                    out.push(f.await);
                }
                out
            });
            let mut rows = Vec::new();
            let mut first_error = None;
            let policy = ctx
                .state
                .lock()
                .map(|st| st.acct.on_error.clone())
                .unwrap_or_default();
            for res in results {
                let (combo, part, resp) = res.map_err(|e| Error::Internal(e.to_string()))?;
                match resp {
                    Ok(Value::Object(item)) => {
                        part.rows(1);
                        part.ok();
                        rows.push(Row {
                            derived: derive_params(r, &item),
                            item,
                            params: Arc::new(combo),
                        });
                    }
                    Ok(_) => part.ok(),
                    Err(e) if http_status(&e) == Some(404) => part.ok(),
                    Err(e) => {
                        let e = Error::from(e);
                        let status = part.failed(&e);
                        if !policy.tolerates(status) && first_error.is_none() {
                            first_error = Some(e);
                        }
                    }
                }
            }
            if let Some(e) = first_error {
                return Err(e);
            }
            stream.sources.push_back(Source::Ready(rows));
        }
        Ok(stream)
    }

    /// A stream of rows already read.
    pub fn ready(rows: Vec<Row>) -> Stream {
        Stream {
            sources: VecDeque::from([Source::Ready(rows)]),
            buffer: VecDeque::new(),
            until_prefetch: None,
            tasks: Vec::new(),
            state: None,
        }
    }

    /// Rows already at hand (from the statement's cache), read before the
    /// requested ones.
    pub fn prepend_ready(&mut self, rows: Vec<Row>) {
        if !rows.is_empty() {
            self.sources.push_front(Source::Ready(rows));
        }
    }

    /// The next row, waiting for its page if need be; `None` at the end.
    pub fn next_row(&mut self, ctx: &TableCtx) -> Result<Option<Row>, Error> {
        loop {
            if let Some(row) = self.buffer.pop_front() {
                if let Some(n) = self.until_prefetch.as_mut() {
                    if *n == 0 {
                        if let Some(Source::Pages {
                            demand: Some(demand),
                            ..
                        }) = self.sources.front()
                        {
                            demand.add_permits(1);
                        }
                        self.until_prefetch = None;
                    } else {
                        *n -= 1;
                    }
                }
                return Ok(Some(row));
            }
            let Some(source) = self.sources.front_mut() else {
                return Ok(None);
            };
            match source {
                Source::Ready(rows) => {
                    self.buffer.extend(rows.drain(..));
                    self.sources.pop_front();
                }
                Source::Pages { rx, .. } => match rx.blocking_recv() {
                    None => {
                        self.sources.pop_front();
                    }
                    Some(Err((status, e))) => {
                        let policy = ctx
                            .state
                            .lock()
                            .map(|st| st.acct.on_error.clone())
                            .unwrap_or_default();
                        // Warned about or skipped at the end of the statement.
                        if !policy.tolerates(status) {
                            return Err(e);
                        }
                    }
                    Some(Ok((params, items))) => {
                        let r = ctx.resource();
                        let n = items.len();
                        for it in items {
                            if let Value::Object(item) = it {
                                self.buffer.push_back(Row {
                                    derived: derive_params(r, &item),
                                    item,
                                    params: params.clone(),
                                });
                            }
                        }
                        // Ask for the next page once half of this one is read.
                        self.until_prefetch = Some(n / 2);
                    }
                },
            }
        }
    }
}

/// The rows of one list page: the items array, or for an aggregated list
/// the arrays of every scope in the `items` map (`{"zones/a": {"instances":
/// [...]}, "zones/b": {"warning": {...}}}`), in the order the page gives;
/// each with the page fields the method copies into rows (an IAM policy's
/// `etag` and `version` beside each binding).
pub fn page_items(method: &Method, mut page: Value) -> Vec<Value> {
    let Some(key) = method.items_key.as_deref() else {
        return Vec::new();
    };
    let parents: Vec<(String, Value)> = method
        .parent_fields
        .iter()
        .filter_map(|f| Some((f.clone(), page.get(f)?.clone())))
        .collect();
    let mut items = items_at(method, key, &mut page);
    for item in &mut items {
        if let Value::Object(fields) = item {
            for (k, v) in &parents {
                fields.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    items
}

fn items_at(method: &Method, key: &str, page: &mut Value) -> Vec<Value> {
    match page.get_mut(key).map(Value::take) {
        Some(Value::Array(items)) if !method.aggregated => items,
        Some(Value::Object(scopes)) if method.aggregated => scopes
            .into_iter()
            .flat_map(|(_, scoped)| match scoped {
                Value::Object(fields) => fields
                    .into_iter()
                    .filter_map(|(_, v)| match v {
                        Value::Array(rows) => Some(rows),
                        _ => None,
                    })
                    .flatten()
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Rows read for one combination of one table's method, within a statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub table: String,
    pub method: usize,
    pub extra: Params,
    pub combo: Params,
}

/// What the discovery pass of a join learned: these combinations will be
/// asked for, one `filter` call at a time.
pub struct Discovered {
    pub ctx: Arc<TableCtx>,
    pub method: usize,
    pub extra: Params,
    pub combos: Vec<Params>,
}

/// Groups finished rows by the combination they were read with, so that each
/// combination (even one with no rows) gets its cache entry.
pub fn cache_entries(
    table: &str,
    method: usize,
    extra: &Params,
    combos: &[Params],
    rows: Vec<Row>,
) -> Vec<(CacheKey, Vec<Row>)> {
    let mut by_combo: std::collections::HashMap<Params, Vec<Row>> =
        combos.iter().map(|c| (c.clone(), Vec::new())).collect();
    for row in rows {
        if let Some(v) = by_combo.get_mut(row.params.as_ref()) {
            v.push(row);
        }
    }
    by_combo
        .into_iter()
        .map(|(combo, rows)| {
            (
                CacheKey {
                    table: table.to_string(),
                    method,
                    extra: extra.clone(),
                    combo,
                },
                rows,
            )
        })
        .collect()
}

/// The semi-join prefetch: reads every discovered combination, all of one
/// table's at once (concurrently, like an IN list), and returns them keyed for
/// the per-row `filter` calls that follow. A group that fails is left out, so
/// that its `filter` call meets the error itself.
pub fn prefetch(discovered: Vec<Discovered>) -> Vec<(CacheKey, Vec<Row>)> {
    let mut groups: Vec<Discovered> = Vec::new();
    for d in discovered {
        let same = groups
            .iter_mut()
            .find(|g| Arc::ptr_eq(&g.ctx, &d.ctx) && g.method == d.method && g.extra == d.extra);
        match same {
            Some(g) => {
                for c in d.combos {
                    if !g.combos.contains(&c) {
                        g.combos.push(c);
                    }
                }
            }
            None => groups.push(d),
        }
    }
    let mut out = Vec::new();
    for g in groups {
        let Some(m) = g.ctx.resource().methods.get(g.method) else {
            continue;
        };
        let table = g.ctx.resource().id.clone();
        let Ok(mut stream) = Stream::start(&g.ctx, m, g.combos.clone(), false, g.extra.clone())
        else {
            continue;
        };
        let mut rows = Vec::new();
        let complete = loop {
            match stream.next_row(&g.ctx) {
                Ok(Some(r)) => rows.push(r),
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
        if complete {
            out.extend(cache_entries(&table, g.method, &g.extra, &g.combos, rows));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(items_key: &str, aggregated: bool) -> Method {
        let doc = serde_json::json!({
            "kind": "discovery#restDescription", "name": "x", "version": "v1",
            "resources": {"things": {"methods": {"list": {"httpMethod": "GET", "path": "things"}}}}
        });
        let svc = Service::from_json(doc.to_string().as_bytes(), "x").expect("doc");
        let mut m = svc.resources[0].methods[0].clone();
        m.items_key = Some(items_key.into());
        m.aggregated = aggregated;
        m
    }

    #[test]
    fn an_iam_policy_yields_a_row_per_binding_with_its_etag() {
        let mut m = method("bindings", false);
        m.parent_fields = vec!["etag".into(), "version".into()];
        let page = serde_json::json!({"version": 3, "etag": "BwX=", "bindings": [
            {"role": "roles/owner", "members": ["user:a@example.com"]},
            {"role": "roles/viewer", "members": ["user:b@example.com"]}
        ]});
        let rows = page_items(&m, page);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1]["role"], "roles/viewer");
        assert_eq!(
            (&rows[1]["etag"], &rows[1]["version"]),
            (&serde_json::json!("BwX="), &serde_json::json!(3))
        );
    }

    #[test]
    fn rows_of_plain_and_aggregated_pages() {
        let page = serde_json::json!({"items": [{"a": 1}, {"a": 2}], "nextPageToken": "t"});
        assert_eq!(page_items(&method("items", false), page).len(), 2);
        let page = serde_json::json!({"items": {
            "zones/a": {"instances": [{"a": 1}, {"a": 2}]},
            "zones/b": {"warning": {"code": "NO_RESULTS_ON_PAGE"}},
            "zones/c": {"instances": [{"a": 3}]}
        }});
        let rows = page_items(&method("items", true), page);
        assert_eq!(
            rows,
            [
                serde_json::json!({"a": 1}),
                serde_json::json!({"a": 2}),
                serde_json::json!({"a": 3})
            ]
        );
        assert!(page_items(&method("items", false), serde_json::json!({})).is_empty());
    }
}
