//! Amazon DynamoDB: tables of items under a partition key (and a sort key), read and
//! written as the functions do (GetItem, PutItem, UpdateItem, DeleteItem, Query,
//! TransactWriteItems), with condition and update expressions as the Developer Guide
//! defines them ([`expr`], [`eval`]).
//!
//! Concurrency: each request is applied atomically to its item (DynamoDB serialises the
//! writes of one item; a condition is evaluated against the item as the write finds it),
//! so two workers racing on one conditional write see one succeed and the other get
//! `ConditionalCheckFailedException`. A transaction checks every condition before writing
//! any item, and is cancelled whole (`TransactionCanceledException`, one reason per item).
//!
//! Reads: a strongly consistent read sees every write acknowledged before it. An
//! eventually consistent read may miss writes of the last second: "usually within one
//! second" (Developer Guide, "Read consistency"); the model answers from the item as it was
//! a seeded lag of 0-1 s ago (ASSUMPTION: uniform, never more than a second).
//!
//! TTL: an expired item is not deleted at its expiry. AWS deletes it "within a few days"
//! (Developer Guide, "Time to Live"); until then reads return it and conditions see it.
//! The model deletes it a seeded 0-48 h after expiry (ASSUMPTION: the documentation gives
//! no distribution; 48 h keeps a week-long scenario seeing both). Items whose expiry is
//! more than five years in the past are never deleted (same page).

pub mod eval;
pub mod expr;
mod placeholders;
pub mod sdk;
mod table;
pub mod value;
pub mod wire;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use crate::kernel::rng::keyed;
pub use eval::Placeholders;
use expr::{parse_condition, parse_update};
use placeholders::{check_placeholders, used_by};
use table::{Key, Table};
use value::order;
pub use value::{Item, Value};

/// An item's size limit: 400 KB (Developer Guide, "Service, account, and table quotas").
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// Items in one TransactWriteItems: 100 (same page).
pub const MAX_TRANSACT_ITEMS: usize = 100;
/// How stale an eventually consistent read may be (ASSUMPTION, see the module's doc).
pub(crate) const MAX_STALENESS_MS: i64 = 1_000;
/// How long after expiry TTL deletes an item (ASSUMPTION, see the module's doc).
pub(crate) const MAX_TTL_LAG_SECS: f64 = 48.0 * 3600.0;

/// An error as the service names it (`code` is the exception's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoError {
    pub code: &'static str,
    pub message: String,
    /// TransactionCanceledException: one reason per item ("None", "ConditionalCheckFailed").
    pub reasons: Vec<&'static str>,
}

impl DynamoError {
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", message)
    }

    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            reasons: Vec::new(),
        }
    }

    fn condition_failed() -> Self {
        Self::new(
            "ConditionalCheckFailedException",
            "The conditional request failed",
        )
    }
}

impl std::fmt::Display for DynamoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

#[derive(Debug, Clone)]
pub struct TableSpec {
    pub name: String,
    pub pk: String,
    pub sk: Option<String>,
    pub ttl_attribute: Option<String>,
}

impl TableSpec {
    pub fn new(name: &str, pk: &str) -> Self {
        Self {
            name: name.to_string(),
            pk: pk.to_string(),
            sk: None,
            ttl_attribute: None,
        }
    }

    pub fn sort_key(mut self, sk: &str) -> Self {
        self.sk = Some(sk.to_string());
        self
    }

    pub fn ttl(mut self, attribute: &str) -> Self {
        self.ttl_attribute = Some(attribute.to_string());
        self
    }
}

/// One write of a TransactWriteItems.
#[derive(Debug, Clone)]
pub enum TransactOp {
    Put {
        item: Item,
        condition: Option<String>,
    },
    Update {
        key: Item,
        update: String,
        condition: Option<String>,
    },
    Delete {
        key: Item,
        condition: Option<String>,
    },
    ConditionCheck {
        key: Item,
        condition: String,
    },
}

