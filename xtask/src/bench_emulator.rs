//! `cargo xtask bench-emulator`: throughput and memory of `skyql emulator` over loopback,
//! with the load generator on the same machine (issue 3 targets: at least 5,000 get
//! requests/s, 500 full list pages of 100 jobs/s, and 100,000 jobs held in well under
//! 1 GiB). Prints a markdown section to paste into BENCHMARKS.md.
//!
//! It builds the release binary, starts `skyql emulator --seed-jobs 100000` as a child,
//! takes a token from the emulator's metadata route, and drives it with a minimal
//! keep-alive HTTP/1.1 client (written here so that the load generator costs as little CPU
//! as possible): many connections, each sending requests back to back. Memory is the
//! child's VmRSS from /proc. Options: `--jobs N`, `--seconds S`, `--connections C`,
//! `--bin PATH` (skip the build).
//!
//! A second section measures the Discovery-driven emulator the same way (`skyql emulator
//! --services compute`, seeded with `--instances N` compute instances through `--seed`):
//! `compute.instances.get` and full list pages of 100 instances. It needs the pinned
//! documents ($SKYQL_DISCOVERY_DIR, else `.discovery/`) and says so when they are absent.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Options {
    jobs: usize,
    instances: usize,
    seconds: f64,
    connections: usize,
    bin: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        jobs: 100_000,
        instances: 10_000,
        seconds: 5.0,
        connections: 32,
        bin: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context(format!("{a} needs a value"));
        match a.as_str() {
            "--jobs" => o.jobs = value()?.parse()?,
            "--instances" => o.instances = value()?.parse()?,
            "--seconds" => o.seconds = value()?.parse()?,
            "--connections" => o.connections = value()?.parse()?,
            "--bin" => o.bin = Some(PathBuf::from(value()?)),
            other => bail!(
                "unknown option {other}: use --jobs N, --instances N, --seconds S, --connections C, --bin PATH"
            ),
        }
    }
    Ok(o)
}

