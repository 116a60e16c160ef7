//! alarm-fanout: the routing document (JSON or YAML). Parsing must never panic, and a
//! document that parses only ever routes to receivers it defines.
#![no_main]
use alarm_fanout::{
    notice::{Kind, State},
    routing::{Facts, Routing},
    severity::Severity,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(routing) = Routing::parse(text) else {
        return;
    };
    let names = ["prod-db-cpu", "dev-api-5xx", "", "*"];
    for kind in [Kind::Alarm, Kind::Rds, Kind::Text] {
        for state in [Some(State::Alarm), Some(State::Ok), None] {
            for severity in [Some(Severity::Critical), Some(Severity::Info), None] {
                for name in names {
                    let facts = Facts {
                        kind,
                        alarm_name: Some(name),
                        state,
                        severity,
                        account: Some("123456789012"),
                        region: Some("eu-west-1"),
                        metrics: &[],
                        tags: None,
                    };
                    for receiver in routing.route(&facts) {
                        assert!(
                            routing.receivers.contains_key(&receiver),
                            "routed to undefined receiver {receiver:?}"
                        );
                    }
                }
            }
        }
    }
});
