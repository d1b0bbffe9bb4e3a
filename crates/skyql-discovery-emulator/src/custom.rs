//! The few custom methods the emulator models because clients lean on them, each as a
//! small change of the stored resource: compute's `setLabels` (with compute's
//! `labelFingerprint` check: a stale one is 412 `conditionNotMet`) and
//! `instances.start` / `instances.stop` (status `RUNNING` / `TERMINATED`), each
//! answering a `compute#operation`; and `operations.cancel` of AIP services (an
//! unfinished operation ends at once with `error.code = 1`, CANCELLED). Every other
//! custom method stays a 501.

use serde_json::{Map, Value};

use crate::State;
use crate::api::Family;
use crate::crud::{Call, Mutation, Reply, body_object, lock_err, mutation_reply, target_key};
use crate::family::compute;
use crate::google_error::ApiError;

/// Runs a modelled custom method; `None` when the method is not one.
pub fn run(state: &State, call: &Call<'_>) -> Option<Result<Reply, ApiError>> {
    if call.method.id.ends_with(".operations.cancel") && call.api.family == Family::Aip {
        return Some(cancel_operation(state, call));
    }
    if call.api.family != Family::Compute {
        return None;
    }
    let name = call.method.name.as_str();
    let is_instances =
        call.method.id.ends_with(".instances.start") || call.method.id.ends_with(".instances.stop");
    match name {
        "setLabels" => Some(set_labels(state, call)),
        "start" | "stop" if is_instances => Some(set_status(
            state,
            call,
            if name == "start" {
                "RUNNING"
            } else {
                "TERMINATED"
            },
        )),
        _ => None,
    }
}

fn set_labels(state: &State, call: &Call<'_>) -> Result<Reply, ApiError> {
    let body = body_object(call)?;
    let labels = match body.get("labels") {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(_) => {
            return Err(call.err(ApiError::bad_payload(
                "labels",
                "Invalid value for field 'labels': expected a map of strings.",
            )));
        }
    };
    let given = body
        .get("labelFingerprint")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    change(state, call, |current| {
        let now = current
            .get("labelFingerprint")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !given.is_empty() && given != now {
            return Err(ApiError::new(
                412,
                "FAILED_PRECONDITION",
                "conditionNotMet",
                "Labels fingerprint either invalid or resource labels have changed",
            ));
        }
        current.insert("labels".into(), labels.clone());
        current.insert(
            "labelFingerprint".into(),
            Value::String(compute::fingerprint()),
        );
        Ok(())
    })
}

fn set_status(state: &State, call: &Call<'_>, status: &str) -> Result<Reply, ApiError> {
    change(state, call, |current| {
        current.insert("status".into(), Value::String(status.into()));
        Ok(())
    })
}

/// Applies `f` to the stored resource the call names and answers the operation.
fn change(
    state: &State,
    call: &Call<'_>,
    f: impl FnOnce(&mut Map<String, Value>) -> Result<(), ApiError>,
) -> Result<Reply, ApiError> {
    let key = target_key(call);
    let now = state.clock.now_us();
    let mut store = state.store.write().map_err(lock_err)?;
    let item = call.item_mut(&mut store, &key)?;
    let Value::Object(current) = &mut item.body else {
        return Err(call.err(ApiError::internal("stored item is not an object")));
    };
    f(current).map_err(|e| call.err(e))?;
    let target_id = current.get("id").and_then(Value::as_str).map(String::from);
    store.generation += 1;
    let mutation = Mutation {
        target: &key,
        verb: &call.method.name,
        target_id,
        resource: None,
        error: None,
    };
    mutation_reply(state, &mut store, call, mutation, now)
}

/// google.longrunning `CancelOperation`: an unfinished operation is done now, cancelled.
fn cancel_operation(state: &State, call: &Call<'_>) -> Result<Reply, ApiError> {
    let key = target_key(call);
    let now = state.clock.now_us();
    let mut store = state.store.write().map_err(lock_err)?;
    let item = call.item_mut(&mut store, &key)?;
    if let Some(op) = item.op.as_mut()
        && now < op.done_us
    {
        op.done_us = now;
        op.error = Some((499, "CANCELLED".into(), "Operation was cancelled.".into()));
        store.generation += 1;
    }
    Ok(Reply {
        status: 200,
        body: Some(Value::Object(Map::new())),
        schema: call.method.response.clone(),
    })
}
