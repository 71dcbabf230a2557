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

/// Starts the service's router with `state` on an ephemeral loopback port and returns its address.
///
/// # Panics
/// If no loopback port can be bound (a broken test machine).
pub async fn start_service(state: carescore_serve::AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("a bound address");
    tokio::spawn(carescore_serve::serve(listener, state, std::future::pending()));
    address
}

/// Starts the service on the embedded models with the settings file `toml`
/// (keys, limits), written in `dir`.
///
/// # Panics
/// If the file cannot be written or the settings are refused.
pub async fn start_embedded_with_settings(dir: &std::path::Path, toml: &str) -> SocketAddr {
    let settings = dir.join("carescore.toml");
    std::fs::write(&settings, toml).expect("a writable settings file");
    let state = carescore_serve::AppState::load(carescore_serve::Sources {
        models: carescore_serve::ModelSource::Embedded,
        policy: None,
        settings: Some(settings),
    })
    .expect("valid settings");
    start_service(state).await
}

/// The service with its embedded default models, on a loopback port.
///
/// # Panics
/// If the embedded models do not load.
pub async fn start_default_service() -> SocketAddr {
    start_service(carescore_serve::AppState::embedded().expect("embedded models")).await
}

/// An HTTP response as the tests read it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
}

impl Reply {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// If the body is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one HTTP/1.1 request with `headers` and `body` and reads the whole reply.
///
/// # Errors
/// An I/O error, or a response that is not HTTP.
pub async fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let invalid = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response");
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(invalid)?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(invalid)?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: body.to_string(),
    })
}

/// POSTs a JSON body.
///
/// # Errors
/// As [`http`].
pub async fn post_json(address: SocketAddr, path: &str, body: &str) -> std::io::Result<Reply> {
    http(
        address,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .await
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

/// Runs `carescore-train` with `args`, through the binary's own argument
/// parsing and dispatch.
///
/// # Panics
/// If the arguments are refused or the command fails.
pub fn carescore_train(args: &[&str]) {
    use clap::Parser as _;
    let argv = std::iter::once("carescore-train").chain(args.iter().copied());
    let cli = carescore_train::args::Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}"));
    carescore_train::commands::run(cli).unwrap_or_else(|e| panic!("carescore-train {}: {e:#}", args.join(" ")));
}

/// The example table and spec of a centre's own columns (`notebooks-data/kidney_centre.*`).
pub fn kidney_centre_example() -> (std::path::PathBuf, std::path::PathBuf) {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../notebooks-data");
    (examples.join("kidney_centre.csv"), examples.join("kidney_centre.toml"))
}

/// Synthetic cohort rows whose records are valid (no injected noise), in a
/// seeded shuffled order, so that one patient's snapshots do not sit
/// together (a window or a batch of them stands for many patients).
///
/// # Panics
/// If the cohort cannot be generated (`rows` is 0).
pub fn synthetic_rows(rows: usize, seed: u64) -> Vec<carescore_train::synth::SynthRow> {
    let config = carescore_train::synth::SynthConfig {
        rows,
        seed,
        dropout_rate: carescore_train::synth::SynthConfig::DEFAULT_DROPOUT_RATE,
    };
    let mut kept: Vec<carescore_train::synth::SynthRow> = carescore_train::synth::generate(&config, |_| {})
        .expect("a cohort")
        .into_iter()
        .filter(|row| !row.injected_noise)
        .filter(|row| {
            let json = serde_json::to_string(&row.record).expect("a record serialises");
            carescore_core::parse_record(json.as_bytes()).is_ok()
        })
        .collect();
    // Fisher-Yates with a fixed linear congruential stream.
    let mut state = seed;
    for i in (1..kept.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        kept.swap(i, (state >> 33) as usize % (i + 1));
    }
    kept
}
