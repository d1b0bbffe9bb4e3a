//! Quota-aware scheduling and deadline-budgeted retries: transient faults
//! never exhaust the retries, refusals are never retried, a throttled
//! project does not stall another, and the statistics count it all.

use super::*;
use skyql_client::Quotas;

fn jobs_of(project: &str) -> String {
    format!("v1/projects/{project}/locations/us-central1/customJobs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_percent_faults_never_exhaust_deadline_budgeted_retries() {
    let running = emulator(Config {
        seed_jobs: 2,
        fault_rate: 0.3,
        fault_seed: 11,
        ..Config::default()
    })
    .await;
    // The defaults: no small retry count, a deadline.
    let client = client_for(&running.base_url, sa_json(&running));
    let before = client.stats();
    for r in send_concurrently(&client, JOBS, 60).await {
        assert!(r.expect("retried to success")["customJobs"].is_array());
    }
    let s = client.stats().since(&before);
    assert_eq!(s.requests, 60);
    assert_eq!(s.failed, 0);
    assert!(s.retries > 0, "the seed injects faults: {s:?}");
    assert_eq!(s.attempts, s.requests + s.retries, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_disabled_and_permission_denied_are_never_retried() {
    let running = emulator(Config {
        seed_projects: 3,
        seed_jobs: 1,
        disable_service_for: vec!["demo-project-1".into()],
        deny_projects: vec!["demo-project-2".into()],
        ..Config::default()
    })
    .await;
    let client = client_for(&running.base_url, sa_json(&running));
    let before = client.stats();
    let err = client
        .send(get(&jobs_of("demo-project-1")))
        .await
        .expect_err("disabled");
    assert!(matches!(&err, Error::Api { status: 403, .. }), "{err:?}");
    assert!(
        err.codes().contains(&"SERVICE_DISABLED".to_string()),
        "{:?}",
        err.codes()
    );
    assert!(err.codes().contains(&"PERMISSION_DENIED".to_string()));
    let err = client
        .send(get(&jobs_of("demo-project-2")))
        .await
        .expect_err("denied");
    assert!(matches!(&err, Error::Api { status: 403, .. }), "{err:?}");
    assert!(
        err.codes().contains(&"PERMISSION_DENIED".to_string()),
        "{:?}",
        err.codes()
    );
    client
        .send(get(&jobs_of("demo-project-3")))
        .await
        .expect("allowed");
    let s = client.stats().since(&before);
    assert_eq!(
        (s.requests, s.attempts, s.retries, s.failed),
        (3, 3, 0, 2),
        "{s:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_project_does_not_stall_another() {
    // The server allows 3 requests a minute per project; a 429 asks to come
    // back in about 20 s, past this client's retry deadline.
    let running = emulator(Config {
        seed_projects: 2,
        seed_jobs: 1,
        project_quota: Some(3),
        ..Config::default()
    })
    .await;
    let client = client_at(&running.base_url, sa_json(&running), |c| {
        c.retry_deadline = Duration::from_secs(2);
        c.quotas = Quotas::unlimited();
    });
    for _ in 0..3 {
        client
            .send(get(&jobs_of("demo-project-1")))
            .await
            .expect("within quota");
    }
    let before = client.stats();
    let started = Instant::now();
    let err = client
        .send(get(&jobs_of("demo-project-1")))
        .await
        .expect_err("over quota");
    assert!(
        err.codes().contains(&"RATE_LIMIT_EXCEEDED".to_string()),
        "Google's 429 shape: {err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a Retry-After past the deadline ends it at once"
    );
    // The other project goes at full speed.
    let started = Instant::now();
    for _ in 0..3 {
        client
            .send(get(&jobs_of("demo-project-2")))
            .await
            .expect("other project");
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let s = client.stats().since(&before);
    assert_eq!(s.throttled, 1, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_project_buckets_space_requests_and_count_waits() {
    let running = emulator(Config {
        seed_projects: 2,
        seed_jobs: 1,
        ..Config::default()
    })
    .await;
    // 120 a minute: a minute's allowance at once, then one every 500 ms.
    let quotas = Quotas::from_json(r#"{"default_per_project_per_minute": 120}"#, "test quotas")
        .expect("quotas");
    let client = client_at(&running.base_url, sa_json(&running), |c| c.quotas = quotas);
    for r in send_concurrently(&client, &jobs_of("demo-project-1"), 120).await {
        r.expect("ok");
    }
    let before = client.stats();
    let started = Instant::now();
    for r in send_concurrently(&client, &jobs_of("demo-project-1"), 4).await {
        r.expect("ok");
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    let s = client.stats().since(&before);
    assert!(s.waits >= 2, "{s:?}");
    // The other project has its own bucket: its allowance goes at once.
    let started = Instant::now();
    for _ in 0..2 {
        client
            .send(get(&jobs_of("demo-project-2")))
            .await
            .expect("ok");
    }
    assert!(started.elapsed() < Duration::from_millis(400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dying_endpoint_fails_within_the_deadline_saying_how_often_it_tried() {
    let dead = closed_port_url();
    let client = client_at(&dead, AuthConfig::Anonymous, |c| {
        c.retry_deadline = Duration::from_secs(2)
    });
    let started = Instant::now();
    let err = client.send(get(JOBS)).await.expect_err("nothing listens");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let Error::GaveUp { attempts, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(*attempts > 2, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("gave up after {attempts} attempts")),
        "{err}"
    );
    assert!(matches!(err.root(), Error::Transport { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_rate_limit_of_older_apis_is_retried() {
    let limited = http(
        "403 Forbidden",
        "application/json",
        r#"{"error":{"code":403,"message":"Rate Limit Exceeded","errors":[{"domain":"usageLimits","reason":"rateLimitExceeded","message":"Rate Limit Exceeded"}]}}"#,
    );
    let denied = http(
        "403 Forbidden",
        "application/json",
        r#"{"error":{"code":403,"message":"Permission denied.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"IAM_PERMISSION_DENIED","domain":"iam.googleapis.com"}]}}"#,
    );
    let ok = http("200 OK", "application/json", r#"{"items":[]}"#);
    let server = canned(vec![limited, ok, denied]);
    let client = client_for(&server.base_url, AuthConfig::Anonymous);
    client.send(get(JOBS)).await.expect("retried");
    let err = client.send(get(JOBS)).await.expect_err("denied");
    assert!(matches!(&err, Error::Api { status: 403, .. }), "{err:?}");
    assert_eq!(server.requests.lock().expect("lock").len(), 3);
    assert_eq!(client.stats().throttled, 1);
}
