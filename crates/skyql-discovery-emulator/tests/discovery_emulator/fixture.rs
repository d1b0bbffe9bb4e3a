//! Runs without Google's documents: a hand-written compute-shaped document
//! (`tests/fixtures/minicompute.v1.json`), so a fresh clone's `cargo test` exercises the
//! routing, the store, operations, paging, validation and the 501 for custom methods.

use serde_json::json;
use skyql_discovery_emulator::{Api, Family};

use super::common::{Emu, message, operations_taking};

async fn start() -> Emu {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/minicompute.v1.json"
    );
    let bytes = std::fs::read(path).unwrap();
    let api = Api::from_json(&bytes, path).unwrap();
    assert_eq!(api.family, Family::Compute);
    Emu::spawn(operations_taking(2), vec![api]).await
}

const P: &str = "/minicompute/v1/projects/p";

#[tokio::test]
async fn crud_operations_and_paging_on_a_fixture() {
    let emu = start().await;
    for n in ["n-3", "n-1", "n-2"] {
        let op = emu
            .post(
                &format!("{P}/global/networks"),
                json!({"name": n, "labels": {"k": n}}),
            )
            .await;
        assert_eq!(op["kind"], "minicompute#operation");
        assert_eq!(op["status"], "PENDING");
    }
    // The plain path (without the servicePath) routes too.
    let net = emu.ok("GET", "/projects/p/global/networks/n-1", None).await;
    assert_eq!(net["kind"], "minicompute#network");
    assert_eq!(
        net["selfLink"],
        "https://minicompute.googleapis.com/minicompute/v1/projects/p/global/networks/n-1"
    );
    let page = emu
        .ok("GET", &format!("{P}/global/networks?maxResults=2"), None)
        .await;
    assert_eq!(page["kind"], "minicompute#networkList");
    assert_eq!(page["items"][0]["name"], "n-1");
    assert_eq!(page["items"][1]["name"], "n-2");
    let token = page["nextPageToken"].as_str().unwrap();
    let rest = emu
        .ok(
            "GET",
            &format!("{P}/global/networks?maxResults=2&pageToken={token}"),
            None,
        )
        .await;
    assert_eq!(rest["items"][0]["name"], "n-3");
    assert!(rest.get("nextPageToken").is_none());
    let desc = emu
        .ok(
            "GET",
            &format!("{P}/global/networks?orderBy=name%20desc&filter=labels.k%20!%3D%20n-2"),
            None,
        )
        .await;
    let names: Vec<&str> = desc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["n-3", "n-1"]);

    let op = emu
        .ok(
            "PATCH",
            &format!("{P}/global/networks/n-1"),
            Some(json!({"description": "d", "routing_config": {"routingMode": "REGIONAL"}})),
        )
        .await;
    assert_eq!(op["operationType"], "patch");
    let net = emu
        .ok("GET", &format!("{P}/global/networks/n-1"), None)
        .await;
    assert_eq!(net["description"], "d");
    assert_eq!(net["routingConfig"]["routingMode"], "REGIONAL");
    assert_eq!(net["labels"]["k"], "n-1");

    let op_path = format!("{P}/global/operations/{}", op["name"].as_str().unwrap());
    emu.ok("POST", "/emulator/clock:advance?seconds=0.6", None)
        .await;
    assert_eq!(emu.ok("GET", &op_path, None).await["status"], "RUNNING");
    emu.ok("POST", "/emulator/clock:advance?seconds=2", None)
        .await;
    assert_eq!(
        emu.ok("POST", &format!("{op_path}/wait"), None).await["status"],
        "DONE"
    );

    let (status, err) = emu
        .call(
            "POST",
            &format!("{P}/global/networks"),
            Some(json!({"name": "x", "routingConfig": {"routingMode": "SIDEWAYS"}})),
        )
        .await;
    assert_eq!(status, 400, "{err}");
    let (status, err) = emu
        .call(
            "POST",
            &format!("{P}/global/networks"),
            Some(json!({"name": "x", "routingConfig": {"mode": 1}})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        message(&err).contains("Unknown name \"mode\" at 'resource.routingConfig'"),
        "{err}"
    );
    let (status, err) = emu
        .call(
            "POST",
            &format!("{P}/global/networks/n-1/switchToCustomMode"),
            None,
        )
        .await;
    assert_eq!(status, 501);
    assert!(message(&err).contains("minicompute.networks.switchToCustomMode"));
    let (status, _) = emu
        .call("GET", &format!("{P}/global/networks?bogus=1"), None)
        .await;
    assert_eq!(status, 400);

    emu.ok("DELETE", &format!("{P}/global/networks/n-1"), None)
        .await;
    let (status, err) = emu
        .call("DELETE", &format!("{P}/global/networks/n-1"), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["errors"][0]["reason"], "notFound");

    emu.ok("POST", "/emulator/reset", None).await;
    let empty = emu.ok("GET", &format!("{P}/global/networks"), None).await;
    assert!(empty.get("items").is_none());
}
