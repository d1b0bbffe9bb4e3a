//! compute: operations on the clock, server-set fields, paging, aggregated lists, errors.

use serde_json::json;
use skyql_discovery_emulator::Config;

use super::common::{message, operations_taking, start};

const P: &str = "/compute/v1/projects/demo";

#[tokio::test]
async fn network_insert_is_an_operation_on_the_clock() {
    let Some(emu) = start(&["compute"], operations_taking(4)).await else {
        return;
    };
    let op = emu
        .post(
            &format!("{P}/global/networks"),
            json!({"name": "net-1", "autoCreateSubnetworks": true}),
        )
        .await;
    assert_eq!(op["kind"], "compute#operation");
    assert_eq!(op["status"], "PENDING");
    assert_eq!(op["operationType"], "insert");
    assert_eq!(
        op["targetLink"],
        "https://www.googleapis.com/compute/v1/projects/demo/global/networks/net-1"
    );
    assert!(op["id"].as_str().unwrap().parse::<u64>().is_ok());
    let name = op["name"].as_str().unwrap().to_string();
    let op_path = format!("{P}/global/operations/{name}");
    emu.ok("POST", "/emulator/clock:advance?seconds=1", None)
        .await;
    assert_eq!(emu.ok("GET", &op_path, None).await["status"], "RUNNING");
    emu.ok("POST", "/emulator/clock:advance?seconds=3", None)
        .await;
    let done = emu.ok("POST", &format!("{op_path}/wait"), None).await;
    assert_eq!(done["status"], "DONE");
    assert_eq!(done["progress"], 100);
    assert!(done.get("error").is_none());

    let net = emu
        .ok("GET", &format!("{P}/global/networks/net-1"), None)
        .await;
    assert_eq!(net["kind"], "compute#network");
    assert_eq!(net["name"], "net-1");
    assert!(net["id"].as_str().unwrap().parse::<u64>().is_ok());
    let created = net["creationTimestamp"].as_str().unwrap();
    assert!(created.ends_with("-07:00"), "{created}");
    assert_eq!(
        net["selfLink"],
        "https://www.googleapis.com/compute/v1/projects/demo/global/networks/net-1"
    );
}

