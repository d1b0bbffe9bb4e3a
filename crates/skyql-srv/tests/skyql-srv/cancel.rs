//! Sessions: a cancel request stops the statement's HTTP work, and a slow
//! statement on one connection does not hold up another.

use crate::harness::{Options, Srv, start_with};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Start-up; returns the connection's process id and secret key.
fn startup(s: &mut TcpStream) -> (i32, i32) {
    let mut body = 196608u32.to_be_bytes().to_vec();
    body.extend_from_slice(b"user\0tester\0database\0skyql\0\0");
    let mut msg = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    msg.extend(body);
    s.write_all(&msg).expect("startup");
    let mut key = (0, 0);
    for (t, body) in read_until_ready(s) {
        if t == b'K' {
            key = (
                i32::from_be_bytes([body[0], body[1], body[2], body[3]]),
                i32::from_be_bytes([body[4], body[5], body[6], body[7]]),
            );
        }
    }
    key
}

fn read_until_ready(s: &mut TcpStream) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    loop {
        let mut head = [0u8; 5];
        s.read_exact(&mut head).expect("header");
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut body = vec![0u8; len - 4];
        s.read_exact(&mut body).expect("body");
        let done = head[0] == b'Z';
        out.push((head[0], body));
        if done {
            return out;
        }
    }
}

fn send_query(s: &mut TcpStream, sql: &str) {
    let mut msg = vec![b'Q'];
    msg.extend_from_slice(&((sql.len() + 5) as u32).to_be_bytes());
    msg.extend_from_slice(sql.as_bytes());
    msg.push(0);
    s.write_all(&msg).expect("query");
}

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    s
}

/// The SQLSTATE of the first ErrorResponse among messages.
fn sqlstate(messages: &[(u8, Vec<u8>)]) -> Option<String> {
    let (_, body) = messages.iter().find(|(t, _)| *t == b'E')?;
    body.split(|b| *b == 0)
        .find(|f| f.first() == Some(&b'C'))
        .map(|f| String::from_utf8_lossy(&f[1..]).into_owned())
}

/// customJobs.list requests the emulator has answered.
fn list_requests(base_url: &str) -> u64 {
    let addr = base_url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("emulator");
    s.write_all(
        format!("GET /emulator/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .expect("stats");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("stats body");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    v["requests"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["method"] == "customJobs.list")
                .filter_map(|r| r["count"].as_u64())
                .sum()
        })
        .unwrap_or(0)
}

const SLOW: &str = "SELECT count(*) FROM google.aiplatform.custom_jobs WHERE projectsId = 'demo-project' AND locationsId = 'us-central1' AND pageSize = 1";

/// A server whose emulator takes `latency` over each answer.
fn start_slow(latency: Duration) -> Srv {
    start_with(Options {
        latency,
        ..Options::default()
    })
}

/// A new, started-up connection.
fn session(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = connect(addr);
    startup(&mut s);
    s
}

/// A connection that has been running `SLOW` for 600 ms, with its process
/// id and secret key.
fn running_slow(srv: &Srv) -> (TcpStream, i32, i32) {
    let mut a = connect(srv.addr);
    let (pid, key) = startup(&mut a);
    send_query(&mut a, SLOW);
    std::thread::sleep(Duration::from_millis(600));
    (a, pid, key)
}

/// Sends a CancelRequest for connection `pid` (secret `key`) on a new connection.
fn send_cancel_request(addr: std::net::SocketAddr, pid: i32, key: i32) {
    let mut c = connect(addr);
    let mut cancel = 16u32.to_be_bytes().to_vec();
    cancel.extend_from_slice(&80877102u32.to_be_bytes());
    cancel.extend_from_slice(&pid.to_be_bytes());
    cancel.extend_from_slice(&key.to_be_bytes());
    c.write_all(&cancel).expect("cancel");
}

/// Whether `messages` hold a DataRow.
fn has_rows(messages: &[(u8, Vec<u8>)]) -> bool {
    messages.iter().any(|(t, _)| *t == b'D')
}

#[test]
fn cancel_request_stops_the_statements_requests() {
    let srv = start_slow(Duration::from_millis(150));
    let (mut a, pid, key) = running_slow(&srv);
    send_cancel_request(srv.addr, pid, key);
    let answer = read_until_ready(&mut a);
    assert_eq!(sqlstate(&answer).as_deref(), Some("57014"), "{answer:?}");
    // The engine stops at its next step: the next statement of this
    // connection runs, and no more pages are asked for.
    send_query(&mut a, "SHOW SERVICES IN google LIKE 'aiplatform'");
    let next = read_until_ready(&mut a);
    assert!(has_rows(&next), "{next:?}");
    let after = list_requests(&srv.base_url);
    std::thread::sleep(Duration::from_millis(800));
    let later = list_requests(&srv.base_url);
    assert_eq!(after, later, "requests went on after the cancel");
    assert!(after < 12, "all {after} pages were read despite the cancel");
}

#[test]
fn a_slow_statement_does_not_hold_up_another_connection() {
    let srv = start_slow(Duration::from_millis(100));
    let mut slow = session(srv.addr);
    let mut quick = session(srv.addr);
    send_query(&mut slow, SLOW);
    let started = Instant::now();
    send_query(&mut quick, "SHOW SERVICES IN google LIKE 'aiplatform'");
    let rows = read_until_ready(&mut quick);
    let quick_took = started.elapsed();
    assert!(has_rows(&rows));
    let slow_rows = read_until_ready(&mut slow);
    let slow_took = started.elapsed();
    assert!(has_rows(&slow_rows), "{slow_rows:?}");
    assert!(
        quick_took < slow_took,
        "the quick statement ({quick_took:?}) waited for the slow one ({slow_took:?})"
    );
}

#[test]
fn pg_cancel_backend_from_another_connection() {
    let srv = start_slow(Duration::from_millis(150));
    let (mut a, pid, _) = running_slow(&srv);
    let mut b = session(srv.addr);
    send_query(&mut b, &format!("SELECT pg_cancel_backend({pid})"));
    let answer = read_until_ready(&mut b);
    assert!(has_rows(&answer), "{answer:?}");
    let cancelled = read_until_ready(&mut a);
    assert_eq!(
        sqlstate(&cancelled).as_deref(),
        Some("57014"),
        "{cancelled:?}"
    );
}

#[test]
fn an_endless_catalog_query_is_cancelled_and_holds_up_no_one() {
    let srv = start_with(Options::default());
    let mut a = connect(srv.addr);
    let (pid, key) = startup(&mut a);
    send_query(&mut a, "SELECT 1");
    read_until_ready(&mut a);
    send_query(
        &mut a,
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    );
    std::thread::sleep(Duration::from_millis(300));
    // Others are served meanwhile.
    let mut b = session(srv.addr);
    send_query(&mut b, "SELECT version()");
    assert!(has_rows(&read_until_ready(&mut b)));
    send_cancel_request(srv.addr, pid, key);
    let answer = read_until_ready(&mut a);
    assert_eq!(sqlstate(&answer).as_deref(), Some("57014"), "{answer:?}");
    send_query(&mut a, "SELECT 2");
    assert!(has_rows(&read_until_ready(&mut a)));
}
