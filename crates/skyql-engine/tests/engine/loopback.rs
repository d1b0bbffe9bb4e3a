//! One loopback HTTP/1.1 server for the tests' fake Google APIs: it reads
//! each request (line, headers, body), logs it, and answers what the test's
//! handler says, one connection per request.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

/// (method, path with query, body) of every request, in order.
pub type Log = Arc<Mutex<Vec<(String, String, String)>>>;

/// Serves on 127.0.0.1 until the test ends; `handler(method, target, body)`
/// gives the status and JSON body of each reply. Returns the base URL.
pub fn serve<F>(mut handler: F) -> (String, Log)
where
    F: FnMut(&str, &str, &str) -> (u16, String) + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let mut length = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut parts = first.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let target = parts.next().unwrap_or("").to_string();
            let body = String::from_utf8_lossy(&body).into_owned();
            seen.lock()
                .expect("log")
                .push((method.clone(), target.clone(), body.clone()));
            let (status, reply) = handler(&method, &target, &body);
            let reason = match status {
                200 => "OK",
                204 => "No Content",
                404 => "Not Found",
                409 => "Conflict",
                _ => "Error",
            };
            let mut s = stream;
            let _ = write!(
                s,
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (format!("http://{addr}"), log)
}
