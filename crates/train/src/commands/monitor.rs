//! `carescore-train monitor`: the service's audit trail joined to the
//! outcomes recorded later ([`crate::monitoring`]); writes `monitor.json`
//! and `monitor.html` and prints a line per model set and target.

use std::io::Write;

use anyhow::Context;

use crate::args::{MonitorArgs, OutputFormat};
use crate::atomic::write_atomically;
use crate::commands::{say, write_html};
use crate::labels::CensoringRule;
use crate::monitoring::evaluation::{evaluate_group, MonitorReport};
use crate::monitoring::{audit, join, outcomes, page};

/// Runs `monitor`.
///
/// # Errors
/// A missing or short salt, unreadable inputs, or a write failure.
pub fn run(args: &MonitorArgs) -> anyhow::Result<()> {
    let salt = std::env::var(&args.salt_env).map_err(|_| {
        anyhow::anyhow!(
            "--salt-env {}: the environment variable is not set (it must hold the service's --audit-salt)",
            args.salt_env
        )
    })?;
    if salt.len() < carescore_core::MIN_SALT_CHARS {
        anyhow::bail!(
            "--salt-env {}: the salt has {} characters; the service's is at least {}",
            args.salt_env,
            salt.len(),
            carescore_core::MIN_SALT_CHARS
        );
    }
    let (predictions, skipped_lines) = audit::read(&args.audit)?;
    let recorded = outcomes::read(&args.outcomes)?;
    let censoring: CensoringRule = args.censoring.into();
    let (labelled, summary) = join::join(&predictions, &recorded, &salt, censoring)?;
    if summary.labelled == 0 {
        anyhow::bail!(
            "no prediction could be labelled: {} predictions, {} without outcome rows for their case (is the \
             salt the service's?), {} after follow-up ended, {} censored before the horizon",
            summary.predictions,
            summary.no_outcome,
            summary.after_follow_up,
            summary.censored
        );
    }
    let report = MonitorReport {
        audit: crate::commands::file_name(&args.audit),
        outcomes: crate::commands::file_name(&args.outcomes),
        censoring: match censoring {
            CensoringRule::Ipcw => "ipcw",
            CensoringRule::Drop => "drop",
        }
        .to_string(),
        skipped_lines,
        join: summary,
        models: labelled.iter().map(evaluate_group).collect(),
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output directory", args.out.display()))?;
    let json = serde_json::to_string_pretty(&report)?;
    let json_path = args.out.join("monitor.json");
    write_atomically(&json_path, |w| w.write_all(json.as_bytes()))
        .with_context(|| format!("{}: cannot write", json_path.display()))?;
    let html_path = args.out.join("monitor.html");
    write_html(&html_path, &page::render(&report)?)?;
    match args.format {
        OutputFormat::Json => say(&json)?,
        OutputFormat::Text => {
            for m in &report.models {
                let metrics = &m.overall.metrics;
                say(format!(
                    "{} {} ({}): {} labelled predictions, AUC {}, calibration slope {}, intercept {}, Brier {:.4}, ECE {:.4}",
                    m.target,
                    m.set.name(),
                    m.model_versions.join(", "),
                    metrics.rows,
                    metrics.auc.map_or("n/a".into(), |v| format!("{v:.3}")),
                    metrics.calibration_slope.map_or("n/a".into(), |v| format!("{v:.2}")),
                    metrics.calibration_intercept.map_or("n/a".into(), |v| format!("{v:.2}")),
                    metrics.brier,
                    metrics.ece
                ))?;
            }
            say(format!("{} and {}", json_path.display(), html_path.display()))?;
        }
    }
    Ok(())
}
