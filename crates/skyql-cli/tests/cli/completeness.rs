//! Complete or loud, end to end: `--on-error` on exec, the report as JSON
//! on stderr under `-o json`, `--shard I/N` and `--quiet`, against a
//! `skyql emulator` process whose project 2 has Vertex AI disabled (403
//! SERVICE_DISABLED) and which injects transient faults.

use super::*;
use std::collections::BTreeSet;

/// The emulator with three projects, project 2 without Vertex AI, and 30%
/// transient faults; its key in `dir`/key.json.
fn faulty_org(dir: &Path) -> EmulatorProcess {
    let args = [
        "--seed-projects",
        "3",
        "--seed-jobs",
        "2",
        "--disable-service-for",
        "demo-project-2",
        "--fault-rate",
        "0.3",
        "--fault-seed",
        "9",
    ]
    .map(String::from);
    spawn_emulator(&args, &dir.join("key.json"))
}

const SQL: &str = "SELECT name FROM google.aiplatform.custom_jobs \
    WHERE projectsId IN ('demo-project-1', 'demo-project-2', 'demo-project-3') \
    AND locationsId IN ('us-central1', 'europe-west4')";

#[test]
fn on_error_policies_reports_and_shards_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let emu = faulty_org(dir.path());
    let auth = key_auth(&dir.path().join("key.json"));
    let run = |args: &[&str], sql: &str| {
        skyql(dir.path())
            .args(["--endpoint", &emu.base_url, "--auth", &auth])
            .arg("exec")
            .args(args)
            .arg(sql)
            .output()
            .expect("run")
    };
    // The default fails, naming the group, with a non-zero exit.
    let out = run(&["-o", "csv"], SQL);
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("request groups failed"), "{err}");
    assert!(err.contains("projectsId=demo-project-2"), "{err}");
    assert!(out.stdout.is_empty());

    // warn: the rows that came back, and the report as JSON on stderr.
    let out = run(&["-o", "json", "--on-error", "warn"], SQL);
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json rows");
    assert_eq!(rows.as_array().map(Vec::len), Some(4), "projects 1 and 3");
    let err = String::from_utf8_lossy(&out.stderr);
    let report: serde_json::Value = err
        .lines()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .expect("a JSON report line")["report"]
        .clone();
    assert_eq!(report["rows"], 4, "{report}");
    assert_eq!(report["complete"], false);
    assert_eq!(report["on_error"], "warn");
    let failed: Vec<&serde_json::Value> = report["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .filter(|p| p["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 2, "{report}");
    assert!(failed.iter().all(|p| {
        p["params"]["projectsId"] == "demo-project-2"
            && p["codes"]
                .as_array()
                .is_some_and(|c| c.contains(&"SERVICE_DISABLED".into()))
    }));

    // skip: left out and said so; retries are said too, unless --quiet.
    let out = run(&["-o", "csv", "--on-error", "skip:SERVICE_DISABLED"], SQL);
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2 request group(s) skipped by --on-error skip:SERVICE_DISABLED"),
        "{err}"
    );
    assert!(err.contains("retries"), "30% faults need retries: {err}");
    let out = run(
        &[
            "-o",
            "csv",
            "--on-error",
            "skip:SERVICE_DISABLED",
            "--quiet",
        ],
        SQL,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("skipped") && !err.contains("retries"), "{err}");

    // Shards: together, the whole result, each row once.
    let two = "SELECT name FROM google.aiplatform.custom_jobs \
        WHERE projectsId IN ('demo-project-1', 'demo-project-3') \
        AND locationsId IN ('us-central1', 'europe-west4')";
    let lines = |out: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    let whole = lines(&run(&["-o", "csv"], two));
    assert_eq!(whole.len(), 4);
    let mut union = Vec::new();
    for shard in ["1/2", "2/2"] {
        let out = run(&["-o", "csv", "--shard", shard], two);
        assert!(out.status.success(), "{}", render(&out));
        union.extend(lines(&out));
    }
    assert_eq!(union.len(), whole.len(), "no row twice");
    assert_eq!(
        union.into_iter().collect::<BTreeSet<_>>(),
        whole.into_iter().collect::<BTreeSet<_>>()
    );
    // A quotas file that is not what it should be is named, with the shape.
    std::fs::write(dir.path().join("quotas.json"), r#"{"qps": -1}"#).expect("write");
    let out = run(&["-o", "csv"], two);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("quotas.json: qps is -1; a rate must be a positive number"),
        "{err}"
    );
    std::fs::write(
        dir.path().join("quotas.json"),
        r#"{"services": {"aiplatform": {"per_project_per_minute": 6000}}}"#,
    )
    .expect("write");
    assert!(run(&["-o", "csv", "--qps", "100"], two).status.success());
    std::fs::remove_file(dir.path().join("quotas.json")).expect("remove");
    // Bad values say what to give.
    let out = run(&["--on-error", "ignore"], two);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("skip:CODES"));
}
