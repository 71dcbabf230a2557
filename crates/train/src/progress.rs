//! Progress on stderr for long steps: an indicatif spinner with the step's
//! name and elapsed time, drawn only when stderr is a terminal (so logs and
//! tests see just the final line).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// One long-running step.
#[derive(Debug)]
pub(crate) struct Stage {
    bar: ProgressBar,
    name: String,
    started: Instant,
}

impl Stage {
    /// Starts showing `name` with a spinner.
    pub(crate) fn start(name: impl Into<String>) -> Stage {
        let name = name.into();
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(name.clone());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Stage {
            bar,
            name,
            started: Instant::now(),
        }
    }

    /// Clears the spinner and leaves one line saying how long the step took
    /// (only on a terminal).
    pub(crate) fn finish(self) {
        if !self.bar.is_hidden() {
            self.bar.finish_and_clear();
            eprintln!("{} ({:.1} s)", self.name, self.started.elapsed().as_secs_f64());
        }
    }
}
