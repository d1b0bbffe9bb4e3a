//! `customJobs` create, get, list, cancel and delete.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Query, list_json, open_token, page_size, parse_id};
use crate::filter::Filter;
use crate::jobs::{self, FAIL_LABEL, Job, JobJson, Mask};
use crate::schema::{self, CUSTOM_JOB};
use crate::state::{Inner, lock_err};
use crate::status::ApiError;
use crate::store::{Operation, Store};
use crate::wire::Json;

fn job_not_found(number: u64, location: &str, id: u64) -> ApiError {
    ApiError::not_found(format!(
        "The CustomJob does not exist: projects/{number}/locations/{location}/customJobs/{id}"
    ))
}

/// The stored job, or Google's 404.
fn find<'a>(store: &'a Store, number: u64, location: &str, id: u64) -> Result<&'a Job, ApiError> {
    store
        .location_jobs(number, location)
        .and_then(|l| l.items.get(&id))
        .ok_or_else(|| job_not_found(number, location, id))
}

/// `customJobs.create`: binds and validates the body, stores the job.
pub async fn create(
    inner: &Arc<Inner>,
    number: u64,
    location: &str,
    body: Option<Value>,
    query: &Query,
) -> Result<Json, ApiError> {
    let body = body.unwrap_or_else(|| json!({}));
    let bound = schema::bind_message(CUSTOM_JOB, &body, "custom_job")
        .map_err(|e| ApiError::bad_payload(e.message))?;
    let new = jobs::validate(bound).map_err(|v| ApiError::field_violations(&v))?;
    let now = inner.clock.now_us();
    let out = {
        let mut store = inner.store.write().map_err(lock_err)?;
        let id = inner.new_id(&store);
        let seq = store.next_seq();
        let fails = new.labels.get(FAIL_LABEL.0).map(String::as_str) == Some(FAIL_LABEL.1);
        let job = Job {
            id,
            project_number: number,
            location: location.to_string(),
            seq,
            display_name: new.display_name,
            job_spec: jobs::CompactJson::new(&new.job_spec),
            labels: new.labels,
            encryption_spec: new.encryption_spec,
            create_us: now,
            pending_us: inner.config.pending.as_micros() as i64,
            running_us: inner.config.running.as_micros() as i64,
            fails,
            cancel_us: None,
        };
        let out = JobJson {
            job: &job,
            view: job.view(now),
            opts: query.opts,
            mask: None,
        }
        .json();
        store.insert_job(job);
        store.generation += 1;
        out
    };
    inner.persist().await;
    Ok(out)
}

/// `customJobs.get`.
pub fn get(
    inner: &Arc<Inner>,
    number: u64,
    location: &str,
    id: &str,
    query: &Query,
) -> Result<Json, ApiError> {
    let id = parse_id(id, "CustomJob")?;
    let now = inner.clock.now_us();
    let store = inner.store.read().map_err(lock_err)?;
    let job = find(&store, number, location, id)?;
    Ok(JobJson {
        job,
        view: job.view(now),
        opts: query.opts,
        mask: None,
    }
    .json())
}

/// `customJobs.list`: newest first, filtered, masked, paged.
pub fn list(
    inner: &Arc<Inner>,
    number: u64,
    location: &str,
    query: &Query,
) -> Result<Json, ApiError> {
    let size = page_size(query)?;
    let filter_raw = query.param("filter").unwrap_or("");
    let filter = Filter::parse(filter_raw)
        .map_err(|e| ApiError::invalid(format!("Invalid filter \"{filter_raw}\": {e}.")))?;
    let mask = Mask::parse(query.param("readMask").unwrap_or("")).map_err(|p| {
        ApiError::invalid(format!(
            "Invalid read_mask path \"{p}\": CustomJob has no such field."
        ))
    })?;
    let scope = format!("customJobs|{number}|{location}|{filter_raw}");
    let after = open_token(inner, &scope, query)?;
    let now = inner.clock.now_us();
    let store = inner.store.read().map_err(lock_err)?;
    let mut items = Vec::with_capacity(size.min(100));
    let mut next = None;
    if let Some(loc) = store.location_jobs(number, location) {
        let mut last = None;
        for (_, job) in loc.iter_from(after) {
            let view = job.view(now);
            if !filter.matches(&job.subject(&view)) {
                continue;
            }
            if items.len() == size {
                next = last.map(|(c, s)| inner.pages.seal(&scope, c, s));
                break;
            }
            last = Some((job.create_us, job.seq));
            items.push(
                JobJson {
                    job,
                    view,
                    opts: query.opts,
                    mask: mask.as_ref(),
                }
                .json(),
            );
        }
    }
    Ok(list_json("customJobs", items, next))
}

/// `customJobs.cancel`: `{}`; the job is `CANCELLING` at once.
pub async fn cancel(
    inner: &Arc<Inner>,
    number: u64,
    location: &str,
    id: &str,
) -> Result<Json, ApiError> {
    let id = parse_id(id, "CustomJob")?;
    let now = inner.clock.now_us();
    {
        let mut store = inner.store.write().map_err(lock_err)?;
        let job = store
            .jobs
            .get_mut(&number)
            .and_then(|m| m.get_mut(location))
            .and_then(|l| l.items.get_mut(&id))
            .ok_or_else(|| job_not_found(number, location, id))?;
        let view = job.view(now);
        if view.finished() {
            return Err(ApiError::failed_precondition(format!(
                "Cannot cancel CustomJob \"{}\": the job is in state {}, which is final.",
                job.name(),
                view.state
            )));
        }
        if view.state != "JOB_STATE_CANCELLING" {
            job.cancel_us = Some(now);
            store.generation += 1;
        }
    }
    inner.persist().await;
    Ok(Json::obj())
}

/// `customJobs.delete`: removes a finished job and returns a location-scoped operation.
pub async fn delete(
    inner: &Arc<Inner>,
    number: u64,
    location: &str,
    id: &str,
) -> Result<Json, ApiError> {
    let id = parse_id(id, "CustomJob")?;
    let now = inner.clock.now_us();
    let op_json = {
        let mut store = inner.store.write().map_err(lock_err)?;
        let job = find(&store, number, location, id)?;
        let view = job.view(now);
        if !view.finished() {
            return Err(ApiError::failed_precondition(format!(
                "CustomJob \"{}\" is in state {} and cannot be deleted: only a finished job (succeeded, failed or cancelled) can be. Cancel it first.",
                job.name(),
                view.state
            )));
        }
        let target = job.name();
        store.remove_job(number, location, id);
        let op_id = inner.new_id(&store);
        let seq = store.next_seq();
        let polls = inner.config.operation_polls;
        let op = Operation {
            id: op_id,
            project_number: number,
            location: location.to_string(),
            parent_job: None,
            cancelled: false,
            seq,
            create_us: now,
            polls_left: polls,
            done_us: (polls == 0).then_some(now),
            target,
        };
        let j = op.json();
        store.insert_op(op);
        store.generation += 1;
        j
    };
    inner.persist().await;
    Ok(op_json)
}
