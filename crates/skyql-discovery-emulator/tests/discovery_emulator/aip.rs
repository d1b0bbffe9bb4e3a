//! cloudkms: AIP names, ids from `keyRingId`, children under parents, integer enums.

use serde_json::json;
use skyql_discovery_emulator::Config;

use super::common::{message, operations_taking, start};

const L: &str = "/v1/projects/demo/locations/us-east1";

#[tokio::test]
async fn key_rings_and_crypto_keys() {
    let Some(emu) = start(&["cloudkms"], Config::default()).await else {
        return;
    };
    let ring = emu
        .post(&format!("{L}/keyRings?keyRingId=ring"), json!({}))
        .await;
    assert_eq!(
        ring["name"],
        "projects/demo/locations/us-east1/keyRings/ring"
    );
    assert!(ring["createTime"].is_string());
    let (status, err) = emu
        .call(
            "POST",
            &format!("{L}/keyRings?keyRingId=ring"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["status"], "ALREADY_EXISTS");
    let (status, err) = emu
        .call(
            "POST",
            &format!("{L}/keyRings/nope/cryptoKeys?cryptoKeyId=k"),
            Some(json!({"purpose": "ENCRYPT_DECRYPT"})),
        )
        .await;
    assert_eq!(status, 404, "{err}");
    assert_eq!(err["error"]["status"], "NOT_FOUND");
    let key = emu
        .post(
            &format!("{L}/keyRings/ring/cryptoKeys?cryptoKeyId=k1"),
            json!({"purpose": "ENCRYPT_DECRYPT", "labels": {"env": "dev"}}),
        )
        .await;
    assert_eq!(
        key["name"],
        "projects/demo/locations/us-east1/keyRings/ring/cryptoKeys/k1"
    );
    // Integer enums use the proto's numbers, both ways.
    let k2 = emu
        .ok(
            "POST",
            &format!(
                "{L}/keyRings/ring/cryptoKeys?cryptoKeyId=k2&%24alt=json%3Benum-encoding%3Dint"
            ),
            Some(json!({"purpose": 5, "versionTemplate": {"algorithm": 12}})),
        )
        .await;
    assert_eq!(k2["purpose"], 5);
    let k2 = emu
        .ok("GET", &format!("{L}/keyRings/ring/cryptoKeys/k2"), None)
        .await;
    assert_eq!(k2["purpose"], "ASYMMETRIC_SIGN");
    let (status, err) = emu
        .call(
            "POST",
            &format!("{L}/keyRings/ring/cryptoKeys?cryptoKeyId=k3"),
            Some(json!({"purpose": "NOT_A_PURPOSE"})),
        )
        .await;
    assert_eq!(status, 400, "{err}");

    let list = emu
        .ok(
            "GET",
            &format!("{L}/keyRings/ring/cryptoKeys?pageSize=1"),
            None,
        )
        .await;
    assert_eq!(list["cryptoKeys"].as_array().unwrap().len(), 1);
    assert_eq!(list["totalSize"], 2);
    let token = list["nextPageToken"].as_str().unwrap();
    let list2 = emu
        .ok(
            "GET",
            &format!("{L}/keyRings/ring/cryptoKeys?pageSize=1&pageToken={token}"),
            None,
        )
        .await;
    assert_eq!(list2["cryptoKeys"][0]["name"], k2["name"]);
    assert!(list2.get("nextPageToken").is_none());
    let (status, _) = emu
        .call(
            "GET",
            &format!("{L}/keyRings/ring/cryptoKeys?pageSize=1&pageToken={token}&filter=x%3Dy"),
            None,
        )
        .await;
    assert_eq!(status, 400, "a token is bound to its filter");

    let rings = emu
        .ok("GET", &format!("{L}/keyRings?filter=name%3Aring"), None)
        .await;
    assert_eq!(rings["keyRings"].as_array().unwrap().len(), 1);

    let patched = emu
        .ok(
            "PATCH",
            &format!("{L}/keyRings/ring/cryptoKeys/k1?updateMask=labels"),
            Some(json!({"labels": {"env": "prod"}, "purpose": "MAC"})),
        )
        .await;
    assert_eq!(patched["labels"]["env"], "prod");
    assert_eq!(patched["purpose"], "ENCRYPT_DECRYPT", "outside the mask");

    let (status, err) = emu
        .call(
            "POST",
            &format!("{L}/keyRings/ring/cryptoKeys/k1:encrypt"),
            Some(json!({"plaintext": "aGk="})),
        )
        .await;
    assert_eq!(status, 501);
    assert!(message(&err).contains("cloudkms.projects.locations.keyRings.cryptoKeys.encrypt"));
}

#[tokio::test]
async fn iam_on_key_rings() {
    let Some(emu) = start(&["cloudkms"], Config::default()).await else {
        return;
    };
    emu.post(&format!("{L}/keyRings?keyRingId=r"), json!({}))
        .await;
    let p = emu
        .ok("GET", &format!("{L}/keyRings/r:getIamPolicy"), None)
        .await;
    let set = emu
        .post(&format!("{L}/keyRings/r:setIamPolicy"), json!({"policy": {"etag": p["etag"], "bindings": [{"role": "roles/cloudkms.viewer", "members": ["user:a@example.com"]}]}}))
        .await;
    let (status, err) = emu
        .call(
            "POST",
            &format!("{L}/keyRings/r:setIamPolicy"),
            Some(json!({"policy": {"etag": p["etag"]}})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["status"], "ABORTED");
    let got = emu
        .ok("GET", &format!("{L}/keyRings/r:getIamPolicy"), None)
        .await;
    assert_eq!(got, set);
    let t = emu
        .post(
            &format!("{L}/keyRings/r:testIamPermissions"),
            json!({"permissions": ["cloudkms.keyRings.get"]}),
        )
        .await;
    assert_eq!(t["permissions"][0], "cloudkms.keyRings.get");
}

/// Every name in the proto numbering table is one of the document's values for that field.
/// Names the document has and the table lacks (newer than the protos the table was written
/// from) are printed: the emulator refuses them under integer encoding.
#[test]
fn enum_numbers_match_the_kms_document() {
    let Some(dir) = super::common::discovery_dir() else {
        return;
    };
    let bytes = std::fs::read(dir.join("cloudkms.v1.json")).unwrap();
    let api = skyql_discovery_emulator::Api::from_json(&bytes, "cloudkms.v1.json").unwrap();
    let mut checked = 0;
    for (field, numbering) in api.enums.fields() {
        let (schema, prop) = field.split_once('.').unwrap();
        let p = api
            .schema(schema)
            .and_then(|s| s.properties.get(prop))
            .unwrap_or_else(|| panic!("{field} is not in the document"));
        let names = if p.enum_values.is_empty() {
            &p.items
                .as_ref()
                .expect("an enum or an array of enums")
                .enum_values
        } else {
            &p.enum_values
        };
        for name in numbering.by_name.keys() {
            assert!(
                names.contains(name),
                "{field}: {name} is not in the document"
            );
        }
        let unnumbered: Vec<&String> = names
            .iter()
            .filter(|n| !numbering.by_name.contains_key(*n))
            .collect();
        if !unnumbered.is_empty() {
            eprintln!("{field}: no proto number for {unnumbered:?}");
        }
        assert!(
            unnumbered.len() < names.len(),
            "{field}: no name has a number"
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} fields checked");
}

/// A create request that wraps the resource (spanner's `{"instanceId", "instance"}`)
/// stores the resource inside, under the id it names, behind a long-running operation.
#[tokio::test]
async fn wrapped_create_requests() {
    let Some(emu) = start(&["spanner"], operations_taking(0)).await else {
        return;
    };
    let op = emu
        .post("/v1/projects/demo/instances", json!({"instanceId": "inst", "instance": {"config": "projects/demo/instanceConfigs/regional-us-central1", "displayName": "Demo", "nodeCount": 1}}))
        .await;
    assert_eq!(op["done"], true);
    assert_eq!(op["response"]["name"], "projects/demo/instances/inst");
    assert_eq!(
        op["response"]["@type"],
        "type.googleapis.com/google.cloud.spanner.v1.Instance"
    );
    let got = emu
        .ok("GET", "/v1/projects/demo/instances/inst", None)
        .await;
    assert_eq!(got["displayName"], "Demo");
    assert!(got.get("instance").is_none());
}

/// A long-running operation finishes on the clock, or at once when cancelled.
#[tokio::test]
async fn operations_finish_on_the_clock_or_when_cancelled() {
    let Some(emu) = start(&["workflows"], operations_taking(10)).await else {
        return;
    };
    let parent = "/v1/projects/demo/locations/us-central1";
    let op = emu
        .post(
            &format!("{parent}/workflows?workflowId=a"),
            json!({"sourceContents": "main: {}"}),
        )
        .await;
    assert!(op.get("done").is_none(), "{op}");
    assert!(op.get("response").is_none());
    let name = op["name"].as_str().unwrap().to_string();
    emu.ok("POST", "/emulator/clock:advance?seconds=10", None)
        .await;
    let done = emu.ok("GET", &format!("/v1/{name}"), None).await;
    assert_eq!(done["done"], true);
    assert_eq!(
        done["response"]["name"],
        "projects/demo/locations/us-central1/workflows/a"
    );

    let ops = emu.ok("GET", &format!("{parent}/operations"), None).await;
    assert_eq!(ops["operations"].as_array().unwrap().len(), 1);

    // spanner documents operations.cancel beside its instances.
    let Some(emu) = start(&["spanner"], operations_taking(10)).await else {
        return;
    };
    let op = emu
        .post(
            "/v1/projects/demo/instances",
            json!({"instanceId": "i", "instance": {"displayName": "I"}}),
        )
        .await;
    let name = op["name"].as_str().unwrap().to_string();
    assert!(
        name.starts_with("projects/demo/instances/i/operations/"),
        "{name}"
    );
    emu.ok("POST", &format!("/v1/{name}:cancel"), None).await;
    let cancelled = emu.ok("GET", &format!("/v1/{name}"), None).await;
    assert_eq!(cancelled["done"], true);
    assert_eq!(cancelled["error"]["code"], 1);
    assert!(cancelled.get("response").is_none());
}
