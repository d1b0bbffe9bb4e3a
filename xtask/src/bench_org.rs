//! `cargo xtask bench-org`: an organisation-wide inventory against per-project quotas.
//! `skyql emulator --seed-projects N --seed-jobs J --project-quota Q` (release build, a
//! child process on a real clock, latency added to every response) holds N projects
//! in a folder tree; one skyql statement walks the tree (a recursive CTE over
//! `google.cloudresourcemanager.folders`), lists the projects and reads every project's
//! custom jobs in two locations:
//!
//! ```sql
//! WITH RECURSIVE nodes(name) AS (...)
//! SELECT count(*), count(DISTINCT projectsId) FROM google.aiplatform.custom_jobs
//! WHERE projectsId IN (SELECT projectId FROM google.cloudresourcemanager.projects
//!                      WHERE parent IN (SELECT name FROM nodes))
//!   AND locationsId IN ('us-central1', 'europe-west4')
//! ```
//!
//! Under the binding quota the projects come as an explicit `IN` list instead (the
//! tree's Resource Manager calls are charged to one project, which a 1/min quota
//! would hold back for a quarter of an hour).
//!
//! Every run must count exactly the seeded rows (N × J jobs in N projects) or the
//! benchmark fails. It prints skyql's wall time next to the ideal the quota and the
//! client's concurrency allow, for the quota asked (default 600/min, which a two-call
//! project never reaches) and for a binding one (1/min: each project's second call
//! must wait a minute), then the same statement split with `--shard I/4` over four
//! processes run side by side, when this skyql has `--shard` (on `exec`, counting; or
//! on `export`, writing JSONL parts that `export --merge` must find complete, with
//! the rows counted from the files). Also the emulator's
//! start-up and memory with N projects. Prints markdown for BENCHMARKS.md.
//! Options: `--projects N` (1000), `--jobs J` per project (4), `--quota Q` (600),
//! `--latency-ms L` (20), `--runs R` (3), `--binding-quota Q` (1; 0 skips that row),
//! `--fault-rate P` (0: the emulator's transient 429/503 faults on top of the quota).

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ORG: &str = "organizations/123456789012";
/// The nodes of the emulator's tree (organization and three folders), for the ideal.
const TREE_NODES: usize = 4;
/// Requests a statement may have in flight (skyql's default `--concurrency`).
const CONCURRENCY: usize = 16;

use crate::emulator_child::Emulator;

struct Options {
    projects: usize,
    jobs: usize,
    quota: u32,
    latency_ms: u64,
    runs: usize,
    binding_quota: u32,
    /// Fraction of API calls the emulator answers 429 or 503 (transient faults).
    fault_rate: f64,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        projects: 1_000,
        jobs: 4,
        quota: 600,
        latency_ms: 20,
        runs: 3,
        binding_quota: 1,
        fault_rate: 0.0,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().with_context(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--projects" => o.projects = v.parse()?,
            "--jobs" => o.jobs = v.parse()?,
            "--quota" => o.quota = v.parse()?,
            "--latency-ms" => o.latency_ms = v.parse()?,
            "--runs" => o.runs = v.parse::<usize>()?.max(1),
            "--binding-quota" => o.binding_quota = v.parse()?,
            "--fault-rate" => o.fault_rate = v.parse()?,
            other => bail!(
                "unknown option {other}: use --projects N, --jobs J, --quota Q, --latency-ms L, --runs R, --binding-quota Q, --fault-rate P"
            ),
        }
    }
    if o.projects == 0 || o.quota == 0 {
        bail!("--projects and --quota must be at least 1");
    }
    Ok(o)
}

fn start_emulator(bin: &Path, dir: &Path, o: &Options, quota: u32) -> Result<Emulator> {
    let args = [
        ("--seed-projects", o.projects.to_string()),
        ("--seed-jobs", o.jobs.to_string()),
        ("--project-quota", quota.to_string()),
        ("--latency-ms", o.latency_ms.to_string()),
        ("--fault-rate", o.fault_rate.to_string()),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_string(), value])
    .collect::<Vec<_>>();
    crate::emulator_child::start(bin, dir.join(format!("key-{quota}.json")), &args)
}

