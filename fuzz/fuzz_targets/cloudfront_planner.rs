//! cloudfront-invalidate: path normalisation and the planner. For any list of changed
//! paths the plan must cover every path that is not under an immutable prefix, stay
//! within the wildcard limit, and never bill more than the naive list.
#![no_main]
use cloudfront_invalidate::{
    paths::{normalize, Encoding},
    planner::{plan, PlanInput, PlanOptions},
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let paths: Vec<_> = text
        .lines()
        .filter_map(|line| normalize(line, Encoding::Url).ok())
        .collect();
    let given_wildcards = paths.iter().filter(|p| p.wildcard).count();
    let options = PlanOptions {
        // Small limits reach the merging paths with short inputs.
        blind_min_files: 3,
        ..PlanOptions::default()
    };
    let input = PlanInput {
        paths: paths.clone(),
        ..PlanInput::default()
    };
    let Ok(result) = plan(&input, &options) else {
        assert!(given_wildcards > options.max_wildcards);
        return;
    };
    assert!(result.wildcards.len() <= options.max_wildcards);
    assert!(result.billed() <= result.naive_paths);
    for p in &paths {
        let rendered = p.rendered();
        let prefix = p.text.as_str();
        let immutable = options
            .immutable_prefixes
            .iter()
            .any(|i| prefix.starts_with(i.as_str()));
        if immutable {
            continue;
        }
        let covered = result.exact.iter().any(|e| *e == rendered)
            || result
                .wildcards
                .iter()
                .any(|w| prefix.starts_with(w.trim_end_matches('*')));
        assert!(covered, "{rendered} is not covered by {result:?}");
    }
    for batch in result.batches(&options) {
        assert!(batch.iter().filter(|p| p.ends_with('*')).count() <= options.max_wildcards);
        assert!(batch.len() <= options.max_paths_per_batch + options.max_wildcards);
    }
});
