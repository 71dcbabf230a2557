//! `carescore-train`: the command-line entry point. Parses arguments and
//! reports errors as one line; the work is in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = carescore_train::args::Cli::parse();
    match carescore_train::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader closed standard output (`... | head`): nothing more to say.
        Err(error) if carescore_train::commands::is_closed_output(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}
