//! IAM on every resource that has `getIamPolicy` / `setIamPolicy` / `testIamPermissions`:
//! one policy per resource key, an etag that changes with every write, 409 `ABORTED` when
//! `setIamPolicy` carries a stale etag, and every asked permission granted (the caller is
//! the emulator's only principal). A resource the document lets clients create must exist.

use serde_json::{Value, json};

use crate::State;
use crate::api::{Family, Role};
use crate::crud::{Call, Reply, lock_err};
use crate::google_error::ApiError;

pub fn run(state: &State, call: &Call<'_>) -> Result<Reply, ApiError> {
    let api = call.api;
    let legacy = api.family != Family::Aip;
    let key = crate::crud::target_key(call);
    let path = key.join("/");
    let api_id = state.api_id(api);
    let mut store = state.store.write().map_err(lock_err)?;
    if api.is_creatable_item(&key)
        && let Some((id, coll)) = key.split_last()
        && store.get(&api_id, &coll.join("/"), id).is_none()
    {
        return Err(
            ApiError::not_found(format!("The resource '{path}' was not found")).legacy(legacy),
        );
    }
    let response = call.method.response.clone();
    let reply = |body: Value| Reply {
        status: 200,
        body: Some(body),
        schema: response.clone(),
    };
    let storage = api.family == Family::Storage;
    let current = store
        .iam
        .get(&api_id)
        .and_then(|m| m.get(&path))
        .cloned()
        .unwrap_or_else(|| {
            let mut p = json!({"version": 1, "etag": "ACAB"});
            if storage {
                p["kind"] = json!("storage#policy");
                p["resourceId"] =
                    json!(format!("projects/_/{}", path.replacen("b/", "buckets/", 1)));
                p["bindings"] = json!([]);
            }
            p
        });
    match call.method.role {
        Role::GetIam => Ok(reply(current)),
        Role::SetIam => {
            let body = call.body.clone().unwrap_or(Value::Null);
            let mut policy = match body.get("policy") {
                Some(p) if p.is_object() => p.clone(),
                _ if storage && body.is_object() => body.clone(),
                _ => {
                    return Err(
                        ApiError::bad_payload("policy", "setIamPolicy needs a policy.")
                            .legacy(legacy),
                    );
                }
            };
            let given = policy
                .get("etag")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let now = current
                .get("etag")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !given.is_empty() && given != now {
                return Err(ApiError::aborted(
                    "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff. The request's ETag does not match the current one.",
                )
                .legacy(legacy));
            }
            let seq = store.next_seq();
            policy["etag"] = Value::String(crate::family::etag(seq));
            if policy.get("version").is_none() {
                policy["version"] = json!(1);
            }
            if storage {
                policy["kind"] = current["kind"].clone();
                policy["resourceId"] = current["resourceId"].clone();
            }
            store
                .iam
                .entry(api_id)
                .or_default()
                .insert(path, policy.clone());
            store.generation += 1;
            Ok(reply(policy))
        }
        _ => {
            let mut asked: Vec<Value> = call
                .body
                .as_ref()
                .and_then(|b| b.get("permissions"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            asked.extend(
                call.query_all
                    .iter()
                    .filter(|(k, _)| k == "permissions")
                    .map(|(_, v)| Value::String(v.clone())),
            );
            let mut out = json!({});
            if storage {
                out["kind"] = json!("storage#testIamPermissionsResponse");
            }
            if !asked.is_empty() {
                out["permissions"] = Value::Array(asked);
            }
            Ok(reply(out))
        }
    }
}
