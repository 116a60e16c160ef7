//! Rate limits as a budget: each rate-limited receiver has token buckets, kept as one
//! "theoretical arrival time" per limit (the generic cell rate algorithm, which admits
//! exactly what a token bucket of `burst` tokens refilled one per `interval` admits), so a
//! bucket is one number that a conditional write can replace.
//!
//! The limits (docs/reference.md, "Receivers"): Telegram about 1 message a second per chat
//! and about 20 a minute per group or channel; Slack about 1 message a second per webhook;
//! a Teams webhook at most 4 requests a second, 60 in 30 s, 100 an hour, 150 in two hours
//! and 1,800 a day (Microsoft's "Rate limiting for connectors", README "Teams").
//! A bucket of `burst` tokens refilled one per `interval` lets through at most
//! `burst + window / interval` messages in any window, so a group's minute bucket is 10
//! tokens refilled one per 6 s: never more than 20 in any minute, 10 at once after a quiet
//! spell. PagerDuty, Google Chat, SNS and plain webhooks are not paced here (their limits are far
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

/// At most 4 requests in any second to one Teams webhook: one every 250 ms.
pub const TEAMS_PER_SECOND: Limit = Limit::new(1, 250);
/// A Teams webhook's hour: 50 + 3,600 s / 72 s = 100 in any hour. The same bucket keeps
/// the other windows too: at most 50 in 30 s (limit 60), 50 + 7,200 / 72 = 150 in two
/// hours (limit 150), 50 + 86,400 / 72 = 1,250 in a day (limit 1,800).
pub const TEAMS_PER_HOUR: Limit = Limit::new(50, 72_000);

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
        Receiver::Teams { .. } => &[TEAMS_PER_SECOND, TEAMS_PER_HOUR],
        _ => &[],
    }
}

/// Whose budget a receiver's messages take: one per chat, whatever number of receivers
/// (routes, topics, severities) post to it. A Telegram chat by its id; a Slack bot's
/// channel by its name; a Slack or Teams webhook (one channel each) by its secret; anything
/// else by the receiver's own name.
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
        Receiver::Teams { webhook_url_secret } => format!("teams-webhook:{webhook_url_secret}"),
        _ => name.to_string(),
    }
}

/// A bucket's state: per limit, the time (ms since the epoch) at which it is full again
/// (0: never used).
pub type Buckets = Vec<i64>;

/// How late after its admission a request may still go. The admission is decided at one
/// time and the request goes later: after the store's read and conditional write, seconds
/// later when the table is slow and the SDK retries. So a token is dated this far ahead of
/// its admission (the next request's token comes an interval after the latest this one may
/// go), and a token whose admission took longer than this is not used
/// ([`crate::pace::Pacer`] takes another). A tenth of the shortest interval: 100 ms for
/// Telegram and Slack, 25 ms for Teams; well above a healthy table's two round trips.
pub fn send_within(limits: &[Limit]) -> Duration {
    limits
        .iter()
        .map(|l| l.interval / 10)
        .min()
        .unwrap_or(Duration::ZERO)
}

