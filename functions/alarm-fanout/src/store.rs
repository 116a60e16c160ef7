//! Delivery records in DynamoDB: one per message (deduplication by message id and what
//! was delivered to whom) and one per alarm (repeat suppression and the receivers its
//! ALARM went to, so that its OK reaches them too). Every item has a TTL.
//!
//! Table: partition key `pk` (string), TTL attribute `expires_at` (epoch seconds).
//! - `msg#<id>`: `status` (`pending`/`done`), `receivers` (list, the plan),
//!   `delivered` (string set), `lease_until` (epoch seconds), `expires_at`.
//! - `alarm#<arn>`: `state`, `sent_at`, `receivers` (string set), `expires_at`.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::AttributeValue;
use groundcrew::aws::describe_sdk_error;

use crate::error::Error;
use crate::notice::State;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub done: bool,
    pub receivers: Vec<String>,
    pub delivered: BTreeSet<String>,
    pub lease_until: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmRecord {
    pub state: State,
    pub sent_at: i64,
    pub receivers: BTreeSet<String>,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This invocation owns the message until the lease ends.
    Owned(MessageRecord),
    /// Already delivered everywhere.
    Done,
    /// Another invocation holds the lease.
    Busy,
}

pub trait Store: Send + Sync {
    fn get_message(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<MessageRecord>, Error>> + Send;
    /// Takes the message (new, or pending with an expired lease) with a conditional write;
    /// `receivers` is stored only when the record is new.
    fn claim(
        &self,
        id: &str,
        receivers: &[String],
        now: i64,
        lease_until: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<Claim, Error>> + Send;
    fn mark_delivered(
        &self,
        id: &str,
        receiver: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// `done` true: delivered everywhere; false: gives up the lease so a retry can start at once.
    fn finish(&self, id: &str, done: bool) -> impl Future<Output = Result<(), Error>> + Send;
    fn get_alarm(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<AlarmRecord>, Error>> + Send;
    fn put_alarm(
        &self,
        key: &str,
        record: &AlarmRecord,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: &str) -> Self {
        Self {
            client,
            table: table.to_string(),
        }
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn store_err<E: std::error::Error>(what: &str) -> impl Fn(E) -> Error + '_ {
    move |e| Error::Store(format!("{what}: {}", describe_sdk_error(&e)))
}

fn read_message(item: &HashMap<String, AttributeValue>) -> MessageRecord {
    MessageRecord {
        done: item
            .get("status")
            .and_then(|v| v.as_s().ok())
            .is_some_and(|s| s == "done"),
        receivers: item
            .get("receivers")
            .and_then(|v| v.as_l().ok())
            .map(|l| l.iter().filter_map(|x| x.as_s().ok().cloned()).collect())
            .unwrap_or_default(),
        delivered: item
            .get("delivered")
            .and_then(|v| v.as_ss().ok())
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default(),
        lease_until: item
            .get("lease_until")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    }
}

impl Store for DynamoStore {
    async fn get_message(&self, id: &str) -> Result<Option<MessageRecord>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&format!("msg#{id}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_err("GetItem"))?;
        Ok(out.item().map(read_message))
    }

    async fn claim(
        &self,
        id: &str,
        receivers: &[String],
        now: i64,
        lease_until: i64,
        expires_at: i64,
    ) -> Result<Claim, Error> {
        let plan = AttributeValue::L(receivers.iter().map(|r| s(r)).collect());
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&format!("msg#{id}")))
            .update_expression("SET #status = :pending, lease_until = :lease, receivers = if_not_exists(receivers, :plan), expires_at = :exp")
            .condition_expression("attribute_not_exists(pk) OR (#status = :pending AND lease_until < :now)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":lease", n(lease_until))
            .expression_attribute_values(":plan", plan)
            .expression_attribute_values(":exp", n(expires_at))
            .expression_attribute_values(":now", n(now))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Claim::Owned(out.attributes().map(read_message).unwrap_or(
                MessageRecord {
                    done: false,
                    receivers: receivers.to_vec(),
                    delivered: BTreeSet::new(),
                    lease_until,
                },
            ))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                match self.get_message(id).await? {
                    Some(r) if r.done => Ok(Claim::Done),
                    _ => Ok(Claim::Busy),
                }
            }
            Err(e) => Err(store_err("UpdateItem (claim)")(e)),
        }
    }

    async fn mark_delivered(&self, id: &str, receiver: &str) -> Result<(), Error> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&format!("msg#{id}")))
            .update_expression("ADD delivered :r")
            .expression_attribute_values(":r", AttributeValue::Ss(vec![receiver.to_string()]))
            .send()
            .await
            .map(|_| ())
            .map_err(store_err("UpdateItem (delivered)"))
    }

    async fn finish(&self, id: &str, done: bool) -> Result<(), Error> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&format!("msg#{id}")));
        let request = if done {
            request
                .update_expression("SET #status = :done REMOVE lease_until")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":done", s("done"))
        } else {
            request
                .update_expression("SET lease_until = :zero")
                .expression_attribute_values(":zero", n(0))
        };
        request
            .send()
            .await
            .map(|_| ())
            .map_err(store_err("UpdateItem (finish)"))
    }

    async fn get_alarm(&self, key: &str) -> Result<Option<AlarmRecord>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&format!("alarm#{key}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_err("GetItem"))?;
        Ok(out.item().and_then(|item| {
            Some(AlarmRecord {
                state: State::parse(item.get("state")?.as_s().ok()?)?,
                sent_at: item.get("sent_at")?.as_n().ok()?.parse().ok()?,
                receivers: item
                    .get("receivers")
                    .and_then(|v| v.as_ss().ok())
                    .map(|l| l.iter().cloned().collect())
                    .unwrap_or_default(),
            })
        }))
    }

    async fn put_alarm(
        &self,
        key: &str,
        record: &AlarmRecord,
        expires_at: i64,
    ) -> Result<(), Error> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&format!("alarm#{key}")))
            .item("state", s(record.state.as_str()))
            .item("sent_at", n(record.sent_at))
            .item("expires_at", n(expires_at));
        if !record.receivers.is_empty() {
            put = put.item(
                "receivers",
                AttributeValue::Ss(record.receivers.iter().cloned().collect()),
            );
        }
        put.send().await.map(|_| ()).map_err(store_err("PutItem"))
    }
}

