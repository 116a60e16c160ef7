//! `iam-check`: each function's IAM policy in template.yaml grants exactly the AWS
//! actions its code calls (see the `xtask` crate documentation for the rules).
//!
//! Usage: `cargo run -q -p xtask --bin iam-check -- [-v] [--root DIR] [--template PATH]
//! [--venv DIR]` (defaults: this repository, its template.yaml and .venv).
//! Prints one line per function and `iam-check: N passed, M failed`; exits non-zero on
//! any failure.

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::check::{run, Options};
use xtask::iam_data::IamData;

fn main() -> ExitCode {
    let mut root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let mut template = None;
    let mut venv = None;
    let mut verbose = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-v" | "--verbose" => verbose = true,
            "--root" => root = args.next().map(PathBuf::from).unwrap_or(root),
            "--template" => template = args.next().map(PathBuf::from),
            "--venv" => venv = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!("usage: iam-check [-v] [--root DIR] [--template PATH] [--venv DIR]");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("iam-check: unknown argument {other:?} (try --help)");
                return ExitCode::from(2);
            }
        }
    }
    let template = template.unwrap_or_else(|| root.join("template.yaml"));
    let venv = venv.unwrap_or_else(|| root.join(".venv"));
    let loaded = std::fs::read_to_string(&template)
        .map_err(|e| format!("cannot read {}: {e}", template.display()))
        .and_then(|text| Ok((text, IamData::from_venv(&venv).map_err(|e| e.to_string())?)));
    let (template, iam) = match loaded {
        Ok(x) => x,
        Err(e) => {
            println!("iam-check: error: {e}");
            println!("iam-check: 0 passed, 1 failed");
            return ExitCode::FAILURE;
        }
    };
    let report = run(&Options {
        root,
        template,
        iam,
        verbose,
    });
    print!("{}", report.render());
    if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
