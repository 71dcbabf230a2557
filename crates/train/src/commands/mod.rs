//! One module per subcommand of `carescore-train`.

pub mod cv;
pub mod evaluate;
pub mod fit;
pub mod predict;
pub mod synth;

use crate::args::{Cli, Command};

/// Runs the parsed command line.
///
/// # Errors
/// Whatever the subcommand reports, with context naming the input at fault.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Synth(args) => synth::run(&args),
        Command::Fit(args) => fit::run(&args),
        Command::Evaluate(args) => evaluate::run(&args),
        Command::Predict(args) => predict::run(&args),
        Command::Cv(args) => cv::run(&args),
    }
}