#[tokio::test]
async fn delete_of_a_network_in_use_fails_in_the_operation() {
    let Some(emu) = start(&["compute"], Config::default()).await else {
        return;
    };
    emu.post(&format!("{P}/global/networks"), json!({"name": "net"}))
        .await;
    emu.post(&format!("{P}/global/firewalls"), json!({"name": "allow-ssh", "network": "global/networks/net", "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}]}))
    .await;
    let fw = emu
        .ok("GET", &format!("{P}/global/firewalls/allow-ssh"), None)
        .await;
    assert_eq!(
        fw["network"],
        "https://www.googleapis.com/compute/v1/projects/demo/global/networks/net"
    );
    let op = emu
        .ok("DELETE", &format!("{P}/global/networks/net"), None)
        .await;
    let name = op["name"].as_str().unwrap();
    let done = emu
        .ok("POST", &format!("{P}/global/operations/{name}/wait"), None)
        .await;
    assert_eq!(done["status"], "DONE");
    assert_eq!(
        done["error"]["errors"][0]["code"],
        "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"
    );
    assert_eq!(done["httpErrorStatusCode"], 400);
    emu.ok("GET", &format!("{P}/global/networks/net"), None)
        .await;
    // Once the firewall is gone the network goes too.
    emu.ok("DELETE", &format!("{P}/global/firewalls/allow-ssh"), None)
        .await;
    emu.ok("DELETE", &format!("{P}/global/networks/net"), None)
        .await;
    let (status, err) = emu
        .call("GET", &format!("{P}/global/networks/net"), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["errors"][0]["reason"], "notFound");
    assert_eq!(
        err["error"]["message"],
        "The resource 'projects/demo/global/networks/net' was not found"
    );
}

#[tokio::test]
async fn instances_page_filter_and_aggregate() {
    let Some(emu) = start(&["compute"], Config::default()).await else {
        return;
    };
    for (zone, name) in [
        ("us-central1-a", "a-1"),
        ("us-central1-a", "a-2"),
        ("us-central1-a", "a-3"),
        ("europe-west4-b", "b-1"),
    ] {
        let op = emu
            .post(&format!("{P}/zones/{zone}/instances"), json!({"name": name, "machineType": format!("zones/{zone}/machineTypes/e2-small"), "labels": {"team": if name == "a-2" {"x"} else {"y"}}}))
            .await;
        assert_eq!(
            op["zone"],
            format!("https://www.googleapis.com/compute/v1/projects/demo/zones/{zone}")
        );
    }
    let inst = emu
        .ok(
            "GET",
            &format!("{P}/zones/us-central1-a/instances/a-1"),
            None,
        )
        .await;
    assert_eq!(inst["status"], "RUNNING");
    assert_eq!(
        inst["zone"],
        "https://www.googleapis.com/compute/v1/projects/demo/zones/us-central1-a"
    );
    assert!(inst["fingerprint"].is_string());
    assert_eq!(
        inst["machineType"],
        "https://www.googleapis.com/compute/v1/projects/demo/zones/us-central1-a/machineTypes/e2-small"
    );

    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = emu
            .ok(
                "GET",
                &format!("{P}/zones/us-central1-a/instances?maxResults=2&pageToken={token}"),
                None,
            )
            .await;
        assert_eq!(page["kind"], "compute#instanceList");
        for i in page["items"].as_array().unwrap() {
            names.push(i["name"].as_str().unwrap().to_string());
        }
        match page["nextPageToken"].as_str() {
            Some(t) => token = t.to_string(),
            None => break,
        }
    }
    assert_eq!(names, ["a-1", "a-2", "a-3"]);

    let filtered = emu
        .ok(
            "GET",
            &format!("{P}/zones/us-central1-a/instances?filter=labels.team%3Dx"),
            None,
        )
        .await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["items"][0]["name"], "a-2");

    let agg = emu
        .ok("GET", &format!("{P}/aggregated/instances"), None)
        .await;
    assert_eq!(agg["kind"], "compute#instanceAggregatedList");
    assert_eq!(
        agg["items"]["zones/us-central1-a"]["instances"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        agg["items"]["zones/europe-west4-b"]["instances"][0]["name"],
        "b-1"
    );
    let agg_page = emu
        .ok(
            "GET",
            &format!("{P}/aggregated/instances?maxResults=3"),
            None,
        )
        .await;
    assert!(agg_page["nextPageToken"].is_string());
}

#[tokio::test]
async fn errors_are_googles() {
    let Some(emu) = start(&["compute"], Config::default()).await else {
        return;
    };
    let (status, err) = emu
        .call(
            "POST",
            &format!("{P}/global/networks"),
            Some(json!({"name": "n", "bogus": 1})),
        )
        .await;
    assert_eq!(status, 400, "{err}");
    assert!(message(&err).contains("Unknown name \"bogus\""), "{err}");
    let (status, _) = emu
        .call(
            "POST",
            &format!("{P}/global/networks"),
            Some(json!({"name": "Bad_Name"})),
        )
        .await;
    assert_eq!(status, 400);
    emu.post(&format!("{P}/global/networks"), json!({"name": "n"}))
        .await;
    let (status, err) = emu
        .call(
            "POST",
            &format!("{P}/global/networks"),
            Some(json!({"name": "n"})),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    let (status, err) = emu
        .call("POST", &format!("{P}/zones/z/instances/i/reset"), None)
        .await;
    assert_eq!(status, 501, "{err}");
    assert!(message(&err).contains("compute.instances.reset"));
    let (status, _) = emu.call("GET", "/compute/v1/nothing/here", None).await;
    assert_eq!(status, 404);
    let (status, err) = emu
        .call("GET", &format!("{P}/global/networks?maxResults=x"), None)
        .await;
    assert_eq!(status, 400, "{err}");
}

#[tokio::test]
async fn unauthenticated_requests_are_refused_and_counted() {
    let Some(emu) = start(&["compute"], Config::default()).await else {
        return;
    };
    let resp = emu
        .anonymous("GET", &format!("{P}/global/networks"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    emu.ok("GET", &format!("{P}/global/networks"), None).await;
    let stats = emu.ok("GET", "/emulator/stats", None).await;
    let rows = stats["requests"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["method"] == "compute.networks.list"
            && r["status"] == 200
            && r["count"] == 1),
        "{stats}"
    );
    assert!(
        rows.iter()
            .any(|r| r["method"] == "compute.networks.list" && r["status"] == 401),
        "{stats}"
    );
}

#[tokio::test]
async fn patch_checks_the_fingerprint_and_iam_checks_the_etag() {
    let Some(emu) = start(&["compute"], Config::default()).await else {
        return;
    };
    let bs = format!("{P}/global/backendServices");
    emu.post(&bs, json!({"name": "be", "protocol": "HTTP"}))
        .await;
    let be = emu.ok("GET", &format!("{bs}/be"), None).await;
    let (status, _) = emu
        .call(
            "PATCH",
            &format!("{bs}/be"),
            Some(json!({"description": "x", "fingerprint": "c3RhbGU="})),
        )
        .await;
    assert_eq!(status, 412);
    emu.ok(
        "PATCH",
        &format!("{bs}/be"),
        Some(json!({"description": "x", "fingerprint": be["fingerprint"]})),
    )
    .await;
    let after = emu.ok("GET", &format!("{bs}/be"), None).await;
    assert_eq!(after["description"], "x");
    assert_eq!(after["protocol"], "HTTP");
    assert_ne!(after["fingerprint"], be["fingerprint"]);

    emu.post(&format!("{P}/zones/z/instances"), json!({"name": "i"}))
        .await;
    let iam = format!("{P}/zones/z/instances/i");
    let policy = emu.ok("GET", &format!("{iam}/getIamPolicy"), None).await;
    let set = emu
        .post(&format!("{iam}/setIamPolicy"), json!({"policy": {"etag": policy["etag"], "bindings": [{"role": "roles/viewer", "members": ["user:a@example.com"]}]}}))
        .await;
    assert_ne!(set["etag"], policy["etag"]);
    let (status, _) = emu
        .call(
            "POST",
            &format!("{iam}/setIamPolicy"),
            Some(json!({"policy": {"etag": policy["etag"], "bindings": []}})),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = emu
        .call(
            "GET",
            &format!("{P}/zones/z/instances/nope/getIamPolicy"),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn seed_file_and_state_file() {
    let Some(_) = super::common::discovery_dir() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("skyql-demu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.json");
    std::fs::write(
        &seed,
        serde_json::to_vec(&json!({"compute": {
            "projects/demo/zones": [{"name": "us-central1-a", "status": "UP"}],
            "projects/demo/global/networks": [{"name": "default", "autoCreateSubnetworks": true}]
        }}))
        .unwrap(),
    )
    .unwrap();
    let state = dir.join("state.json");
    let config = || Config {
        seed_file: Some(seed.clone()),
        state_file: Some(state.clone()),
        ..Config::default()
    };
    let Some(emu) = start(&["compute"], config()).await else {
        return;
    };
    let zone = emu
        .ok("GET", &format!("{P}/zones/us-central1-a"), None)
        .await;
    assert_eq!(zone["kind"], "compute#zone");
    assert_eq!(zone["status"], "UP");
    let net = emu
        .ok("GET", &format!("{P}/global/networks/default"), None)
        .await;
    assert_eq!(net["autoCreateSubnetworks"], true);
    assert!(net["selfLink"].is_string());
    emu.post(&format!("{P}/global/networks"), json!({"name": "kept"}))
        .await;
    // A token from the token endpoint, kept across the restart.
    let key = emu
        .running
        .emulator
        .service_account_key_json(&emu.running.base_url);
    let token = emu.running.emulator.issue_access_token();
    emu.running.shutdown().await.unwrap();
    assert!(key["private_key"].is_string());
    // It holds the signing key: readable by its owner only (the shared writer's promise).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A restart restores the state (the seed file is not loaded again).
    std::fs::write(&seed, b"{\"compute\": {}}").unwrap();
    let Some(mut emu) = start(&["compute"], config()).await else {
        return;
    };
    emu.token = token;
    emu.ok("GET", &format!("{P}/global/networks/kept"), None)
        .await;
    emu.ok("GET", &format!("{P}/global/networks/default"), None)
        .await;
    emu.running.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn set_labels_and_stop_start() {
    let Some(emu) = start(&["compute"], Config::default()).await else {
        return;
    };
    let inst = format!("{P}/zones/z/instances/vm");
    emu.post(
        &format!("{P}/zones/z/instances"),
        json!({"name": "vm", "labels": {"a": "1"}}),
    )
    .await;
    let before = emu.ok("GET", &inst, None).await;
    let (status, _) = emu
        .call(
            "POST",
            &format!("{inst}/setLabels"),
            Some(json!({"labels": {"b": "2"}, "labelFingerprint": "c3RhbGU="})),
        )
        .await;
    assert_eq!(status, 412);
    let op = emu
        .post(
            &format!("{inst}/setLabels"),
            json!({"labels": {"b": "2"}, "labelFingerprint": before["labelFingerprint"]}),
        )
        .await;
    assert_eq!(op["operationType"], "setLabels");
    let after = emu.ok("GET", &inst, None).await;
    assert_eq!(after["labels"], json!({"b": "2"}));
    assert_ne!(after["labelFingerprint"], before["labelFingerprint"]);
    emu.ok("POST", &format!("{inst}/stop"), None).await;
    assert_eq!(emu.ok("GET", &inst, None).await["status"], "TERMINATED");
    emu.ok("POST", &format!("{inst}/start"), None).await;
    assert_eq!(emu.ok("GET", &inst, None).await["status"], "RUNNING");
    let (status, _) = emu
        .call("POST", &format!("{P}/zones/z/instances/nope/stop"), None)
        .await;
    assert_eq!(status, 404);
}