/// An in-memory store with the same semantics, for unit tests and the benchmark.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    pub messages: Arc<Mutex<HashMap<String, MessageRecord>>>,
    pub alarms: Arc<Mutex<HashMap<String, AlarmRecord>>>,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Store for MemoryStore {
    async fn get_message(&self, id: &str) -> Result<Option<MessageRecord>, Error> {
        Ok(locked(&self.messages).get(id).cloned())
    }

    async fn claim(
        &self,
        id: &str,
        receivers: &[String],
        now: i64,
        lease_until: i64,
        _expires_at: i64,
    ) -> Result<Claim, Error> {
        let mut messages = locked(&self.messages);
        match messages.get_mut(id) {
            None => {
                let r = MessageRecord {
                    done: false,
                    receivers: receivers.to_vec(),
                    delivered: BTreeSet::new(),
                    lease_until,
                };
                messages.insert(id.to_string(), r.clone());
                Ok(Claim::Owned(r))
            }
            Some(r) if r.done => Ok(Claim::Done),
            Some(r) if r.lease_until < now => {
                r.lease_until = lease_until;
                Ok(Claim::Owned(r.clone()))
            }
            Some(_) => Ok(Claim::Busy),
        }
    }

    async fn mark_delivered(&self, id: &str, receiver: &str) -> Result<(), Error> {
        if let Some(r) = locked(&self.messages).get_mut(id) {
            r.delivered.insert(receiver.to_string());
        }
        Ok(())
    }

    async fn finish(&self, id: &str, done: bool) -> Result<(), Error> {
        if let Some(r) = locked(&self.messages).get_mut(id) {
            if done {
                r.done = true;
            } else {
                r.lease_until = 0;
            }
        }
        Ok(())
    }

    async fn get_alarm(&self, key: &str) -> Result<Option<AlarmRecord>, Error> {
        Ok(locked(&self.alarms).get(key).cloned())
    }

    async fn put_alarm(
        &self,
        key: &str,
        record: &AlarmRecord,
        _expires_at: i64,
    ) -> Result<(), Error> {
        locked(&self.alarms).insert(key.to_string(), record.clone());
        Ok(())
    }
}
