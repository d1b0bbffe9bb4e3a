//! Proto3 JSON output: default values left out, Durations with 0/3/6/9 fractional digits,
//! objects in the proto's field order; and partial responses (`fields`).

use crate::*;

/// The keys of the JSON object that starts at `at` in `text`, in the order written
/// (top level of that object only).
fn keys_in_order(text: &str, at: usize) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut keys = Vec::new();
    let mut depth = 0i32;
    let mut i = at;
    let mut in_str = false;
    let mut start = 0;
    let mut expect_key = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_str {
            if c == b'\\' {
                i += 1;
            } else if c == b'"' {
                in_str = false;
                if depth == 1 && expect_key {
                    keys.push(text[start..i].to_string());
                    expect_key = false;
                }
            }
        } else {
            match c {
                b'"' => {
                    in_str = true;
                    start = i + 1;
                }
                b'{' | b'[' => {
                    depth += 1;
                    if depth == 1 {
                        expect_key = true;
                    }
                }
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                b',' if depth == 1 => expect_key = true,
                _ => {}
            }
        }
        i += 1;
    }
    keys
}

/// The keys of the object that is the value of `"key":` (first occurrence).
fn keys_of(text: &str, key: &str) -> Vec<String> {
    let pat = format!("\"{key}\":");
    let at = text.find(&pat).unwrap_or_else(|| panic!("{key} in {text}"));
    let open = at + text[at..].find('{').expect("object");
    keys_in_order(text, open)
}

#[tokio::test]
async fn defaults_left_out_durations_and_field_order() {
    let env = Env::start(base_config()).await;
    let body = json!({
        "displayName": "ordered",
        "labels": {"team": "nlp"},
        "jobSpec": {
            "enableWebAccess": false,
            "serviceAccount": "",
            "reservedIpRanges": [],
            "scheduling": {"timeout": "1.5s", "maxWaitDuration": "0.000002s", "disableRetries": false, "strategy": "STRATEGY_UNSPECIFIED"},
            "workerPoolSpecs": [{
                "containerSpec": {"imageUri": "gcr.io/p/t:1", "args": [], "command": ["python"]},
                "replicaCount": "2",
                "machineSpec": {"machineType": "n1-standard-4", "acceleratorType": "ACCELERATOR_TYPE_UNSPECIFIED", "acceleratorCount": 0},
            }]
        }
    });
    let (s, text) = env
        .text(
            Method::POST,
            "/v1/projects/demo-project/locations/us-central1/customJobs?prettyPrint=false",
            Some(&body),
        )
        .await;
    assert_eq!(s, 200, "{text}");
    assert_eq!(
        keys_in_order(&text, 0),
        [
            "name",
            "displayName",
            "jobSpec",
            "state",
            "createTime",
            "updateTime",
            "labels"
        ]
    );
    assert_eq!(keys_of(&text, "jobSpec"), ["workerPoolSpecs", "scheduling"]);
    assert_eq!(
        keys_of(&text, "workerPoolSpecs"),
        ["machineSpec", "replicaCount", "diskSpec", "containerSpec"]
    );
    assert_eq!(keys_of(&text, "machineSpec"), ["machineType"]);
    assert_eq!(keys_of(&text, "containerSpec"), ["imageUri", "command"]);
    assert!(
        text.contains(r#""scheduling":{"timeout":"1.500s","maxWaitDuration":"0.000002s"}"#),
        "{text}"
    );
    for absent in [
        "enableWebAccess",
        "serviceAccount",
        "reservedIpRanges",
        "disableRetries",
        "UNSPECIFIED",
        "acceleratorCount",
        "\"args\"",
    ] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }
    // Errors: code, message, status, details.
    let (_, text) = env
        .text(
            Method::GET,
            "/v1/projects/demo-project/locations/us-central1/customJobs/1",
            None,
        )
        .await;
    assert_eq!(keys_of(&text, "error"), ["code", "message", "status"]);
    let (_, text) = env
        .text(
            Method::POST,
            "/v1/projects/demo-project/locations/us-central1/customJobs",
            Some(&json!({"displayName": "x"})),
        )
        .await;
    assert_eq!(
        keys_of(&text, "error"),
        ["code", "message", "status", "details"]
    );
    // Operations: name, metadata, done, response.
    let created: Value = serde_json::from_str(
        &env.text(
            Method::POST,
            "/v1/projects/demo-project/locations/us-central1/customJobs",
            Some(&job("op")),
        )
        .await
        .1,
    )
    .expect("json");
    let path = format!("/v1/{}", created["name"].as_str().expect("name"));
    env.post(&format!("{path}:cancel"), &json!({})).await;
    env.advance(3).await;
    let (_, text) = env.text(Method::DELETE, &path, None).await;
    assert_eq!(
        keys_in_order(&text, 0),
        ["name", "metadata", "done", "response"]
    );
    assert_eq!(
        keys_of(&text, "genericMetadata"),
        ["createTime", "updateTime"]
    );
}

