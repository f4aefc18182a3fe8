//! The `sim` command line: the contract in design.md, with one-line errors and exit statuses
//! 0 (held), 1 (violated / unexpected), 2 (bad usage or input), 3 (checker budget ran out).

mod grader;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit status: everything held.
pub const EXIT_OK: u8 = 0;
/// Exit status: a property was violated, a score was short, or a seed file misbehaved.
pub const EXIT_VIOLATION: u8 = 1;
/// Exit status: bad usage or bad input.
pub const EXIT_USAGE: u8 = 2;

/// An error that ends the command with a status and one line on stderr.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub code: u8,
    /// The one-line message.
    pub message: String,
}

impl Failure {
    /// Bad usage or input (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}

/// Deterministic simulation testing for a gossip-membership, quorum-replicated key-value store.
#[derive(Debug, Parser)]
#[command(name = "sim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the original course graders' scenarios and score them with the original rules.
    Grader(grader::GraderArgs),
}

/// Parses the arguments and runs the command; returns the exit status.
pub fn main_with_args(args: Vec<String>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind;
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) {
                print!("{err}");
                return ExitCode::from(EXIT_OK);
            }
            let rendered = err.to_string();
            let first = rendered.lines().next().unwrap_or("error: bad usage");
            eprintln!("{first}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let result = match cli.command {
        Command::Grader(args) => grader::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
