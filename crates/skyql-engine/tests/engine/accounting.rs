//! Complete or loud: every statement's report (calls, retries, lost calls,
//! request groups), the `--on-error` policies, a LIMIT that never hides a
//! failed group, `--shard I/N`, and fan-outs under injected faults, against
//! the emulator's seeded projects and Google's real 403 shapes.

use super::live::{Live, start_with};
use super::*;
use skyql_engine::{OnError, PartStatus, Shard, StatementReport};
use std::collections::BTreeSet;

fn projects(n: usize) -> String {
    (1..=n)
        .map(|i| format!("'demo-project-{i}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn jobs_sql(n: usize, tail: &str) -> String {
    format!(
        "SELECT name FROM google.aiplatform.custom_jobs WHERE projectsId IN ({}) \
         AND locationsId IN ('us-central1', 'europe-west4'){tail}",
        projects(n)
    )
}

fn exec(engine: &mut Engine, sql: &str) -> Result<Table, skyql_engine::Error> {
    let stmt = skyql_engine::split_statements(sql)
        .expect("split")
        .pop()
        .expect("one");
    engine.execute(&stmt)
}

fn report(engine: &Engine) -> StatementReport {
    engine.last_report().cloned().expect("a report")
}

fn names(t: &Table) -> BTreeSet<String> {
    column(t, "name").into_iter().collect()
}

#[test]
fn a_thousand_projects_by_two_locations_under_30_percent_faults_and_quotas_return_every_seeded_row()
{
    let mut o = start_with(
        skyql_emulator::Config {
            seed_projects: 1000,
            seed_jobs: 2,
            fault_rate: 0.3,
            fault_seed: 5,
            // Google's Resource Manager rate, per project.
            project_quota: Some(600),
            ..skyql_emulator::Config::default()
        },
        |c| c.concurrency = 64,
    );
    let t = exec(&mut o.engine, &jobs_sql(1000, "")).expect("complete");
    assert_eq!(t.rows.len(), 2000, "every seeded job of every project");
    assert_eq!(names(&t).len(), 2000);
    let r = report(&o.engine);
    assert_eq!(r.parts.len(), 2000, "one group per project and location");
    assert!(r.complete && r.all_groups_ok());
    assert_eq!(r.lost, 0);
    assert!(r.retries > 0, "faults were injected and retried: {r:?}");
    assert!(
        r.notes()
            .iter()
            .any(|n| n.contains(&format!("needed {} retries", r.retries))),
        "retries are never silent: {:?}",
        r.notes()
    );
}

/// Four projects: 2 has Vertex AI disabled (403 SERVICE_DISABLED), 3 denies
/// the caller (403 PERMISSION_DENIED, IAM_PERMISSION_DENIED).
fn four_projects() -> Live {
    start_with(
        skyql_emulator::Config {
            seed_projects: 4,
            seed_jobs: 2,
            disable_service_for: vec!["demo-project-2".into()],
            deny_projects: vec!["demo-project-3".into()],
            ..skyql_emulator::Config::default()
        },
        |_| {},
    )
}

#[test]
fn on_error_fail_names_the_failed_groups() {
    let mut o = four_projects();
    let e = exec(&mut o.engine, &jobs_sql(4, "")).expect_err("fails");
    let text = e.to_string();
    assert!(text.contains("request groups failed"), "{text}");
    assert!(text.contains("projectsId=demo-project-"), "{text}");
    assert!(text.contains("403"), "{text}");
    assert!(text.contains("none are returned"), "{text}");
    assert_eq!(e.fault(), skyql_engine::Fault::Remote);
    let r = report(&o.engine);
    assert!(r.failed().count() >= 1 && r.lost >= 1, "{r:?}");
    assert_eq!(r.retries, 0, "a 403 is never retried");
}

#[test]
fn on_error_warn_returns_the_rows_and_names_what_is_missing() {
    let mut o = four_projects();
    o.engine.set_on_error(OnError::Warn);
    let t = exec(&mut o.engine, &jobs_sql(4, "")).expect("rows");
    assert_eq!(t.rows.len(), 4, "projects 1 and 4, two jobs each");
    let r = report(&o.engine);
    let failed: BTreeSet<String> = r
        .failed()
        .map(|p| format!("{}/{}", p.params["projectsId"], p.params["locationsId"]))
        .collect();
    assert_eq!(
        failed,
        BTreeSet::from([
            "demo-project-2/europe-west4".to_string(),
            "demo-project-2/us-central1".into(),
            "demo-project-3/europe-west4".into(),
            "demo-project-3/us-central1".into()
        ])
    );
    assert!(
        r.failed()
            .all(|p| p.codes.contains(&"PERMISSION_DENIED".to_string())),
        "{r:?}"
    );
    let notes = r.notes();
    assert!(
        notes[0].starts_with(
            "warning: incomplete result (4 rows returned): 4 of 8 request groups failed"
        ),
        "{notes:?}"
    );
    assert!(notes[0].contains("SERVICE_DISABLED") || notes[0].contains("has not been used"));
}

#[test]
fn on_error_skip_leaves_out_only_the_named_codes() {
    let mut o = four_projects();
    o.engine
        .set_on_error("skip:SERVICE_DISABLED".parse().expect("policy"));
    let e = exec(&mut o.engine, &jobs_sql(4, "")).expect_err("project 3 still fails");
    assert!(e.to_string().contains("demo-project-3"), "{e}");
    o.engine.set_on_error(
        "skip:SERVICE_DISABLED,IAM_PERMISSION_DENIED"
            .parse()
            .expect("policy"),
    );
    let t = exec(&mut o.engine, &jobs_sql(4, "")).expect("both skipped");
    assert_eq!(t.rows.len(), 4);
    let r = report(&o.engine);
    assert_eq!(r.skipped().count(), 4, "{r:?}");
    assert_eq!(r.failed().count(), 0);
    assert!(r.notes()[0].contains("4 request group(s) skipped by --on-error skip:"));
}

#[test]
fn a_limit_never_hides_a_failed_group() {
    let mut o = four_projects();
    let sql = "SELECT name FROM google.aiplatform.custom_jobs \
               WHERE projectsId IN ('demo-project-1', 'demo-project-2') \
               AND locationsId = 'us-central1' LIMIT 1";
    let e = exec(&mut o.engine, sql).expect_err("project 2's 403 counts");
    assert!(e.to_string().contains("demo-project-2"), "{e}");
    assert!(e.to_string().contains("1 rows had come back"), "{e}");
    o.engine.set_on_error(OnError::Warn);
    let t = exec(&mut o.engine, sql).expect("warned");
    assert_eq!(t.rows.len(), 1);
    let r = report(&o.engine);
    assert_eq!(r.failed().count(), 1, "{r:?}");
    assert!(r.parts.iter().all(|p| p.status != PartStatus::Running));
}

/// Twelve projects with two jobs each, all readable.
fn twelve_projects() -> Live {
    start_with(
        skyql_emulator::Config {
            seed_projects: 12,
            seed_jobs: 2,
            ..skyql_emulator::Config::default()
        },
        |_| {},
    )
}

#[test]
fn shards_together_hold_every_row_once() {
    let mut o = twelve_projects();
    let whole = names(&exec(&mut o.engine, &jobs_sql(12, "")).expect("whole"));
    assert_eq!(whole.len(), 24);
    let mut union = BTreeSet::new();
    let mut total = 0;
    for i in 1..=3 {
        o.engine.set_shard(Some(Shard { index: i, count: 3 }));
        let part = names(&exec(&mut o.engine, &jobs_sql(12, "")).expect("shard"));
        let r = report(&o.engine);
        assert_eq!(
            r.sharded_table.as_deref(),
            Some("google.aiplatform.custom_jobs")
        );
        assert!(r.parts.len() < 24, "{i}: {}", r.parts.len());
        total += part.len();
        union.extend(part);
    }
    assert_eq!(total, whole.len(), "no row twice");
    assert_eq!(union, whole);
    // Nothing to split: the first shard has the rows, the others none.
    let one = "SELECT name FROM google.aiplatform.custom_jobs \
               WHERE projectsId = 'demo-project-1' AND locationsId = 'us-central1'";
    o.engine.set_shard(Some(Shard { index: 2, count: 3 }));
    assert!(exec(&mut o.engine, one).expect("shard 2").rows.is_empty());
    o.engine.set_shard(Some(Shard { index: 1, count: 3 }));
    assert_eq!(exec(&mut o.engine, one).expect("shard 1").rows.len(), 1);
    // Mutations are never sharded: every shard would send them.
    let e = exec(
        &mut o.engine,
        "DELETE FROM google.aiplatform.custom_jobs WHERE projectsId = 'demo-project-1' \
         AND locationsId = 'us-central1' AND customJobsId = '1'",
    )
    .expect_err("refused");
    assert!(e.to_string().contains("without --shard"), "{e}");
}

#[test]
fn a_dying_endpoint_is_loud_with_its_attempts() {
    let mut o = start_with(skyql_emulator::Config::default(), |c| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        c.endpoint = Some(format!("http://{}", listener.local_addr().expect("addr")));
        c.auth = AuthConfig::Anonymous;
        c.retry_deadline = Duration::from_secs(1);
    });
    let e = exec(&mut o.engine, &jobs_sql(2, "")).expect_err("nothing listens");
    let text = e.to_string();
    assert!(text.contains("gave up after"), "{text}");
    assert!(text.contains("request groups failed"), "{text}");
    let r = report(&o.engine);
    assert!(r.lost >= 1 && r.retries >= 1, "{r:?}");
}

/// The organisation walk StackQL users write: a recursive CTE over the
/// folder tree, its projects, their jobs. The join's discovery pass reads
/// the organisation's own projects and jobs; the real pass then asks for
/// those again among the rest, and takes them from the statement's cache:
/// every node's projects and every project's jobs are listed once.
#[test]
fn an_organisation_walk_reads_each_node_and_project_once() {
    let Some(dir) = super::discovery_dir("an_organisation_walk_reads_each_node_and_project_once")
    else {
        return;
    };
    let mut o = twelve_projects();
    let doc = std::fs::read(dir.join("cloudresourcemanager.v3.json")).expect("document");
    o.engine
        .registry()
        .pull_document(&doc, "cloudresourcemanager.v3.json", None)
        .expect("pull");
    let t = exec(
        &mut o.engine,
        "WITH RECURSIVE nodes(name) AS (SELECT 'organizations/123456789012' UNION ALL \
         SELECT f.name FROM nodes n JOIN google.cloudresourcemanager.folders f ON f.parent = n.name) \
         SELECT count(*) AS jobs, count(DISTINCT projectsId) AS projects \
         FROM google.aiplatform.custom_jobs \
         WHERE projectsId IN (SELECT projectId FROM google.cloudresourcemanager.projects \
                              WHERE parent IN (SELECT name FROM nodes)) \
           AND locationsId IN ('us-central1', 'europe-west4')",
    )
    .expect("walk");
    assert_eq!(column(&t, "jobs"), ["24"]);
    assert_eq!(column(&t, "projects"), ["12"]);
    let url = format!("{}/emulator/stats", o.base_url);
    let stats: serde_json::Value =
        o.rt.block_on(async { reqwest::get(&url).await?.json().await })
            .expect("stats");
    let calls = |method: &str| -> u64 {
        stats["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter(|r| r["method"] == method)
            .filter_map(|r| r["count"].as_u64())
            .sum()
    };
    // The organisation and its three folders, one call each.
    assert_eq!(calls("cloudresourcemanager.folders.list"), 4, "{stats}");
    assert_eq!(calls("cloudresourcemanager.projects.list"), 4, "{stats}");
    assert_eq!(
        calls("customJobs.list"),
        24,
        "12 projects by 2 locations: {stats}"
    );
}
