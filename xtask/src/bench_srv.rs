//! `cargo xtask bench-srv`: many PostgreSQL clients at once against
//! `skyql srv --emulator` (release build, a child process): 50 connections,
//! each alternating a list query (one location's jobs) and a get query (one
//! job by id) over the simple query protocol, from a minimal wire-protocol
//! client in this process (one thread per connection). Counts errors (there
//! must be none), and prints queries/s and latency percentiles as markdown
//! for BENCHMARKS.md. Options: `--connections N` (default 50), `--secs S`
//! (default 10).

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const LIST: &str = "SELECT name, displayName, state, createTime FROM google.aiplatform.custom_jobs WHERE projectsId = 'demo-project' AND locationsId = 'us-central1'";

struct Srv(Child);

impl Drop for Srv {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A PostgreSQL connection speaking just enough of the protocol: start-up
/// without password, then simple queries.
struct Conn(TcpStream);

/// What one query returned: data rows, and the error message if any.
struct Answer {
    rows: usize,
    error: Option<String>,
    first_cell: Option<String>,
}

impl Conn {
    fn open(addr: &str) -> Result<Conn> {
        let mut s = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
        s.set_nodelay(true)?;
        let mut body = 196608u32.to_be_bytes().to_vec();
        body.extend_from_slice(b"user\0bench\0database\0skyql\0\0");
        let mut msg = ((body.len() + 4) as u32).to_be_bytes().to_vec();
        msg.extend(body);
        s.write_all(&msg)?;
        let mut c = Conn(s);
        c.read_answer()?;
        Ok(c)
    }

    fn query(&mut self, sql: &str) -> Result<Answer> {
        let mut msg = vec![b'Q'];
        msg.extend_from_slice(&((sql.len() + 5) as u32).to_be_bytes());
        msg.extend_from_slice(sql.as_bytes());
        msg.push(0);
        self.0.write_all(&msg)?;
        self.read_answer()
    }

    fn read_answer(&mut self) -> Result<Answer> {
        let mut a = Answer {
            rows: 0,
            error: None,
            first_cell: None,
        };
        loop {
            let mut head = [0u8; 5];
            self.0.read_exact(&mut head)?;
            let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
            let mut body = vec![0u8; len.saturating_sub(4)];
            self.0.read_exact(&mut body)?;
            match head[0] {
                b'D' => {
                    if a.rows == 0 && body.len() >= 6 {
                        let n = i32::from_be_bytes([body[2], body[3], body[4], body[5]]);
                        if n > 0 {
                            let end = (6 + n as usize).min(body.len());
                            a.first_cell = Some(String::from_utf8_lossy(&body[6..end]).into());
                        }
                    }
                    a.rows += 1;
                }
                b'E' => {
                    a.error = Some(
                        body.split(|b| *b == 0)
                            .find(|f| f.first() == Some(&b'M'))
                            .map(|f| String::from_utf8_lossy(&f[1..]).into_owned())
                            .unwrap_or_default(),
                    )
                }
                b'Z' => return Ok(a),
                _ => {}
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub fn run(args: &[String]) -> Result<()> {
    let mut connections = 50usize;
    let mut secs = 10u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--connections" => connections = it.next().context("--connections N")?.parse()?,
            "--secs" => secs = it.next().context("--secs S")?.parse()?,
            other => bail!("unknown option {other}; use --connections N, --secs S"),
        }
    }
    let bin = crate::release_skyql()?;
    let home = std::env::temp_dir().join(format!("skyql-bench-srv-{}", std::process::id()));
    let mut child = Command::new(&bin)
        .args(["srv", "--emulator", "--addr", "127.0.0.1:0", "--home"])
        .arg(&home)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting skyql srv")?;
    let stdout = child.stdout.take().context("srv stdout")?;
    let srv = Srv(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line.trim().to_string();
    if !addr.contains(':') {
        bail!("skyql srv printed `{addr}` instead of its address");
    }
    let mut first = Conn::open(&addr)?;
    let id = first
        .query(
            "SELECT customJobsId FROM google.aiplatform.custom_jobs WHERE projectsId = 'demo-project' AND locationsId = 'us-central1' LIMIT 1",
        )?
        .first_cell
        .context("no job to get")?;
    let list_rows = first.query(LIST)?.rows;
    let get = format!("{LIST} AND customJobsId = '{id}'");
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..connections {
        let addr = addr.clone();
        let get = get.clone();
        let stop = stop.clone();
        handles.push(std::thread::spawn(
            move || -> Result<(Vec<Duration>, Vec<String>)> {
                let mut c = Conn::open(&addr)?;
                let mut times = Vec::new();
                let mut errors = Vec::new();
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let (sql, want) = if n.is_multiple_of(2) {
                        (LIST, list_rows)
                    } else {
                        (get.as_str(), 1)
                    };
                    let t = Instant::now();
                    let a = c.query(sql)?;
                    times.push(t.elapsed());
                    if let Some(e) = a.error {
                        errors.push(e);
                    } else if a.rows != want {
                        errors.push(format!("{} rows instead of {want}", a.rows));
                    }
                    n += 1;
                }
                Ok((times, errors))
            },
        ));
    }
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    let mut times = Vec::new();
    let mut errors = Vec::new();
    for h in handles {
        let (t, e) = h
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))??;
        times.extend(t);
        errors.extend(e);
    }
    let elapsed = start.elapsed();
    drop(srv);
    let _ = std::fs::remove_dir_all(&home);
    times.sort();
    let qps = times.len() as f64 / elapsed.as_secs_f64();
    println!("| measurement | result |");
    println!("|---|---|");
    println!(
        "| {connections} connections, list ({list_rows} rows) and get alternating, {secs} s | {:.0} queries/s (p50 {}, p99 {}, max {}) |",
        qps,
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.99)),
        ms(percentile(&times, 1.0)),
    );
    println!("| errors | {} of {} queries |", errors.len(), times.len());
    if let Some(e) = errors.first() {
        bail!("{} queries failed; the first: {e}", errors.len());
    }
    Ok(())
}
