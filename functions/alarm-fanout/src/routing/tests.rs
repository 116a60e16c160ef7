//! The routing document end to end: parsing, the tree, time windows, the README's examples.

use super::*;
use crate::notice::{Kind, State};
use crate::severity::Severity;

const YAML: &str = r#"
receivers:
  oncall: {type: pagerduty, routing_key_secret: /groundcrew/pd}
  ops-slack: {type: slack, webhook_url_secret: "groundcrew/slack#url"}
  ops-telegram: {type: telegram, chat_id: -1001234, thread_id: 7, bot_token_secret: groundcrew/telegram}
  email: {type: sns, topic_arn: "arn:aws:sns:eu-west-1:111122223333:ops-email"}
routes:
  - match: {alarm_name: "prod-*", severity: [critical, error]}
    receivers: [oncall]
    continue: true
  - match: {alarm_name: ["prod-*", "stage-*"]}
    receivers: [ops-slack, oncall]
  - match: {kind: [rds, budgets]}
    receivers: email
default: [ops-telegram]
"#;

fn facts(name: Option<&'static str>, sev: Option<Severity>, kind: Kind) -> Facts<'static> {
    Facts {
        kind,
        alarm_name: name,
        state: name.map(|_| State::Alarm),
        severity: sev,
        account: Some("1"),
        region: Some("eu-west-1"),
        metrics: &[],
        tags: None,
    }
}

#[test]
fn routes_with_continue_and_default() {
    let r = Routing::parse(YAML).unwrap();
    assert_eq!(
        r.route(&facts(
            Some("prod-db"),
            Some(Severity::Critical),
            Kind::Alarm
        )),
        vec!["oncall", "ops-slack"]
    );
    assert_eq!(
        r.route(&facts(Some("prod-db"), Some(Severity::Info), Kind::Alarm)),
        vec!["ops-slack", "oncall"]
    );
    assert_eq!(
        r.route(&facts(Some("dev-db"), None, Kind::Alarm)),
        vec!["ops-telegram"]
    );
    assert_eq!(r.route(&facts(None, None, Kind::Rds)), vec!["email"]);
    assert_eq!(
        r.route(&facts(None, None, Kind::Text)),
        vec!["ops-telegram"]
    );
}

const NESTED: &str = r#"
receivers:
  pager: {type: pagerduty, routing_key_secret: /groundcrew/pd}
  db-chat: {type: slack, webhook_url_secret: groundcrew/db-slack}
  ops-chat: {type: slack, webhook_url_secret: groundcrew/ops-slack}
  audit: {type: webhook, url_secret: groundcrew/audit}
repeat_interval: 4h
routes:
  - match: {namespace: AWS/RDS}
    receivers: db-chat
    repeat_interval: 1h
    routes:
      - match: {severity: critical, dimensions: {DBInstanceIdentifier: "~prod-.*"}}
        receivers: [pager]
        continue: true
      - match: {alarm_name: "!*-canary"}
        routes:
          - match: {tags: {team: payments}}
            receivers: [audit]
  - match: {alarm_name: "~(prod|stage)-.*"}
    receivers: ops-chat
default: ops-chat
"#;

fn rds(db: &str) -> Vec<MetricRef> {
    vec![MetricRef {
        namespace: Some("AWS/RDS".into()),
        name: Some("CPUUtilization".into()),
        dimensions: vec![("DBInstanceIdentifier".into(), db.into())],
    }]
}

use crate::alarm_metrics::MetricRef;

#[test]
fn nested_routes_inherit_and_the_deepest_match_wins() {
    let r = Routing::parse(NESTED).unwrap();
    let prod = rds("prod-db");
    let f = Facts {
        metrics: &prod,
        ..facts(Some("prod-db-cpu"), Some(Severity::Critical), Kind::Alarm)
    };
    let got = r.matches(&f);
    // The critical child continues to its sibling, which has no receivers of its own
    // and no matching child: it ends there with the parent's receivers and interval.
    assert_eq!(
        got.iter().map(|m| m.path.as_str()).collect::<Vec<_>>(),
        vec!["routes[0].routes[0]", "routes[0].routes[1]"]
    );
    assert_eq!(got[0].settings.receivers, vec!["pager"]);
    assert_eq!(got[1].settings.receivers, vec!["db-chat"]);
    assert_eq!(
        got[1].settings.repeat_interval,
        Some(Duration::from_secs(3600))
    );
    assert_eq!(r.route(&f), vec!["pager", "db-chat"]);

    // Tags reach the grandchild.
    let tags: BTreeMap<String, String> = [("team".into(), "payments".into())].into();
    let f = Facts {
        metrics: &prod,
        ..facts(Some("pay-db"), Some(Severity::Warning), Kind::Alarm)
    }
    .with_tags(&tags);
    let got = r.matches(&f);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "routes[0].routes[1].routes[0]");
    assert_eq!(got[0].settings.receivers, vec!["audit"]);
    assert_eq!(
        got[0].settings.repeat_interval,
        Some(Duration::from_secs(3600))
    );

    // A canary on a dev database: no child matches, so the parent itself is the answer.
    let dev = rds("dev-db");
    let f = Facts {
        metrics: &dev,
        ..facts(Some("dev-canary"), Some(Severity::Warning), Kind::Alarm)
    };
    assert_eq!(r.matches(&f)[0].path, "routes[0]");
    assert_eq!(r.route(&f), vec!["db-chat"]);

    // Not an RDS metric: the regex route, then the default with the root interval.
    let f = facts(Some("stage-api"), None, Kind::Alarm);
    assert_eq!(r.route(&f), vec!["ops-chat"]);
    let f = facts(Some("dev-api"), None, Kind::Alarm);
    let got = r.matches(&f);
    assert_eq!(got[0].path, "default");
    assert_eq!(
        got[0].settings.repeat_interval,
        Some(Duration::from_secs(4 * 3600))
    );
}

