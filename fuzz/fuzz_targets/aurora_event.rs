//! aurora-autopause: schedules, RDS events and direct actions. Parsing must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = aurora_autopause::event::parse(&event);
    }
});
