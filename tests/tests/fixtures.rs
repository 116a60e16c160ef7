//! The fixtures sweep: every sample event in `events/<function>/` through its function's
//! event handling, with no AWS behind it. Every `bad-*.json` must be refused with the
//! error text in its `bad-*.expect` beside it; every other file must be accepted.
//!
//! "Event handling" is everything a function decides before its first call to a
//! collaborator: parsing, and the checks against its settings (from the function's own
//! `local.env`, the settings the boot check runs it with). A `.expect` file whose first
//! line is `collaborator:` names a refusal that needs a collaborator's answer (an S3 run
//! record, a function's configuration, a Telegram or CloudFormation exchange); such a file
//! is checked here only to be accepted by the parsing, and refused by the arm64 boot check
//! (`scripts/boot-check.sh`), which runs every event against the local AWS.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use groundcrew::config::Env;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The settings a function runs with in the boot check.
fn local_env(function: &str) -> Env<HashMap<String, String>> {
    let text = std::fs::read_to_string(root().join("functions").join(function).join("local.env"))
        .unwrap_or_default();
    let pairs: HashMap<String, String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Env::new(pairs)
}

fn aurora(event: &Value) -> Result<(), String> {
    aurora_autopause::event::parse_incoming(event)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn alarm_fanout(event: &Value) -> Result<(), String> {
    alarm_fanout::event::parse_input(event)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn cloudfront(event: &Value) -> Result<(), String> {
    let config =
        cloudfront_invalidate::config::Config::from_env(&local_env("cloudfront-invalidate"))
            .map_err(|e| format!("local.env: {e}"))?;
    cloudfront_invalidate::event::parse(event, "fixture", &config)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn power_tuner(event: &Value) -> Result<(), String> {
    let settings = power_tuner::Config::from_env(&local_env("power-tuner"))
        .map_err(|e| format!("local.env: {e}"))?;
    let parsed = power_tuner::event::Event::parse(event).map_err(|e| e.to_string())?;
    if let Some(request) = parsed.request() {
        let request = request.map_err(|e| e.to_string())?;
        power_tuner::run::check_allowed(&request, &settings).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Telegram's events are routed by the handler itself (a custom-resource request, a
/// schedule or an action), which answers CloudFormation or Telegram: here only their shape.
fn telegram(event: &Value) -> Result<(), String> {
    if event.as_object().is_none() {
        return Err("the event is not a JSON object".into());
    }
    Ok(())
}

type Check = fn(&Value) -> Result<(), String>;

const FUNCTIONS: [(&str, Check); 5] = [
    ("aurora-autopause", aurora),
    ("alarm-fanout", alarm_fanout),
    ("cloudfront-invalidate", cloudfront),
    ("power-tuner", power_tuner),
    ("telegram-webhook", telegram),
];

#[test]
fn every_sample_event_is_accepted_or_refused_as_it_expects() {
    let mut swept = 0;
    let mut at_collaborator = 0;
    let mut problems = Vec::new();
    for (function, check) in FUNCTIONS {
        let dir = root().join("events").join(function);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no sample events for {function}");
        for file in files {
            swept += 1;
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let Ok(event) = serde_json::from_str::<Value>(&text) else {
                problems.push(format!("{function}/{name}: not JSON"));
                continue;
            };
            let outcome = check(&event);
            if !name.starts_with("bad-") {
                if let Err(e) = outcome {
                    problems.push(format!("{function}/{name}: refused: {e}"));
                }
                continue;
            }
            let expect_file = file.with_extension("expect");
            let Ok(expected) = std::fs::read_to_string(&expect_file) else {
                problems.push(format!(
                    "{function}/{name}: no {} (the error text it must produce); got {outcome:?}",
                    expect_file.display()
                ));
                continue;
            };
            let expected = expected.trim();
            if let Some(text) = expected.strip_prefix("collaborator:") {
                at_collaborator += 1;
                if text.trim().is_empty() {
                    problems.push(format!(
                        "{function}/{name}: the .expect names no error text"
                    ));
                }
                if let Err(e) = outcome {
                    problems.push(format!(
                        "{function}/{name}: expected to pass parsing (refused later: {}), but: {e}",
                        text.trim()
                    ));
                }
                continue;
            }
            match outcome {
                Ok(()) => problems.push(format!(
                    "{function}/{name}: accepted, expected `{expected}`"
                )),
                Err(e) if !e.contains(expected) => problems.push(format!(
                    "{function}/{name}: refused with `{e}`, expected `{expected}`"
                )),
                Err(_) => {}
            }
        }
    }
    println!("fixtures: {swept} sample events swept ({at_collaborator} refused only with a collaborator)");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
