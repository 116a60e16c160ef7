//! [`crate::store::Store`] over DynamoDB.
//!
//! The table: partition key `pk` (string), TTL attribute `expires_at` (epoch seconds).
//! One item per subject, `alarm#<alarm ARN or account:region:name>` or `msg#<message id>`:
//! - `lease_holder` (string) and `lease_until` (epoch milliseconds): who may write it;
//! - `newest` (map `s`, `at`, `id`): the newest state change handled and its message;
//! - `rx` (map receiver -> map `s`, `at`): the last change each receiver was given;
//! - `progress` (map receiver -> map `at`, `parts`, `uncertain`): unfinished multi-part sends.
//!
//! and `stale#<message id>` items recording stale notices, and `pace#<receiver>` items
//! (paced receivers' budgets and digests, [`super::pace`]). States are `ALARM`, `OK`,
//! `INSUFFICIENT_DATA`, or `-` for notices that are not alarms.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use groundcrew::aws::describe_sdk_error;

use super::{ready, Shared};
use crate::error::Error;
use crate::notice::State;
use crate::store::{Acquired, Change, Lease, Newest, Progress, StaleRecord, Store, Subject};

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub(super) client: Shared<aws_sdk_dynamodb::Client>,
    pub(super) table: String,
}

impl DynamoStore {
    /// Over a client built already.
    pub fn new(client: aws_sdk_dynamodb::Client, table: &str) -> Self {
        Self::shared(ready(client, aws_sdk_dynamodb::Client::new), table)
    }

    /// Over a client built on first use ([`super::Clients`]).
    pub fn shared(client: Shared<aws_sdk_dynamodb::Client>, table: &str) -> Self {
        Self {
            client,
            table: table.to_string(),
        }
    }
}

pub(super) fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

pub(super) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn num(v: Option<&AttributeValue>) -> Option<i64> {
    v?.as_n().ok()?.parse().ok()
}

fn state_text(state: Option<State>) -> &'static str {
    state.map_or("-", State::as_str)
}

fn change_value(change: Change) -> AttributeValue {
    AttributeValue::M(
        [
            ("s".to_string(), s(state_text(change.state))),
            ("at".to_string(), n(change.at_ms)),
        ]
        .into(),
    )
}

fn read_change(v: &AttributeValue) -> Option<Change> {
    let m = v.as_m().ok()?;
    Some(Change {
        state: State::parse(m.get("s")?.as_s().ok()?),
        at_ms: num(m.get("at"))?,
    })
}

fn read_subject(item: &Item) -> Subject {
    let mut subject = Subject::default();
    if let Some(m) = item.get("newest").and_then(|v| v.as_m().ok()) {
        if let Some(change) = read_change(&AttributeValue::M(m.clone())) {
            subject.newest = Some(Newest {
                change,
                message_id: m
                    .get("id")
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default(),
            });
        }
    }
    if let Some(rx) = item.get("rx").and_then(|v| v.as_m().ok()) {
        for (receiver, v) in rx {
            if let Some(change) = read_change(v) {
                subject.delivered.insert(receiver.clone(), change);
            }
        }
    }
    if let Some(progress) = item.get("progress").and_then(|v| v.as_m().ok()) {
        for (receiver, v) in progress {
            let Ok(m) = v.as_m() else { continue };
            subject.progress.insert(
                receiver.clone(),
                Progress {
                    at_ms: num(m.get("at")).unwrap_or(0),
                    parts: num(m.get("parts"))
                        .and_then(|p| u32::try_from(p).ok())
                        .unwrap_or(0),
                    uncertain: m.get("uncertain").and_then(|v| v.as_bool().ok()).copied()
                        == Some(true),
                },
            );
        }
    }
    read_legacy(item, &mut subject);
    subject
}

/// Records written before per-receiver records existed: an alarm's `state`, `sent_at` and
/// `receivers` (set), a message's `delivered` (set). Read so that an OK after an upgrade
/// still follows its ALARM and a retried message is not re-sent.
fn read_legacy(item: &Item, subject: &mut Subject) {
    if !subject.delivered.is_empty() || subject.newest.is_some() {
        return;
    }
    let set = |key: &str| -> Vec<String> {
        item.get(key)
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default()
    };
    let legacy_state = item
        .get("state")
        .and_then(|v| v.as_s().ok())
        .and_then(|t| State::parse(t));
    if let (Some(state), Some(sent_at)) = (legacy_state, num(item.get("sent_at"))) {
        let change = Change {
            state: Some(state),
            at_ms: sent_at.saturating_mul(1000),
        };
        subject.newest = Some(Newest {
            change,
            message_id: String::new(),
        });
        for r in set("receivers") {
            subject.delivered.insert(r, change);
        }
    }
    for r in set("delivered") {
        subject.delivered.insert(
            r,
            Change {
                state: None,
                at_ms: 0,
            },
        );
    }
}