#[tokio::test]
async fn partial_responses() {
    let env = Env::start(Config {
        seed_jobs: 6,
        ..base_config()
    })
    .await;
    let base = "/v1/projects/demo-project/locations/us-central1/customJobs";
    let (_, list) = env
        .get(&format!(
            "{base}?fields=customJobs(name,state),nextPageToken&pageSize=2"
        ))
        .await;
    let jobs = list["customJobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 2);
    for j in jobs {
        let keys: Vec<&String> = j.as_object().expect("obj").keys().collect();
        assert_eq!(keys, ["name", "state"], "{j}");
    }
    assert!(list["nextPageToken"].is_string());
    let name = jobs[0]["name"].as_str().expect("name").to_string();
    let (_, got) = env
        .get(&format!(
            "/v1/{name}?fields=display_name,jobSpec/workerPoolSpecs/machineSpec/machineType"
        ))
        .await;
    assert_eq!(got.as_object().map(|o| o.len()), Some(2), "{got}");
    assert!(got["displayName"].is_string());
    assert!(got["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]["machineType"].is_string());
    assert!(
        got["jobSpec"]["workerPoolSpecs"][0]
            .get("replicaCount")
            .is_none()
    );
    let (_, only_token) = env
        .get(&format!("{base}?fields=nextPageToken&pageSize=1"))
        .await;
    assert_eq!(
        only_token.as_object().map(|o| o.len()),
        Some(1),
        "{only_token}"
    );
    // Unknown or malformed selections are refused, never ignored.
    for (bad, path) in [
        ("nope", Some("nope")),
        ("jobSpec(colour)", Some("jobSpec.colour")),
        ("name(", None),
        ("displayName/x", Some("displayName.x")),
    ] {
        let (s, e) = env.get(&format!("/v1/{name}?fields={bad}")).await;
        assert_eq!(s, 400, "{bad}: {e}");
        assert_google_error(&e, 400, "INVALID_ARGUMENT");
        assert_eq!(
            e["error"]["message"],
            "Request contains an invalid argument."
        );
        let violation = &e["error"]["details"][0]["fieldViolations"][0];
        assert_eq!(violation["field"], bad);
        let description = violation["description"].as_str().unwrap_or("");
        assert!(
            description.starts_with("Error expanding 'fields' parameter."),
            "{e}"
        );
        if let Some(path) = path {
            assert!(
                description.contains(&format!("Cannot find matching fields for path '{path}'")),
                "{e}"
            );
        }
    }
    let (s, _) = env.get(&format!("{base}?fields=name")).await;
    assert_eq!(s, 400);
    // Locations and operations honour it too.
    let (_, locs) = env
        .get("/v1/projects/demo-project/locations?fields=locations(locationId)&pageSize=1")
        .await;
    assert_eq!(
        locs,
        json!({"locations": [{"locationId": "africa-south1"}]})
    );
    let (s, _) = env
        .get("/v1/projects/demo-project/locations/us-central1/operations?$fields=operations(done)")
        .await;
    assert_eq!(s, 200);
}
