//! Raw protocol misbehaviour: garbage, oversized messages, clients that
//! vanish mid-result. Each ends only its own connection, with a log line.

use crate::harness::start;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn startup(stream: &mut TcpStream) {
    let mut body = Vec::new();
    body.extend_from_slice(&196608u32.to_be_bytes());
    for (k, v) in [("user", "tester"), ("database", "skyql")] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut msg = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    msg.extend(body);
    stream.write_all(&msg).expect("startup");
    read_until_ready(stream);
}

/// Reads messages until ReadyForQuery; returns their type bytes.
fn read_until_ready(stream: &mut TcpStream) -> Vec<u8> {
    let mut types = Vec::new();
    loop {
        let mut head = [0u8; 5];
        stream.read_exact(&mut head).expect("message header");
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut body = vec![0u8; len - 4];
        stream.read_exact(&mut body).expect("message body");
        types.push(head[0]);
        if head[0] == b'Z' {
            return types;
        }
    }
}

/// Sends `sql` as a simple Query message.
fn send_query(stream: &mut TcpStream, sql: &str) {
    let mut msg = vec![b'Q'];
    msg.extend_from_slice(&((sql.len() + 5) as u32).to_be_bytes());
    msg.extend_from_slice(sql.as_bytes());
    msg.push(0);
    stream.write_all(&msg).expect("query");
}

fn query(stream: &mut TcpStream, sql: &str) -> Vec<u8> {
    send_query(stream, sql);
    read_until_ready(stream)
}

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s
}

fn wait_for_log(srv: &crate::harness::Srv, needle: &str) -> bool {
    wait_for_any(srv, &[needle])
}

fn wait_for_any(srv: &crate::harness::Srv, needles: &[&str]) -> bool {
    for _ in 0..100 {
        if srv
            .logs()
            .iter()
            .any(|l| needles.iter().any(|n| l.contains(n)))
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn bad_input_ends_only_its_connection_with_a_log_line() {
    let srv = start();
    let mut healthy = connect(srv.addr);
    startup(&mut healthy);

    // A garbage start-up packet (an HTTP request).
    let mut bad = connect(srv.addr);
    bad.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut buf = Vec::new();
    let _ = bad.read_to_end(&mut buf);
    assert!(wait_for_log(&srv, "unreadable message"), "{:?}", srv.logs());

    // An oversized message after a good start-up.
    let mut big = connect(srv.addr);
    startup(&mut big);
    let mut msg = vec![b'Q'];
    msg.extend_from_slice(&0x7fff_fff0u32.to_be_bytes());
    msg.extend_from_slice(b"SELECT 1");
    big.write_all(&msg).expect("write");
    let mut buf = Vec::new();
    let _ = big.read_to_end(&mut buf);
    assert!(
        wait_for_log(&srv, "Invalid message length"),
        "{:?}",
        srv.logs()
    );

    // A client that leaves in the middle of a result.
    let mut gone = connect(srv.addr);
    startup(&mut gone);
    let sql = "SELECT * FROM google.aiplatform.custom_jobs WHERE projectsId = 'demo-project' AND locationsId IN ('us-central1', 'europe-west4')";
    send_query(&mut gone, sql);
    drop(gone);
    assert!(
        wait_for_any(&srv, &["without Terminate", "connection lost"]),
        "{:?}",
        srv.logs()
    );

    // A statement failing inside a multi-statement message.
    let types = query(
        &mut healthy,
        "SELECT 1; SELECT name FROM google.aiplatform.custom_jobs; SELECT 2",
    );
    assert_eq!(types.iter().filter(|t| **t == b'E').count(), 1);
    assert_eq!(types.iter().filter(|t| **t == b'D').count(), 1);

    // The first connection was never disturbed.
    let types = query(&mut healthy, "SELECT 42");
    assert!(types.contains(&b'D'), "{types:?}");
}

#[test]
fn refuses_a_public_address_without_a_password() {
    let home = tempfile::tempdir().expect("home");
    let err = bind_error(home.path(), "0.0.0.0:0", None);
    assert!(err.contains("--password-file"), "{err}");

    let tls = skyql_srv::TlsFiles {
        cert: home.path().join("missing-cert.pem"),
        key: home.path().join("missing-key.pem"),
    };
    let err = bind_error(home.path(), "127.0.0.1:0", Some(tls));
    assert!(
        err.contains("missing-cert.pem") && err.contains("cannot read"),
        "{err}"
    );
}

/// Why a server without a password, on `addr` with `tls` and its registry
/// in `home`, refuses to bind.
fn bind_error(home: &std::path::Path, addr: &str, tls: Option<skyql_srv::TlsFiles>) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let config = skyql_srv::Config {
        on_error: Default::default(),
        addr: addr.parse().expect("addr"),
        password: None,
        tls,
        registry: std::sync::Arc::new(skyql_registry::Registry::open(home)),
        client: skyql_client::Client::new(skyql_client::ClientConfig::default()).expect("client"),
        await_timeout: Duration::from_secs(1),
        log: std::sync::Arc::new(|_: &str| {}),
    };
    rt.block_on(skyql_srv::Server::bind(config))
        .err()
        .expect("refused")
        .to_string()
}