/// Kills the child on every exit path.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    let bin = match &opts.bin {
        Some(b) => b.clone(),
        None => crate::release_skyql()?,
    };
    let started = Instant::now();
    let mut child = Command::new(&bin)
        .args([
            "emulator",
            "--addr",
            "127.0.0.1:0",
            "--clock",
            "frozen",
            "--seed-jobs",
            &opts.jobs.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let pid = child.id();
    let guard = Guard(child);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
    let base = line.trim().to_string();
    let addr = base
        .strip_prefix("http://")
        .context(format!("unexpected first line {base:?}"))?
        .to_string();
    let startup = started.elapsed();
    let rss_loaded = rss_kib(pid)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = runtime.block_on(measure(&addr, &opts))?;
    let rss_after = rss_kib(pid)?;
    drop(guard);

    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("## Emulator\n");
    println!(
        "Command: `cargo xtask bench-emulator` (release build; `skyql emulator --seed-jobs {}` as a child process; {} keep-alive connections from a minimal HTTP/1.1 client in the same machine, {cpus} cores shared; {} s per measurement; default pretty-printed JSON).\n",
        opts.jobs, opts.connections, opts.seconds
    );
    println!(
        "Targets (issue 3): at least 5,000 get/s and 500 full list pages (100 jobs)/s; 100,000 jobs in well under 1 GiB.\n"
    );
    println!("| measurement | result |");
    println!("|---|---|");
    println!(
        "| start-up with {} seeded jobs (spawn to base URL printed) | {:.0} ms |",
        opts.jobs,
        startup.as_secs_f64() * 1000.0
    );
    println!(
        "| `customJobs.get` | {:.0} requests/s (p50 {:.2} ms, p99 {:.2} ms) |",
        report.get.rate, report.get.p50_ms, report.get.p99_ms
    );
    println!(
        "| `customJobs.list`, full pages of 100 jobs, following nextPageToken | {:.0} pages/s (p50 {:.2} ms, p99 {:.2} ms; {:.0} KB per page) |",
        report.list.rate,
        report.list.p50_ms,
        report.list.p99_ms,
        report.page_bytes as f64 / 1024.0
    );
    println!(
        "| memory (VmRSS) holding {} jobs, after seeding | {:.1} MiB |",
        opts.jobs,
        rss_loaded as f64 / 1024.0
    );
    println!(
        "| memory (VmRSS) after the load | {:.1} MiB |",
        rss_after as f64 / 1024.0
    );
    if report.errors > 0 {
        println!("\n{} requests failed.", report.errors);
    }
    compute_section(&bin, &opts)
}

/// The Discovery-driven emulator serving compute, seeded with `opts.instances` instances.
fn compute_section(bin: &std::path::Path, opts: &Options) -> Result<()> {
    let root = crate::root();
    let dir = std::env::var_os("SKYQL_DISCOVERY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".discovery"));
    println!("\n### Discovery-driven emulator: compute\n");
    if !dir.join("compute.v1.json").is_file() {
        println!(
            "Not measured: {} has no compute.v1.json (run cargo xtask fetch-discovery).",
            dir.display()
        );
        return Ok(());
    }
    let zone = "us-central1-a";
    let instances: Vec<serde_json::Value> = (0..opts.instances)
        .map(|i| {
            serde_json::json!({
                "name": format!("vm-{i:06}"),
                "machineType": format!("zones/{zone}/machineTypes/e2-small"),
                "labels": {"team": format!("t{}", i % 10)},
                "networkInterfaces": [{"network": "global/networks/default"}],
                "disks": [{"boot": true, "autoDelete": true, "initializeParams": {"sourceImage": "projects/debian-cloud/global/images/family/debian-12"}}]
            })
        })
        .collect();
    let collection = format!("projects/demo-project/zones/{zone}/instances");
    let seed = serde_json::json!({"compute": {collection.clone(): instances}});
    let seed_file =
        std::env::temp_dir().join(format!("skyql-bench-compute-{}.json", std::process::id()));
    std::fs::write(&seed_file, serde_json::to_vec(&seed)?)?;
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args([
            "emulator",
            "--services",
            "compute",
            "--addr",
            "127.0.0.1:0",
            "--clock",
            "frozen",
        ])
        .arg("--discovery-dir")
        .arg(&dir)
        .arg("--seed")
        .arg(&seed_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let pid = child.id();
    let guard = Guard(child);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
    let _ = std::fs::remove_file(&seed_file);
    let base = line.trim().to_string();
    let addr = base
        .strip_prefix("http://")
        .context(format!("the compute emulator did not start: {base:?}"))?
        .to_string();
    let startup = started.elapsed();
    let rss_loaded = rss_kib(pid)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let list_path = format!("/compute/v1/{collection}?maxResults=100");
    let item = |n: &str| format!("/compute/v1/{collection}/{n}");
    let names: Vec<String> = (0..opts.instances.min(2_000))
        .map(|i| item(&format!("vm-{i:06}")))
        .collect();
    let report = runtime.block_on(measure_paths(
        &addr,
        opts,
        names,
        list_path,
        ("compute.instances.get", "compute.instances.list"),
    ))?;
    let rss_after = rss_kib(pid)?;
    drop(guard);
    println!(
        "Command: `cargo xtask bench-emulator` (release build; `skyql emulator --services compute --seed FILE` with {} instances in one zone; same client and connections as above).\n",
        opts.instances
    );
    println!("Targets (issue 9): at least 5,000 get/s and 500 full list pages/s.\n");
    println!("| measurement | result |");
    println!("|---|---|");
    println!(
        "| start-up: compute v1 document and {} seeded instances (spawn to base URL printed) | {:.0} ms |",
        opts.instances,
        startup.as_secs_f64() * 1000.0
    );
    println!(
        "| `compute.instances.get` | {:.0} requests/s (p50 {:.2} ms, p99 {:.2} ms) |",
        report.get.rate, report.get.p50_ms, report.get.p99_ms
    );
    println!(
        "| `compute.instances.list`, full pages of 100 instances (`maxResults=100`), following nextPageToken | {:.0} pages/s (p50 {:.2} ms, p99 {:.2} ms; {:.0} KB per page) |",
        report.list.rate,
        report.list.p50_ms,
        report.list.p99_ms,
        report.page_bytes as f64 / 1024.0
    );
    println!(
        "| memory (VmRSS) after seeding / after the load | {:.1} MiB / {:.1} MiB |",
        rss_loaded as f64 / 1024.0,
        rss_after as f64 / 1024.0
    );
    if report.errors > 0 {
        println!("\n{} requests failed.", report.errors);
    }
    Ok(())
}

/// Measures gets of `names` and full list pages of `list_path` (whose query may already
/// have parameters); the stats names let the server's own counts be cross-checked.
async fn measure_paths(
    addr: &str,
    opts: &Options,
    names: Vec<String>,
    list_path: String,
    stats_names: (&'static str, &'static str),
) -> Result<Report> {
    let mut c = Conn::open(addr).await?;
    let auth = Arc::new(metadata_auth(&mut c).await?);
    if c.get(&names[0], &auth).await? != 200 {
        bail!("get failed: {}", String::from_utf8_lossy(&c.buf));
    }
    let page_bytes = {
        c.get(&list_path, &auth).await?;
        c.buf.len()
    };
    let names = Arc::new(names);
    let errors = Arc::new(AtomicU64::new(0));
    let get = {
        let names = names.clone();
        let auth = auth.clone();
        run_load(addr, opts, errors.clone(), move |conn, i| {
            let names = names.clone();
            let auth = auth.clone();
            Box::pin(async move {
                let path = &names[i % names.len()];
                Ok(conn.get(path, &auth).await? == 200)
            })
        })
        .await?
    };
    let sep = if list_path.contains('?') { '&' } else { '?' };
    let list = {
        let auth = auth.clone();
        let list_path = Arc::new(list_path);
        run_load(addr, opts, errors.clone(), move |conn, _| {
            let auth = auth.clone();
            let list_path = list_path.clone();
            Box::pin(async move {
                let token = std::mem::take(conn.host_token());
                // Follow the page chain; start over at its end.
                let path = match token {
                    Some(t) => format!("{list_path}{sep}pageToken={t}"),
                    None => list_path.to_string(),
                };
                let ok = conn.get(&path, &auth).await? == 200;
                let next = find_token(&conn.buf);
                *conn.host_token() = next;
                Ok(ok)
            })
        })
        .await?
    };
    c.get("/emulator/stats", "").await?;
    let stats: serde_json::Value = serde_json::from_slice(&c.buf)?;
    let served = |m: &str| {
        stats["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["method"] == m && r["status"] == 200)
            .filter_map(|r| r["count"].as_u64())
            .sum::<u64>()
    };
    let (gets, lists) = (served(stats_names.0), served(stats_names.1));
    if (gets as f64) < get.rate * opts.seconds || (lists as f64) < list.rate * opts.seconds {
        bail!("the server answered fewer requests ({gets} gets, {lists} lists) than measured");
    }
    Ok(Report {
        get,
        list,
        page_bytes,
        errors: errors.load(Ordering::Relaxed),
    })
}

pub(crate) fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("cannot read /proc (Linux only)")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .context("no VmRSS in /proc status")
}

/// One keep-alive connection.
struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: &str) -> Result<Self> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(s),
            host: addr.to_string(),
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// Sends a GET and returns (status, body) — the body stays in `self.buf`.
    async fn get(&mut self, path: &str, headers: &str) -> Result<u16> {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{headers}\r\n",
            self.host
        );
        self.stream.get_mut().write_all(req.as_bytes()).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("bad status line")?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse()?;
            }
        }
        self.buf.resize(len, 0);
        self.stream.read_exact(&mut self.buf).await?;
        Ok(status)
    }
}

