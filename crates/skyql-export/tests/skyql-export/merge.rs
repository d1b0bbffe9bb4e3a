//! `--merge`: a complete set passes with its totals; a missing shard, a
//! failed request group, a skip the policy did not allow, a changed or
//! missing file, a wrong row count, a stray file and shards of different
//! statements each make it fail, naming what is wrong.

use crate::harness::{JOBS, start};
use skyql_export::{Format, Group, GroupSource, Manifest, OnError, Shard, Status};
use std::collections::BTreeMap;
use std::path::Path;

fn shard(i: u32, n: u32) -> Shard {
    Shard { index: i, count: n }
}

fn rewrite(dir: &Path, s: Shard, change: impl FnOnce(&mut Manifest)) {
    let path = dir.join(s.manifest_name());
    let mut m = Manifest::read(&path).expect("manifest");
    change(&mut m);
    std::fs::write(&path, m.to_json().expect("json")).expect("write manifest");
}

fn group(project: &str, status: Status, code: Option<&str>, error: Option<&str>) -> Group {
    Group {
        resource: Some("google.aiplatform.custom_jobs".into()),
        project: Some(project.into()),
        location: Some("us-central1".into()),
        parameters: BTreeMap::from([
            ("projectsId".to_string(), project.to_string()),
            ("locationsId".to_string(), "us-central1".to_string()),
        ]),
        status,
        rows: if status == Status::Ok { 12 } else { 0 },
        codes: code.map(str::to_string).into_iter().collect(),
        sharded: true,
        error: error.map(str::to_string),
    }
}

fn problems(dir: &Path) -> Vec<String> {
    let r = skyql_export::check_merge(dir).expect("merge");
    assert!(!r.is_complete(), "expected problems");
    r.problems
}

fn has(problems: &[String], words: &[&str]) -> bool {
    problems.iter().any(|p| words.iter().all(|w| p.contains(w)))
}

#[test]
fn complete_shards_merge_with_their_totals() {
    let mut emu = start();
    let dir = tempfile::tempdir().expect("dir");
    for i in 1..=2 {
        emu.export(JOBS, shard(i, 2), Format::Parquet, dir.path());
    }
    let r = skyql_export::check_merge(dir.path()).expect("merge");
    assert!(r.is_complete(), "{:?}", r.problems);
    assert_eq!(r.shards, Some(2));
    assert_eq!(r.files, ["part-1-of-2.parquet", "part-2-of-2.parquet"]);
    assert_eq!(r.rows, 48);
    assert_eq!((r.groups_ok, r.groups_skipped, r.groups_failed), (2, 0, 0));
}

#[test]
fn a_missing_shard_is_named() {
    let mut emu = start();
    let dir = tempfile::tempdir().expect("dir");
    emu.export(JOBS, shard(1, 3), Format::Jsonl, dir.path());
    emu.export(JOBS, shard(3, 3), Format::Jsonl, dir.path());
    let p = problems(dir.path());
    assert!(has(&p, &["1 of 3 shards missing: 2/3"]), "{p:?}");
    let empty = tempfile::tempdir().expect("empty");
    assert!(has(&problems(empty.path()), &["no manifest"]));
}

#[test]
fn a_failed_request_group_fails_the_merge() {
    let mut emu = start();
    let dir = tempfile::tempdir().expect("dir");
    emu.export(JOBS, Shard::WHOLE, Format::Parquet, dir.path());
    rewrite(dir.path(), Shard::WHOLE, |m| {
        m.groups = vec![
            group("demo-project-1", Status::Ok, None, None),
            group(
                "demo-project-2",
                Status::Failed,
                Some("PERMISSION_DENIED"),
                Some("403 PERMISSION_DENIED: caller lacks aiplatform.customJobs.list"),
            ),
        ];
    });
    let r = skyql_export::check_merge(dir.path()).expect("merge");
    assert_eq!((r.groups_ok, r.groups_failed), (1, 1));
    assert!(
        has(
            &r.problems,
            &[
                "shard 1/1",
                "project=demo-project-2",
                "location=us-central1",
                "caller lacks"
            ]
        ),
        "{:?}",
        r.problems
    );
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
}

