//! The fault plan: which calls fail, and how, drawn from the seed.
//!
//! A fault is keyed by (resource, operation, nth call of that pair), never by the global
//! order of calls: a change that adds a call elsewhere leaves every other draw as it was,
//! and two runs of one seed inject the same faults at the same calls.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::rng::keyed;

/// What goes wrong with one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// The service refuses the call with its throttling error (retryable).
    Throttle,
    /// A 5xx from the service; nothing was done.
    ServerError,
    /// The call timed out before the service acted: nothing was done, no answer.
    TimeoutBeforeAction,
    /// The service acted, then the answer was lost (the hardest case for idempotency).
    TimeoutAfterAction,
}

impl Fault {
    pub fn is_fault(self) -> bool {
        self != Fault::None
    }
}

/// How often each fault happens, per call.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FaultRates {
    pub throttle: f64,
    pub server_error: f64,
    pub timeout_before: f64,
    pub timeout_after: f64,
}

impl FaultRates {
    pub const NONE: FaultRates = FaultRates {
        throttle: 0.0,
        server_error: 0.0,
        timeout_before: 0.0,
        timeout_after: 0.0,
    };

    /// A uniform share `p` of calls fail, split across the four kinds.
    pub fn uniform(p: f64) -> Self {
        Self {
            throttle: p / 4.0,
            server_error: p / 4.0,
            timeout_before: p / 4.0,
            timeout_after: p / 4.0,
        }
    }
}

#[derive(Debug)]
pub struct FaultPlan {
    seed: u64,
    rates: Mutex<FaultRates>,
    /// Rates of resources that fail otherwise than the rest (a database beside receivers).
    overrides: Mutex<BTreeMap<String, FaultRates>>,
    calls: Mutex<BTreeMap<(String, String), u64>>,
    injected: Mutex<BTreeMap<String, u64>>,
}

impl FaultPlan {
    pub fn new(seed: u64, rates: FaultRates) -> Self {
        Self {
            seed,
            rates: Mutex::new(rates),
            overrides: Mutex::new(BTreeMap::new()),
            calls: Mutex::new(BTreeMap::new()),
            injected: Mutex::new(BTreeMap::new()),
        }
    }

    /// Changes the rates of every resource from now on, overrides included (for example,
    /// no faults during a final redrive).
    pub fn set_rates(&self, rates: FaultRates) {
        *lock(&self.rates) = rates;
        lock(&self.overrides).clear();
    }

    /// Gives `resource` rates of its own from now on (until the next [`Self::set_rates`]).
    pub fn set_rates_for(&self, resource: &str, rates: FaultRates) {
        lock(&self.overrides).insert(resource.to_string(), rates);
    }

    /// The fault for this call of `operation` on `resource`.
    pub fn draw(&self, resource: &str, operation: &str) -> Fault {
        let n = {
            let mut calls = lock(&self.calls);
            let count = calls
                .entry((resource.to_string(), operation.to_string()))
                .or_insert(0);
            *count += 1;
            *count - 1
        };
        let rates = lock(&self.overrides)
            .get(resource)
            .copied()
            .unwrap_or_else(|| *lock(&self.rates));
        let u = keyed(self.seed, &[resource, operation], n);
        let mut edge = 0.0;
        let mut fault = Fault::None;
        for (rate, kind) in [
            (rates.throttle, Fault::Throttle),
            (rates.server_error, Fault::ServerError),
            (rates.timeout_before, Fault::TimeoutBeforeAction),
            (rates.timeout_after, Fault::TimeoutAfterAction),
        ] {
            edge += rate;
            if u < edge {
                fault = kind;
                break;
            }
        }
        if fault.is_fault() {
            *lock(&self.injected)
                .entry(format!("{operation} {fault:?}"))
                .or_insert(0) += 1;
        }
        fault
    }

    /// Faults injected so far, in all.
    pub fn injected(&self) -> u64 {
        lock(&self.injected).values().sum()
    }

    /// Faults injected so far, by operation and kind.
    pub fn injected_by_kind(&self) -> BTreeMap<String, u64> {
        lock(&self.injected).clone()
    }

    /// Calls made so far to `operation`, on every resource.
    pub fn calls_to(&self, operation: &str) -> u64 {
        lock(&self.calls)
            .iter()
            .filter(|((_, op), _)| op == operation)
            .map(|(_, n)| n)
            .sum()
    }
}

/// Locks a mutex; a poisoned one (a panic while held: a violation already reported) is
/// still readable.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_rates_no_faults() {
        let plan = FaultPlan::new(1, FaultRates::NONE);
        assert!((0..1000).all(|_| plan.draw("a", "Op") == Fault::None));
        assert_eq!(plan.injected(), 0);
        assert_eq!(plan.calls_to("Op"), 1000);
    }

    #[test]
    fn faults_are_keyed_by_resource_operation_and_count() {
        let a = FaultPlan::new(9, FaultRates::uniform(0.5));
        let b = FaultPlan::new(9, FaultRates::uniform(0.5));
        let seq_a: Vec<Fault> = (0..50).map(|_| a.draw("dev-1", "StopDBCluster")).collect();
        // Interleaving other calls in b changes nothing for dev-1's draws.
        let seq_b: Vec<Fault> = (0..50)
            .map(|_| {
                b.draw("dev-2", "StopDBCluster");
                b.draw("dev-1", "StopDBCluster")
            })
            .collect();
        assert_eq!(seq_a, seq_b);
        let share = seq_a.iter().filter(|f| f.is_fault()).count();
        assert!((10..=40).contains(&share), "{share}");
        assert!(a.injected() > 0);
    }

    #[test]
    fn a_resource_can_fail_at_rates_of_its_own_until_the_rates_change() {
        let plan = FaultPlan::new(4, FaultRates::uniform(1.0));
        plan.set_rates_for("table", FaultRates::NONE);
        assert!((0..100).all(|_| plan.draw("table", "UpdateItem") == Fault::None));
        assert!((0..100).all(|_| plan.draw("hook", "send").is_fault()));
        plan.set_rates(FaultRates::uniform(1.0));
        assert!(
            plan.draw("table", "UpdateItem").is_fault(),
            "override cleared"
        );
    }
}