struct Rate {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

struct Report {
    get: Rate,
    list: Rate,
    page_bytes: usize,
    errors: u64,
}

/// The Vertex AI rows: the job names on the first pages to get, then the
/// same measurement as every other service's.
async fn measure(addr: &str, opts: &Options) -> Result<Report> {
    let mut c = Conn::open(addr).await?;
    let auth = metadata_auth(&mut c).await?;
    let list_path = "/v1/projects/demo-project/locations/us-central1/customJobs";
    let mut names = Vec::new();
    let mut next: Option<String> = None;
    while names.len() < 2_000 {
        let path = match &next {
            Some(t) => format!("{list_path}?pageToken={t}"),
            None => list_path.to_string(),
        };
        if c.get(&path, &auth).await? != 200 {
            bail!("list failed: {}", String::from_utf8_lossy(&c.buf));
        }
        let page: serde_json::Value = serde_json::from_slice(&c.buf)?;
        for j in page["customJobs"].as_array().into_iter().flatten() {
            if let Some(n) = j["name"].as_str() {
                names.push(format!("/v1/{n}"));
            }
        }
        match page["nextPageToken"].as_str() {
            Some(t) => next = Some(t.to_string()),
            None => break,
        }
    }
    if names.is_empty() {
        bail!("the emulator has no jobs to get");
    }
    measure_paths(
        addr,
        opts,
        names,
        list_path.to_string(),
        ("customJobs.get", "customJobs.list"),
    )
    .await
}

/// The `Authorization` header line for a token from the emulator's metadata route.
async fn metadata_auth(c: &mut Conn) -> Result<String> {
    let status = c
        .get(
            "/computeMetadata/v1/instance/service-accounts/default/token",
            "Metadata-Flavor: Google\r\n",
        )
        .await?;
    if status != 200 {
        bail!("cannot get a token from the metadata route: {status}");
    }
    let token: serde_json::Value = serde_json::from_slice(&c.buf)?;
    let token = token["access_token"].as_str().context("no access_token")?;
    Ok(format!("Authorization: Bearer {token}\r\n"))
}

/// The `nextPageToken` value in a list response, found without parsing the whole page.
fn find_token(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let at = text.rfind("\"nextPageToken\"")?;
    let rest = &text[at + "\"nextPageToken\"".len()..];
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')? + start;
    Some(rest[start..end].to_string())
}

type Step = dyn Fn(
        &mut LoadConn,
        usize,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool>> + Send + '_>>
    + Send
    + Sync;

/// A connection plus the page token it is following.
struct LoadConn {
    conn: Conn,
    token: Option<String>,
}

impl std::ops::Deref for LoadConn {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}
impl std::ops::DerefMut for LoadConn {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}
impl LoadConn {
    fn host_token(&mut self) -> &mut Option<String> {
        &mut self.token
    }
}

async fn run_load<F>(addr: &str, opts: &Options, errors: Arc<AtomicU64>, step: F) -> Result<Rate>
where
    F: Fn(
            &mut LoadConn,
            usize,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool>> + Send + '_>>
        + Send
        + Sync
        + 'static,
{
    let step: Arc<Step> = Arc::new(step);
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..opts.connections {
        let conn = Conn::open(addr).await?;
        let step = step.clone();
        let stop = stop.clone();
        let measuring = measuring.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut lc = LoadConn { conn, token: None };
            let mut lat = Vec::with_capacity(100_000);
            let mut i = c * 7919;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match step(&mut lc, i).await {
                    Ok(true) => {}
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if measuring.load(Ordering::Relaxed) {
                    lat.push(t.elapsed().as_micros() as u32);
                }
                i += 1;
            }
            lat
        }));
    }
    // One second of warm-up, then the measured window.
    tokio::time::sleep(Duration::from_secs(1)).await;
    measuring.store(true, Ordering::Relaxed);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(opts.seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut all: Vec<u32> = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    Ok(Rate {
        rate: all.len() as f64 / elapsed,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
    })
}
