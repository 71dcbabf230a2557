//! `carescore-train synth`: generate and write a synthetic cohort, then print
//! what it looks like (base rates, censoring, oracle AUC).

use std::time::Instant;

use anyhow::Context;

use crate::args::SynthArgs;
use crate::synth::{self, CohortSummary, SynthConfig};
use crate::table::{self, TableFormat};

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
    let rows = synth::generate(&config, |_| {})?;
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
