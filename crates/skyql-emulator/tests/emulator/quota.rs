//! Per-project quotas (429 `RATE_LIMIT_EXCEEDED` with `Retry-After`, refilled on the
//! emulator clock), disabled services (403 `SERVICE_DISABLED`) and denied projects (403
//! `IAM_PERMISSION_DENIED`), each in Google's shape.

use reqwest::Method;
use serde_json::Value;
use skyql_emulator::{Config, project_number};

use super::super::{Env, assert_google_error, base_config};

fn jobs_path(project: &str) -> String {
    format!("/v1/projects/{project}/locations/us-central1/customJobs")
}

fn detail<'a>(body: &'a Value, ty: &str) -> &'a Value {
    body["error"]["details"]
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|x| x["@type"] == format!("type.googleapis.com/google.rpc.{ty}"))
        })
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn quota_per_project_answers_rate_limit_exceeded() {
    let env = Env::start(Config {
        project_quota: Some(3),
        seed_projects: 2,
        ..base_config()
    })
    .await;
    for _ in 0..3 {
        let (s, body) = env.get(&jobs_path("demo-project-1")).await;
        assert_eq!(s, 200, "{body}");
    }
    let resp = env.get_with(&jobs_path("demo-project-1"), &[]).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("20"),
        "a token every 20 s"
    );
    let body: Value = resp.json().await.expect("json");
    assert_google_error(&body, 429, "RESOURCE_EXHAUSTED");
    let number = project_number("demo-project-1");
    assert_eq!(
        body["error"]["message"],
        format!(
            "Quota exceeded for quota metric 'Resource management (CRUD) requests' and limit 'Resource management (CRUD) requests per minute' of service 'aiplatform.googleapis.com' for consumer 'project_number:{number}'."
        )
    );
    let info = detail(&body, "ErrorInfo");
    assert_eq!(info["reason"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(info["domain"], "googleapis.com");
    let meta = &info["metadata"];
    assert_eq!(meta["consumer"], format!("projects/{number}"));
    assert_eq!(meta["service"], "aiplatform.googleapis.com");
    assert_eq!(
        meta["quota_metric"],
        "aiplatform.googleapis.com/resource_management_requests"
    );
    assert_eq!(
        meta["quota_limit"],
        "ResourceManagementRequestsPerMinutePerProject"
    );
    assert_eq!(meta["quota_limit_value"], "3");
    assert!(detail(&body, "Help")["links"][0]["url"].is_string());
    // Another project has its own bucket.
    let (s, _) = env.get(&jobs_path("demo-project-2")).await;
    assert_eq!(s, 200);
    // The frozen clock refills nothing until it moves; 20 s give one token back.
    env.advance(19).await;
    let (s, _) = env.get(&jobs_path("demo-project-1")).await;
    assert_eq!(s, 429);
    env.advance(1).await;
    let (s, _) = env.get(&jobs_path("demo-project-1")).await;
    assert_eq!(s, 200);
    let (s, _) = env.get(&jobs_path("demo-project-1")).await;
    assert_eq!(s, 429);
    // Stats count the 429s; reset empties the buckets.
    let (_, stats) = env.control(Method::GET, "stats").await;
    assert!(
        stats["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["method"] == "customJobs.list" && r["status"] == 429 && r["count"] == 3),
        "{stats}"
    );
    env.control(Method::POST, "reset").await;
    let (s, _) = env.get(&jobs_path("demo-project-1")).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn resource_manager_is_charged_to_the_quota_project() {
    let env = Env::start(Config {
        project_quota: Some(2),
        seed_projects: 4,
        ..base_config()
    })
    .await;
    let list = "/v3/projects?parent=organizations/123456789012";
    for _ in 0..2 {
        let (s, _) = env.get(list).await;
        assert_eq!(s, 200);
    }
    let resp = env.get_with(list, &[]).await;
    assert_eq!(resp.status(), 429);
    let body: Value = resp.json().await.expect("json");
    let meta = &detail(&body, "ErrorInfo")["metadata"];
    assert_eq!(meta["service"], "cloudresourcemanager.googleapis.com");
    // The credentials' project (demo-project) pays unless X-Goog-User-Project says.
    assert_eq!(
        meta["consumer"],
        format!("projects/{}", project_number("demo-project"))
    );
    let resp = env
        .get_with(list, &[("x-goog-user-project", "demo-project-3")])
        .await;
    assert_eq!(resp.status(), 200);
    // Vertex AI calls in demo-project are another service's bucket.
    let (s, _) = env.get(&jobs_path("demo-project")).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn disabled_service_and_denied_project_are_told_apart() {
    let env = Env::start(Config {
        seed_projects: 4,
        seed_jobs: 2,
        disable_service_for: vec!["demo-project-2".into()],
        deny_projects: vec![project_number("demo-project-3").to_string()],
        ..base_config()
    })
    .await;
    let (s, body) = env.get(&jobs_path("demo-project-2")).await;
    assert_eq!(s, 403, "{body}");
    assert_google_error(&body, 403, "PERMISSION_DENIED");
    let number = project_number("demo-project-2");
    let url = format!(
        "https://console.developers.google.com/apis/api/aiplatform.googleapis.com/overview?project={number}"
    );
    assert_eq!(
        body["error"]["message"],
        format!(
            "Vertex AI API has not been used in project {number} before or it is disabled. Enable it by visiting {url} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry."
        )
    );
    let info = detail(&body, "ErrorInfo");
    assert_eq!(info["reason"], "SERVICE_DISABLED");
    assert_eq!(info["domain"], "googleapis.com");
    assert_eq!(info["metadata"]["consumer"], format!("projects/{number}"));
    assert_eq!(info["metadata"]["service"], "aiplatform.googleapis.com");
    assert_eq!(info["metadata"]["activationUrl"], url.as_str());
    assert_eq!(detail(&body, "Help")["links"][0]["url"], url.as_str());
    assert_eq!(detail(&body, "LocalizedMessage")["locale"], "en-US");

    let (s, body) = env.get(&jobs_path("demo-project-3")).await;
    assert_eq!(s, 403, "{body}");
    assert_google_error(&body, 403, "PERMISSION_DENIED");
    assert_eq!(
        detail(&body, "ErrorInfo")["reason"],
        "IAM_PERMISSION_DENIED"
    );
    assert_eq!(
        detail(&body, "ErrorInfo")["metadata"]["permission"],
        "aiplatform.customJobs.list"
    );

    // The others answer; Resource Manager still lists all four.
    for p in ["demo-project-1", "demo-project-4"] {
        let (s, body) = env.get(&jobs_path(p)).await;
        assert_eq!(s, 200, "{p}: {body}");
        assert_eq!(body["customJobs"].as_array().map(Vec::len), Some(1));
    }
    let (s, body) = env.get("/v3/projects:search").await;
    assert_eq!(s, 200);
    assert_eq!(body["projects"].as_array().map(Vec::len), Some(4));
}
