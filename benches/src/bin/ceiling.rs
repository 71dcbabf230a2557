//! `carescore-ceiling`: the framework's ceiling for the load harness. An axum
//! server whose `/v1/score` parses the JSON body and answers a constant JSON
//! body of the same size as a real score of the example record, so the
//! harness can tell what share of the budget CareScore's own work takes.
//!
//! `carescore-ceiling --bind 127.0.0.1:18181` serves; `carescore-ceiling
//! --write-bodies DIR` writes the harness's request bodies (`record.json`,
//! `batch100.json`) and exits.

use std::process::ExitCode;

use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::routing::post;
use axum::Router;

/// The service's allocator, so the ceiling is what the framework allows
/// with the same build, not a slower allocator's ceiling.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn usage() -> ExitCode {
    eprintln!("usage: carescore-ceiling --bind ADDR | --write-bodies DIR");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, dir] if flag == "--write-bodies" => match carescore_bench::write_bodies(std::path::Path::new(dir)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {dir}: {e}");
                ExitCode::FAILURE
            }
        },
        [flag, bind] if flag == "--bind" => {
            let Ok(address) = bind.parse::<std::net::SocketAddr>() else {
                return usage();
            };
            if !address.ip().is_loopback() {
                eprintln!("error: the ceiling server binds loopback addresses only");
                return ExitCode::FAILURE;
            }
            let answer = Bytes::from(carescore_bench::score_sized_answer());
            let app = Router::new().route(
                "/v1/score",
                post(move |body: Bytes| {
                    let answer = answer.clone();
                    async move {
                        match serde_json::from_slice::<serde_json::Value>(&body) {
                            Ok(_) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], answer),
                            Err(_) => (
                                StatusCode::BAD_REQUEST,
                                [(header::CONTENT_TYPE, "application/json")],
                                Bytes::from_static(b"{}"),
                            ),
                        }
                    }
                }),
            );
            let Ok(listener) = tokio::net::TcpListener::bind(address).await else {
                eprintln!("error: cannot listen on {address}");
                return ExitCode::FAILURE;
            };
            match axum::serve(listener, app).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => usage(),
    }
}