/// Where the statement gets its projects from.
#[derive(Clone, Copy)]
enum Source {
    /// Resource Manager: the folder tree walked by a recursive CTE.
    Tree,
    /// An explicit `IN` list of every project id (no Resource Manager calls).
    List,
}

/// The statement: every project, two locations.
fn statement(source: Source, projects: usize, select: &str) -> String {
    if let Source::List = source {
        let ids: Vec<String> = (1..=projects)
            .map(|k| format!("'demo-project-{k}'"))
            .collect();
        return format!(
            "SELECT {select} FROM google.aiplatform.custom_jobs WHERE projectsId IN ({}) \
             AND locationsId IN ('us-central1', 'europe-west4')",
            ids.join(", ")
        );
    }
    format!(
        "WITH RECURSIVE nodes(name) AS (SELECT '{ORG}' UNION ALL \
         SELECT f.name FROM nodes n JOIN google.cloudresourcemanager.folders f ON f.parent = n.name) \
         SELECT {select} FROM google.aiplatform.custom_jobs \
         WHERE projectsId IN (SELECT projectId FROM google.cloudresourcemanager.projects \
                              WHERE parent IN (SELECT name FROM nodes)) \
           AND locationsId IN ('us-central1', 'europe-west4')"
    )
}

/// How this skyql runs one shard of a statement, if it can: `exec --shard I/N` (a
/// count per shard), or `export --shard I/N` (the rows into JSONL part files, checked
/// afterwards by `export --merge`).
enum ShardMode {
    Exec,
    Export,
}

fn shard_mode(bin: &Path) -> Result<Option<ShardMode>> {
    let has_option = |args: &[&str]| -> Result<bool> {
        let out = Command::new(bin).args(args).output()?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.trim_start().starts_with("--shard ")))
    };
    Ok(if has_option(&["exec", "--help"])? {
        Some(ShardMode::Exec)
    } else if has_option(&["export", "--help"])? {
        Some(ShardMode::Export)
    } else {
        None
    })
}

/// A skyql command with the emulator's endpoint and credentials.
fn skyql(bin: &Path, emu: &Emulator, home: &Path) -> Command {
    let auth = format!(
        r#"{{"google":{{"type":"service_account","credentialsfilepath":"{}"}}}}"#,
        emu.key_file.display()
    );
    let mut cmd = Command::new(bin);
    cmd.arg("--home").arg(home);
    cmd.args(["--endpoint", &emu.base_url, "--auth", &auth]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// Starts one skyql process counting the statement's rows (optionally one shard).
fn spawn_count(
    bin: &Path,
    emu: &Emulator,
    home: &Path,
    sql: &str,
    shard: Option<(usize, usize)>,
) -> Result<Child> {
    let mut cmd = skyql(bin, emu, home);
    cmd.arg("exec");
    if let Some((i, n)) = shard {
        cmd.args(["--shard", &format!("{i}/{n}")]);
    }
    cmd.args([sql, "-o", "json"])
        .spawn()
        .context("starting skyql")
}

/// Starts `skyql export --shard I/N` writing the statement's rows as JSONL into `out`.
fn spawn_export(
    bin: &Path,
    emu: &Emulator,
    home: &Path,
    sql: &str,
    (i, n): (usize, usize),
    out: &Path,
) -> Result<Child> {
    let mut cmd = skyql(bin, emu, home);
    cmd.args([
        "export",
        "--format",
        "jsonl",
        "--shard",
        &format!("{i}/{n}"),
    ])
    .arg("--out")
    .arg(out)
    .arg(sql)
    .spawn()
    .context("starting skyql export")
}

/// Waits for a skyql process; its stdout, or an error with its stderr.
fn finish(child: Child) -> Result<Vec<u8>> {
    finish_by(child, None)?.context("skyql was stopped")
}

/// Waits for a skyql process until `deadline` (if any); `None` when it was still running
/// then (it is killed). Its stdout, or an error with its stderr. Both pipes are drained
/// while it runs (skyql's `-o json` report on stderr fills a pipe's buffer).
fn finish_by(mut child: Child, deadline: Option<Instant>) -> Result<Option<Vec<u8>>> {
    fn drain<R: std::io::Read + Send + 'static>(
        pipe: Option<R>,
    ) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    let Some(status) = status else {
        return Ok(None);
    };
    if !status.success() {
        let err = String::from_utf8_lossy(&err);
        bail!(
            "skyql failed ({status}): {}",
            err.lines()
                .find(|l| !l.trim_start().starts_with('{'))
                .unwrap_or("")
        );
    }
    Ok(Some(out))
}

/// (rows, distinct projects) of the JSONL part files an export wrote into `dir`.
fn exported(dir: &Path) -> Result<(u64, u64)> {
    let mut rows = 0;
    let mut projects = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !(name.starts_with("part-") && name.ends_with(".jsonl")) {
            continue;
        }
        for line in std::fs::read_to_string(&path)?.lines() {
            let v: Value = serde_json::from_str(line)
                .with_context(|| format!("{}: not JSON: {line}", path.display()))?;
            rows += 1;
            projects.insert(v["projectsId"].as_str().unwrap_or("").to_string());
        }
    }
    Ok((rows, projects.len() as u64))
}

