//! `cargo xtask bench-select`: what a SELECT costs next to its floor. Against
//! `skyql emulator` (release build, a child process, latency injected on every
//! response), the same custom-job pages are read three ways:
//!
//! - `skyql exec` (a whole process: start-up, model, SQLite, HTTP),
//! - a bare HTTP loop in this process (reqwest, following nextPageToken: the floor),
//! - Google's discovery-based Python client (`xtask/bench/python_list.py`).
//!
//! One location pages sequentially for everyone; two locations with `IN` let
//! skyql fetch both concurrently. Then the peak memory of skyql counting
//! 100,000 jobs (`/usr/bin/time`). Prints markdown for BENCHMARKS.md.
//! Options: `--jobs N` (default 20000), `--latency-ms L` (default 20).

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 3;
const PROJECT: &str = "demo-project";
const LOCATIONS: [&str; 2] = ["us-central1", "europe-west4"];

use crate::emulator_child::Emulator;

fn start_emulator(bin: &Path, dir: &Path, jobs: usize, latency_ms: u64) -> Result<Emulator> {
    let args = [
        "--clock".to_string(),
        "frozen".into(),
        "--seed-jobs".into(),
        jobs.to_string(),
        "--latency-ms".into(),
        latency_ms.to_string(),
    ];
    let key_file = dir.join(format!("key-{jobs}-{latency_ms}.json"));
    crate::emulator_child::start(bin, key_file, &args)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<F: FnMut() -> Result<u64>>(mut f: F) -> Result<(Duration, u64)> {
    let mut times = Vec::new();
    let mut seen = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        seen = f()?;
        times.push(start.elapsed());
    }
    Ok((median(times), seen))
}

fn skyql_count(bin: &Path, emu: &Emulator, home: &Path, locations: &[&str]) -> Result<u64> {
    let list: Vec<String> = locations.iter().map(|l| format!("'{l}'")).collect();
    let sql = format!(
        "SELECT count(*) FROM google.aiplatform.custom_jobs WHERE projectsId = '{PROJECT}' AND locationsId IN ({})",
        list.join(", ")
    );
    skyql_sql(bin, emu, home, &sql)
}

