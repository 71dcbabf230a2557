//! # carescore-e2e
//!
//! End-to-end tests across the CareScore crates, run by `cargo test --workspace`
//! (Cargo builds no root `tests/` folder under a virtual manifest, so they live
//! in this package). The tests drive the libraries' public APIs: the trainer's
//! generator and table writer, the core's validation, and the service's router
//! bound to a loopback port. This library holds their shared helpers.
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Starts the service's router on an ephemeral loopback port and returns its address.
///
/// # Panics
/// If no loopback port can be bound (a broken test machine).
pub async fn start_service() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("a bound address");
    tokio::spawn(carescore_serve::serve(listener, std::future::pending()));
    address
}

/// Sends one HTTP/1.1 request and returns the status code and body.
///
/// # Errors
/// An I/O error, or a response that is not HTTP.
pub async fn http_get(address: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}
