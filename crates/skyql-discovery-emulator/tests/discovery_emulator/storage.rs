//! storage: synchronous buckets with generations.

use serde_json::json;
use skyql_discovery_emulator::Config;

use super::common::start;

#[tokio::test]
async fn bucket_lifecycle() {
    let Some(emu) = start(&["storage"], Config::default()).await else {
        return;
    };
    let b = emu
        .post(
            "/storage/v1/b?project=demo",
            json!({"name": "bkt-1", "labels": {"a": "1"}}),
        )
        .await;
    assert_eq!(b["kind"], "storage#bucket");
    assert_eq!(b["id"], "bkt-1");
    assert_eq!(b["metageneration"], "1");
    assert_eq!(b["location"], "US");
    assert_eq!(b["storageClass"], "STANDARD");
    assert!(b["timeCreated"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        b["selfLink"],
        "https://www.googleapis.com/storage/v1/b/bkt-1"
    );
    emu.post("/storage/v1/b?project=other", json!({"name": "bkt-2"}))
        .await;
    let list = emu.ok("GET", "/storage/v1/b?project=demo", None).await;
    assert_eq!(list["kind"], "storage#buckets");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let patched = emu
        .ok(
            "PATCH",
            "/storage/v1/b/bkt-1",
            Some(json!({"labels": {"b": "2"}})),
        )
        .await;
    assert_eq!(patched["metageneration"], "2");
    assert_eq!(patched["labels"], json!({"a": "1", "b": "2"}));
    assert_ne!(patched["etag"], b["etag"]);
    // update (PUT) replaces what the client owns and keeps what the server owns.
    let replaced = emu
        .ok(
            "PUT",
            "/storage/v1/b/bkt-1",
            Some(json!({"name": "bkt-1", "storageClass": "NEARLINE"})),
        )
        .await;
    assert_eq!(replaced["metageneration"], "3");
    assert_eq!(replaced["timeCreated"], b["timeCreated"]);
    assert!(replaced.get("labels").is_none());
    let (status, body) = emu.call("DELETE", "/storage/v1/b/bkt-1", None).await;
    assert_eq!(status, 204);
    assert!(body.is_null());
    let (status, err) = emu.call("GET", "/storage/v1/b/bkt-1", None).await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["errors"][0]["reason"], "notFound");
    let (status, _) = emu
        .call("POST", "/storage/v1/b", Some(json!({"name": "x"})))
        .await;
    assert_eq!(status, 400, "project is required");
}

#[tokio::test]
async fn bucket_iam() {
    let Some(emu) = start(&["storage"], Config::default()).await else {
        return;
    };
    emu.post("/storage/v1/b?project=demo", json!({"name": "bkt"}))
        .await;
    let p = emu.ok("GET", "/storage/v1/b/bkt/iam", None).await;
    assert_eq!(p["kind"], "storage#policy");
    assert_eq!(p["resourceId"], "projects/_/buckets/bkt");
    let set = emu
        .ok("PUT", "/storage/v1/b/bkt/iam", Some(json!({"etag": p["etag"], "bindings": [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]})))
        .await;
    assert_eq!(set["bindings"][0]["members"][0], "allUsers");
    let t = emu
        .ok("GET", "/storage/v1/b/bkt/iam/testPermissions?permissions=storage.buckets.get&permissions=storage.buckets.delete", None)
        .await;
    assert_eq!(t["permissions"].as_array().unwrap().len(), 2);
}