/// Takes one token from every bucket at `now_ms`: the new state, or how long until every
/// bucket has a token. The token is dated [`send_within`] ahead of `now_ms`.
pub fn take(buckets: &[i64], limits: &[Limit], now_ms: i64) -> Result<Buckets, Duration> {
    let mut next = Vec::with_capacity(limits.len());
    let mut wait_ms = 0i64;
    let latest_send = now_ms + send_within(limits).as_millis() as i64;
    for (i, limit) in limits.iter().enumerate() {
        let interval = limit.interval.as_millis() as i64;
        let tolerance = interval * i64::from(limit.burst.saturating_sub(1));
        let full_at = buckets.get(i).copied().unwrap_or(0).max(now_ms);
        // The bucket is empty while its full-again time is more than a burst away.
        wait_ms = wait_ms.max(full_at - tolerance - now_ms);
        next.push(full_at.max(latest_send) + interval);
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
        // The burst goes at once (one a second, each token dated the 100 ms a request may
        // take to go after its admission ahead), then one every 6 s.
        assert_eq!(&sent[..3], &[0, 1_100, 2_200]);
        assert_eq!(sent.iter().filter(|t| **t < 60_000).count(), 19);
        assert!(sent.len() >= 100, "{}", sent.len());
    }

    /// The most requests `sent` has in any window of `span_ms` starting at one of them.
    fn most_in(sent: &[i64], span_ms: i64) -> usize {
        (0..sent.len())
            .map(|i| {
                sent[i..]
                    .iter()
                    .take_while(|u| **u - sent[i] < span_ms)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn a_teams_webhook_stays_under_every_documented_window() {
        // A day of sending as fast as the buckets allow.
        let sent = drain(&[TEAMS_PER_SECOND, TEAMS_PER_HOUR], 86_400_000);
        for (span_ms, limit) in [
            (1_000, 4),
            (30_000, 60),
            (3_600_000, 100),
            (7_200_000, 150),
            (86_400_000, 1_800),
        ] {
            let most = most_in(&sent, span_ms);
            assert!(most <= limit, "{most} in {span_ms} ms, limit {limit}");
        }
        // Not much slower than it must be: one every 275 ms at first (250 ms and the 25 ms
        // a request may take to go), nearly the hour's 100.
        assert_eq!(&sent[..5], &[0, 275, 550, 825, 1_100]);
        assert!(most_in(&sent, 3_600_000) >= 95);
        assert!(sent.len() >= 1_200, "{}", sent.len());
    }

    #[test]
    fn an_empty_bucket_says_how_long_to_wait() {
        // A token taken at 5 s may go until 5.1 s: the next one a second after that.
        let state = take(&[], &[PER_SECOND], 5_000).unwrap();
        assert_eq!(
            take(&state, &[PER_SECOND], 5_400),
            Err(Duration::from_millis(700))
        );
        assert!(take(&state, &[PER_SECOND], 6_099).is_err());
        assert!(take(&state, &[PER_SECOND], 6_100).is_ok());
    }

    #[test]
    fn receivers_posting_to_one_chat_share_its_budget() {
        let doc = r#"{"receivers": {
            "ops": {"type": "telegram", "chat_id": -100, "bot_token_secret": "t"},
            "ops-db": {"type": "telegram", "chat_id": -100, "thread_id": 7, "bot_token_secret": "t2"},
            "other": {"type": "telegram", "chat_id": -200, "bot_token_secret": "t"},
            "s1": {"type": "slack", "webhook_url_secret": "s"},
            "s2": {"type": "slack", "webhook_url_secret": "s"},
            "t1": {"type": "teams", "webhook_url_secret": "teams/ops"},
            "t2": {"type": "teams", "webhook_url_secret": "teams/ops"},
            "t3": {"type": "teams", "webhook_url_secret": "teams/db"},
            "pd": {"type": "pagerduty", "routing_key_secret": "p"}}, "default": "pd"}"#;
        let routing = crate::routing::Routing::parse(doc).unwrap();
        let key = |name: &str| budget_key(name, &routing.receivers[name]);
        assert_eq!(key("ops"), key("ops-db"));
        assert_ne!(key("ops"), key("other"));
        assert_eq!(key("s1"), key("s2"));
        assert_eq!(key("t1"), key("t2"));
        assert_ne!(key("t1"), key("t3"));
        assert_ne!(key("t1"), key("s1"));
        assert_eq!(key("pd"), "pd");
    }

    #[test]
    fn private_chats_and_slack_are_paced_per_second_only() {
        let doc = r#"{"receivers": {
            "dm": {"type": "telegram", "chat_id": 42, "bot_token_secret": "t"},
            "group": {"type": "telegram", "chat_id": -100, "bot_token_secret": "t"},
            "channel": {"type": "telegram", "chat_id": "@ops", "bot_token_secret": "t"},
            "slack": {"type": "slack", "webhook_url_secret": "s"},
            "teams": {"type": "teams", "webhook_url_secret": "t"},
            "pd": {"type": "pagerduty", "routing_key_secret": "p"}}, "default": "pd"}"#;
        let routing = crate::routing::Routing::parse(doc).unwrap();
        let of = |name: &str| limits(&routing.receivers[name]).len();
        assert_eq!(
            (
                of("dm"),
                of("group"),
                of("channel"),
                of("slack"),
                of("teams"),
                of("pd")
            ),
            (1, 2, 2, 1, 2, 0)
        );
    }
}
