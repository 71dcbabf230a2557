//! `carescore-train synth`: generate and write a synthetic cohort, then print
//! what it looks like (base rates, censoring, oracle AUC).

use std::io::IsTerminal;
use std::time::Instant;

use anyhow::Context;

use crate::args::SynthArgs;
use crate::synth::{self, CohortSummary, SynthConfig};
use crate::table::{self, TableFormat};

/// Runs this large show a progress line.
const PROGRESS_MIN_ROWS: usize = 1_000_000;

/// Runs `synth`.
///
/// # Errors
/// An invalid option, an unsupported extension, a missing directory or a write
/// failure; nothing is left at the output path in any of these cases.
pub fn run(args: &SynthArgs) -> anyhow::Result<()> {
    let config = SynthConfig {
        rows: args.rows,
        seed: args.seed,
        dropout_rate: args.dropout_rate,
    };
    // Check everything that can be checked before spending time generating.
    synth::check(&config)?;
    TableFormat::from_path(&args.out)?;
    let started = Instant::now();
    // A progress line for long runs on a terminal (about 1 s per million rows).
    let show_progress = !args.quiet && config.rows >= PROGRESS_MIN_ROWS && std::io::stderr().is_terminal();
    let rows = synth::generate(&config, |done| {
        if show_progress {
            eprint!("\rgenerating: {done} of {} rows", config.rows);
        }
    })?;
    if show_progress {
        eprintln!();
    }
    let generated = started.elapsed();
    table::write_cohort(&rows, &args.out).context("writing the cohort")?;
    if !args.quiet {
        eprintln!(
            "wrote {} rows to {} (generated in {:.2} s, written in {:.2} s)",
            rows.len(),
            args.out.display(),
            generated.as_secs_f64(),
            (started.elapsed() - generated).as_secs_f64()
        );
        eprintln!("{}", CohortSummary::of(&rows));
    }
    Ok(())
}
