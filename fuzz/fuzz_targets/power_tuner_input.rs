//! power-tuner: the tuning input (Power Tuning's fields and ours), direct or in an
//! EventBridge event. Validation must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(request) = power_tuner::input::TuneRequest::from_event(&event) {
            let _ = request.function_name();
            let _ = request.invocations();
        }
    }
});
