//! The organisation: `seed_projects` projects with their jobs, and Resource Manager v3
//! (`projects.list` by parent with paging, `projects.search`, `get`, folders and the
//! organization) over them.

use std::collections::BTreeSet;

use serde_json::Value;
use skyql_emulator::{Config, project_number};

use super::super::{Env, assert_google_error, base_config};

const ORG: &str = "organizations/123456789012";
const ENGINEERING: &str = "folders/100000000001";
const OPERATIONS: &str = "folders/100000000002";
const ENGINEERING_PROD: &str = "folders/100000000003";

fn org_config(projects: usize, jobs: usize) -> Config {
    Config {
        seed_projects: projects,
        seed_jobs: jobs,
        ..base_config()
    }
}

/// Every item of a list, following `nextPageToken`; the number of pages read.
async fn list_all(env: &Env, path: &str, field: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = if token.is_empty() {
            path.to_string()
        } else {
            format!("{path}{sep}pageToken={token}")
        };
        let (s, body) = env.get(&url).await;
        assert_eq!(s, 200, "{url}: {body}");
        pages += 1;
        items.extend(body[field].as_array().cloned().unwrap_or_default());
        match body["nextPageToken"].as_str() {
            Some(t) => token = t.to_string(),
            None => return (items, pages),
        }
    }
}