#[derive(Debug)]
pub struct DynamoModel {
    seed: u64,
    tables: BTreeMap<String, Table>,
    /// Eventually consistent reads made, per table and key (keys the staleness draws).
    reads: BTreeMap<String, u64>,
    /// Items TTL has deleted so far.
    pub ttl_deleted: u64,
    /// Errors answered through the SDK seam, by code.
    pub errors: BTreeMap<&'static str, u64>,
}

impl DynamoModel {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            tables: BTreeMap::new(),
            reads: BTreeMap::new(),
            ttl_deleted: 0,
            errors: BTreeMap::new(),
        }
    }

    pub fn create_table(&mut self, spec: TableSpec) {
        self.tables.insert(
            spec.name.clone(),
            Table {
                spec,
                items: BTreeMap::new(),
                history: BTreeMap::new(),
                ttl_deletions: BTreeMap::new(),
            },
        );
    }

    /// Every item of a table as it is now (TTL applied up to `now`), for invariants.
    pub fn items(&mut self, table: &str, now: DateTime<Utc>) -> Vec<Item> {
        self.expire(now);
        self.tables
            .get(table)
            .map(|t| t.items.values().cloned().collect())
            .unwrap_or_default()
    }

    pub fn get_item(
        &mut self,
        table: &str,
        key: &Item,
        consistent: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<Item>, DynamoError> {
        self.expire(now);
        let k = self.table(table)?.key_of(key, true)?;
        if consistent {
            return Ok(self.table(table)?.items.get(&k).cloned());
        }
        let as_of = self.stale_instant(table, &k, now);
        Ok(self.table(table)?.state_as_of(&k, as_of))
    }

    /// PutItem; returns the item it replaced (ReturnValues ALL_OLD).
    pub fn put_item(
        &mut self,
        table: &str,
        item: Item,
        condition: Option<&str>,
        ph: &Placeholders,
        now: DateTime<Utc>,
    ) -> Result<Option<Item>, DynamoError> {
        self.transact_or_single(
            table,
            TransactOp::Put {
                item,
                condition: condition.map(str::to_string),
            },
            ph,
            now,
        )
        .map(|(old, _)| old)
    }

    /// UpdateItem; returns the item after the update (ReturnValues ALL_NEW).
    pub fn update_item(
        &mut self,
        table: &str,
        key: &Item,
        update: &str,
        condition: Option<&str>,
        ph: &Placeholders,
        now: DateTime<Utc>,
    ) -> Result<Item, DynamoError> {
        let op = TransactOp::Update {
            key: key.clone(),
            update: update.to_string(),
            condition: condition.map(str::to_string),
        };
        self.transact_or_single(table, op, ph, now)
            .map(|(_, new)| new.unwrap_or_default())
    }

    /// DeleteItem; returns the item it deleted (ReturnValues ALL_OLD).
    pub fn delete_item(
        &mut self,
        table: &str,
        key: &Item,
        condition: Option<&str>,
        ph: &Placeholders,
        now: DateTime<Utc>,
    ) -> Result<Option<Item>, DynamoError> {
        let op = TransactOp::Delete {
            key: key.clone(),
            condition: condition.map(str::to_string),
        };
        self.transact_or_single(table, op, ph, now)
            .map(|(old, _)| old)
    }

    /// Query: the items of one partition the key condition selects, in sort-key order
    /// (the model returns every page at once: the functions read all pages).
    pub fn query(
        &mut self,
        table: &str,
        key_condition: &str,
        ph: &Placeholders,
        consistent: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<Item>, DynamoError> {
        self.expire(now);
        let cond = parse_condition(key_condition)?;
        check_placeholders(&[&used_by(Some(&cond), None)], ph)?;
        let t = self.table(table)?;
        t.check_key_condition(&cond, ph)?;
        let keys: BTreeSet<Key> = t.items.keys().chain(t.history.keys()).cloned().collect();
        let as_of = if consistent {
            now
        } else {
            self.stale_instant(table, &(key_condition.to_string(), String::new()), now)
        };
        let t = self.table(table)?;
        let mut out = Vec::new();
        for k in keys {
            let state = if consistent {
                t.items.get(&k).cloned()
            } else {
                t.state_as_of(&k, as_of)
            };
            if let Some(item) = state {
                if eval::holds(&cond, Some(&item), ph)? {
                    out.push(item);
                }
            }
        }
        if let Some(sk) = &t.spec.sk {
            out.sort_by(|a, b| match (a.get(sk), b.get(sk)) {
                (Some(x), Some(y)) => order(x, y).unwrap_or(std::cmp::Ordering::Equal),
                _ => std::cmp::Ordering::Equal,
            });
        }
        Ok(out)
    }

    /// TransactWriteItems on one table with one set of placeholders ([`Self::transact`]).
    pub fn transact_write(
        &mut self,
        table: &str,
        ops: Vec<TransactOp>,
        ph: &Placeholders,
        now: DateTime<Utc>,
    ) -> Result<(), DynamoError> {
        let ops = ops
            .into_iter()
            .map(|op| (table.to_string(), op, ph.clone()))
            .collect();
        self.transact(ops, now)
    }

    /// TransactWriteItems: every condition is checked first; one failing cancels the
    /// whole transaction with a reason per item, and nothing is written. Each write names
    /// its table and has its own placeholders, as on the wire.
    pub fn transact(
        &mut self,
        ops: Vec<(String, TransactOp, Placeholders)>,
        now: DateTime<Utc>,
    ) -> Result<(), DynamoError> {
        if ops.is_empty() || ops.len() > MAX_TRANSACT_ITEMS {
            return Err(DynamoError::validation(format!(
                "Member must have length less than or equal to {MAX_TRANSACT_ITEMS} and greater than or equal to 1 (got {})",
                ops.len()
            )));
        }
        self.expire(now);
        let mut planned = Vec::new();
        for (table, op, ph) in &ops {
            let (k, ok, after) = self.plan(table, op, ph)?;
            planned.push((table.clone(), k, ok, after));
        }
        let mut seen = BTreeSet::new();
        for (table, k, ..) in &planned {
            if !seen.insert((table.clone(), k.clone())) {
                return Err(DynamoError::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
        }
        if planned.iter().any(|(_, _, ok, _)| !ok) {
            let mut e = DynamoError::new(
                "TransactionCanceledException",
                "Transaction cancelled, please refer cancellation reasons for specific reasons",
            );
            e.reasons = planned
                .iter()
                .map(|(_, _, ok, _)| {
                    if *ok {
                        "None"
                    } else {
                        "ConditionalCheckFailed"
                    }
                })
                .collect();
            return Err(e);
        }
        for ((table, k, _, after), (_, op, _)) in planned.into_iter().zip(&ops) {
            if !matches!(op, TransactOp::ConditionCheck { .. }) {
                self.write(&table, k, after, now)?;
            }
        }
        Ok(())
    }

    /// One write outside a transaction: ConditionalCheckFailedException when its condition
    /// does not hold. Returns the item before and after.
    fn transact_or_single(
        &mut self,
        table: &str,
        op: TransactOp,
        ph: &Placeholders,
        now: DateTime<Utc>,
    ) -> Result<(Option<Item>, Option<Item>), DynamoError> {
        self.expire(now);
        let (k, ok, after) = self.plan(table, &op, ph)?;
        if !ok {
            return Err(DynamoError::condition_failed());
        }
        let before = self.table(table)?.items.get(&k).cloned();
        self.write(table, k, after.clone(), now)?;
        Ok((before, after))
    }

    /// A write's key, whether its condition holds, and the item it leaves (`None`:
    /// deleted; the item as it is for a condition check). Refuses invalid requests.
    fn plan(
        &self,
        table: &str,
        op: &TransactOp,
        ph: &Placeholders,
    ) -> Result<(Key, bool, Option<Item>), DynamoError> {
        let t = self.table(table)?;
        let (key_item, cond, update) = match op {
            TransactOp::Put { item, condition } => (item, condition.as_deref(), None),
            TransactOp::Update {
                key,
                update,
                condition,
            } => (key, condition.as_deref(), Some(parse_update(update)?)),
            TransactOp::Delete { key, condition } => (key, condition.as_deref(), None),
            TransactOp::ConditionCheck { key, condition } => (key, Some(condition.as_str()), None),
        };
        let cond = cond.map(parse_condition).transpose()?;
        check_placeholders(&[&used_by(cond.as_ref(), update.as_ref())], ph)?;
        let whole = matches!(op, TransactOp::Put { .. });
        let k = t.key_of(key_item, !whole)?;
        let current = t.items.get(&k);
        let ok = match &cond {
            Some(c) => eval::holds(c, current, ph)?,
            None => true,
        };
        let after = match (op, update) {
            (TransactOp::Put { item, .. }, _) => Some(item.clone()),
            (TransactOp::Update { key, .. }, Some(u)) => Some(eval::apply(&u, current, key, ph)?),
            (TransactOp::ConditionCheck { .. }, _) => current.cloned(),
            _ => None,
        };
        if let Some(item) = &after {
            let bytes: usize = item.iter().map(|(k, v)| k.len() + v.size()).sum();
            if bytes > MAX_ITEM_BYTES {
                return Err(DynamoError::validation(
                    "Item size has exceeded the maximum allowed size",
                ));
            }
        }
        Ok((k, ok, after))
    }

    fn write(
        &mut self,
        table: &str,
        k: Key,
        after: Option<Item>,
        now: DateTime<Utc>,
    ) -> Result<(), DynamoError> {
        let seed = self.seed;
        let t = self.table_mut(table)?;
        match &after {
            Some(item) => {
                t.items.insert(k.clone(), item.clone());
            }
            None => {
                t.items.remove(&k);
            }
        }
        let deletion = after
            .as_ref()
            .and_then(|item| t.ttl_deletion(seed, &k, item, now));
        match deletion {
            Some(at) => t.ttl_deletions.insert(k.clone(), at),
            None => t.ttl_deletions.remove(&k),
        };
        t.remember(k, after, now);
        Ok(())
    }

    /// Deletes the expired items whose deletion time has come.
    fn expire(&mut self, now: DateTime<Utc>) {
        let mut deleted = 0;
        for t in self.tables.values_mut() {
            let due: Vec<Key> = t
                .ttl_deletions
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(k, _)| k.clone())
                .collect();
            for k in due {
                t.ttl_deletions.remove(&k);
                t.items.remove(&k);
                t.remember(k, None, now);
                deleted += 1;
            }
        }
        self.ttl_deleted += deleted;
    }

    /// The instant an eventually consistent read of `k` sees: a seeded 0-1 s ago.
    fn stale_instant(&mut self, table: &str, k: &Key, now: DateTime<Utc>) -> DateTime<Utc> {
        let name = format!("{table}\u{1f}{}\u{1f}{}", k.0, k.1);
        let n = self.reads.entry(name.clone()).or_insert(0);
        *n += 1;
        let u = keyed(self.seed, &["dynamodb-eventual-read", name.as_str()], *n);
        now - Duration::milliseconds((u * MAX_STALENESS_MS as f64) as i64)
    }

    fn table(&self, name: &str) -> Result<&Table, DynamoError> {
        self.tables.get(name).ok_or_else(|| not_found(name))
    }

    fn table_mut(&mut self, name: &str) -> Result<&mut Table, DynamoError> {
        self.tables.get_mut(name).ok_or_else(|| not_found(name))
    }
}

fn not_found(name: &str) -> DynamoError {
    DynamoError::new(
        "ResourceNotFoundException",
        format!("Requested resource not found: Table: {name} not found"),
    )
}

#[cfg(test)]
mod tests;
