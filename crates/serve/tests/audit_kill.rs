//! The audit trail survives `kill -9` in the middle of load: the real binary
//! serves with `--audit-log`, eight clients score records as fast as they
//! can, the process is killed while requests are in flight, and then every
//! line of the log parses and every request a client saw answered has its
//! line (a response leaves only after its line is written).

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sends one `/v1/score` request; the status code, if a whole answer came back.
fn score(address: SocketAddr, request_id: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let body = carescore_core::EXAMPLE_RECORD_JSON;
    let request = format!(
        "POST /v1/score HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         X-Request-Id: {request_id}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).ok()?;
    let text = String::from_utf8_lossy(&reply);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    // A whole answer: the JSON body parses.
    serde_json::from_str::<serde_json::Value>(body).ok()?;
    Some(status)
}

fn free_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound")
}

#[test]
fn every_answered_request_has_its_audit_line_after_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("audit.jsonl");
    let address = free_address();
    let mut child = Command::new(env!("CARGO_BIN_EXE_carescore-serve"))
        .args(["--bind", &address.to_string(), "--log", "warn", "--audit-log"])
        .arg(&log)
        .env("CARESCORE_AUDIT_SALT", "a-test-salt-of-some-length")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the service starts");
    let started = Instant::now();
    while TcpStream::connect(address).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "the service did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let answered = Arc::new(Mutex::new(HashSet::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|client| {
            let (answered, count, stop) = (answered.clone(), count.clone(), stop.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let id = format!("kill9-{client}-{n}");
                    match score(address, &id) {
                        Some(200) => {
                            answered.lock().expect("not poisoned").insert(id);
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(status) => panic!("status {status} before the kill"),
                        None => break, // the service is gone
                    }
                }
            })
        })
        .collect();
    let load_started = Instant::now();
    while count.load(Ordering::Relaxed) < 300 && load_started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().expect("a client thread");
    }

    let answered = answered.lock().expect("not poisoned").clone();
    assert!(answered.len() >= 300, "only {} answers before the kill", answered.len());
    let text = std::fs::read_to_string(&log).expect("the audit log");
    let mut logged = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}: {line}", i + 1));
        for field in [
            "time_unix_ms",
            "request_id",
            "case_id_sha256",
            "model_versions",
            "policy_version",
            "probabilities",
            "tier",
            "flags",
        ] {
            assert!(entry.get(field).is_some(), "line {}: no {field}", i + 1);
        }
        assert!(!line.contains("c-102"), "the case id itself is never written");
        logged.insert(entry["request_id"].as_str().unwrap_or_default().to_string());
    }
    let missing: Vec<_> = answered.difference(&logged).collect();
    assert!(missing.is_empty(), "answered but not logged: {missing:?}");
    assert!(text.is_empty() || text.ends_with('\n'), "the last line is whole");
}
