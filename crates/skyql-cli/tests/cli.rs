//! End-to-end tests of the `skyql` binary. The data-driven part runs every
//! `tests/cases/*.iql` script and compares stdout, stderr and the exit code
//! with the `.out` file beside it (`UPDATE_EXPECT=1` rewrites them).
//!
//! A case may start with directive comments:
//!   `-- args: --output json`            extra arguments for `skyql exec`
//!   `-- before: registry pull google.widgets --from {fixtures}/widgets.v1.json`
//!   `-- emulator: --services compute --discovery-dir {fixtures} --seed {cases}/google/compute_seed.json`
//!       starts `skyql emulator` with those arguments for the case, which then
//!       runs with `--endpoint` and `--auth` pointing at it
//! `{fixtures}` is the engine's fixture folder, `{cases}` the cases folder,
//! `{discovery}` the pinned documents.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skyql"));
    for var in [
        "SKYQL_HOME",
        "SKYQL_OUTPUT",
        "SKYQL_AUTH",
        "SKYQL_GOOGLE_ENDPOINT",
        "GOOGLE_CREDENTIALS",
    ] {
        c.env_remove(var);
    }
    c
}

/// The binary with `--home home`.
fn skyql(home: &Path) -> Command {
    let mut c = bin();
    c.arg("--home").arg(home);
    c
}

/// StackQL's `--auth` JSON naming a service-account key file.
fn key_auth(key: &Path) -> String {
    format!(
        r#"{{"google":{{"type":"service_account","credentialsfilepath":"{}"}}}}"#,
        key.display()
    )
}

/// Asserts that `out` printed exactly `want` on stdout.
#[track_caller]
fn assert_stdout(out: &Output, want: &str) {
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        want,
        "{}",
        render(out)
    );
}

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    manifest().join("../skyql-engine/tests/fixtures")
}

/// The pinned Discovery documents, when `SKYQL_DISCOVERY_DIR` names them
/// (`cargo xtask test` sets it). Tests that need them skip, saying why, on a
/// plain `cargo test`.
fn discovery_dir() -> Option<PathBuf> {
    let dir = discovery_env();
    if dir.is_none() {
        eprintln!(
            "skipped: SKYQL_DISCOVERY_DIR is unset (`cargo xtask test` fetches the pinned documents and sets it)"
        );
    }
    dir
}

fn discovery_env() -> Option<PathBuf> {
    std::env::var_os("SKYQL_DISCOVERY_DIR").map(PathBuf::from)
}

fn expand(s: &str) -> String {
    let s = s
        .replace("{fixtures}", &fixtures().display().to_string())
        .replace(
            "{cases}",
            &manifest().join("tests/cases").display().to_string(),
        );
    match discovery_env() {
        Some(d) => s.replace("{discovery}", &d.display().to_string()),
        None => s,
    }
}

fn render(out: &Output) -> String {
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.is_empty() {
        s.push_str("--- stderr\n");
        s.push_str(&err);
    }
    if let Some(code) = out.status.code().filter(|c| *c != 0) {
        s.push_str(&format!("--- exit {code}\n"));
    }
    s
}

