//! One table's items, their recent history (for eventually consistent reads) and their
//! TTL deletions, and how a key and a Query's key condition are checked.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::expr::{CmpOp, Cond, Operand, Path};
use super::value::key_text;
use super::{DynamoError, Item, Placeholders, TableSpec, MAX_STALENESS_MS, MAX_TTL_LAG_SECS};
use crate::kernel::rng::keyed;

/// An item's key as text: partition, sort ("" without one).
pub type Key = (String, String);

/// An item as it was from an instant on (`None`: absent).
pub type Version = (DateTime<Utc>, Option<Item>);

#[derive(Debug)]
pub struct Table {
    pub spec: TableSpec,
    pub items: BTreeMap<Key, Item>,
    /// Recent states of each item (`None`: absent), for eventually consistent reads.
    pub history: BTreeMap<Key, Vec<Version>>,
    /// When TTL deletes an expired item.
    pub ttl_deletions: BTreeMap<Key, DateTime<Utc>>,
}

impl Table {
    /// The key of `item`; with `exact`, the item must hold the key attributes and nothing
    /// else (a Key parameter), else at least them (a PutItem's Item).
    pub fn key_of(&self, item: &Item, exact: bool) -> Result<Key, DynamoError> {
        let part = |name: &str| -> Result<String, DynamoError> {
            match item.get(name) {
                Some(v) if v.is_key_value() => Ok(key_text(v)),
                Some(_) => Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: the key attribute {name} must be a non-empty S, N or B"
                ))),
                None if exact => Err(DynamoError::validation(
                    "The provided key element does not match the schema",
                )),
                None => Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: Missing the key {name} in the item"
                ))),
            }
        };
        let pk = part(&self.spec.pk)?;
        let sk = match &self.spec.sk {
            Some(sk) => part(sk)?,
            None => String::new(),
        };
        let wanted = 1 + usize::from(self.spec.sk.is_some());
        if exact && item.len() != wanted {
            return Err(DynamoError::validation(
                "The provided key element does not match the schema",
            ));
        }
        Ok((pk, sk))
    }

    /// A Query's key condition: `pk = :v`, optionally AND one condition on the sort key
    /// (=, <, <=, >, >=, BETWEEN or begins_with).
    pub fn check_key_condition(&self, c: &Cond, ph: &Placeholders) -> Result<(), DynamoError> {
        let is = |p: &Path, name: &str| ph.attribute(p).is_ok_and(|a| a == name);
        let on_pk = |c: &Cond| matches!(c, Cond::Cmp(Operand::Path(p), CmpOp::Eq, Operand::Value(_)) if is(p, &self.spec.pk));
        let on_sk = |c: &Cond| {
            let Some(sk) = &self.spec.sk else {
                return false;
            };
            match c {
                Cond::Cmp(Operand::Path(p), op, Operand::Value(_)) => *op != CmpOp::Ne && is(p, sk),
                Cond::Between(Operand::Path(p), Operand::Value(_), Operand::Value(_)) => is(p, sk),
                Cond::BeginsWith(Operand::Path(p), Operand::Value(_)) => is(p, sk),
                _ => false,
            }
        };
        let ok = match c {
            Cond::And(a, b) => (on_pk(a) && on_sk(b)) || (on_pk(b) && on_sk(a)),
            c => on_pk(c),
        };
        if ok {
            Ok(())
        } else {
            Err(DynamoError::validation(
                "Query key condition not supported (it must be pk = :v, optionally AND one sort key condition)",
            ))
        }
    }

    pub fn state_as_of(&self, k: &Key, at: DateTime<Utc>) -> Option<Item> {
        match self.history.get(k) {
            Some(h) => h
                .iter()
                .rev()
                .find(|(t, _)| *t <= at)
                .and_then(|(_, item)| item.clone()),
            None => self.items.get(k).cloned(),
        }
    }

    /// Records a state of an item, keeping what an eventually consistent read can still see.
    pub fn remember(&mut self, k: Key, state: Option<Item>, now: DateTime<Utc>) {
        let cutoff = now - Duration::milliseconds(MAX_STALENESS_MS);
        let h = self.history.entry(k.clone()).or_default();
        h.push((now, state));
        // Keep the newest state older than the cutoff: it is what a stale read sees.
        let older = h.iter().filter(|(t, _)| *t < cutoff).count();
        if older > 1 {
            h.drain(..older - 1);
        }
        if h.len() == 1 && h[0].1.is_none() && !self.items.contains_key(&k) {
            self.history.remove(&k);
        }
    }

    pub fn ttl_deletion(
        &self,
        seed: u64,
        k: &Key,
        item: &Item,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let attr = self.spec.ttl_attribute.as_ref()?;
        let expiry = DateTime::from_timestamp(item.get(attr)?.as_i64()?, 0)?;
        if expiry < now - Duration::days(5 * 365) {
            return None;
        }
        let u = keyed(
            seed,
            &[
                "dynamodb-ttl",
                self.spec.name.as_str(),
                k.0.as_str(),
                k.1.as_str(),
            ],
            0,
        );
        Some(expiry.max(now) + Duration::seconds((u * MAX_TTL_LAG_SECS) as i64))
    }
}
