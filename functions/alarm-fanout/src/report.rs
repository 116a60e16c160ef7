//! What the handler answers and the policy it follows: [`Report`] (one per invocation),
//! [`NoticeReport`] (one per notice) with its [`Outcome`], and [`Policy`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::flush::DigestReport;
use crate::notice::{Kind, Notice};
use crate::redrive::RedriveReport;
use crate::severity::Severity;

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// How long delivery records are kept (DynamoDB TTL).
    pub record_ttl: Duration,
    /// Severity of notices that are not alarms.
    pub default_severity: Severity,
    /// Telegram messages longer than one message are sent in at most this many parts.
    pub telegram_max_parts: usize,
    /// A rate-limited receiver gets at most one digest in this time. Under a minute, so
    /// that the flush scheduled every minute always finds the last digest old enough.
    pub digest_interval: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            record_ttl: Duration::from_secs(30 * 86_400),
            default_severity: Severity::Warning,
            telegram_max_parts: 3,
            digest_interval: Duration::from_secs(50),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Sent to every receiver of its plan that lacked it.
    Delivered,
    /// This message was already delivered everywhere.
    Duplicate,
    /// The same state change of the alarm was handled under another message id.
    Suppressed,
    /// Older than a state change already handled for the alarm: recorded, not delivered.
    Stale,
    /// Every receiver still lacking it is muted (time windows): held for the sweep.
    Held,
    /// A held OK whose receivers were muted for the whole episode: none of them was shown
    /// the ALARM, so none is sent the OK ([`NoticeReport::resolved_while_muted`]).
    ResolvedWhileMuted,
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
    /// Receivers that already showed this change (or a newer one).
    pub already_delivered: Vec<String>,
    /// Rate-limited receivers this change was folded into the digest of.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub folded: Vec<String>,
    /// Muted receivers it is held for, until their routes are not muted ([`crate::held`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<String>,
    /// Receivers a held OK was not sent to when its mute ended, because they were never
    /// shown the alarm's ALARM (muted from the firing to the OK).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resolved_while_muted: Vec<String>,
    /// Requests that may have reached a receiver twice (a timeout after it accepted).
    pub possible_duplicates: u32,
    /// For a stale notice: the newer state that superseded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// Telegram receivers whose group became a supergroup: the chat id to put in the
    /// routing document.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub chat_migrations: BTreeMap<String, i64>,
}

impl NoticeReport {
    /// The report of a notice about to be sent: delivered until a receiver says otherwise.
    pub fn delivering(notice: &Notice, headline: String, severity: Option<Severity>) -> Self {
        Self {
            id: notice.id.clone(),
            kind: notice.kind(),
            headline,
            outcome: Outcome::Delivered,
            severity,
            sent: vec![],
            already_delivered: vec![],
            folded: vec![],
            held: vec![],
            resolved_while_muted: vec![],
            possible_duplicates: 0,
            superseded_by: None,
            chat_migrations: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub notices: Vec<NoticeReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive: Option<RedriveReport>,
    /// Digests sent by this invocation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub digests: Vec<DigestReport>,
    /// The silence created or expired, or those listed (`silence`, `expire`, `silences`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub silences: Vec<crate::silences::Silence>,
}
