//! Rate limits as a budget: each rate-limited receiver has token buckets, kept as one
//! "theoretical arrival time" per limit (the generic cell rate algorithm, which admits
//! exactly what a token bucket of `burst` tokens refilled one per `interval` admits), so a
//! bucket is one number that a conditional write can replace.
//!
//! The limits (docs/reference.md, "Receivers"): Telegram about 1 message a second per chat
//! and about 20 a minute per group or channel; Slack about 1 message a second per webhook.
//! A bucket of `burst` tokens refilled one per `interval` lets through at most
//! `burst + window / interval` messages in any window, so a group's minute bucket is 10
//! tokens refilled one per 6 s: never more than 20 in any minute, 10 at once after a quiet
//! spell. PagerDuty, Google Chat, SNS and webhooks are not paced here (their limits are far
//! above what one alarm stream sends; their 429s are retried as before).

use std::time::Duration;

use crate::routing::{ChatId, Receiver};

/// One token bucket: `burst` tokens, one more every `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub burst: u32,
    pub interval: Duration,
}

impl Limit {
    const fn new(burst: u32, interval_ms: u64) -> Self {
        Self {
            burst,
            interval: Duration::from_millis(interval_ms),
        }
    }
}

/// About one message a second to one chat (Telegram) or one webhook (Slack).
pub const PER_SECOND: Limit = Limit::new(1, 1_000);
/// About 20 messages a minute to one Telegram group or channel: 10 + 60 s / 6 s = 20.
pub const GROUP_PER_MINUTE: Limit = Limit::new(10, 6_000);

/// The limits a receiver is paced by (empty: not paced).
pub fn limits(receiver: &Receiver) -> &'static [Limit] {
    match receiver {
        // Negative ids are groups, supergroups and channels; `@name` is a channel.
        Receiver::Telegram {
            chat_id: ChatId::Id(id),
            ..
        } if *id > 0 => &[PER_SECOND],
        Receiver::Telegram { .. } => &[PER_SECOND, GROUP_PER_MINUTE],
        Receiver::Slack { .. } | Receiver::SlackBot { .. } => &[PER_SECOND],
        _ => &[],
    }
}

/// Whose budget a receiver's messages take: one per chat, whatever number of receivers
/// (routes, topics, severities) post to it. A Telegram chat by its id; a Slack bot's
/// channel by its name; a Slack webhook (one channel) by its secret; anything else by the
/// receiver's own name.
pub fn budget_key(name: &str, receiver: &Receiver) -> String {
    match receiver {
        Receiver::Telegram {
            chat_id: ChatId::Id(id),
            ..
        } => format!("telegram:{id}"),
        Receiver::Telegram {
            chat_id: ChatId::Name(chat),
            ..
        } => format!("telegram:{chat}"),
        Receiver::SlackBot { channel, .. } => format!("slack-channel:{channel}"),
        Receiver::Slack { webhook_url_secret } => format!("slack-webhook:{webhook_url_secret}"),
        _ => name.to_string(),
    }
}

/// A bucket's state: per limit, the time (ms since the epoch) at which it is full again
/// (0: never used).
pub type Buckets = Vec<i64>;

/// Takes one token from every bucket at `now_ms`: the new state, or how long until every
/// bucket has a token.
pub fn take(buckets: &[i64], limits: &[Limit], now_ms: i64) -> Result<Buckets, Duration> {
    let mut next = Vec::with_capacity(limits.len());
    let mut wait_ms = 0i64;
    for (i, limit) in limits.iter().enumerate() {
        let interval = limit.interval.as_millis() as i64;
        let tolerance = interval * i64::from(limit.burst.saturating_sub(1));
        let full_at = buckets.get(i).copied().unwrap_or(0).max(now_ms);
        // The bucket is empty while its full-again time is more than a burst away.
        wait_ms = wait_ms.max(full_at - tolerance - now_ms);
        next.push(full_at + interval);
    }
    if wait_ms > 0 {
        Err(Duration::from_millis(wait_ms as u64))
    } else {
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends as fast as the buckets allow for `span_ms`; the times they went.
    fn drain(limits: &[Limit], span_ms: i64) -> Vec<i64> {
        let mut state = Vec::new();
        let mut now = 0;
        let mut sent = Vec::new();
        while now < span_ms {
            match take(&state, limits, now) {
                Ok(next) => {
                    state = next;
                    sent.push(now);
                }
                Err(wait) => now += wait.as_millis() as i64,
            }
        }
        sent
    }

    #[test]
    fn a_group_never_gets_more_than_one_a_second_or_twenty_in_any_minute() {
        let sent = drain(&[PER_SECOND, GROUP_PER_MINUTE], 600_000);
        for pair in sent.windows(2) {
            assert!(pair[1] - pair[0] >= 1_000, "{pair:?}");
        }
        for (i, t) in sent.iter().enumerate() {
            let in_minute = sent[i..].iter().take_while(|u| **u - t < 60_000).count();
            assert!(in_minute <= 20, "{in_minute} from {t}");
        }
        // The burst goes at once (one a second), then one every 6 s.
        assert_eq!(&sent[..3], &[0, 1_000, 2_000]);
        assert_eq!(sent.iter().filter(|t| **t < 60_000).count(), 19);
        assert!(sent.len() >= 100, "{}", sent.len());
    }

    #[test]
    fn an_empty_bucket_says_how_long_to_wait() {
        let state = take(&[], &[PER_SECOND], 5_000).unwrap();
        assert_eq!(
            take(&state, &[PER_SECOND], 5_400),
            Err(Duration::from_millis(600))
        );
        assert!(take(&state, &[PER_SECOND], 6_000).is_ok());
    }

    #[test]
    fn receivers_posting_to_one_chat_share_its_budget() {
        let doc = r#"{"receivers": {
            "ops": {"type": "telegram", "chat_id": -100, "bot_token_secret": "t"},
            "ops-db": {"type": "telegram", "chat_id": -100, "thread_id": 7, "bot_token_secret": "t2"},
            "other": {"type": "telegram", "chat_id": -200, "bot_token_secret": "t"},
            "s1": {"type": "slack", "webhook_url_secret": "s"},
            "s2": {"type": "slack", "webhook_url_secret": "s"},
            "pd": {"type": "pagerduty", "routing_key_secret": "p"}}, "default": "pd"}"#;
        let routing = crate::routing::Routing::parse(doc).unwrap();
        let key = |name: &str| budget_key(name, &routing.receivers[name]);
        assert_eq!(key("ops"), key("ops-db"));
        assert_ne!(key("ops"), key("other"));
        assert_eq!(key("s1"), key("s2"));
        assert_eq!(key("pd"), "pd");
    }

    #[test]
    fn private_chats_and_slack_are_paced_per_second_only() {
        let doc = r#"{"receivers": {
            "dm": {"type": "telegram", "chat_id": 42, "bot_token_secret": "t"},
            "group": {"type": "telegram", "chat_id": -100, "bot_token_secret": "t"},
            "channel": {"type": "telegram", "chat_id": "@ops", "bot_token_secret": "t"},
            "slack": {"type": "slack", "webhook_url_secret": "s"},
            "pd": {"type": "pagerduty", "routing_key_secret": "p"}}, "default": "pd"}"#;
        let routing = crate::routing::Routing::parse(doc).unwrap();
        let of = |name: &str| limits(&routing.receivers[name]).len();
        assert_eq!(
            (of("dm"), of("group"), of("channel"), of("slack"), of("pd")),
            (1, 2, 2, 1, 0)
        );
    }
}