fn ids(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|p| p["projectId"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn seeded_projects_each_hold_the_same_jobs() {
    let env = Env::start(org_config(12, 6)).await;
    assert_eq!(env.running.emulator.job_count(), 72);
    let mut job_ids = BTreeSet::new();
    for k in [1, 7, 12] {
        let mut names = BTreeSet::new();
        for loc in ["us-central1", "europe-west4"] {
            let (s, body) = env
                .get(&format!(
                    "/v1/projects/demo-project-{k}/locations/{loc}/customJobs"
                ))
                .await;
            assert_eq!(s, 200, "{body}");
            let jobs = body["customJobs"].as_array().expect("jobs");
            assert_eq!(jobs.len(), 3, "{loc}: {body}");
            for j in jobs {
                let name = j["name"].as_str().expect("name");
                assert!(name.starts_with(&format!(
                    "projects/{}/locations/{loc}/customJobs/",
                    project_number(&format!("demo-project-{k}"))
                )));
                job_ids.insert(name.rsplit('/').next().unwrap_or("").to_string());
                names.insert(j["displayName"].as_str().unwrap_or("").to_string());
            }
        }
        let want: BTreeSet<String> = [
            "train-resnet50-00000",
            "bert-finetune-00001",
            "xgboost-tabular-00002",
            "hparam-sweep-00003",
            "eval-nightly-00004",
            "data-prep-00005",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(names, want);
    }
    assert_eq!(job_ids.len(), 18, "job ids differ between projects");
    // The plain demo-project has none of them.
    let (_, body) = env
        .get("/v1/projects/demo-project/locations/us-central1/customJobs")
        .await;
    assert_eq!(body, serde_json::json!({}));
}

#[tokio::test]
async fn projects_list_by_parent_with_paging() {
    let env = Env::start(org_config(1_000, 0)).await;
    let (under_org, pages) =
        list_all(&env, &format!("/v3/projects?parent={ORG}"), "projects").await;
    assert_eq!(under_org.len(), 250);
    assert_eq!(pages, 3, "default page size 100");
    let mut all = ids(&under_org);
    for folder in [ENGINEERING, OPERATIONS, ENGINEERING_PROD] {
        let (items, _) = list_all(
            &env,
            &format!("/v3/projects?parent={folder}&pageSize=40"),
            "projects",
        )
        .await;
        assert_eq!(items.len(), 250, "{folder}");
        assert!(items.iter().all(|p| p["parent"] == folder));
        all.extend(ids(&items));
    }
    let want: BTreeSet<String> = (1..=1_000).map(|k| format!("demo-project-{k}")).collect();
    assert_eq!(all, want);
    // The v3 Project shape, fields in proto order.
    let p = &under_org[0];
    let keys: Vec<&str> = p
        .as_object()
        .expect("obj")
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted_expected = vec![
        "name",
        "parent",
        "projectId",
        "state",
        "displayName",
        "createTime",
        "updateTime",
        "etag",
    ];
    sorted_expected.sort();
    assert_eq!(keys, sorted_expected);
    assert_eq!(p["projectId"], "demo-project-1");
    assert_eq!(
        p["name"],
        format!("projects/{}", project_number("demo-project-1"))
    );
    assert_eq!(p["state"], "ACTIVE");
    assert!(p["etag"].as_str().expect("etag").starts_with("W/\""));
    let (s, text) = env
        .text(
            reqwest::Method::GET,
            &format!("/v3/projects?parent={ORG}&pageSize=1"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let order: Vec<usize> = [
        "\"name\"",
        "\"parent\"",
        "\"projectId\"",
        "\"state\"",
        "\"displayName\"",
        "\"createTime\"",
        "\"updateTime\"",
        "\"etag\"",
    ]
    .iter()
    .map(|k| text.find(k).expect(k))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    // A page token belongs to its parent.
    let (_, first) = env
        .get(&format!("/v3/projects?parent={ORG}&pageSize=10"))
        .await;
    let token = first["nextPageToken"].as_str().expect("token");
    let (s, body) = env
        .get(&format!(
            "/v3/projects?parent={ENGINEERING}&pageSize=10&pageToken={token}"
        ))
        .await;
    assert_eq!(s, 400, "{body}");
    assert_google_error(&body, 400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn parents_and_gets_are_checked() {
    let env = Env::start(org_config(4, 0)).await;
    let (s, body) = env.get("/v3/projects").await;
    assert_eq!(s, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("parent")
    );
    let (s, body) = env.get("/v3/projects?parent=projects/1").await;
    assert_eq!(s, 400, "{body}");
    let (s, body) = env.get("/v3/projects?parent=folders/42").await;
    assert_eq!(s, 403, "{body}");
    assert_google_error(&body, 403, "PERMISSION_DENIED");
    let (s, body) = env.get("/v3/projects/demo-project-3").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["parent"], OPERATIONS);
    let number = project_number("demo-project-3");
    let (_, by_number) = env.get(&format!("/v3/projects/{number}")).await;
    assert_eq!(by_number, body);
    let (s, _) = env.get("/v3/projects/nope").await;
    assert_eq!(s, 403);
    let (s, _) = env
        .get("/v3/projects?parent=organizations/123456789012&bogus=1")
        .await;
    assert_eq!(s, 400);
    // Unauthenticated.
    let (s, _) = env
        .call_with(
            reqwest::Method::GET,
            &format!("/v3/projects?parent={ORG}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, 401);
    // Stats name the Discovery method.
    let (_, stats) = env.control(reqwest::Method::GET, "stats").await;
    let has = |m: &str, st: u64| {
        stats["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["method"] == m && r["status"] == st)
    };
    assert!(has("cloudresourcemanager.projects.get", 200), "{stats}");
    assert!(has("cloudresourcemanager.projects.list", 403), "{stats}");
}

#[tokio::test]
async fn folders_recurse_to_every_project() {
    let env = Env::start(org_config(10, 0)).await;
    // Breadth-first from the organization, as a recursive CTE would walk it.
    let mut frontier = vec![ORG.to_string()];
    let mut found = BTreeSet::new();
    let mut folders = Vec::new();
    while let Some(parent) = frontier.pop() {
        let (fs, _) = list_all(&env, &format!("/v3/folders?parent={parent}"), "folders").await;
        for f in fs {
            let name = f["name"].as_str().expect("name").to_string();
            assert_eq!(f["parent"], parent.as_str());
            folders.push(f["displayName"].as_str().unwrap_or("").to_string());
            frontier.push(name);
        }
        let (ps, _) = list_all(&env, &format!("/v3/projects?parent={parent}"), "projects").await;
        found.extend(ids(&ps));
    }
    folders.sort();
    assert_eq!(folders, ["engineering", "engineering-prod", "operations"]);
    assert_eq!(found.len(), 10);
    let (s, f) = env.get("/v3/folders/100000000003").await;
    assert_eq!(s, 200);
    assert_eq!(
        (f["parent"].as_str(), f["state"].as_str()),
        (Some(ENGINEERING), Some("ACTIVE"))
    );
    let (s, o) = env.get("/v3/organizations/123456789012").await;
    assert_eq!(s, 200);
    assert_eq!(o["displayName"], "example.com");
    let (_, found) = env
        .get("/v3/organizations:search?query=domain:example.com")
        .await;
    assert_eq!(found["organizations"][0]["name"], ORG);
    let (_, none) = env
        .get("/v3/organizations:search?query=domain:other.org")
        .await;
    assert_eq!(none, serde_json::json!({}));
    let (_, fs) = env
        .get("/v3/folders:search?query=displayName:engineering*")
        .await;
    assert_eq!(fs["folders"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn projects_search_queries() {
    let env = Env::start(org_config(20, 0)).await;
    let env = &env;
    let search = |q: &str| {
        let q = q.replace(' ', "%20").replace('"', "%22");
        async move {
            let (items, _) =
                list_all(env, &format!("/v3/projects:search?query={q}"), "projects").await;
            ids(&items)
        }
    };
    assert_eq!(search("").await.len(), 20);
    assert_eq!(
        search("projectId:demo-project-1*").await.len(),
        11,
        "1 and 10-19"
    );
    assert_eq!(
        search("id=demo-project-7").await,
        BTreeSet::from(["demo-project-7".to_string()])
    );
    assert_eq!(search("parent.type:organization").await.len(), 5);
    assert_eq!(search("parent.type:folder state:ACTIVE").await.len(), 15);
    assert_eq!(
        search("parent.id:100000000003 name:\"DEMO-PROJECT-2*\"").await,
        BTreeSet::from(["demo-project-20".to_string()])
    );
    assert!(search("labels.env:prod").await.is_empty());
    let (s, body) = env.get("/v3/projects:search?query=owner:me").await;
    assert_eq!(s, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("unknown field \"owner\"")
    );
}

#[tokio::test]
async fn allowed_projects_limit_what_is_listed() {
    let env = Env::start(Config {
        projects: vec!["demo-project-1".into(), "demo-project-5".into()],
        ..org_config(8, 0)
    })
    .await;
    let (items, _) = list_all(&env, "/v3/projects:search", "projects").await;
    assert_eq!(
        ids(&items),
        BTreeSet::from(["demo-project-1".to_string(), "demo-project-5".to_string()])
    );
    let (s, _) = env.get("/v3/projects/demo-project-2").await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn seeding_is_bounded() {
    let too_many = Config {
        seed_projects: 1_000,
        seed_jobs: 2_000,
        ..base_config()
    };
    let e = too_many.validate().expect_err("2,000,000 jobs");
    assert!(e.to_string().contains("per project"), "{e}");
    assert!(
        Config {
            seed_projects: 1_000_000,
            ..base_config()
        }
        .validate()
        .is_err()
    );
}
