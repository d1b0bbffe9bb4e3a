//! Create and cancel validation as the real service reports it: field paths, accelerator
//! type and count together, label lengths, oneofs, the CustomJob message's other REQUIRED
//! fields, and cancel bodies that must be a CancelCustomJobRequest.

use crate::*;

const PARENT: &str = "/v1/projects/demo-project/locations/us-central1/customJobs";

/// A job whose first pool is `pool` merged over a valid one.
fn with_pool(extra: Value) -> Value {
    let mut body = job("v");
    if let (Some(pool), Some(e)) = (
        body["jobSpec"]["workerPoolSpecs"][0].as_object_mut(),
        extra.as_object(),
    ) {
        for (k, v) in e {
            pool.insert(k.clone(), v.clone());
        }
    }
    body
}

/// The (field, description) pairs of a BadRequest answer.
fn violations(body: &Value) -> Vec<(String, String)> {
    body["error"]["details"][0]["fieldViolations"]
        .as_array()
        .map(|vs| {
            vs.iter()
                .map(|v| {
                    (
                        v["field"].as_str().unwrap_or("").to_string(),
                        v["description"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn violations_name_fields_as_the_service_does() {
    let env = Env::start(base_config()).await;
    let p0 = "job_spec.worker_pool_specs[0]";
    let cases: Vec<(&str, Value, Vec<String>)> = vec![
        (
            "accelerator type without count",
            with_pool(
                json!({"machineSpec": {"machineType": "n1", "acceleratorType": "NVIDIA_L4"}}),
            ),
            vec![format!("{p0}.machine_spec.accelerator_count")],
        ),
        (
            "accelerator count without type",
            with_pool(json!({"machineSpec": {"machineType": "n1", "acceleratorCount": 2}})),
            vec![format!("{p0}.machine_spec.accelerator_type")],
        ),
        (
            "env var without name and value",
            with_pool(
                json!({"containerSpec": {"imageUri": "i", "env": [{"name": "A", "value": "1"}, {}]}}),
            ),
            vec![
                format!("{p0}.container_spec.env[1].name"),
                format!("{p0}.container_spec.env[1].value"),
            ],
        ),
        (
            "nfs mount without server",
            with_pool(json!({"nfsMounts": [{"path": "/x", "mountPoint": "m"}]})),
            vec![format!("{p0}.nfs_mounts[0].server")],
        ),
        (
            "encryption spec without key",
            {
                let mut b = job("v");
                b["encryptionSpec"] = json!({});
                b
            },
            vec!["encryption_spec.kms_key_name".to_string()],
        ),
        (
            "output directory without prefix",
            {
                let mut b = job("v");
                b["jobSpec"]["baseOutputDirectory"] = json!({});
                b
            },
            vec!["job_spec.base_output_directory.output_uri_prefix".to_string()],
        ),
        (
            "second pool without machine type",
            {
                let mut b = job("v");
                b["jobSpec"]["workerPoolSpecs"]
                    .as_array_mut()
                    .expect("pools")
                    .push(json!({"containerSpec": {"imageUri": "i"}}));
                b
            },
            vec!["job_spec.worker_pool_specs[1].machine_spec.machine_type".to_string()],
        ),
    ];
    for (case, body, want) in cases {
        let (s, got) = env.post(PARENT, &body).await;
        assert_eq!(s, 400, "{case}: {got}");
        assert_google_error(&got, 400, "INVALID_ARGUMENT");
        let fields: Vec<String> = violations(&got).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, want, "{case}: {got}");
    }
    // Both set, or an empty placeholder pool after the first, is fine.
    for body in [
        with_pool(
            json!({"machineSpec": {"machineType": "n1", "acceleratorType": "NVIDIA_L4", "acceleratorCount": 1}}),
        ),
        {
            let mut b = job("v");
            b["jobSpec"]["workerPoolSpecs"]
                .as_array_mut()
                .expect("pools")
                .push(json!({}));
            b
        },
    ] {
        let (s, got) = env.post(PARENT, &body).await;
        assert_eq!(s, 200, "{got}");
    }
}

#[tokio::test]
async fn labels_oneofs_and_cancel_bodies() {
    let env = Env::start(base_config()).await;
    let labelled = |k: String, v: String| {
        let mut b = job("l");
        b["labels"] = json!({ k: v });
        b
    };
    let (s, got) = env
        .post(PARENT, &labelled("k".repeat(64), "v".repeat(64)))
        .await;
    assert_eq!(s, 200, "{got}");
    for (k, v) in [
        ("k".repeat(65), "v".to_string()),
        ("k".to_string(), "v".repeat(65)),
    ] {
        let (s, got) = env.post(PARENT, &labelled(k.clone(), v)).await;
        assert_eq!(s, 400, "{got}");
        assert_eq!(violations(&got)[0].0, format!("labels[{k}]"), "{got}");
        assert!(violations(&got)[0].1.contains("64"), "{got}");
    }
    // Two members of the `task` oneof: a JSON payload error, not a field violation.
    let both = with_pool(
        json!({"pythonPackageSpec": {"executorImageUri": "e", "packageUris": ["gs://b/p"], "pythonModule": "m"}}),
    );
    let (s, got) = env.post(PARENT, &both).await;
    assert_eq!(s, 400, "{got}");
    let message = got["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("Invalid JSON payload received."),
        "{message}"
    );
    assert!(
        message.contains("oneof field 'task' is already set. Cannot set 'pythonPackageSpec'"),
        "{message}"
    );
    assert!(
        message.contains("custom_job.job_spec.worker_pool_specs[0]"),
        "{message}"
    );
    // A cancel body must be a CancelCustomJobRequest.
    let created = env.create("us-central1", &job("c")).await;
    let cancel = format!("/v1/{}:cancel", created["name"].as_str().expect("name"));
    for bad in [json!({"force": true}), json!([1]), json!({"name": 5})] {
        let (s, got) = env.post(&cancel, &bad).await;
        assert_eq!(s, 400, "{bad}: {got}");
        assert!(
            got["error"]["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("Invalid"),
            "{got}"
        );
    }
    let (_, still) = env
        .get(&format!("/v1/{}", created["name"].as_str().expect("name")))
        .await;
    assert_eq!(still["state"], "JOB_STATE_PENDING");
    let (s, got) = env.post(&cancel, &json!({"name": created["name"]})).await;
    assert_eq!((s.as_u16(), got), (200, json!({})));
}
