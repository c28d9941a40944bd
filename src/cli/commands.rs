//! `telegate commands check`: the relay's commands file, checked the way
//! serve will read it, every problem named by its line.

use std::{path::PathBuf, process::ExitCode};

use clap::Subcommand;

use crate::{config::Config, relay::spec};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Check the commands file (--file, or else COMMANDS_FILE): programs
    /// exist and are executable, names are valid and free, placeholders
    /// and parameters match, patterns compile, durations parse. Prints
    /// each problem as `LINE: problem` and exits 1 when there is one.
    Check {
        /// The file to check instead of COMMANDS_FILE.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
}

pub fn run(action: Action) -> ExitCode {
    let Action::Check { file } = action;
    let path = match file {
        Some(path) => path,
        None => match Config::commands_file_from_env() {
            Ok(Some(path)) => path,
            Ok(None) => {
                eprintln!(
                    "telegate: no commands file to check: set COMMANDS_FILE (in the environment or the env file), or pass --file PATH"
                );
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("telegate: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    match spec::load(&path) {
        Ok(file) => {
            println!("{} command(s) ok", file.commands.len());
            ExitCode::SUCCESS
        }
        Err(spec::LoadError::Invalid { path, problems }) => {
            println!("{problems}");
            eprintln!(
                "telegate: the commands file {} has {} problem(s)",
                path.display(),
                problems.0.len()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("telegate: {e}");
            ExitCode::FAILURE
        }
    }
}
