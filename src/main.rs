//! The `runyard` binary: parse arguments, run the CLI, map errors to exit codes.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = runyard::cli::Args::parse();
    match runyard::cli::run(args) {
        Ok(code) => code,
        Err(failure) => {
            if !failure.message.is_empty() {
                // Messages quote names from the tree: escaped line by line
                // (a message may span lines on purpose). A closed stderr is
                // ignored: there is nobody left to tell, and the exit code
                // still says what happened.
                let mut err = std::io::stderr().lock();
                for (i, line) in failure.message.lines().enumerate() {
                    let lead = if i == 0 { "runyard: " } else { "" };
                    let _ = writeln!(err, "{lead}{}", runyard::fmt::escape(line));
                }
            }
            ExitCode::from(failure.code)
        }
    }
}
