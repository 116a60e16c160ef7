//! power-tuner: the REPORT record in an invocation's log tail (text or JSON log format),
//! raw and base64-encoded as Lambda returns it. Parsing must never panic, and a parsed
//! report has finite, non-negative durations.
#![no_main]
use libfuzzer_sys::fuzz_target;
use power_tuner::logs;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = logs::parse_log_result(text);
    if let Some(report) = logs::parse_log_tail(text) {
        for v in [report.speed_ms(), report.billed_ms()] {
            assert!(v.is_finite() && v >= 0.0, "duration {v} from {text:?}");
        }
        let _ = report.is_cold();
    }
});
