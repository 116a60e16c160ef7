//! The handler's logic: parse, deduplicate, route, suppress repeats, deliver concurrently,
//! record, and fail the invocation when any receiver still lacks the message.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use groundcrew::Deadline;
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::notice::{parse_event, Kind, Notice, State};
use crate::receivers::{Deliver, SendError};
use crate::routing::{Facts, Routing};
use crate::severity::{Severity, SeverityResolver, TagLookup};
use crate::store::{AlarmRecord, Claim, Store};

/// Seconds since the epoch; a trait so tests can move time.
pub trait Clock: Send + Sync {
    fn now(&self) -> i64;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        chrono::Utc::now().timestamp()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// The same alarm in the same state within this interval is not re-sent (zero: never suppress).
    pub repeat_interval: Duration,
    /// How long delivery records are kept (DynamoDB TTL).
    pub record_ttl: Duration,
    /// Severity of notices that are not alarms.
    pub default_severity: Severity,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            repeat_interval: Duration::from_secs(4 * 3600),
            record_ttl: Duration::from_secs(30 * 86_400),
            default_severity: Severity::Warning,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Sent to every receiver of its plan.
    Delivered,
    /// This message id was already delivered everywhere.
    Duplicate,
    /// The same alarm in the same state was sent within the repeat interval.
    Suppressed,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeReport {
    pub id: String,
    pub kind: Kind,
    pub headline: String,
    pub outcome: Outcome,
    pub severity: Option<Severity>,
    /// Receivers reached by this invocation.
    pub sent: Vec<String>,
    /// Receivers an earlier invocation already reached.
    pub already_delivered: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub notices: Vec<NoticeReport>,
}

pub struct App<St, D, T> {
    pub routing: Routing,
    pub store: St,
    pub deliver: D,
    pub severity: SeverityResolver<T>,
    pub clock: Arc<dyn Clock>,
    pub policy: Policy,
}

impl<St: Store, D: Deliver, T: TagLookup + 'static> App<St, D, T> {
    /// Handles a whole Lambda event. Every notice is handled on its own; the event fails
    /// when any of them failed (after the others were delivered).
    pub async fn handle_event(&self, event: &Value, deadline: Deadline) -> Result<Report, Error> {
        let notices = parse_event(event)?;
        let mut reports = Vec::with_capacity(notices.len());
        let mut errors = Vec::new();
        for notice in &notices {
            match self.handle_notice(notice, deadline).await {
                Ok(r) => {
                    tracing::info!(id = %r.id, outcome = ?r.outcome, sent = ?r.sent, "notice handled");
                    reports.push(r);
                }
                Err(e) => {
                    tracing::error!(id = %notice.id, error = %e, "notice not delivered");
                    errors.push(e);
                }
            }
        }
        match errors.len() {
            0 => Ok(Report { notices: reports }),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Several(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" | "),
            )),
        }
    }

    pub async fn handle_notice(
        &self,
        notice: &Notice,
        deadline: Deadline,
    ) -> Result<NoticeReport, Error> {
        let now = self.clock.now();
        let alarm = notice.alarm();
        let severity = match alarm {
            Some(a) => Some(self.severity.resolve(a).await),
            None => None,
        };
        let report = |outcome, sent: Vec<String>, already: Vec<String>| NoticeReport {
            id: notice.id.clone(),
            kind: notice.kind(),
            headline: crate::format::headline(notice),
            outcome,
            severity,
            sent,
            already_delivered: already,
        };
        let existing = self.store.get_message(&notice.id).await?;
        if existing.as_ref().is_some_and(|r| r.done) {
            return Ok(report(Outcome::Duplicate, vec![], vec![]));
        }
        let mut suppressed = false;
        let plan = if existing.is_some() {
            Vec::new() // the stored plan stands
        } else {
            let mut plan = self.routing.route(&Facts::of(notice, severity));
            if let Some(a) = alarm {
                if let Some(previous) = self.store.get_alarm(&a.key()).await? {
                    let age = now.saturating_sub(previous.sent_at);
                    let interval = self.policy.repeat_interval.as_secs() as i64;
                    if previous.state == a.state && interval > 0 && age < interval {
                        suppressed = true;
                        plan.clear();
                    } else if a.state == State::Ok {
                        // The recovery goes wherever the alarm went.
                        for r in previous.receivers {
                            if !plan.contains(&r) && self.routing.receivers.contains_key(&r) {
                                plan.push(r);
                            }
                        }
                    }
                }
            }
            plan
        };
        let lease_until = now + deadline.remaining().as_secs() as i64 + 10;
        let expires_at = now + self.policy.record_ttl.as_secs() as i64;
        let record = match self
            .store
            .claim(&notice.id, &plan, now, lease_until, expires_at)
            .await?
        {
            Claim::Done => return Ok(report(Outcome::Duplicate, vec![], vec![])),
            Claim::Busy => {
                return Err(Error::Busy {
                    id: notice.id.clone(),
                })
            }
            Claim::Owned(record) => record,
        };
        let to_send: Vec<&String> = record
            .receivers
            .iter()
            .filter(|r| !record.delivered.contains(*r))
            .collect();
        let sev = severity.unwrap_or(self.policy.default_severity);
        let results = join_all(to_send.iter().map(|name| async move {
            let result = match self.routing.receivers.get(*name) {
                None => Err(format!("{name}: not in the routing document any more")),
                Some(receiver) => match deadline
                    .run(self.deliver.deliver(name, receiver, notice, sev, deadline))
                    .await
                {
                    Ok(Ok(())) => self
                        .store
                        .mark_delivered(&notice.id, name)
                        .await
                        .map_err(|e| format!("{name}: delivered, but not recorded: {e}")),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err(SendError::Deadline.to_string()),
                },
            };
            ((*name).clone(), result)
        }))
        .await;
        let mut sent = Vec::new();
        let mut failed = Vec::new();
        let mut reasons = Vec::new();
        for (name, result) in results {
            match result {
                Ok(()) => sent.push(name),
                Err(reason) => {
                    tracing::warn!(receiver = %name, error = %reason, "delivery failed");
                    failed.push(name);
                    reasons.push(reason);
                }
            }
        }
        if !failed.is_empty() {
            if let Err(e) = self.store.finish(&notice.id, false).await {
                tracing::warn!(error = %e, "could not release the message lease");
            }
            return Err(Error::Delivery {
                id: notice.id.clone(),
                failed,
                reasons,
            });
        }
        self.store.finish(&notice.id, true).await?;
        if let Some(a) = alarm.filter(|_| !suppressed) {
            let previous = self.store.get_alarm(&a.key()).await?;
            let receivers: BTreeSet<String> = if a.state == State::Alarm {
                record.receivers.iter().cloned().collect()
            } else {
                previous.map(|p| p.receivers).unwrap_or_default()
            };
            let keep = (self.policy.record_ttl.max(self.policy.repeat_interval)).as_secs() as i64;
            self.store
                .put_alarm(
                    &a.key(),
                    &AlarmRecord {
                        state: a.state,
                        sent_at: now,
                        receivers,
                    },
                    now + keep,
                )
                .await?;
        }
        let already: Vec<String> = record.delivered.into_iter().collect();
        let outcome = if suppressed {
            Outcome::Suppressed
        } else {
            Outcome::Delivered
        };
        Ok(report(outcome, sent, already))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::Receiver;
    use crate::store::MemoryStore;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Mutex;

    /// Sends take `delay`; receivers in `failing` fail. Records every send.
    struct FakeDeliver {
        delay: Duration,
        failing: Mutex<HashSet<String>>,
        sent: Mutex<Vec<String>>,
    }

    impl Deliver for FakeDeliver {
        async fn deliver(
            &self,
            name: &str,
            _r: &Receiver,
            _n: &Notice,
            _s: Severity,
            _d: Deadline,
        ) -> Result<(), SendError> {
            tokio::time::sleep(self.delay).await;
            if self.failing.lock().unwrap().contains(name) {
                return Err(SendError::Rejected {
                    target: name.into(),
                    reason: "down".into(),
                });
            }
            self.sent.lock().unwrap().push(name.to_string());
            Ok(())
        }
    }

    struct NoTags;
    impl TagLookup for NoTags {
        async fn tag(&self, _a: &str, _k: &str) -> Result<Option<String>, String> {
            Ok(None)
        }
    }

    struct FakeClock(AtomicI64);
    impl Clock for FakeClock {
        fn now(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    const DOC: &str = "receivers:\n  a: {type: webhook, url_secret: a}\n  b: {type: webhook, url_secret: b}\n  c: {type: webhook, url_secret: c}\n  d: {type: webhook, url_secret: d}\n  e: {type: webhook, url_secret: e}\ndefault: [a, b, c, d, e]\n";

    fn app(failing: &[&str], clock: Arc<FakeClock>) -> App<MemoryStore, FakeDeliver, NoTags> {
        App {
            routing: Routing::parse(DOC).unwrap(),
            store: MemoryStore::default(),
            deliver: FakeDeliver {
                delay: Duration::from_secs(1),
                failing: Mutex::new(failing.iter().map(|s| s.to_string()).collect()),
                sent: Mutex::new(Vec::new()),
            },
            severity: SeverityResolver::new(
                NoTags,
                "severity",
                Severity::Warning,
                Duration::from_secs(60),
            ),
            clock,
            policy: Policy::default(),
        }
    }

    fn event(id: &str, state: &str) -> Value {
        let m = serde_json::json!({"AlarmName": "api", "NewStateValue": state, "AlarmArn": "arn:aws:cloudwatch:eu-west-1:1:alarm:api"});
        serde_json::json!({"Records": [{"Sns": {"MessageId": id, "Message": m.to_string()}}]})
    }

    #[tokio::test(start_paused = true)]
    async fn receivers_are_called_concurrently() {
        let app = app(&[], Arc::new(FakeClock(AtomicI64::new(1_000))));
        let started = tokio::time::Instant::now();
        let report = app
            .handle_event(
                &event("m1", "ALARM"),
                Deadline::after(Duration::from_secs(30)),
            )
            .await
            .unwrap();
        assert_eq!(report.notices[0].sent.len(), 5);
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn partial_failure_then_retry_sends_only_the_failed() {
        let app = app(&["c"], Arc::new(FakeClock(AtomicI64::new(1_000))));
        let err = app
            .handle_event(
                &event("m1", "ALARM"),
                Deadline::after(Duration::from_secs(30)),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Delivery { failed, .. } if failed == &vec!["c".to_string()]),
            "{err}"
        );
        app.deliver.failing.lock().unwrap().clear();
        let report = app
            .handle_event(
                &event("m1", "ALARM"),
                Deadline::after(Duration::from_secs(30)),
            )
            .await
            .unwrap();
        assert_eq!(report.notices[0].sent, vec!["c"]);
        assert_eq!(
            app.deliver
                .sent
                .lock()
                .unwrap()
                .iter()
                .filter(|s| *s == "c")
                .count(),
            1
        );
        assert_eq!(app.deliver.sent.lock().unwrap().len(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_receiver_past_the_deadline_fails_the_notice() {
        let app = app(&[], Arc::new(FakeClock(AtomicI64::new(1_000))));
        let err = app
            .handle_event(
                &event("m1", "ALARM"),
                Deadline::after(Duration::from_millis(500)),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("deadline"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_lease_is_busy_and_repeats_expire() {
        let clock = Arc::new(FakeClock(AtomicI64::new(1_000)));
        let app = app(&[], clock.clone());
        app.store
            .claim("m9", &["a".to_string()], 1_000, 1_100, 9_999)
            .await
            .unwrap();
        let err = app
            .handle_event(
                &event("m9", "ALARM"),
                Deadline::after(Duration::from_secs(30)),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Busy { .. }), "{err}");
        app.handle_event(
            &event("m1", "ALARM"),
            Deadline::after(Duration::from_secs(30)),
        )
        .await
        .unwrap();
        let again = app
            .handle_event(
                &event("m2", "ALARM"),
                Deadline::after(Duration::from_secs(30)),
            )
            .await
            .unwrap();
        assert_eq!(again.notices[0].outcome, Outcome::Suppressed);
        clock.0.fetch_add(4 * 3600, Ordering::SeqCst);
        let later = app
            .handle_event(
                &event("m3", "ALARM"),
                Deadline::after(Duration::from_secs(30)),
            )
            .await
            .unwrap();
        assert_eq!(later.notices[0].outcome, Outcome::Delivered);
    }
}
