//! Amazon SQS, with Lambda's event source mapping in front of the function.
//!
//! A received message is invisible for the visibility timeout, then comes back with its
//! receive count raised; `ChangeMessageVisibility` sets when it comes back (at most 12
//! hours); a message received more than `maxReceiveCount` times moves to the dead-letter
//! queue (SQS Developer Guide). `DelaySeconds` is at most 900.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub body: String,
    pub receipt_handle: String,
    pub visible_at: DateTime<Utc>,
    pub receive_count: u32,
    pub sent_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct QueueModel {
    pub visibility_timeout: chrono::Duration,
    pub max_receive_count: u32,
    messages: BTreeMap<String, Message>,
    pub dead_letters: Vec<Message>,
    next: u64,
}

impl QueueModel {
    pub fn new(visibility_timeout: chrono::Duration, max_receive_count: u32) -> Self {
        Self {
            visibility_timeout,
            max_receive_count,
            messages: BTreeMap::new(),
            dead_letters: Vec::new(),
            next: 0,
        }
    }

    pub fn send(
        &mut self,
        body: String,
        delay_secs: u32,
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        if delay_secs > 900 {
            return Err(format!("DelaySeconds {delay_secs} is over 900"));
        }
        self.next += 1;
        let id = format!("msg-{:06}", self.next);
        self.messages.insert(
            id.clone(),
            Message {
                id: id.clone(),
                body,
                receipt_handle: String::new(),
                visible_at: now + chrono::Duration::seconds(i64::from(delay_secs)),
                receive_count: 0,
                sent_at: now,
            },
        );
        Ok(id)
    }

    /// The next time a message becomes visible, if any.
    pub fn next_visible(&self) -> Option<DateTime<Utc>> {
        self.messages.values().map(|m| m.visible_at).min()
    }

    /// Receives up to `max` visible messages (Lambda's poller), oldest first.
    pub fn receive(&mut self, now: DateTime<Utc>, max: usize) -> Vec<Message> {
        let mut due: Vec<&mut Message> = self
            .messages
            .values_mut()
            .filter(|m| m.visible_at <= now)
            .collect();
        due.sort_by_key(|m| (m.visible_at, m.id.clone()));
        let mut out = Vec::new();
        let mut dead = Vec::new();
        for m in due.into_iter() {
            if out.len() == max {
                break;
            }
            if m.receive_count >= self.max_receive_count {
                dead.push(m.id.clone());
                continue;
            }
            self.next += 1;
            m.receive_count += 1;
            m.receipt_handle = format!("rh-{}-{}", m.id, self.next);
            m.visible_at = now + self.visibility_timeout;
            out.push(m.clone());
        }
        for id in dead {
            if let Some(m) = self.messages.remove(&id) {
                self.dead_letters.push(m);
            }
        }
        out
    }

    pub fn change_visibility(
        &mut self,
        receipt_handle: &str,
        secs: u32,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        if secs > 43_200 {
            return Err(format!("VisibilityTimeout {secs} is over 43200"));
        }
        let m = self
            .messages
            .values_mut()
            .find(|m| m.receipt_handle == receipt_handle)
            .ok_or_else(|| "ReceiptHandleIsInvalid".to_string())?;
        m.visible_at = now + chrono::Duration::seconds(i64::from(secs));
        Ok(())
    }

    /// Lambda deletes the messages of a batch that are not reported as failures.
    pub fn delete(&mut self, receipt_handle: &str) {
        self.messages
            .retain(|_, m| m.receipt_handle != receipt_handle);
    }

    /// Bodies of the messages still queued, visible or not.
    pub fn bodies(&self) -> Vec<String> {
        self.messages.values().map(|m| m.body.clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn delayed_messages_come_back_until_the_dead_letter_queue() {
        let mut q = QueueModel::new(chrono::Duration::minutes(30), 2);
        let now = t("2026-03-02T10:00:00Z");
        q.send("a".into(), 300, now).unwrap();
        assert!(q.send("b".into(), 901, now).is_err());
        assert!(q.receive(now, 10).is_empty());
        let got = q.receive(now + chrono::Duration::minutes(5), 10);
        assert_eq!(got.len(), 1);
        // Not deleted: back after the visibility timeout, or sooner when told so.
        q.change_visibility(
            &got[0].receipt_handle,
            60,
            now + chrono::Duration::minutes(5),
        )
        .unwrap();
        let again = q.receive(now + chrono::Duration::minutes(6), 10);
        assert_eq!(again[0].receive_count, 2);
        assert!(
            q.change_visibility(&got[0].receipt_handle, 60, now)
                .is_err(),
            "old handle"
        );
        // Received twice already: the next time it is due it moves to the DLQ.
        assert!(q.receive(now + chrono::Duration::hours(1), 10).is_empty());
        assert_eq!(q.dead_letters.len(), 1);
        assert!(q.is_empty());
    }

    #[test]
    fn a_deleted_message_never_returns() {
        let mut q = QueueModel::new(chrono::Duration::minutes(1), 5);
        let now = t("2026-03-02T10:00:00Z");
        q.send("a".into(), 0, now).unwrap();
        let got = q.receive(now, 10);
        q.delete(&got[0].receipt_handle);
        assert!(q.receive(now + chrono::Duration::hours(1), 10).is_empty());
        assert!(q.dead_letters.is_empty());
    }
}
