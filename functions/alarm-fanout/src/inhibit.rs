//! Inhibition in the handler ([`crate::inhibition`] holds the rules and the decision): an
//! alarm that advances records what it is a source of (ALARM) or clears it (any other
//! state), under its own lease; a notice that a firing source inhibits is held like a
//! silenced one, and the sweep delivers it once no source inhibits it any more.

use groundcrew::Invocation;

use crate::error::Error;
use crate::handler::App;
use crate::held::HeldStore;
use crate::inhibition::{inhibited_by, sources_of, SourceStore};
use crate::notice::State;
use crate::pace::PaceStore;
use crate::receivers::Deliver;
use crate::redrive::DeadLetters;
use crate::reminders::ReminderStore;
use crate::routing::{Facts, Routing};
use crate::severity::TagLookup;
use crate::silences::SilenceStore;
use crate::store::{Change, Store};

impl<
        St: Store + PaceStore + HeldStore + SilenceStore + ReminderStore + SourceStore,
        D: Deliver,
        T: TagLookup + 'static,
        Q: DeadLetters,
    > App<St, D, T, Q>
{
    /// The source alarm that inhibits this notice now, if any (read only while the
    /// document has inhibition rules).
    pub(crate) async fn inhibitor(
        &self,
        routing: &Routing,
        subject: &str,
        facts: &Facts<'_>,
    ) -> Result<Option<String>, Error> {
        if routing.inhibit_rules.is_empty() {
            return Ok(None);
        }
        let firing = self.store.firing().await?;
        Ok(
            inhibited_by(&routing.inhibit_rules, subject, facts, &firing)
                .map(|s| s.subject.clone()),
        )
    }

    /// Under the subject's lease, when `change` advanced the alarm: records the rules it
    /// is a source of while in ALARM, clears them at any other state.
    pub(crate) async fn note_sources(
        &self,
        routing: &Routing,
        subject: &str,
        facts: &Facts<'_>,
        change: Change,
        _invocation: &Invocation,
    ) -> Result<(), Error> {
        if routing.inhibit_rules.is_empty() {
            return Ok(());
        }
        let sources = if change.state == Some(State::Alarm) {
            sources_of(&routing.inhibit_rules, subject, facts)
        } else {
            Vec::new()
        };
        self.store.set_sources(subject, &sources).await
    }
}