/// The in-process emulator listens on a fresh port each run.
fn normalize_ports(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("127.0.0.1:") {
        out.push_str(&rest[..i + 10]);
        rest = &rest[i + 10..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            out.push_str("PORT");
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

fn args_of(line: &str) -> Vec<String> {
    expand(line).split_whitespace().map(String::from).collect()
}

#[test]
fn iql_cases() {
    let dir = manifest().join("tests/cases");
    // Cases sit in tests/cases and in its folders (tests/cases/google/...).
    let mut dirs = vec![dir.clone()];
    dirs.extend(
        std::fs::read_dir(&dir)
            .expect("cases dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir()),
    );
    let mut cases: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).expect("cases dir").flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "iql"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let home = tempfile::tempdir().expect("tempdir");
        let script = std::fs::read_to_string(case).expect("case");
        if script.contains("{discovery}") && discovery_dir().is_none() {
            eprintln!("{}: skipped", case.display());
            continue;
        }
        let mut exec_args = Vec::new();
        // Kept alive until the case has run; killed on drop.
        let mut emulator = None;
        for line in script.lines() {
            if let Some(a) = line.strip_prefix("-- args:") {
                exec_args.extend(args_of(a));
            } else if let Some(e) = line.strip_prefix("-- emulator:") {
                let key = home.path().join("key.json");
                let emu = spawn_emulator(&args_of(e), &key);
                exec_args.extend([
                    "--endpoint".to_string(),
                    emu.base_url.clone(),
                    "--auth".to_string(),
                    key_auth(&key),
                ]);
                emulator = Some(emu);
            } else if let Some(b) = line.strip_prefix("-- before:") {
                let out = skyql(home.path())
                    .args(args_of(b))
                    .output()
                    .expect("run before");
                assert!(
                    out.status.success(),
                    "{}: before step failed: {}",
                    case.display(),
                    render(&out)
                );
            }
        }
        let out = skyql(home.path())
            .arg("exec")
            .arg("-i")
            .arg(case)
            .args(&exec_args)
            .output()
            .expect("run skyql");
        drop(emulator);
        let got =
            normalize_ports(&render(&out).replace(&home.path().display().to_string(), "{home}"));
        let expected_path = case.with_extension("out");
        if update {
            std::fs::write(&expected_path, &got).expect("write expectation");
            continue;
        }
        let want = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != want {
            failures.push(format!(
                "{}\n--- want\n{want}\n--- got\n{got}",
                case.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ (UPDATE_EXPECT=1 rewrites):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn global_options_go_before_or_after_the_subcommand() {
    let home = tempfile::tempdir().expect("tempdir");
    let before = bin()
        .args(["--output", "json", "--home"])
        .arg(home.path())
        .args(["exec", "SHOW PROVIDERS"])
        .output()
        .expect("run");
    let after = bin()
        .args(["exec", "SHOW PROVIDERS", "--home"])
        .arg(home.path())
        .args(["--output", "json"])
        .output()
        .expect("run");
    assert_eq!(
        String::from_utf8_lossy(&before.stdout),
        "[\n{\"name\":\"google\"}\n]\n"
    );
    assert_eq!(before.stdout, after.stdout);
    let env = bin()
        .env("SKYQL_OUTPUT", "csv")
        .env("SKYQL_HOME", home.path())
        .args(["exec", "SHOW PROVIDERS"])
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&env.stdout), "name\ngoogle\n");
}

#[test]
fn docs_prints_the_reference_page() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = skyql(home.path())
        .args(["docs", "google.aiplatform.custom_jobs"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.starts_with("---\ntitle: custom_jobs\n"));
    assert!(page.contains(
        "<tr><td><b>Id</b></td><td><code>google.aiplatform.custom_jobs</code></td></tr>"
    ));
    assert!(page.contains("| `get` | `SELECT` | `customJobsId, locationsId, projectsId` |  |"));
    let out = skyql(home.path())
        .args(["docs", "google.aiplatform.custom_job"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean custom_jobs?"));
}

/// Serves `responses` in turn on a loopback port, one per connection.
fn serve(responses: Vec<(u16, &'static str, Vec<u8>)>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for (status, ctype, body) in responses {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn registry_pull_from_url_and_endpoint() {
    let fixture = std::fs::read(fixtures().join("widgets.v1.json")).expect("fixture");
    let html = b"<html><body>502 Bad Gateway</body></html>".to_vec();
    let base = serve(vec![
        (200, "application/json", fixture.clone()),
        (502, "text/html", html),
        (
            200,
            "application/json",
            b"{\"kind\":\"discovery#restDescription\",\"name\":\"trunc".to_vec(),
        ),
        (200, "application/json", fixture),
    ]);
    let home = tempfile::tempdir().expect("tempdir");
    let pull = |extra: &[&str]| {
        skyql(home.path())
            .args(["registry", "pull", "google.widgets"])
            .args(extra)
            .output()
            .expect("run")
    };
    let url = format!("{base}/widgets.json");
    let out = pull(&["--from", &url]);
    assert!(out.status.success(), "{}", render(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("pulled google.widgets v1 (revision 20260101)")
    );
    // An HTML error page and a truncated document fail clearly and write nothing new.
    let before = files_under(home.path());
    let out = pull(&["--from", &url]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("HTTP 502") && err.contains("502 Bad Gateway"),
        "{err}"
    );
    let out = pull(&["--from", &url]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("widgets.json: not valid JSON"), "{err}");
    assert_eq!(files_under(home.path()), before);
    // Without --from, --endpoint decides where the Discovery document comes from.
    let out = pull(&["--endpoint", &base]);
    assert!(out.status.success(), "{}", render(&out));
    let out = skyql(home.path())
        .args(["exec", "SHOW RESOURCES IN google.widgets", "-o", "csv"])
        .output()
        .expect("run");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "name,id,path\noperations,google.widgets.operations,projects.locations.operations\nwidgets,google.widgets.widgets,projects.locations.widgets\n"
    );
    // Nothing listens here any more: a clear transport error.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let out = pull(&["--from", &format!("http://{dead}/x.json")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("GET http://{dead}/x.json")));
}

#[test]
fn registry_pull_a_whole_folder_and_list() {
    let Some(discovery) = discovery_dir() else {
        return;
    };
    let home = tempfile::tempdir().expect("tempdir");
    let one = skyql(home.path())
        .args(["registry", "pull", "google.aiplatform", "--from"])
        .arg(&discovery)
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&one.stdout).contains("pulled 2 document(s)"),
        "{}",
        render(&one)
    );
    let out = skyql(home.path())
        .args(["registry", "pull", "google", "--from"])
        .arg(&discovery)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", render(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pulled 610 document(s)"));
    let out = skyql(home.path())
        .args(["registry", "list", "-o", "csv"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().count(),
        1 + 607 + 1,
        "header, 607 distinct pulled documents, the embedded one"
    );
    assert!(
        text.contains("\naiplatform,v1,20261106,embedded,yes\n"),
        "{text}"
    );
    assert!(
        text.contains("\naiplatform,v1,20261106,pulled,yes\n"),
        "{text}"
    );
    assert!(text.contains("\naiplatform,v1beta1,"), "{text}");
    let out = skyql(home.path())
        .args([
            "exec",
            "DESCRIBE EXTENDED google.compute.instances",
            "-o",
            "jsonl",
        ])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", render(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("{\"name\":\"machineType\",\"type\":\"string\",\"description\":")
    );
}

/// A `skyql emulator` child process; killed on drop.
struct EmulatorProcess {
    child: std::process::Child,
    base_url: String,
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emulator_process(dir: &Path) -> EmulatorProcess {
    let args: Vec<String> = [
        "--seed-jobs",
        "6",
        "--clock",
        "frozen",
        "--authorized-user-out",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([dir.join("user.json").display().to_string()])
    .collect();
    spawn_emulator(&args, &dir.join("key.json"))
}

/// `skyql emulator` on a free loopback port with these arguments, writing
/// its service-account key to `key`; its first line of output is its URL.
fn spawn_emulator(args: &[String], key: &Path) -> EmulatorProcess {
    use std::io::BufRead;
    let mut child = bin()
        .args(["emulator", "--addr", "127.0.0.1:0"])
        .args(args)
        .arg("--credentials-out")
        .arg(key)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("emulator");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("url");
    EmulatorProcess {
        child,
        base_url: line.trim().to_string(),
    }
}

#[test]
fn credentials_reach_a_separate_emulator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let emu = emulator_process(dir.path());
    let key = dir.path().join("key.json");
    let sql = "SELECT count(*) AS n FROM google.aiplatform.custom_jobs WHERE projectsId = 'demo-project' AND locationsId IN ('us-central1', 'europe-west4')";
    let run = |extra: &[&str], env: &[(&str, String)]| {
        let mut c = skyql(dir.path());
        c.args(["--endpoint", &emu.base_url, "-o", "csv"]);
        c.env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env("HOME", dir.path());
        for (k, v) in env {
            c.env(k, v);
        }
        c.args(extra).args(["exec", sql]).output().expect("run")
    };
    // StackQL's --auth with a key file.
    let auth = key_auth(&key);
    let out = run(&["--auth", &auth], &[]);
    assert_stdout(&out, "n\n6\n");
    // credentialsenvvar: the key JSON in a variable of the user's choosing.
    let key_json = std::fs::read_to_string(&key).expect("key");
    let out = run(
        &[
            "--auth",
            r#"{"google":{"type":"service_account","credentialsenvvar":"MY_KEY"}}"#,
        ],
        &[("MY_KEY", key_json.clone())],
    );
    assert_stdout(&out, "n\n6\n");
    // No --auth: GOOGLE_CREDENTIALS, then Application Default Credentials.
    let out = run(&[], &[("GOOGLE_CREDENTIALS", key_json)]);
    assert_stdout(&out, "n\n6\n");
    let out = run(
        &[],
        &[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            dir.path().join("user.json").display().to_string(),
        )],
    );
    assert_stdout(&out, "n\n6\n");
    // A bad key file is named, with what is wrong.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"type\": \"service_account\"}").expect("write");
    let auth = key_auth(&bad);
    let out = run(&["--auth", &auth], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json") && err.contains("private_key"),
        "{err}"
    );
    // Malformed --auth JSON says what shape is expected.
    let out = run(&["--auth", "{google"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--auth"),
        "{}",
        render(&out)
    );
}

// ---------------------------------------------------------------- hardening

/// `/dev/full` opened for writing: every write fails for want of space.
fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
}

/// The output a reader stops reading: a closed pipe ends skyql quietly with
/// status 0, a full disk with status 1 and a message; never a panic (101).
#[test]
fn write_errors_end_quietly() {
    let home = tempfile::tempdir().expect("tempdir");
    let sql = "SHOW RESOURCES IN google.aiplatform";
    for args in [
        vec!["exec", sql],
        vec!["docs", "google.aiplatform.custom_jobs"],
        vec!["shell"],
    ] {
        // A closed pipe: the read end is gone before skyql writes.
        let mut child = skyql(home.path())
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        // A full disk: an error on stderr, status 1.
        if Path::new("/dev/full").exists() {
            let out = skyql(home.path())
                .args(&args)
                .stdin(std::process::Stdio::null())
                .stdout(dev_full())
                .output()
                .expect("run");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
            assert!(err.starts_with("error: "), "{args:?}: {err}");
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            // Both full: still status 1, never a panic.
            let out = skyql(home.path())
                .args(&args)
                .stdin(std::process::Stdio::null())
                .stdout(dev_full())
                .stderr(dev_full())
                .status()
                .expect("run");
            assert_eq!(out.code(), Some(1), "{args:?}");
        }
    }
}

/// Runs `cmd` with `input` on its stdin (then closed) and collects its output.
fn feed(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write");
    child.wait_with_output().expect("wait")
}

#[test]
fn the_shell_runs_what_is_left_at_end_of_input_and_keeps_a_private_history() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = feed(
        skyql(home.path()).args(["shell", "-o", "csv"]),
        b"SELECT 1 AS one;\nSELECT 'last'\n  AS tail",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", render(&out));
    assert!(stdout.contains("one\n1\n"), "{stdout}");
    assert!(stdout.contains("tail\nlast\n"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(home.path().join("history")).expect("history");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    // What is left and broken is reported, not dropped.
    let out = feed(skyql(home.path()).arg("shell"), b"SELECT 'unterminated");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("error: syntax error"),
        "{}",
        render(&out)
    );
}

#[test]
fn numeric_flags_are_bounded() {
    for (flag, value) in [
        ("--concurrency", "0"),
        ("--concurrency", "100000"),
        ("--concurrency", "-1"),
        ("--timeout", "0"),
        ("--timeout", "18446744073709551615"),
        ("--max-response-mib", "0"),
        ("--max-response-mib", "99999999999999999999"),
    ] {
        // `--flag=value`, so that `-1` is a value and not an option.
        let out = bin()
            .args(["exec", "SHOW PROVIDERS", &format!("{flag}={value}")])
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(flag), "{flag} {value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn endpoints_with_credentials_are_refused_and_never_printed() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = skyql(home.path())
        .args([
            "exec",
            "--dry-run",
            "--endpoint",
            "http://alice:hunter2@127.0.0.1:9",
            "SELECT name FROM google.aiplatform.custom_jobs WHERE projectsId='p' AND locationsId='l'",
        ])
        .output()
        .expect("run");
    let all = render(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("user name or password"), "{all}");
    assert!(!all.contains("hunter2") && !all.contains("alice"), "{all}");
}

#[test]
fn registry_pull_checks_the_service_name_and_the_size_cap() {
    let home = tempfile::tempdir().expect("tempdir");
    let widgets = fixtures().join("widgets.v1.json");
    let pull = |args: &[&str]| {
        skyql(home.path())
            .args(["registry", "pull"])
            .args(args)
            .output()
            .expect("run")
    };
    // A document named `widgets` pulled as aiplatform: refused, nothing stored.
    let out = pull(&[
        "google.aiplatform",
        "--from",
        &widgets.display().to_string(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("describes google.widgets, not google.aiplatform; nothing was stored"),
        "{err}"
    );
    assert!(files_under(home.path()).is_empty());
    // --as names what it really is.
    let out = pull(&[
        "google.aiplatform",
        "--from",
        &widgets.display().to_string(),
        "--as",
        "widgets",
    ]);
    assert!(out.status.success(), "{}", render(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pulled google.widgets v1"));
    // An endless file stops at the cap.
    if Path::new("/dev/zero").exists() {
        let out = pull(&["google.x", "--from", "/dev/zero", "--max-response-mib", "1"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("larger than the limit of 1 MiB"), "{err}");
    }
}

#[test]
fn an_endless_script_is_refused_at_its_cap() {
    if !Path::new("/dev/zero").exists() {
        eprintln!("skipped: no /dev/zero on this system");
        return;
    }
    let out = bin()
        .args(["exec", "-i", "/dev/zero"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("/dev/zero holds more than 256 MiB of SQL"),
        "{err}"
    );
}

#[path = "cli/completeness.rs"]
mod completeness;