#[test]
fn nested_errors_name_the_path() {
    let cases = [
        (
            NESTED.replace("receivers: [audit]", "receivers: [adit]"),
            "routes[0].routes[1].routes[0].receivers: unknown receiver \"adit\"",
        ),
        (
            NESTED.replace("repeat_interval: 1h", "repeat_interval: hourly"),
            "routes[0].repeat_interval: \"hourly\" is not a duration",
        ),
        (
            NESTED.replace("\"~prod-.*\"", "\"~prod-(\""),
            "routes[0].routes[0].match.dimensions.DBInstanceIdentifier: bad regular expression",
        ),
        (
            NESTED.replace("repeat_interval: 4h", "repeat_interval: 0s"),
            "repeat_interval: \"0s\"",
        ),
        (
            NESTED.replace("tags: {team: payments}", "tag: {team: payments}"),
            "unknown field `tag`",
        ),
    ];
    for (doc, wanted) in cases {
        let err = Routing::parse(&doc).unwrap_err().to_string();
        assert!(err.contains(wanted), "wanted {wanted:?} in {err}");
    }
}

/// The whole documents the README shows (YAML and JSON, with a `default`) parse and
/// route as it says; fragments (receivers alone) are left out.
#[test]
fn the_readme_documents_still_work() {
    let readme = include_str!("../../README.md");
    let blocks: Vec<&str> = readme
        .split("```")
        .filter(|b| {
            (b.starts_with("yaml\nreceivers:") && b.contains("\ndefault:"))
                || (b.starts_with("json\n{\n  \"receivers\"") && b.contains("\"default\""))
        })
        .map(|b| b.split_once('\n').map_or(b, |(_, rest)| rest))
        .collect();
    assert!(
        blocks.len() >= 2,
        "the README's routing documents were not found"
    );
    for doc in &blocks {
        let doc = doc
            .replace("<region>", "eu-west-1")
            .replace("<account>", "123456789012")
            .replace("<Name>", "gc");
        let r = Routing::parse(&doc).unwrap_or_else(|e| panic!("{e}\n{doc}"));
        assert!(!r
            .route(&facts(
                Some("prod-api"),
                Some(Severity::Critical),
                Kind::Alarm
            ))
            .is_empty());
    }
    let first = Routing::parse(blocks[0]).unwrap();
    let prod = facts(Some("prod-api"), Some(Severity::Critical), Kind::Alarm);
    assert_eq!(first.route(&prod), vec!["ops-telegram", "ops-slack"]);
    let in_account = Facts {
        account: Some("123456789012"),
        ..prod
    };
    assert_eq!(
        first.route(&in_account),
        vec!["oncall", "ops-telegram", "ops-slack"]
    );
    assert_eq!(
        first.route(&facts(None, None, Kind::Rds)),
        vec!["ops-email", "audit"]
    );
}