/// Runs one statement whose result is a single number.
fn skyql_sql(bin: &Path, emu: &Emulator, home: &Path, sql: &str) -> Result<u64> {
    let auth = format!(
        r#"{{"google":{{"type":"service_account","credentialsfilepath":"{}"}}}}"#,
        emu.key_file.display()
    );
    let out = Command::new(bin)
        .arg("--home")
        .arg(home)
        .args([
            "--endpoint",
            &emu.base_url,
            "--auth",
            &auth,
            "exec",
            sql,
            "-o",
            "text",
        ])
        .output()?;
    if !out.status.success() {
        bail!("skyql failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .context("skyql printed no count")
}

async fn token(base: &str) -> Result<String> {
    let v: Value = reqwest::Client::new()
        .get(format!(
            "{base}/computeMetadata/v1/instance/service-accounts/default/token"
        ))
        .header("Metadata-Flavor", "Google")
        .send()
        .await?
        .json()
        .await?;
    v["access_token"]
        .as_str()
        .map(String::from)
        .context("no access_token")
}

/// The floor: every page of one location, one request after another.
async fn bare_location(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    location: &str,
) -> Result<u64> {
    let url = format!("{base}/v1/projects/{PROJECT}/locations/{location}/customJobs");
    let mut page_token = String::new();
    let mut n = 0;
    loop {
        let mut req = client.get(&url).bearer_auth(token);
        if !page_token.is_empty() {
            req = req.query(&[("pageToken", &page_token)]);
        }
        let page: Value = req.send().await?.error_for_status()?.json().await?;
        n += page["customJobs"].as_array().map_or(0, Vec::len) as u64;
        match page["nextPageToken"].as_str() {
            Some(t) if !t.is_empty() => page_token = t.to_string(),
            _ => return Ok(n),
        }
    }
}

/// The running jobs of one location, then each job read by a get, in turn.
async fn bare_join(client: &reqwest::Client, base: &str, token: &str) -> Result<u64> {
    let url = format!(
        "{base}/v1/projects/{PROJECT}/locations/{}/customJobs",
        LOCATIONS[0]
    );
    let mut names = Vec::new();
    let mut page_token = String::new();
    loop {
        let mut req = client
            .get(&url)
            .bearer_auth(token)
            .query(&[("filter", "state=\"JOB_STATE_RUNNING\"")]);
        if !page_token.is_empty() {
            req = req.query(&[("pageToken", &page_token)]);
        }
        let page: Value = req.send().await?.error_for_status()?.json().await?;
        for job in page["customJobs"].as_array().into_iter().flatten() {
            if let Some(n) = job["name"].as_str() {
                names.push(n.to_string());
            }
        }
        match page["nextPageToken"].as_str() {
            Some(t) if !t.is_empty() => page_token = t.to_string(),
            _ => break,
        }
    }
    let mut n = 0;
    for name in names {
        let job: Value = client
            .get(format!("{base}/v1/{name}"))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        n += u64::from(job["state"].is_string());
    }
    Ok(n)
}

fn python_count(python: &Path, emu: &Emulator, doc: &Path, locations: &[&str]) -> Result<u64> {
    let script = crate::root().join("xtask/bench/python_list.py");
    let out = Command::new(python)
        .arg(script)
        .arg(&emu.base_url)
        .arg(&emu.key_file)
        .arg(doc)
        .arg(PROJECT)
        .args(locations)
        .output()?;
    if !out.status.success() {
        bail!(
            "python client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout)?;
    v["jobs"].as_u64().context("python printed no count")
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

pub fn run(args: &[String]) -> Result<()> {
    let mut jobs = 20_000usize;
    let mut latency = 20u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().with_context(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--jobs" => jobs = v.parse()?,
            "--latency-ms" => latency = v.parse()?,
            other => bail!("unknown option {other}: use --jobs N, --latency-ms L"),
        }
    }
    let root = crate::root();
    let bin = crate::release_skyql()?;
    let docs = crate::discovery::fetch(false)?;
    let doc = docs.join("aiplatform.v1.json");
    let python = crate::test::venv_python(&root)?;
    let work = root.join("target/bench-select");
    std::fs::create_dir_all(&work)?;
    let home = work.join("home");
    // The emulator enforces no quota, and this measures the engine against
    // the floor: skyql's own pacing at Google's published rates (600/min per
    // project for Vertex AI) is lifted. With it, the 1,000 gets of the join
    // row take a minute's allowance at once and then ten a second.
    std::fs::create_dir_all(&home)?;
    std::fs::write(
        home.join("quotas.json"),
        r#"{"default_per_project_per_minute": 1000000}"#,
    )?;
    let rt = tokio::runtime::Runtime::new()?;

    let emu = start_emulator(&bin, &work, jobs, latency)?;
    let token = rt.block_on(token(&emu.base_url))?;
    let client = reqwest::Client::new();
    let per_location = jobs / 2;
    let pages = per_location.div_ceil(100);
    println!(
        "{jobs} jobs ({per_location} per location, {pages} pages of 100 each), {latency} ms added to every response; median of {RUNS} runs\n"
    );
    println!("| reads | bare HTTP loop (floor) | skyql exec | Python client |\n|---|---|---|---|");
    let one = [LOCATIONS[0]];
    let (bare1, n1) =
        time(|| rt.block_on(bare_location(&client, &emu.base_url, &token, LOCATIONS[0])))?;
    let (sky1, s1) = time(|| skyql_count(&bin, &emu, &home, &one))?;
    let (py1, p1) = time(|| python_count(&python, &emu, &doc, &one))?;
    if !(n1 == s1 && s1 == p1) {
        bail!("counts differ: bare {n1}, skyql {s1}, python {p1}");
    }
    println!(
        "| one location, {pages} pages | {} | {} ({:.2}×) | {} ({:.2}×) |",
        ms(bare1),
        ms(sky1),
        sky1.as_secs_f64() / bare1.as_secs_f64(),
        ms(py1),
        py1.as_secs_f64() / bare1.as_secs_f64()
    );
    let (bare2, n2) = time(|| {
        rt.block_on(async {
            let a = bare_location(&client, &emu.base_url, &token, LOCATIONS[0]).await?;
            let b = bare_location(&client, &emu.base_url, &token, LOCATIONS[1]).await?;
            Ok(a + b)
        })
    })?;
    let (sky2, s2) = time(|| skyql_count(&bin, &emu, &home, &LOCATIONS))?;
    let (py2, p2) = time(|| python_count(&python, &emu, &doc, &LOCATIONS))?;
    if !(n2 == s2 && s2 == p2) {
        bail!("counts differ: bare {n2}, skyql {s2}, python {p2}");
    }
    println!(
        "| two locations (`IN`), {} pages | {} (one after the other) | {} ({:.2}×) | {} ({:.2}×) |",
        pages * 2,
        ms(bare2),
        ms(sky2),
        sky2.as_secs_f64() / bare2.as_secs_f64(),
        ms(py2),
        py2.as_secs_f64() / bare2.as_secs_f64()
    );
    // A join: the running jobs of one location (a filtered list), then a get
    // for each. The bare loop gets them one after another, as a nested-loop
    // join would; skyql's discovery pass prefetches the gets concurrently.
    let (bare3, n3) = time(|| rt.block_on(bare_join(&client, &emu.base_url, &token)))?;
    let join_sql = format!(
        "SELECT count(b.state) FROM google.aiplatform.custom_jobs a JOIN google.aiplatform.custom_jobs b \
         ON b.projectsId = a.projectsId AND b.locationsId = a.locationsId AND b.customJobsId = a.customJobsId \
         WHERE a.projectsId = '{PROJECT}' AND a.locationsId = '{}' AND a.state = 'JOB_STATE_RUNNING'",
        LOCATIONS[0]
    );
    let (sky3, s3) = time(|| skyql_sql(&bin, &emu, &home, &join_sql))?;
    if n3 != s3 {
        bail!("join counts differ: bare {n3}, skyql {s3}");
    }
    println!(
        "| join: {n3} running jobs of one location, then a get each | {} (gets one by one) | {} ({:.2}×) | |",
        ms(bare3),
        ms(sky3),
        sky3.as_secs_f64() / bare3.as_secs_f64()
    );
    drop(emu);

    // Memory: rows stream, so a count over 100,000 jobs stays small.
    let big = start_emulator(&bin, &work, 100_000, 0)?;
    let list: Vec<String> = LOCATIONS.iter().map(|l| format!("'{l}'")).collect();
    let sql = format!(
        "SELECT count(*) FROM google.aiplatform.custom_jobs WHERE projectsId = '{PROJECT}' AND locationsId IN ({})",
        list.join(", ")
    );
    let auth = format!(
        r#"{{"google":{{"type":"service_account","credentialsfilepath":"{}"}}}}"#,
        big.key_file.display()
    );
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(&bin)
        .arg("--home")
        .arg(&home)
        .args([
            "--endpoint",
            &big.base_url,
            "--auth",
            &auth,
            "exec",
            &sql,
            "-o",
            "text",
        ])
        .output()
        .context("running /usr/bin/time (Debian package `time`)")?;
    if !out.status.success() {
        bail!("skyql failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let count = stdout.lines().nth(1).unwrap_or("?").trim().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kib: u64 = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .context("no peak RSS")?;
    println!(
        "\n`SELECT count(*)` over 100,000 jobs (two locations, 1,000 pages; counted {count}): peak RSS {:.1} MiB",
        kib as f64 / 1024.0
    );
    Ok(())
}