pub(super) fn store_err<E: std::error::Error>(what: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::Store(format!("{what}: {}", describe_sdk_error(&e)))
}

impl DynamoStore {
    /// An UpdateItem that succeeds only while `lease` is held.
    async fn fenced(
        &self,
        lease: &Lease,
        what: &'static str,
        update: &str,
        names: &[(&str, &str)],
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<(), Error> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&lease.subject))
            .update_expression(update)
            .condition_expression("lease_holder = :me")
            .expression_attribute_values(":me", s(&lease.holder));
        for (k, v) in names {
            request = request.expression_attribute_names(*k, *v);
        }
        for (k, v) in values {
            request = request.expression_attribute_values(k, v);
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(Error::LeaseLost {
                    subject: lease.subject.clone(),
                })
            }
            Err(e) => Err(store_err(what)(e)),
        }
    }
}

impl Store for DynamoStore {
    async fn acquire(
        &self,
        lease: &Lease,
        now_ms: i64,
        expires_at: i64,
    ) -> Result<Acquired, Error> {
        let empty = AttributeValue::M(HashMap::new());
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&lease.subject))
            .update_expression("SET lease_holder = :me, lease_until = :until, expires_at = :exp, rx = if_not_exists(rx, :empty), progress = if_not_exists(progress, :empty)")
            .condition_expression("attribute_not_exists(lease_until) OR lease_until < :now OR lease_holder = :me")
            .expression_attribute_values(":me", s(&lease.holder))
            .expression_attribute_values(":until", n(lease.until_ms))
            .expression_attribute_values(":exp", n(expires_at))
            .expression_attribute_values(":empty", empty)
            .expression_attribute_values(":now", n(now_ms))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Acquired::Held(
                out.attributes().map(read_subject).unwrap_or_default(),
            )),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                let out = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key("pk", s(&lease.subject))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(store_err("GetItem (lease)"))?;
                Ok(Acquired::Busy {
                    until_ms: out
                        .item()
                        .and_then(|i| num(i.get("lease_until")))
                        .unwrap_or(0),
                })
            }
            Err(e) => Err(store_err("UpdateItem (lease)")(e)),
        }
    }

    async fn set_newest(&self, lease: &Lease, newest: &Newest) -> Result<(), Error> {
        let value = AttributeValue::M(
            [
                ("s".to_string(), s(state_text(newest.change.state))),
                ("at".to_string(), n(newest.change.at_ms)),
                ("id".to_string(), s(&newest.message_id)),
            ]
            .into(),
        );
        self.fenced(
            lease,
            "UpdateItem (newest)",
            "SET newest = :newest",
            &[],
            vec![(":newest", value)],
        )
        .await
    }

    async fn record_progress(
        &self,
        lease: &Lease,
        receiver: &str,
        progress: Progress,
    ) -> Result<(), Error> {
        let value = AttributeValue::M(
            [
                ("at".to_string(), n(progress.at_ms)),
                ("parts".to_string(), n(i64::from(progress.parts))),
                (
                    "uncertain".to_string(),
                    AttributeValue::Bool(progress.uncertain),
                ),
            ]
            .into(),
        );
        self.fenced(
            lease,
            "UpdateItem (progress)",
            "SET progress.#r = :p",
            &[("#r", receiver)],
            vec![(":p", value)],
        )
        .await
    }

    async fn record_delivery(
        &self,
        lease: &Lease,
        receiver: &str,
        change: Change,
    ) -> Result<(), Error> {
        self.fenced(
            lease,
            "UpdateItem (delivered)",
            "SET rx.#r = :d REMOVE progress.#r",
            &[("#r", receiver)],
            vec![(":d", change_value(change))],
        )
        .await
    }

    async fn release(&self, lease: &Lease) -> Result<(), Error> {
        match self
            .fenced(
                lease,
                "UpdateItem (release)",
                "REMOVE lease_holder, lease_until",
                &[],
                vec![],
            )
            .await
        {
            // Already taken over: nothing of ours to give up.
            Err(Error::LeaseLost { .. }) => Ok(()),
            other => other,
        }
    }

    async fn record_stale(&self, stale: &StaleRecord, expires_at: i64) -> Result<(), Error> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&format!("stale#{}", stale.message_id)))
            .item("subject", s(&stale.subject))
            .item("change", change_value(stale.change))
            .item("newest", change_value(stale.newest))
            .item("expires_at", n(expires_at))
            .send()
            .await
            .map(|_| ())
            .map_err(store_err("PutItem (stale)"))
    }
}
