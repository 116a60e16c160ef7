//! cloudfront-invalidate: direct invokes, deploy events, CodePipeline jobs and S3
//! notifications. Parsing must never panic.
#![no_main]
use cloudfront_invalidate::{config::Config, event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = event::parse(&value, "fuzz-request", &Config::default());
    }
});
