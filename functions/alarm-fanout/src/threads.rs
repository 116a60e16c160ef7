//! Alarm threads in chats: where an alarm's ALARM message went in a chat (Telegram's
//! `message_id`, Slack's channel and `ts`), so that its OK is sent as a reply to it.
//!
//! [`Threads`] is the seam: [`crate::aws::DynamoThreads`] keeps one item per chat and alarm
//! in the function's table, [`MemoryThreads`] keeps them in memory (tests, the simulation).
//! A thread is a convenience, never a condition of delivery: when the store cannot be read
//! or written, the message goes out on its own.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

/// How long a thread is remembered: an OK later than this starts a message of its own.
pub const THREAD_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// The place of a message in its alarm's thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// The alarm ([`crate::notice::Alarm::key`]).
    pub alarm: String,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// ALARM and INSUFFICIENT_DATA: the message starts the thread; its id is kept.
    Start,
    /// OK: a quiet reply to the message that started the thread.
    Reply,
    /// A reminder: a reply to the message that started the thread, which rings (it wants
    /// attention again) and leaves the thread's start where it is, so that the OK answers
    /// the ALARM, not the last reminder.
    Remind,
}

/// Where a thread's first message is: the chat (as the receiver answered it) and the
/// message's id in that chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub chat: String,
    pub message: String,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Thread anchors by chat and alarm. Errors are descriptions (never secrets).
pub trait Threads: Send + Sync {
    fn anchor<'a>(
        &'a self,
        chat: &'a str,
        alarm: &'a str,
    ) -> BoxFuture<'a, Result<Option<Anchor>, String>>;
    fn keep<'a>(
        &'a self,
        chat: &'a str,
        alarm: &'a str,
        anchor: &'a Anchor,
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// Anchors in memory, for the process's life.
#[derive(Debug, Default)]
pub struct MemoryThreads(Mutex<HashMap<(String, String), Anchor>>);

impl MemoryThreads {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Anchor>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Threads for MemoryThreads {
    fn anchor<'a>(
        &'a self,
        chat: &'a str,
        alarm: &'a str,
    ) -> BoxFuture<'a, Result<Option<Anchor>, String>> {
        let found = self.map().get(&(chat.into(), alarm.into())).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn keep<'a>(
        &'a self,
        chat: &'a str,
        alarm: &'a str,
        anchor: &'a Anchor,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.map()
            .insert((chat.into(), alarm.into()), anchor.clone());
        Box::pin(async { Ok(()) })
    }
}
