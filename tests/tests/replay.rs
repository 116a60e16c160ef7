//! A seed replays event for event: the whole trace of two runs of one seed is the same,
//! retries' jittered backoff included (groundcrew's `retry`, the one the receivers and the
//! Telegram client use, over the kernel's fault plan on the virtual clock).
//!
//! groundcrew's `retry` (backon with its `std` feature) forks its jitter generator from
//! `fastrand`'s thread-local one, random per process in production; the SDK's retries draw
//! from that generator too. The kernel seeds it per run, so a seed replays both (this file
//! shows groundcrew's, `model_dynamodb_sdk.rs` the SDK's).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use groundcrew::retry::{retry, RetryAdvice, RetryPolicy, Transient};
use sim::kernel::{lock, run_traced, Fault, FaultRates, Sim};
use sim::models::dynamodb::{DynamoModel, Item, Placeholders, TableSpec, Value};

#[derive(Debug)]
struct Refused(Fault);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Transient for Refused {
    fn retry_advice(&self) -> RetryAdvice {
        RetryAdvice::Retry
    }
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T08:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Eight workers, each claiming a counter in a DynamoDB table by a conditional update,
/// through groundcrew's retry against a service failing 40% of calls; every attempt is
/// traced with its millisecond.
async fn claims(sim: Arc<Sim>) {
    let table = Arc::new(std::sync::Mutex::new(DynamoModel::new(sim.seed)));
    lock(&table).create_table(TableSpec::new("claims", "pk"));
    let mut workers = Vec::new();
    for w in 0..8 {
        let sim = Arc::clone(&sim);
        let table = Arc::clone(&table);
        workers.push(tokio::spawn(async move {
            for round in 0..5u32 {
                let inv = sim.invocation(Duration::from_secs(60));
                let outcome = retry(&RetryPolicy::default(), inv.deadline, "claim", || {
                    let sim = Arc::clone(&sim);
                    let table = Arc::clone(&table);
                    async move {
                        let fault = sim.fault(&format!("worker-{w}"), "UpdateItem");
                        sim.trace(format!("worker {w} round {round} attempt: {fault:?}"));
                        if fault.is_fault() {
                            return Err(Refused(fault));
                        }
                        let key = Item::from([("pk".to_string(), Value::s("counter"))]);
                        let ph = Placeholders::new()
                            .value(":zero", Value::n(0))
                            .value(":one", Value::n(1))
                            .value(":w", Value::s(&format!("w{w}")));
                        let result = lock(&table).update_item(
                            "claims",
                            &key,
                            "SET n = if_not_exists(n, :zero) + :one, claimed_by = :w",
                            Some("attribute_not_exists(claimed_by) OR claimed_by <> :w"),
                            &ph,
                            sim.now(),
                        );
                        sim.trace(format!("worker {w} round {round}: {result:?}"));
                        Ok(())
                    }
                })
                .await;
                sim.step();
                sim.check("a claim ends", true, String::new);
                if outcome.is_err() {
                    sim.trace(format!("worker {w} round {round} gave up"));
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }));
    }
    for w in workers {
        if let Err(e) = w.await {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

#[test]
fn a_seed_replays_its_whole_trace_jitter_included() {
    let run = |seed| {
        run_traced(
            "replay-claims",
            seed,
            start(),
            FaultRates::uniform(0.4),
            claims,
        )
    };
    let (first_summary, first) = run(11);
    let (second_summary, second) = run(11);
    assert!(first.len() > 40, "{} lines", first.len());
    assert!(first_summary.faults > 0, "faults were injected");
    assert_eq!(first_summary, second_summary);
    assert_eq!(first, second, "the same seed replays its whole trace");
    // The retries' waits are jittered: attempts land off whole 100 ms.
    assert!(
        first.iter().any(|l| !l[20..23].ends_with("00")),
        "no jittered attempt in {first:#?}"
    );
    let (_, other) = run(12);
    assert_ne!(first, other, "another seed, another run");
}

/// The jitter comes from the run's seed: the same seed with the generator reseeded
/// otherwise (as an unseeded process's would be) waits other times.
#[test]
fn groundcrew_retry_jitter_follows_the_kernels_seed() {
    let rates = FaultRates::uniform(0.4);
    let (_, seeded) = run_traced("replay-claims", 11, start(), rates, claims);
    let (_, reseeded) = run_traced("replay-claims", 11, start(), rates, |sim| async move {
        fastrand::seed(sim::kernel::jitter_seed(11) ^ 1);
        claims(sim).await
    });
    assert_ne!(seeded, reseeded);
}
