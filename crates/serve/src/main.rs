//! `carescore-serve`: parses the configuration, sets up logging and serves
//! until Ctrl-C or SIGTERM, draining in-flight requests.

use std::process::ExitCode;

use anyhow::Context;
use carescore_serve::Config;
use clap::Parser;

/// mimalloc as the allocator: a request allocates and frees a few dozen
/// small blocks (body, record, answer, headers), which mimalloc serves from
/// per-thread free lists faster than the system allocator (BENCHMARKS.md
/// has the measurement).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Threads for blocking work (batches, reloads): one per core. Batches are
/// CPU-bound, so more threads only compete for the cores, and each keeps its
/// own allocator heap: with tokio's default (up to 512), 16 connections
/// sending batches ran them on 22 threads at 723 batches/s and left 91 MB
/// resident; with one thread per core, 963 batches/s and 48 MB (same
/// allocator settings; 26 MB with `no_thp`, see the workspace manifest).
fn blocking_threads() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(blocking_threads())
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(serve_until_stopped()),
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_until_stopped() -> ExitCode {
    let config = Config::parse();
    let filter = tracing_subscriber::EnvFilter::new(&config.log);
    match config.log_format {
        carescore_serve::LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
        carescore_serve::LogFormat::Json => tracing_subscriber::fmt().json().with_env_filter(filter).init(),
    }
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let mut state = carescore_serve::state_for(&config).context("loading models, policy and settings")?;
    if let Some(path) = &config.audit_log {
        let audit = carescore_serve::AuditLog::open(path, config.audit_salt.as_deref(), config.audit_fsync)?;
        tracing::info!(path = %path.display(), fsync = config.audit_fsync, "audit trail on");
        state = state.with_audit(audit);
    }
    if let Some(dir) = &config.shadow_dir {
        state = state.with_shadow(dir.clone());
    }
    if let Some(shadow) = &state.shadow {
        tracing::info!(loaded = shadow.up(), "shadow challenger on");
    }
    let keys = state.live.load().keys.enabled();
    config.check(keys)?;
    if !keys {
        tracing::warn!("no API keys configured (--config): every route is open, so only loopback is served");
    }
    {
        let live = state.live.load();
        for (target, artifact) in live.artifacts() {
            tracing::info!(target, model = %artifact.model_version(), "model loaded");
        }
        if matches!(state.sources.models, carescore_serve::ModelSource::Directory(_)) {
            for target in &live.embedded_targets {
                tracing::warn!(
                    target,
                    "the models directory has no artifact for this target: serving the embedded default"
                );
            }
        }
    }
    spawn_reload_on_sighup(state.clone());
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    tracing::info!(address = %config.bind, "carescore-serve listening");
    carescore_serve::serve(listener, state, shutdown_signal())
        .await
        .context("serving")?;
    tracing::info!("carescore-serve stopped");
    Ok(())
}

/// Reloads models, policy and keys on SIGHUP (Unix), like `POST /v1/admin/reload`.
fn spawn_reload_on_sighup(state: carescore_serve::AppState) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; reload through POST /v1/admin/reload");
            return;
        };
        while hangups.recv().await.is_some() {
            let worker = state.clone();
            // The outcome is logged and counted in /metrics.
            let _ = tokio::task::spawn_blocking(move || carescore_serve::reload_and_record(&worker)).await;
        }
    });
    #[cfg(not(unix))]
    let _ = state;
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