/// Reads the (jobs, projects) a counting skyql printed; `None` if it had not finished
/// by `deadline`.
fn counts_by(child: Child, deadline: Option<Instant>) -> Result<Option<(u64, u64)>> {
    let Some(stdout) = finish_by(child, deadline)? else {
        return Ok(None);
    };
    let v: Value = serde_json::from_slice(&stdout).with_context(|| {
        format!(
            "skyql printed no JSON: {}",
            String::from_utf8_lossy(&stdout)
        )
    })?;
    let row = v.get(0).unwrap_or(&v);
    let num = |k: &str| {
        row[k]
            .as_u64()
            .or_else(|| row[k].as_str().and_then(|s| s.parse().ok()))
            .with_context(|| format!("no `{k}` in {v}"))
    };
    Ok(Some((num("jobs")?, num("projects")?)))
}

/// API requests the emulator answered (every status), from `/emulator/stats`.
async fn answered(base: &str) -> Result<(u64, u64)> {
    let v: Value = reqwest::get(format!("{base}/emulator/stats"))
        .await?
        .json()
        .await?;
    let mut all = 0;
    let mut limited = 0;
    for r in v["requests"].as_array().into_iter().flatten() {
        if r["method"] == "token" || r["method"] == "metadata.token" {
            continue;
        }
        let n = r["count"].as_u64().unwrap_or(0);
        all += n;
        if r["status"] == 429 {
            limited += n;
        }
    }
    Ok((all, limited))
}