/// The fixture events, parsed as the handler parses them, route by what they watch.
#[test]
fn the_fixture_alarms_route_by_namespace_metric_and_dimensions() {
    let doc = r#"
receivers:
  db: {type: webhook, url_secret: db}
  api: {type: webhook, url_secret: api}
  queues: {type: webhook, url_secret: queues}
  lb: {type: webhook, url_secret: lb}
  rest: {type: webhook, url_secret: rest}
routes:
  - {match: {namespace: AWS/RDS, dimensions: {DBClusterIdentifier: "demo-*"}}, receivers: db}
  - {match: {metric_name: "~5XXError|Count", dimensions: {ApiName: demo-api}}, receivers: api}
  - {match: {dimensions: {QueueName: "*"}}, receivers: queues}
  - {match: {namespace: AWS/ApplicationELB, dimensions: {LoadBalancer: ["*demo-*", "!*payments*"]}}, receivers: lb}
default: rest
"#;
    let r = Routing::parse(doc).unwrap();
    let cases = [
        ("sns-metric-alarm", "db"),
        ("sns-metric-math-alarm", "api"),
        ("eventbridge-alarm-state-change", "queues"),
        ("sns-anomaly-alarm", "lb"),
        ("lambda-alarm-action", "rest"),
        ("sns-composite-alarm", "rest"),
    ];
    for (name, wanted) in cases {
        let path = format!(
            "{}/../../events/alarm-fanout/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let notice = crate::notice::parse_event(&event).unwrap().remove(0);
        assert_eq!(
            r.route(&Facts::of(&notice, None)),
            vec![wanted],
            "{name}: {:?}",
            notice.alarm().map(|a| &a.metrics)
        );
    }
}

const WINDOWS: &str = r#"
receivers:
  chat: {type: webhook, url_secret: chat}
  pager: {type: webhook, url_secret: pager}
time_intervals:
  office-hours:
    - weekdays: ["monday:friday"]
      times: [{start_time: "09:00", end_time: "18:00"}]
      location: Europe/Berlin
  maintenance:
    - weekdays: [sunday]
      times: [{start_time: "02:00", end_time: "04:00"}]
      location: Europe/Berlin
routes:
  - receivers: chat
    active_time_intervals: office-hours
    continue: true
    routes:
      - match: {severity: critical}
        receivers: [pager, chat]
  - receivers: pager
    mute_time_intervals: [maintenance]
default: pager
"#;

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

#[test]
fn time_windows_hold_back_the_receivers_of_muted_routes_only() {
    let r = Routing::parse(WINDOWS).unwrap();
    let warning = facts(Some("db"), Some(Severity::Warning), Kind::Alarm);
    let critical = facts(Some("db"), Some(Severity::Critical), Kind::Alarm);
    // Monday 10:00 in Berlin: both routes active.
    let monday = at("2026-03-30T08:00:00Z");
    let d = r.destinations(&warning, monday);
    assert_eq!(
        (d.deliver, d.held),
        (vec!["chat".to_string(), "pager".into()], vec![])
    );
    // Saturday: chat's route is outside office hours; the pager route is not muted.
    let saturday = at("2026-03-28T10:00:00Z");
    let d = r.destinations(&warning, saturday);
    assert_eq!(
        (d.deliver, d.held),
        (vec!["pager".to_string()], vec!["chat".to_string()])
    );
    // The critical child inherits the active window: pager and chat both held from it,
    // but the pager is also named by the unmuted second route, so it goes now.
    let d = r.destinations(&critical, saturday);
    assert_eq!(
        (d.deliver, d.held),
        (vec!["pager".to_string()], vec!["chat".to_string()])
    );
    // Sunday 03:00 in Berlin (01:00 UTC, after the spring change): the pager route is
    // in its maintenance window and chat outside office hours: everything held.
    let d = r.destinations(&warning, at("2026-03-29T01:00:00Z"));
    assert_eq!(
        (d.deliver, d.held),
        (vec![], vec!["chat".to_string(), "pager".into()])
    );
    // Routing without a time still names every receiver.
    assert_eq!(r.route(&warning), vec!["chat", "pager"]);
}

#[test]
fn time_window_errors_name_the_field() {
    let cases = [
        (
            WINDOWS.replace(
                "mute_time_intervals: [maintenance]",
                "mute_time_intervals: [maintenence]",
            ),
            "routes[1].mute_time_intervals: unknown time interval \"maintenence\"",
        ),
        (
            WINDOWS.replace(
                "location: Europe/Berlin\n  maintenance",
                "location: Europe/Paaris\n  maintenance",
            ),
            "time_intervals.office-hours[0].location: \"Europe/Paaris\"",
        ),
        (
            WINDOWS.replace("end_time: \"04:00\"", "end_time: \"4\""),
            "time_intervals.maintenance[0].times[0].end_time",
        ),
    ];
    for (doc, wanted) in cases {
        let err = Routing::parse(&doc).unwrap_err().to_string();
        assert!(err.contains(wanted), "wanted {wanted:?} in {err}");
    }
}

#[test]
fn json_documents_work_too() {
    let doc = r#"{"receivers": {"hook": {"type": "webhook", "url_secret": "ssm:/hook"}}, "default": "hook"}"#;
    let r = Routing::parse(doc).unwrap();
    assert_eq!(r.default, vec!["hook"]);
}

#[test]
fn errors_name_the_bad_field() {
    let cases = [
        (
            YAML.replace("receivers: email", "receivers: [mail]"),
            "routes[2].receivers: unknown receiver \"mail\"",
        ),
        (
            YAML.replace("[critical, error]", "[critical, urgent]"),
            "routes[0].match.severity: \"urgent\"",
        ),
        (
            YAML.replace("alarm_name: \"prod-*\"", "alarm_name: \"prod-[\""),
            "routes[0].match.alarm_name: bad glob",
        ),
        (
            YAML.replace("continue: true", "contine: true"),
            "unknown field `contine`",
        ),
        (YAML.replace("default: [ops-telegram]", ""), "default"),
        (
            YAML.replace("type: slack", "type: msteams"),
            "unknown variant `msteams`",
        ),
        (
            YAML.replace(
                "routing_key_secret: /groundcrew/pd",
                "routing_key_secret: \"ssm:\"",
            ),
            "receivers.oncall.routing_key_secret",
        ),
        (
            YAML.replace("arn:aws:sns:", "arn:aws:sqs:"),
            "receivers.email.topic_arn",
        ),
    ];
    for (doc, wanted) in cases {
        let err = Routing::parse(&doc).unwrap_err().to_string();
        assert!(err.contains(wanted), "wanted {wanted:?} in {err}");
    }
}
