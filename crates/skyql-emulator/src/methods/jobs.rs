//! `customJobs` create, get, list, cancel and delete.

use serde_json::{Value, json};

use super::{Query, change, list_json, open_token, page_size, parse_id};
use crate::filter::Filter;
use crate::jobs::{self, FAIL_LABEL, Job, JobJson, Mask};
use crate::schema::{self, CUSTOM_JOB};
use crate::state::{Inner, lock_err};
use crate::status::ApiError;
use crate::store::{Operation, Store};
use crate::wire::Json;

/// The job a path names: its project number, location and id.
#[derive(Clone, Copy)]
pub struct JobRef<'a> {
    pub number: u64,
    pub location: &'a str,
    pub id: u64,
}

impl<'a> JobRef<'a> {
    /// The job of a path's project number, location and id segment.
    pub fn parse(number: u64, location: &'a str, id: &str) -> Result<Self, ApiError> {
        Ok(JobRef {
            number,
            location,
            id: parse_id(id, "CustomJob")?,
        })
    }

    fn not_found(&self) -> ApiError {
        ApiError::not_found(format!(
            "The CustomJob does not exist: projects/{}/locations/{}/customJobs/{}",
            self.number, self.location, self.id
        ))
    }

    /// The stored job, or Google's 404.
    fn find<'s>(&self, store: &'s Store) -> Result<&'s Job, ApiError> {
        store
            .location_jobs(self.number, self.location)
            .and_then(|l| l.items.get(&self.id))
            .ok_or_else(|| self.not_found())
    }

    /// The same, to change.
    fn find_mut<'s>(&self, store: &'s mut Store) -> Result<&'s mut Job, ApiError> {
        store
            .jobs
            .get_mut(&self.number)
            .and_then(|m| m.get_mut(self.location))
            .and_then(|l| l.items.get_mut(&self.id))
            .ok_or_else(|| self.not_found())
    }
}

/// `customJobs.create`: binds and validates the body, stores the job.
pub async fn create(
    inner: &Inner,
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
    change(inner, |store| {
        let id = inner.new_id(store);
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
        Ok(out)
    })
    .await
}

/// `customJobs.get`.
pub fn get(inner: &Inner, at: JobRef<'_>, query: &Query) -> Result<Json, ApiError> {
    let now = inner.clock.now_us();
    let store = inner.store.read().map_err(lock_err)?;
    let job = at.find(&store)?;
    Ok(JobJson {
        job,
        view: job.view(now),
        opts: query.opts,
        mask: None,
    }
    .json())
}

/// `customJobs.list`: newest first, filtered, masked, paged.
pub fn list(inner: &Inner, number: u64, location: &str, query: &Query) -> Result<Json, ApiError> {
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
pub async fn cancel(inner: &Inner, at: JobRef<'_>) -> Result<Json, ApiError> {
    let now = inner.clock.now_us();
    change(inner, |store| {
        let job = at.find_mut(store)?;
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
        Ok(Json::obj())
    })
    .await
}

/// `customJobs.delete`: removes a finished job and returns a location-scoped operation.
pub async fn delete(inner: &Inner, at: JobRef<'_>) -> Result<Json, ApiError> {
    let now = inner.clock.now_us();
    change(inner, |store| {
        let job = at.find(store)?;
        let view = job.view(now);
        if !view.finished() {
            return Err(ApiError::failed_precondition(format!(
                "CustomJob \"{}\" is in state {} and cannot be deleted: only a finished job (succeeded, failed or cancelled) can be. Cancel it first.",
                job.name(),
                view.state
            )));
        }
        let target = job.name();
        store.remove_job(at.number, at.location, at.id);
        let op_id = inner.new_id(store);
        let seq = store.next_seq();
        let polls = inner.config.operation_polls;
        let op = Operation {
            id: op_id,
            project_number: at.number,
            location: at.location.to_string(),
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
        Ok(j)
    })
    .await
}