/// Requests one run needs, and the ideal wall time: the slowest quota bucket (a full
/// bucket holds a minute's allowance, then one token every 60/Q s) or the client's
/// concurrency at the emulator's latency, whichever is longer.
fn ideal(o: &Options, quota: u32, source: Source) -> (usize, Duration) {
    let pages = |n: usize| n.div_ceil(100).max(1);
    let per_project = pages(o.jobs.div_ceil(2)) + pages(o.jobs / 2);
    let per_node = o.projects.div_ceil(TREE_NODES);
    let crm = match source {
        Source::Tree => TREE_NODES * (1 + pages(per_node)),
        Source::List => 0,
    };
    let total = o.projects * per_project + crm;
    let bucket = |r: usize| r.saturating_sub(quota as usize) as f64 * 60.0 / f64::from(quota);
    let quota_bound = bucket(per_project).max(bucket(crm));
    let rate_bound = total as f64 * o.latency_ms as f64 / 1000.0 / CONCURRENCY as f64;
    (total, Duration::from_secs_f64(quota_bound.max(rate_bound)))
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn check(o: &Options, got: (u64, u64)) -> Result<()> {
    let want = ((o.projects * o.jobs) as u64, o.projects as u64);
    if got != want {
        bail!(
            "skyql counted {} jobs in {} projects; the emulator seeded {} in {}",
            got.0,
            got.1,
            want.0,
            want.1
        );
    }
    Ok(())
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let root = crate::root();
    let bin = crate::release_skyql()?;
    let docs = crate::discovery::fetch(false)?;
    let work = root.join("target/bench-org");
    std::fs::create_dir_all(&work)?;
    let home = work.join("home");
    let pulled = Command::new(&bin)
        .arg("--home")
        .arg(&home)
        .args(["registry", "pull", "google.cloudresourcemanager", "--from"])
        .arg(docs.join("cloudresourcemanager.v3.json"))
        .output()?;
    if !pulled.status.success() {
        bail!(
            "pulling cloudresourcemanager v3 failed: {}",
            String::from_utf8_lossy(&pulled.stderr)
        );
    }
    let rt = tokio::runtime::Runtime::new()?;
    let shard = shard_mode(&bin)?;
    println!(
        "{} projects × 2 locations ({} jobs each), {} ms added to every response, {}% of calls answered 429 or 503, skyql --concurrency {CONCURRENCY} (default)\n",
        o.projects,
        o.jobs,
        o.latency_ms,
        o.fault_rate * 100.0
    );
    println!(
        "| run | quota per project | requests answered (429s) | skyql wall time | ideal | skyql / ideal |\n|---|---|---|---|---|---|"
    );
    let mut quotas = vec![o.quota];
    if o.binding_quota > 0 && o.binding_quota != o.quota {
        quotas.push(o.binding_quota);
    }
    let mut memory = None;
    let mut shard_failures = Vec::new();
    for (qi, &quota) in quotas.iter().enumerate() {
        // Under a binding quota the projects come as an IN list: the walk of the tree
        // (about 16 Resource Manager calls, all charged to the credentials' project)
        // would otherwise be what the quota holds back.
        let source = if qi == 0 { Source::Tree } else { Source::List };
        let sql = statement(
            source,
            o.projects,
            "count(*) AS jobs, count(DISTINCT projectsId) AS projects",
        );
        let (needed, best) = ideal(&o, quota, source);
        // A binding quota is spent by one run: one run, on a fresh emulator.
        let runs = if qi == 0 { o.runs } else { 1 };
        // A run may take at most five times the ideal (two minutes at least): a client
        // that waits in lock-step would otherwise hold the benchmark for an hour.
        let allowed = (best * 5).max(Duration::from_secs(120));
        let mut times = Vec::new();
        let mut answered_total = (0, 0);
        let mut unfinished = None;
        for _ in 0..runs {
            let emu = start_emulator(&bin, &work, &o, quota)?;
            if memory.is_none() {
                memory = Some((emu.startup, crate::bench_emulator::rss_kib(emu.child.id())?));
            }
            let started = Instant::now();
            let child = spawn_count(&bin, &emu, &home, &sql, None)?;
            let got = counts_by(child, Some(started + allowed))?;
            let elapsed = started.elapsed();
            let a = rt.block_on(answered(&emu.base_url))?;
            answered_total = (answered_total.0 + a.0, answered_total.1 + a.1);
            match got {
                Some(got) => {
                    times.push(elapsed);
                    check(&o, got)?;
                }
                None => {
                    unfinished = Some(a);
                    break;
                }
            }
        }
        let from = match source {
            Source::Tree => "folder tree (Resource Manager)",
            Source::List => "`IN` list of project ids",
        };
        if let Some((all, limited)) = unfinished {
            println!(
                "| one process, {from} | {quota}/min | {all} ({limited}) of {needed} needed | not finished in {}: stopped | {} | over {:.0}× |",
                secs(allowed),
                secs(best),
                allowed.as_secs_f64() / best.as_secs_f64().max(1e-9)
            );
            continue;
        }
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "| one process, {from}{} | {quota}/min | {} ({}) per run, {needed} needed | {} | {} | {:.2}× |",
            if runs > 1 {
                format!(", median of {runs}")
            } else {
                String::new()
            },
            answered_total.0 / runs as u64,
            answered_total.1 / runs as u64,
            secs(median),
            secs(best),
            median.as_secs_f64() / best.as_secs_f64().max(1e-9)
        );
        match &shard {
            None => {
                if qi == 0 {
                    println!(
                        "| `--shard 1/4` … `4/4` side by side | {quota}/min | | skipped: this skyql has no `--shard` | | |"
                    );
                }
            }
            Some(mode) => {
                let how = match mode {
                    ShardMode::Exec => "`exec --shard 1/4` … `4/4`",
                    ShardMode::Export => "`export --shard 1/4` … `4/4` (JSONL, then `--merge`)",
                };
                let ctx = Run {
                    bin: &bin,
                    home: &home,
                    work: &work,
                    o: &o,
                    quota,
                    source,
                    allowed,
                };
                match run_shards(&ctx, mode, &sql, &rt) {
                    Ok((answered, wall)) => println!(
                        "| {how}, four processes side by side, {from} | {quota}/min | {} ({}) | {} | {} | {:.2}× |",
                        answered.0,
                        answered.1,
                        secs(wall),
                        secs(best),
                        wall.as_secs_f64() / best.as_secs_f64().max(1e-9)
                    ),
                    Err(e) => {
                        let first = format!("{e:#}");
                        let first = first.lines().next().unwrap_or("").replace('|', "\\|");
                        println!(
                            "| {how}, four processes side by side, {from} | {quota}/min | | failed: {first} | | |"
                        );
                        shard_failures.push(first);
                    }
                }
            }
        }
    }
    if !shard_failures.is_empty() {
        println!(
            "\nThe shard rows failed ({}): the figures above stand, the exit status says so.",
            shard_failures.len()
        );
    }
    if let Some((startup, kib)) = memory {
        println!(
            "\nEmulator with {} projects and {} jobs: start-up (spawn to base URL) {:.0} ms, memory (VmRSS) {:.1} MiB",
            o.projects,
            o.projects * o.jobs,
            startup.as_secs_f64() * 1000.0,
            kib as f64 / 1024.0
        );
    }
    if let Some(first) = shard_failures.first() {
        bail!("a sharded run failed: {first}");
    }
    Ok(())
}

