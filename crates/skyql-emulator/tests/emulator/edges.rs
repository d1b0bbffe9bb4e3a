//! Edges: oversized bodies, the locations list, regional hosts, `alt=proto`, the 401's
//! ErrorInfo, deeply nested filters, bounded options, private state files, and state-file
//! failures reported through the stats (the emulator never prints).

use crate::*;

#[tokio::test]
async fn oversized_alt_proto_and_error_info() {
    let env = Env::start(Config {
        body_limit: 1000,
        ..base_config()
    })
    .await;
    let parent = "/v1/projects/demo-project/locations/us-central1/customJobs";
    let mut big = job("big");
    big["labels"] = json!({"pad": "x".repeat(2000)});
    let (s, e) = env.post(parent, &big).await;
    assert_eq!(s, 400, "{e}");
    assert_google_error(&e, 400, "INVALID_ARGUMENT");
    assert_eq!(
        e["error"]["message"],
        "Request payload size exceeds the limit: 1000 bytes."
    );
    let (s, e) = env.get(&format!("{parent}?alt=proto")).await;
    assert_eq!(s, 400);
    assert_eq!(e["error"]["message"], "Unsupported Output Format");
    let (s, e) = env
        .call_with(Method::GET, parent, None, Some("ya29.unknown"))
        .await;
    assert_eq!(s, 401);
    let info = &e["error"]["details"][0];
    assert_eq!(info["@type"], "type.googleapis.com/google.rpc.ErrorInfo");
    assert_eq!(
        info["metadata"],
        json!({
            "service": "aiplatform.googleapis.com",
            "method": "google.cloud.aiplatform.v1.JobService.ListCustomJobs"
        })
    );
}

#[tokio::test]
async fn locations_and_regional_hosts() {
    let env = Env::start(base_config()).await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let (s, page) = env
            .get(&format!(
                "/v1/projects/demo-project/locations?pageSize=20&pageToken={token}"
            ))
            .await;
        assert_eq!(s, 200, "{page}");
        for l in page["locations"].as_array().expect("locations") {
            seen.push(l["locationId"].as_str().expect("id").to_string());
        }
        match page["nextPageToken"].as_str() {
            Some(t) => token = t.to_string(),
            None => break,
        }
    }
    let want: Vec<String> = skyql_emulator::LOCATIONS
        .iter()
        .map(|l| l.to_string())
        .collect();
    assert_eq!(seen, want);
    for l in ["global", "us", "eu", "us-central1"] {
        assert!(seen.iter().any(|s| s == l), "{l}");
        let (s, _) = env
            .get(&format!("/ui/projects/demo-project/locations/{l}"))
            .await;
        assert_eq!(s, 200, "{l}");
    }
    // Locations from a given Discovery document's endpoints.
    let doc = json!({"name": "aiplatform", "endpoints": [
        {"location": "mars-north1", "endpointUrl": "https://mars-north1-aiplatform.googleapis.com/"},
        {"location": "us", "endpointUrl": "https://aiplatform.us.rep.googleapis.com/"}
    ]});
    let custom = Env::start(Config {
        discovery: Some(doc.to_string()),
        ..base_config()
    })
    .await;
    let (_, page) = custom.get("/v1/projects/demo-project/locations").await;
    let ids: Vec<&str> = page["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .filter_map(|l| l["locationId"].as_str())
        .collect();
    assert_eq!(ids, ["global", "mars-north1", "us"]);
    // Regional hosts: {location}-aiplatform and aiplatform.{us,eu}.rep.
    let path = "/v1/projects/demo-project/locations/us/customJobs";
    for (host, want) in [
        ("aiplatform.us.rep.googleapis.com", 200),
        ("aiplatform.eu.rep.googleapis.com", 400),
        ("us-aiplatform.googleapis.com", 200),
        ("us-central1-aiplatform.googleapis.com", 400),
        ("aiplatform.googleapis.com", 200),
    ] {
        let r = env.get_with(path, &[("host", host)]).await;
        assert_eq!(r.status().as_u16(), want, "{host}");
    }
}

