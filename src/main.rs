//! The `runyard` binary: parse arguments, run the CLI, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = runyard::cli::Args::parse();
    match runyard::cli::run(args) {
        Ok(code) => code,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("runyard: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}