/// What one row of the benchmark runs against.
struct Run<'a> {
    bin: &'a Path,
    home: &'a Path,
    work: &'a Path,
    o: &'a Options,
    quota: u32,
    source: Source,
    /// The longest a run may take.
    allowed: Duration,
}

/// Four shards side by side on a fresh emulator: (requests answered, 429s) and the
/// wall time of the slowest; the rows must add up to exactly the seeded ones.
fn run_shards(
    r: &Run<'_>,
    mode: &ShardMode,
    count_sql: &str,
    rt: &tokio::runtime::Runtime,
) -> Result<((u64, u64), Duration)> {
    let emu = start_emulator(r.bin, r.work, r.o, r.quota)?;
    let out = r.work.join(format!("shards-{}", r.quota));
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    let rows_sql = statement(r.source, r.o.projects, "projectsId, locationsId, name");
    let started = Instant::now();
    let children = (1..=4)
        .map(|i| match mode {
            ShardMode::Exec => spawn_count(r.bin, &emu, r.home, count_sql, Some((i, 4))),
            ShardMode::Export => spawn_export(r.bin, &emu, r.home, &rows_sql, (i, 4), &out),
        })
        .collect::<Result<Vec<_>>>()?;
    let mut sum = (0, 0);
    let mut failed = None;
    let deadline = Some(started + r.allowed);
    let late = || anyhow::anyhow!("not finished in {}: stopped", secs(r.allowed));
    for c in children {
        let result = match mode {
            ShardMode::Exec => counts_by(c, deadline)
                .and_then(|got| got.ok_or_else(late))
                .map(|(j, p)| sum = (sum.0 + j, sum.1 + p)),
            ShardMode::Export => finish_by(c, deadline)
                .and_then(|got| got.ok_or_else(late))
                .map(|_| ()),
        };
        if let Err(e) = result {
            failed.get_or_insert(e);
        }
    }
    let wall = started.elapsed();
    if let Some(e) = failed {
        return Err(e);
    }
    if let ShardMode::Export = mode {
        sum = exported(&out)?;
        let mut merge = skyql(r.bin, &emu, r.home);
        merge.args(["export", "--merge"]).arg(&out);
        finish(merge.spawn().context("starting skyql export --merge")?)
            .context("`skyql export --merge` found the shards incomplete")?;
    }
    // A project's two locations may fall in different shards: the shards' distinct
    // projects add up to more than N, so only the jobs are summed for exec shards.
    if let ShardMode::Exec = mode {
        sum.1 = r.o.projects as u64;
    }
    check(r.o, sum)?;
    Ok((rt.block_on(answered(&emu.base_url))?, wall))
}
