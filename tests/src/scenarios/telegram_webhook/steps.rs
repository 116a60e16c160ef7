//! Playing the plan out: each happening in time order, against the world.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use telegram_webhook::health::Finding;

use super::plan::{schedule, Happening, Plan, MAX_ATTEMPTS};
use super::world::{app, props, request};
use super::{Figures, World, BACKLOG, BOT_SECRET, STRANGER_URL, URL, URL2};
use crate::kernel::Sim;

pub(super) async fn weeks(sim: Arc<Sim>) -> Figures {
    let start = sim.now();
    let mut w = match World::new(sim.clone()) {
        Ok(w) => w,
        Err(e) => {
            sim.check("the simulated function builds", false, || e);
            return Figures::default();
        }
    };
    let mut plan = schedule(&mut w, &sim, start);

    let mut url = URL;
    let mut max = 40;
    let mut stack_deleted = false;
    let mut paused_until: Option<DateTime<Utc>> = None;
    while let Some((at, happening)) = plan.next() {
        sim.sleep_until(at).await;
        // A request that failed: retried later, unless it has failed for a day.
        let failed = |plan: &mut Plan, happening: Happening| {
            let retried = plan.retry(sim.now(), happening.clone());
            sim.check(
                "a CloudFormation request succeeds once what stopped it has ended",
                retried,
                || format!("{happening:?} failed {MAX_ATTEMPTS} times"),
            );
        };
        match happening {
            Happening::Check => {
                if paused_until.is_some_and(|until| at < until) {
                    sim.trace("the schedule is disabled: no check");
                } else {
                    w.check().await;
                }
            }
            Happening::Evaluate => w.evaluate(),
            Happening::SchedulePaused(until) => {
                paused_until = Some(until);
                sim.trace("someone disables the health check's schedule");
            }
            Happening::Create => {
                let event = request("Create", 0, props(URL, 40), None, None);
                match w.cloudformation("Create", event).await {
                    Ok(id) => w.physical_id = Some(id),
                    Err(_) => failed(&mut plan, Happening::Create),
                }
            }
            Happening::Update(n) => {
                let id = w.physical_id.clone();
                let event = request(
                    "Update",
                    1,
                    props(url, n),
                    Some(props(url, max)),
                    id.as_deref(),
                );
                match w.cloudformation("Update", event).await {
                    Ok(new) => {
                        max = n;
                        sim.check(
                            "an Update of the same URL keeps the physical id",
                            Some(&new) == w.physical_id.as_ref(),
                            || new.clone(),
                        );
                    }
                    Err(_) => failed(&mut plan, Happening::Update(n)),
                }
            }
            Happening::MoveUrl => {
                // The deploy changes the function's environment, then the resource.
                match app(&w.model, &w.vault, &w.endpoint, &w.topic, URL2) {
                    Ok(next) => w.app = next,
                    Err(e) => sim.check("the simulated function builds", false, || e),
                }
                let old = props(url, max);
                let old_id = w.physical_id.clone();
                let event = request(
                    "Update",
                    2,
                    props(URL2, max),
                    Some(old.clone()),
                    old_id.as_deref(),
                );
                match w.cloudformation("Update", event).await {
                    Ok(new) => {
                        sim.check(
                            "a new URL is a new physical id",
                            Some(&new) != old_id.as_ref(),
                            || new.clone(),
                        );
                        url = URL2;
                        w.physical_id = Some(new);
                        // CloudFormation's clean-up deletes the old resource.
                        plan.at(sim.now(), Happening::DeleteReplaced(old, old_id));
                    }
                    Err(_) => failed(&mut plan, Happening::MoveUrl),
                }
            }
            Happening::DeleteReplaced(old, old_id) => {
                let before = w.model.webhook();
                let event = request("Delete", 3, old.clone(), None, old_id.as_deref());
                match w.cloudformation("Delete", event).await {
                    // Its webhook was replaced already: whatever the bot has now stays.
                    Ok(_) => sim.check(
                        "deleting the replaced resource leaves the new webhook alone",
                        w.model.webhook() == before,
                        || format!("{before:?} became {:?}", w.model.webhook()),
                    ),
                    Err(_) => failed(&mut plan, Happening::DeleteReplaced(old, old_id)),
                }
            }
            Happening::DeleteStack => {
                let id = w.physical_id.clone();
                let event = request("Delete", 4, props(url, max), None, id.as_deref());
                match w.cloudformation("Delete", event).await {
                    Ok(_) => {
                        stack_deleted = true;
                        sim.check(
                            "the stack's Delete removes the webhook",
                            w.model.webhook().is_none(),
                            || format!("{:?}", w.model.webhook()),
                        );
                    }
                    Err(_) => failed(&mut plan, Happening::DeleteStack),
                }
            }
            Happening::Revoke => {
                w.model.revoke();
                w.revoked = true;
                w.cause(Finding::TokenRevoked);
                sim.trace("the bot token is revoked");
            }
            Happening::Restore => {
                let token = w.model.token();
                // MemoryVault's values are shared: the app's vault sees the new token.
                let _ = w.vault.inner.clone().with(BOT_SECRET, &token);
                w.revoked = false;
                sim.trace("the operator stores the new bot token");
            }
            Happening::SecretsDown => w.cause(Finding::SecretUnreadable),
            Happening::OutageStarts => w.cause(Finding::TelegramUnreachable),
            Happening::Drift(kind) => {
                let Some(mut hook) = w.model.webhook() else {
                    continue;
                };
                match kind {
                    0 => hook.url = STRANGER_URL.to_string(),
                    1 => hook.max_connections = 100,
                    _ => hook.allowed_updates = None,
                }
                w.model.set_by_hand(hook);
                w.figures.drifts_by_hand += 1;
                sim.trace(format!("someone changes the webhook by hand ({kind})"));
            }
            Happening::EndpointFails => {
                for u in [URL, URL2] {
                    w.model.endpoint_failing(u, true);
                }
                w.cause(Finding::DeliveryErrors);
                w.cause(Finding::EndpointProbeFailed);
                sim.trace("the bot's endpoint starts failing");
            }
            Happening::EndpointRecovers => {
                for u in [URL, URL2] {
                    w.model.endpoint_failing(u, false);
                }
                sim.trace("the bot's endpoint recovers");
            }
            Happening::StopsCheckingToken => {
                w.cause(Finding::EndpointAcceptsUnsigned);
                sim.trace("the bot's endpoint stops checking the secret token");
            }
            Happening::ChecksTokenAgain => {
                sim.trace("the bot's endpoint checks the secret token again");
            }
            Happening::SnsDown => {
                w.cause(Finding::AlertUndelivered);
                sim.trace("SNS refuses every publish");
            }
        }
        if w.model.pending() > BACKLOG {
            w.cause(Finding::Backlog);
        }
    }
    sim.check("the stack is deleted at the end", stack_deleted, || {
        "the stack's Delete never succeeded".into()
    });
    let mut figures = w.figures;
    figures.telegram_calls = w.model.calls_len() as u64;
    (figures.updates_delivered, figures.updates_expired) = w.model.deliveries();
    figures
}
