//! The operations routes: location operations and those under `customJobs/*`, each with
//! get, list (with `filter`), cancel, delete and wait, under `/v1` and `/ui`.

use crate::*;

/// A finished job deleted, giving an unfinished operation (it finishes on its 3rd poll).
async fn delete_operation(env: &Env, name: &str) -> String {
    let created = env.create("us-central1", &job(name)).await;
    let path = format!("/v1/{}", created["name"].as_str().expect("name"));
    let (s, _) = env.post(&format!("{path}:cancel"), &json!({})).await;
    assert_eq!(s, 200);
    env.advance(3).await;
    let (s, op) = env.delete(&path).await;
    assert_eq!(s, 200, "{op}");
    op["name"].as_str().expect("op name").to_string()
}

#[tokio::test]
async fn location_operations_get_list_wait_cancel_delete() {
    let env = Env::start(Config {
        operation_polls: 3,
        ..base_config()
    })
    .await;
    let op = delete_operation(&env, "a").await;
    let done_op = delete_operation(&env, "b").await;
    let waited_op = delete_operation(&env, "c").await;
    let parent = "projects/demo-project/locations/us-central1";
    // Polls: each get is one; the third finishes the operation.
    for _ in 0..2 {
        let (s, o) = env.get(&format!("/v1/{done_op}")).await;
        assert_eq!(s, 200, "{o}");
        assert!(o.get("done").is_none(), "{o}");
    }
    let (_, o) = env.get(&format!("/ui/{done_op}")).await;
    assert_eq!(o["done"], true, "{o}");
    // Wait blocks until the operation is done: it finishes it at once.
    let (s, bad) = env
        .post(&format!("/v1/{waited_op}:wait?timeout=soon"), &json!({}))
        .await;
    assert_eq!(s, 400, "{bad}");
    let (s, waited) = env
        .post(
            &format!("/ui/{waited_op}:wait?timeout=1.5s"),
            &json!({"timeout": "2s"}),
        )
        .await;
    assert_eq!(s, 200, "{waited}");
    assert_eq!(waited["done"], true, "{waited}");
    let (s, again) = env.post(&format!("/v1/{waited_op}:wait"), &json!({})).await;
    assert_eq!((s.as_u16(), again), (200, waited));
    let (s, _) = env.delete(&format!("/v1/{waited_op}")).await;
    assert_eq!(s, 200);
    let (_, o) = env.get(&format!("/v1/{op}")).await;
    assert!(o.get("done").is_none(), "{o}");
    // List, and the filter applied.
    let (_, all) = env.get(&format!("/v1/{parent}/operations")).await;
    assert_eq!(all["operations"].as_array().map(Vec::len), Some(2), "{all}");
    let (_, open) = env
        .get(&format!("/ui/{parent}/operations?filter=done%3Dfalse"))
        .await;
    let names: Vec<&str> = open["operations"]
        .as_array()
        .expect("ops")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, vec![op.as_str()]);
    let (_, finished) = env
        .get(&format!("/v1/{parent}/operations?filter=done%20%3D%20true"))
        .await;
    assert_eq!(finished["operations"][0]["name"], done_op.as_str());
    let (s, e) = env
        .get(&format!(
            "/v1/{parent}/operations?filter=state%3DJOB_STATE_FAILED"
        ))
        .await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("done"),
        "{e}"
    );
    // Cancel: the operation ends with error code 1; cancelling again is refused.
    let (s, e) = env
        .post(&format!("/v1/{op}:cancel"), &json!({"colour": "red"}))
        .await;
    assert_eq!(s, 400, "{e}");
    assert!(e.to_string().contains("Unknown name \\\"colour\\\""), "{e}");
    let (s, body) = env
        .post(&format!("/ui/{op}:cancel"), &json!({"name": op}))
        .await;
    assert_eq!((s.as_u16(), body), (200, json!({})));
    let (_, o) = env.get(&format!("/v1/{op}")).await;
    assert_eq!(o["done"], true);
    assert_eq!(o["error"], json!({"code": 1, "message": "CANCELLED"}));
    assert!(o.get("response").is_none());
    let (s, e) = env.post(&format!("/v1/{op}:cancel"), &json!({})).await;
    assert_eq!(s, 400);
    assert_google_error(&e, 400, "FAILED_PRECONDITION");
    // Delete: gone afterwards.
    let (s, body) = env.delete(&format!("/ui/{op}")).await;
    assert_eq!((s.as_u16(), body), (200, json!({})));
    let (s, e) = env.get(&format!("/v1/{op}")).await;
    assert_eq!(s, 404);
    assert_google_error(&e, 404, "NOT_FOUND");
    let (s, _) = env.delete(&format!("/v1/{op}")).await;
    assert_eq!(s, 404);
    let (_, stats) = env.control(Method::GET, "stats").await;
    let methods: Vec<&str> = stats["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|r| r["method"].as_str())
        .collect();
    for m in [
        "operations.get",
        "operations.list",
        "operations.wait",
        "operations.cancel",
        "operations.delete",
    ] {
        assert!(methods.contains(&m), "{m} not in {methods:?}");
    }
}

#[tokio::test]
async fn custom_job_operations_routes() {
    let env = Env::start(Config {
        seed_jobs: 2,
        ..base_config()
    })
    .await;
    let (_, list) = env
        .get("/v1/projects/demo-project/locations/us-central1/customJobs")
        .await;
    let job_name = list["customJobs"][0]["name"]
        .as_str()
        .expect("name")
        .to_string();
    let ops = format!("{job_name}/operations");
    for prefix in ["/v1", "/ui"] {
        let (s, body) = env.get(&format!("{prefix}/{ops}")).await;
        assert_eq!((s.as_u16(), body), (200, json!({})));
        let (s, body) = env
            .get(&format!("{prefix}/{ops}?filter=done%3Dtrue&pageSize=5"))
            .await;
        assert_eq!((s.as_u16(), body), (200, json!({})));
        let missing = format!("{prefix}/{ops}/1234567890123456789");
        let (s, e) = env.get(&missing).await;
        assert_eq!(s, 404, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("/customJobs/"),
            "{e}"
        );
        let (s, _) = env.post(&format!("{missing}:wait"), &json!({})).await;
        assert_eq!(s, 404);
        let (s, _) = env.post(&format!("{missing}:cancel"), &json!({})).await;
        assert_eq!(s, 404);
        let (s, _) = env.delete(&missing).await;
        assert_eq!(s, 404);
    }
    // A location operation is not found under a job, and a job's id must be a number.
    let (s, _) = env
        .get("/v1/projects/demo-project/locations/us-central1/customJobs/abc/operations")
        .await;
    assert_eq!(s, 400);
    let (_, stats) = env.control(Method::GET, "stats").await;
    assert!(
        stats.to_string().contains("customJobs.operations.list"),
        "{stats}"
    );
}
