use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    telegate::cli::run(telegate::cli::Cli::parse())
}
