//! Shards split by the engine over a seeded organisation: together they
//! hold every row exactly once and merge complete; a project whose API is
//! disabled is left out under `skip:SERVICE_DISABLED` (and the merge
//! accepts it) but fails the merge under `warn`, naming the project.

use crate::harness::start_with;
use skyql_export::{GroupSource, Shard, Status};

const PROJECTS: usize = 6;

fn statement() -> String {
    let projects: Vec<String> = (1..=PROJECTS)
        .map(|i| format!("'demo-project-{i}'"))
        .collect();
    format!(
        "SELECT name, projectsId, locationsId FROM google.aiplatform.custom_jobs \
         WHERE projectsId IN ({}) AND locationsId IN ('us-central1', 'europe-west4')",
        projects.join(", ")
    )
}

fn org(disabled: &[&str]) -> skyql_emulator::Config {
    skyql_emulator::Config {
        seed_jobs: 4,
        seed_projects: PROJECTS,
        disable_service_for: disabled.iter().map(|p| p.to_string()).collect(),
        ..skyql_emulator::Config::default()
    }
}

#[test]
fn shards_hold_every_row_once_and_merge_complete() {
    let mut emu = start_with(org(&[]));
    let sql = statement();
    let whole = emu.engine.execute_script(&sql).expect("whole").remove(0);
    assert_eq!(whole.rows.len(), PROJECTS * 4);
    let dir = tempfile::tempdir().expect("dir");
    let mut names = Vec::new();
    for i in 1..=3 {
        let m = emu.export_sharded(&sql, Shard { index: i, count: 3 }, "fail", dir.path());
        assert_eq!(m.status, Status::Ok, "{:?}", m.error);
        assert_eq!(m.group_source, GroupSource::Engine);
        assert!(
            m.groups
                .iter()
                .all(|g| g.sharded && g.project.is_some() && g.location.is_some())
        );
        let path = dir.path().join(&m.files[0].path);
        names.push(skyql_export::parquet_rows(&path).expect("rows"));
    }
    let r = skyql_export::check_merge(dir.path()).expect("merge");
    assert!(r.is_complete(), "{:?}", r.problems);
    assert_eq!(
        r.rows as usize,
        whole.rows.len(),
        "every row once: {names:?}"
    );
    assert_eq!(
        r.groups_ok,
        PROJECTS * 2,
        "one group per project and location"
    );
}

#[test]
fn a_disabled_service_is_skipped_only_under_skip() {
    let mut emu = start_with(org(&["demo-project-2"]));
    let sql = statement();
    let skip = tempfile::tempdir().expect("dir");
    let m = emu.export_sharded(&sql, Shard::WHOLE, "skip:SERVICE_DISABLED", skip.path());
    assert_eq!(m.status, Status::Ok, "{:?}", m.error);
    assert_eq!(m.rows as usize, (PROJECTS - 1) * 4);
    let r = skyql_export::check_merge(skip.path()).expect("merge");
    assert!(r.is_complete(), "{:?}", r.problems);
    assert_eq!(r.groups_skipped, 2, "both locations of demo-project-2");

    let warn = tempfile::tempdir().expect("dir");
    let m = emu.export_sharded(&sql, Shard::WHOLE, "warn", warn.path());
    assert_eq!(m.status, Status::Ok, "warn returns the rows it has");
    let r = skyql_export::check_merge(warn.path()).expect("merge");
    assert!(!r.is_complete());
    assert_eq!(r.groups_failed, 2);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("project=demo-project-2") && p.contains("SERVICE_DISABLED")),
        "{:?}",
        r.problems
    );

    let fail = tempfile::tempdir().expect("dir");
    let m = emu.export_sharded(&sql, Shard::WHOLE, "fail", fail.path());
    assert_eq!(m.status, Status::Failed);
    assert!(m.files.is_empty());
    assert!(
        m.groups
            .iter()
            .any(|g| g.status == Status::Failed && g.codes.iter().any(|c| c == "SERVICE_DISABLED"))
    );
}