#[tokio::test]
async fn deep_filters_are_refused_and_the_server_stays_up() {
    let env = Env::start(Config {
        seed_jobs: 4,
        ..base_config()
    })
    .await;
    let deep = format!(
        "{}state%3DJOB_STATE_FAILED{}",
        "(".repeat(2000),
        ")".repeat(2000)
    );
    let parent = "/v1/projects/demo-project/locations/us-central1";
    let (s, e) = env.get(&format!("{parent}/customJobs?filter={deep}")).await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("deep"),
        "{e}"
    );
    let (s, _) = env.get(&format!("{parent}/operations?filter={deep}")).await;
    assert_eq!(s, 400);
    let (s, list) = env.get(&format!("{parent}/customJobs")).await;
    assert_eq!(s, 200);
    assert_eq!(list["customJobs"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn options_are_bounded() {
    for (config, what) in [
        (
            Config {
                seed_jobs: usize::MAX,
                ..Config::default()
            },
            "seed jobs",
        ),
        (
            Config {
                pending: Duration::from_secs(u64::MAX),
                ..Config::default()
            },
            "pending",
        ),
        (
            Config {
                token_lifetime: Duration::from_secs(u64::MAX),
                ..Config::default()
            },
            "token lifetime",
        ),
        (
            Config {
                latency: Duration::from_secs(86_400),
                ..Config::default()
            },
            "latency",
        ),
        (
            Config {
                fault_rate: 2.0,
                ..Config::default()
            },
            "fault rate",
        ),
    ] {
        let err = config.validate().expect_err(what);
        assert!(err.to_string().contains(what), "{what}: {err}");
        assert!(spawn(config).await.is_err(), "{what}");
    }
    assert!(base_config().validate().is_ok());
}

#[tokio::test]
async fn state_file_is_private_and_failures_are_reported() {
    let dir = std::env::temp_dir().join(format!("skyql-emu-edges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let state = dir.join("state.json");
    let env = Env::start(Config {
        state_file: Some(state.clone()),
        ..base_config()
    })
    .await;
    env.create("us-central1", &job("p")).await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (_, stats) = env.control(Method::GET, "stats").await;
    assert_eq!(stats["persistence"]["failures"], 0, "{stats}");
    assert!(
        stats["persistence"]["writes"].as_u64().unwrap_or(0) >= 2,
        "{stats}"
    );
    // The folder goes away: writes fail, are counted and described, never printed.
    std::fs::remove_dir_all(&dir).expect("rm");
    env.create("us-central1", &job("q")).await;
    let (_, stats) = env.control(Method::GET, "stats").await;
    assert_eq!(stats["persistence"]["failures"], 1, "{stats}");
    assert!(
        stats["persistence"]["lastError"]
            .as_str()
            .unwrap_or("")
            .contains("state.json"),
        "{stats}"
    );
    assert_eq!(env.running.emulator.persistence().failures, 1);
}

#[tokio::test]
async fn faults_and_latency_are_steerable() {
    let env = Env::start(base_config()).await;
    let (s, f) = env.control(Method::POST, "faults?rate=1&seed=3").await;
    assert_eq!((s.as_u16(), f), (200, json!({"rate": 1.0, "seed": 3})));
    let (s, _) = env
        .get("/v1/projects/demo-project/locations/us-central1/customJobs")
        .await;
    assert!(s == 429 || s == 503, "{s}");
    let (s, _) = env.control(Method::POST, "faults?rate=0").await;
    assert_eq!(s, 200);
    let (s, _) = env.control(Method::POST, "faults?rate=1.5").await;
    assert_eq!(s, 400);
    let (s, l) = env.control(Method::POST, "latency?ms=50").await;
    assert_eq!((s.as_u16(), l), (200, json!({"ms": 50})));
    let started = Instant::now();
    let (s, _) = env
        .get("/v1/projects/demo-project/locations/us-central1/customJobs")
        .await;
    assert_eq!(s, 200);
    assert!(started.elapsed() >= Duration::from_millis(50));
    let (s, _) = env.control(Method::POST, "latency?ms=-1").await;
    assert_eq!(s, 400);
    let (_, l) = env.control(Method::GET, "latency").await;
    assert_eq!(l, json!({"ms": 50}));
}
