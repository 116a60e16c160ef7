//! alarm-fanout's Telegram burst: hundreds of alarms within a minute to one Telegram group
//! (which enforces its limits) and four other receivers, no faults, the flush scheduled
//! every minute.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use alarm_fanout::handler::Stores;
use serde_json::Value;

use super::{
    app, invoke_async, scheduled_flush, sns_event, start, with_records, Change, DigestsPending,
    Either, Figures, Records,
};
use crate::kernel::{self, lock, FaultRates, Sim, Summary, Timeline};
use crate::models::alarm_receivers::ReceiverModel;
use crate::models::dead_letters::DeadLetterModel;

pub const BURST: &str = "alarm-fanout-telegram-burst";

/// The burst: one Telegram group and four other receivers.
const BURST_DOC: &str = r#"
receivers:
  tg: {type: telegram, chat_id: -100, bot_token_secret: t}
  slack: {type: slack, webhook_url_secret: s}
  chat: {type: google_chat, webhook_url_secret: c}
  pd: {type: pagerduty, routing_key_secret: p}
  hook: {type: webhook, url_secret: w}
default: [tg, slack, chat, pd, hook]
"#;

/// What a burst of alarms to one Telegram group came to.
#[derive(Debug, Default, Clone)]
pub struct BurstFigures {
    pub alarms: u64,
    /// Alarms the group showed one by one.
    pub shown_on_telegram: u64,
    /// Alarms the group's digests listed, and counted without a line.
    pub listed_in_digests: u64,
    pub counted_in_digests: u64,
    pub digests: u64,
    /// Events that ended in the dead-letter queue.
    pub dead_letters: u64,
    /// From the first alarm until the group had shown or counted every one.
    pub seconds_to_last_shown: i64,
    pub peak_per_minute: u64,
    pub telegram_429: u64,
}

async fn burst_one<St: Stores + 'static>(
    sim: Arc<Sim>,
    alarms: usize,
    out: Arc<Mutex<BurstFigures>>,
    store: St,
    pending: DigestsPending,
) {
    let mut receivers = ReceiverModel::new(Arc::clone(&sim));
    receivers.telegram_limits = true;
    let dlq = DeadLetterModel::new(Arc::clone(&sim));
    let app = Arc::new(app(store, receivers.clone(), dlq.clone(), BURST_DOC));
    let figures = Arc::new(Mutex::new(Figures::default()));
    let done = Arc::new(AtomicBool::new(false));
    let flusher = tokio::spawn(scheduled_flush(
        Arc::clone(&sim),
        Arc::clone(&app),
        pending,
        Arc::clone(&done),
    ));
    let mut timeline: Timeline<Value> = Timeline::default();
    for alarm in 0..alarms {
        let c = Change {
            alarm,
            state: "ALARM",
            at: start() + chrono::Duration::seconds(sim.rng().between(0, 60) as i64),
        };
        timeline.push(c.at, sns_event(&format!("burst-{alarm:04}"), &c));
    }
    let mut running = Vec::new();
    while let Some((at, event)) = timeline.pop() {
        sim.sleep_until(at).await;
        sim.step();
        running.push(tokio::spawn(invoke_async(
            Arc::clone(&sim),
            Arc::clone(&app),
            dlq.clone(),
            event,
            Arc::clone(&figures),
        )));
    }
    for task in running {
        if let Err(e) = task.await {
            panic!("an invocation task failed: {e}");
        }
    }
    done.store(true, Ordering::SeqCst);
    let digests = match flusher.await {
        Ok(n) => n,
        Err(e) => panic!("the flush schedule failed: {e}"),
    };
    let logs = lock(&receivers.logs);
    let tg = logs.shown.get("tg").cloned().unwrap_or_default();
    let one_by_one: BTreeSet<&str> = tg
        .iter()
        .filter(|s| !s.digest)
        .map(|s| s.alarm.as_str())
        .collect();
    let listed: BTreeSet<&str> = tg
        .iter()
        .filter(|s| s.digest)
        .map(|s| s.alarm.as_str())
        .collect();
    let counted = logs.counted.get("tg").copied().unwrap_or(0);
    let shown: BTreeSet<&str> = one_by_one.union(&listed).copied().collect();
    // Slack is paced too (1 a second per webhook): what does not fit is folded into its
    // digests like the group's, listed or counted. The unpaced receivers show every alarm.
    for r in ["slack", "chat", "pd", "hook"] {
        let got: BTreeSet<&str> = logs
            .shown
            .get(r)
            .map(|l| l.iter().map(|s| s.alarm.as_str()).collect())
            .unwrap_or_default();
        let counted = if r == "slack" {
            logs.counted.get(r).copied().unwrap_or(0)
        } else {
            0
        };
        sim.check(
            "alarm-fanout: every other receiver shows every alarm of the burst (Slack: or counts it in a digest)",
            got.len() as u64 + counted == alarms as u64,
            || format!("{r}: {} shown, {counted} counted, of {alarms}", got.len()),
        );
    }
    let peak = logs
        .per_minute
        .iter()
        .filter(|((r, _), _)| r == "tg")
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(0);
    let dead = dlq.len() as u64;
    sim.check(
        "alarm-fanout: a burst leaves no dead letter",
        dead == 0,
        || format!("{dead} dead letters"),
    );
    sim.check(
        "alarm-fanout: every alarm of the burst is shown in the group or counted in a digest",
        shown.len() as u64 + counted == alarms as u64,
        || format!("{} shown, {counted} counted, {alarms} alarms", shown.len()),
    );
    sim.check(
        "alarm-fanout: the group never takes more than 20 messages a minute",
        peak <= 20,
        || format!("peak {peak}"),
    );
    let mut f = lock(&out);
    f.alarms += alarms as u64;
    f.shown_on_telegram += one_by_one.len() as u64;
    f.listed_in_digests += listed.len() as u64;
    f.counted_in_digests += counted;
    f.digests += logs.digests.get("tg").copied().unwrap_or(0);
    let _ = digests;
    f.dead_letters += dead;
    let last = logs
        .last_at
        .get("tg")
        .map_or(0, |t| (*t - start()).num_seconds());
    f.seconds_to_last_shown = f.seconds_to_last_shown.max(last);
    f.peak_per_minute = f.peak_per_minute.max(peak);
    f.telegram_429 += logs.telegram_429;
}

/// A burst of `alarms` alarms within one minute to one Telegram group (with its limits) and
/// four other receivers, no other faults, the flush scheduled every minute: no dead letter,
/// every alarm shown in the group or counted in a digest, no request over the group's
/// limits.
pub fn burst(seeds: u64, alarms: usize, records: Records) -> (Summary, BurstFigures) {
    let total = Arc::new(Mutex::new(BurstFigures::default()));
    let summary = kernel::run(BURST, seeds, start(), FaultRates::NONE, |sim| {
        let total = Arc::clone(&total);
        async move {
            match with_records(&sim, records) {
                Either::Memory(store, pending) => {
                    burst_one(sim, alarms, total, store, pending).await
                }
                Either::Dynamo(store, pending, _) => {
                    burst_one(sim, alarms, total, store, pending).await
                }
            }
        }
    });
    let figures = lock(&total).clone();
    (summary, figures)
}
