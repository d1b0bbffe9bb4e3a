//! `google.longrunning.Operations` for the location's operations and for those under a
//! custom job: get, list, cancel, delete and wait.
//!
//! Operations finish on their N-th `get` ([`crate::Config::operation_polls`]): the only
//! work an emulated operation waits for is being asked, so `wait` (which blocks until the
//! operation is done or its `timeout` passes) finishes it and returns it done. `cancel`
//! finishes an unfinished operation with `error.code` 1 and answers
//! `{}` (the deleted job stays deleted); cancelling a finished one is
//! `FAILED_PRECONDITION`. `delete` forgets the operation and answers `{}`.

use super::{Query, change, list_json, open_token, page_size, parse_id};
use crate::filter::{Filter, Subject, Target};
use crate::state::{Inner, lock_err};
use crate::status::ApiError;
use crate::store::Operation;
use crate::wire::Json;

/// Where an operation lives: its location, and the custom job it is under, if any.
pub struct Scope<'a> {
    pub number: u64,
    pub location: &'a str,
    pub job: Option<u64>,
}

impl Scope<'_> {
    fn name(&self, op_id: u64) -> String {
        match self.job {
            Some(j) => format!(
                "projects/{}/locations/{}/customJobs/{j}/operations/{op_id}",
                self.number, self.location
            ),
            None => format!(
                "projects/{}/locations/{}/operations/{op_id}",
                self.number, self.location
            ),
        }
    }

    fn not_found(&self, op_id: u64) -> ApiError {
        ApiError::not_found(format!("Operation {} not found.", self.name(op_id)))
    }
}

/// The scope from the path's job segment.
pub fn scope<'a>(number: u64, location: &'a str, job: Option<&str>) -> Result<Scope<'a>, ApiError> {
    let job = job.map(|j| parse_id(j, "CustomJob")).transpose()?;
    Ok(Scope {
        number,
        location,
        job,
    })
}

/// Changes the operation `id` names ([`change`]): `f` gets it and the time, and answers
/// with whether it changed it.
async fn change_op<T>(
    inner: &Inner,
    scope: &Scope<'_>,
    id: &str,
    f: impl FnOnce(&mut Operation, i64) -> Result<(T, bool), ApiError>,
) -> Result<T, ApiError> {
    let op_id = parse_id(id, "Operation")?;
    let now = inner.clock.now_us();
    change(inner, |store| {
        let op = store
            .op_mut(scope.number, scope.location, scope.job, op_id)
            .ok_or_else(|| scope.not_found(op_id))?;
        let (out, changed) = f(op, now)?;
        if changed {
            store.generation += 1;
        }
        Ok(out)
    })
    .await
}

/// How far a request moves an unfinished operation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// `get`: one poll.
    Once,
    /// `wait`: to the end.
    UntilDone,
}

/// `get` and `wait`.
pub async fn poll(inner: &Inner, scope: &Scope<'_>, id: &str, how: Poll) -> Result<Json, ApiError> {
    change_op(inner, scope, id, |op, now| {
        let changed = !op.done();
        if changed {
            op.polls_left = match how {
                Poll::Once => op.polls_left.saturating_sub(1),
                Poll::UntilDone => 0,
            };
            if op.polls_left == 0 {
                op.done_us = Some(now);
            }
        }
        Ok((op.json(), changed))
    })
    .await
}

/// `cancel`.
pub async fn cancel(inner: &Inner, scope: &Scope<'_>, id: &str) -> Result<Json, ApiError> {
    change_op(inner, scope, id, |op, now| {
        if op.done() {
            return Err(ApiError::failed_precondition(format!(
                "Operation {} has already finished and cannot be cancelled.",
                scope.name(op.id)
            )));
        }
        op.done_us = Some(now);
        op.cancelled = true;
        Ok((Json::obj(), true))
    })
    .await
}

/// `delete`.
pub async fn delete(inner: &Inner, scope: &Scope<'_>, id: &str) -> Result<Json, ApiError> {
    let op_id = parse_id(id, "Operation")?;
    change(inner, |store| {
        store
            .remove_op(scope.number, scope.location, scope.job, op_id)
            .ok_or_else(|| scope.not_found(op_id))?;
        store.generation += 1;
        Ok(Json::obj())
    })
    .await
}

/// `list`: newest first, filtered on `done` and `create_time`, paged.
pub fn list(inner: &Inner, scope: &Scope<'_>, query: &Query) -> Result<Json, ApiError> {
    let size = page_size(query)?;
    let filter_raw = query.param("filter").unwrap_or("");
    let filter = Filter::parse_for(filter_raw, Target::Operations)
        .map_err(|e| ApiError::invalid(format!("Invalid filter \"{filter_raw}\": {e}.")))?;
    let parent = match scope.job {
        Some(j) => format!("customJobs/{j}"),
        None => String::new(),
    };
    let list_scope = format!(
        "operations|{}|{}|{parent}|{filter_raw}",
        scope.number, scope.location
    );
    let after = open_token(inner, &list_scope, query)?;
    let store = inner.store.read().map_err(lock_err)?;
    let no_labels = Default::default();
    let mut items = Vec::new();
    let mut next = None;
    if let Some(ops) = store.location_ops(scope.number, scope.location) {
        let mut last = None;
        for (_, op) in ops.iter_from(after) {
            if op.parent_job != scope.job {
                continue;
            }
            let subject = Subject {
                display_name: "",
                state: "",
                create_us: op.create_us,
                labels: &no_labels,
                done: Some(op.done()),
            };
            if !filter.matches(&subject) {
                continue;
            }
            if items.len() == size {
                next = last.map(|(c, s)| inner.pages.seal(&list_scope, c, s));
                break;
            }
            last = Some((op.create_us, op.seq));
            items.push(op.json());
        }
    }
    Ok(list_json("operations", items, next))
}