#[test]
fn a_skip_counts_only_under_the_policy_that_allows_it() {
    let mut emu = start();
    let dir = tempfile::tempdir().expect("dir");
    emu.export(JOBS, Shard::WHOLE, Format::Parquet, dir.path());
    let disabled = group(
        "demo-project-3",
        Status::Skipped,
        Some("SERVICE_DISABLED"),
        Some("403 SERVICE_DISABLED"),
    );
    let g = disabled.clone();
    rewrite(dir.path(), Shard::WHOLE, move |m| {
        m.on_error = OnError::Skip(vec!["SERVICE_DISABLED".into()]);
        m.groups = vec![group("demo-project-1", Status::Ok, None, None), g];
    });
    let r = skyql_export::check_merge(dir.path()).expect("merge");
    assert!(r.is_complete(), "{:?}", r.problems);
    assert_eq!((r.groups_ok, r.groups_skipped), (1, 1));
    rewrite(dir.path(), Shard::WHOLE, |m| m.on_error = OnError::Fail);
    assert!(has(
        &problems(dir.path()),
        &["demo-project-3", "skipped", "--on-error fail"]
    ));
    rewrite(dir.path(), Shard::WHOLE, |m| {
        m.on_error = OnError::Skip(vec!["PERMISSION_DENIED".into()])
    });
    assert!(has(
        &problems(dir.path()),
        &["SERVICE_DISABLED", "skip:PERMISSION_DENIED"]
    ));
}

#[test]
fn changed_missing_and_stray_files_are_named() {
    let mut emu = start();
    let dir = tempfile::tempdir().expect("dir");
    emu.export(JOBS, shard(1, 2), Format::Jsonl, dir.path());
    emu.export(JOBS, shard(2, 2), Format::Jsonl, dir.path());
    // A row lost in a copy: the size and hash no longer match.
    let part1 = dir.path().join("part-1-of-2.jsonl");
    let text = std::fs::read_to_string(&part1).expect("read");
    let cut: Vec<&str> = text.lines().skip(1).collect();
    std::fs::write(&part1, cut.join("\n") + "\n").expect("cut");
    // A file of an earlier run with another N.
    std::fs::write(dir.path().join("part-7-of-8.jsonl"), "{}\n").expect("stray");
    std::fs::remove_file(dir.path().join("part-2-of-2.jsonl")).expect("rm");
    let p = problems(dir.path());
    assert!(
        has(&p, &["part-1-of-2.jsonl", "changed or cut short"]),
        "{p:?}"
    );
    assert!(
        has(&p, &["part-2-of-2.jsonl (shard 2/2) is missing"]),
        "{p:?}"
    );
    assert!(
        has(&p, &["part-7-of-8.jsonl", "not named by any manifest"]),
        "{p:?}"
    );
}

#[test]
fn a_wrong_row_count_and_another_statement_are_named() {
    let mut emu = start();
    let dir = tempfile::tempdir().expect("dir");
    emu.export(JOBS, shard(1, 2), Format::Parquet, dir.path());
    let other = JOBS.replace("ORDER BY name", "ORDER BY displayName");
    emu.export(&other, shard(2, 2), Format::Parquet, dir.path());
    rewrite(dir.path(), shard(1, 2), |m| {
        m.files[0].rows += 1;
        m.rows += 1;
    });
    let p = problems(dir.path());
    assert!(
        has(
            &p,
            &["part-1-of-2.parquet", "holds 24 rows, its manifest says 25"]
        ),
        "{p:?}"
    );
    assert!(has(&p, &["shard 2/2 ran another statement"]), "{p:?}");
}

#[test]
fn a_manifest_that_is_not_one_is_named() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("manifest-1-of-1.json"),
        "{\"skyql_export\": 99}",
    )
    .expect("w");
    std::fs::write(dir.path().join("manifest-2-of-1.json"), "{}").expect("w");
    let p = problems(dir.path());
    assert!(has(&p, &["manifest-1-of-1.json", "version 99"]), "{p:?}");
    assert!(
        has(
            &p,
            &["manifest-2-of-1.json", "is not named manifest-I-of-N.json"]
        ),
        "{p:?}"
    );
}

#[test]
fn a_request_group_read_by_two_shards_is_named() {
    let mut emu = start();
    let dir = tempfile::tempdir().expect("dir");
    for (i, projects) in [
        (1, ["demo-project-1", "demo-project-2"]),
        (2, ["demo-project-2", "demo-project-3"]),
    ] {
        emu.export(JOBS, shard(i, 2), Format::Jsonl, dir.path());
        rewrite(dir.path(), shard(i, 2), |m| {
            m.group_source = GroupSource::Engine;
            m.groups = projects
                .iter()
                .map(|p| group(p, Status::Ok, None, None))
                .collect();
        });
    }
    let p = problems(dir.path());
    assert!(
        has(
            &p,
            &[
                "project=demo-project-2",
                "shard 1/2 and by shard 2/2",
                "twice"
            ]
        ),
        "{p:?}"
    );
    assert_eq!(p.len(), 1, "{p:?}");
}
