//! The routing document: receivers by name and an ordered route list, as Alertmanager's
//! route tree flattened (`continue` falls through), with a default.
//!
//! The document is JSON or YAML. It is validated whole when it is loaded (at start-up): an
//! unknown field, a bad glob, state or severity, a malformed secret reference or a route
//! naming a receiver the document lacks is an error that names the field.

use std::collections::BTreeMap;

use globset::{Glob, GlobMatcher};
use groundcrew::secrets::SecretRef;
use serde::{Deserialize, Deserializer};

use crate::error::Error;
use crate::notice::{Kind, Notice, State};
use crate::severity::Severity;

/// A Telegram chat: a numeric id or an `@channel` name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum ChatId {
    Id(i64),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Receiver {
    Telegram {
        chat_id: ChatId,
        #[serde(default)]
        thread_id: Option<i64>,
        bot_token_secret: String,
        /// Attach a picture of the metric to metric alarms.
        #[serde(default)]
        picture: bool,
    },
    Slack {
        webhook_url_secret: String,
    },
    /// Slack through a bot token (the Web API): OKs threaded under their ALARM.
    SlackBot {
        bot_token_secret: String,
        channel: String,
        /// Also edit the ALARM message in place to show the OK.
        #[serde(default)]
        update_message: bool,
        /// Attach a picture of the metric to metric alarms.
        #[serde(default)]
        picture: bool,
    },
    /// Microsoft Teams through a Workflows webhook.
    Teams {
        webhook_url_secret: String,
    },
    GoogleChat {
        webhook_url_secret: String,
    },
    Pagerduty {
        routing_key_secret: String,
    },
    Sns {
        topic_arn: String,
    },
    Webhook {
        url_secret: String,
    },
}

impl Receiver {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Telegram { .. } => "telegram",
            Self::Slack { .. } => "slack",
            Self::SlackBot { .. } => "slack_bot",
            Self::Teams { .. } => "teams",
            Self::GoogleChat { .. } => "google_chat",
            Self::Pagerduty { .. } => "pagerduty",
            Self::Sns { .. } => "sns",
            Self::Webhook { .. } => "webhook",
        }
    }

    fn secret(&self) -> Option<(&'static str, &str)> {
        match self {
            Self::Telegram {
                bot_token_secret, ..
            } => Some(("bot_token_secret", bot_token_secret)),
            Self::Slack { webhook_url_secret }
            | Self::GoogleChat { webhook_url_secret }
            | Self::Teams { webhook_url_secret } => {
                Some(("webhook_url_secret", webhook_url_secret))
            }
            Self::SlackBot {
                bot_token_secret, ..
            } => Some(("bot_token_secret", bot_token_secret)),
            Self::Pagerduty { routing_key_secret } => {
                Some(("routing_key_secret", routing_key_secret))
            }
            Self::Webhook { url_secret } => Some(("url_secret", url_secret)),
            Self::Sns { .. } => None,
        }
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(Option::<OneOrMany>::deserialize(d)?.map(|v| match v {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    #[serde(default, deserialize_with = "one_or_many")]
    alarm_name: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    state: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    severity: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    account: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    region: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    kind: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(default, rename = "match")]
    matchers: RawMatch,
    #[serde(deserialize_with = "one_or_many")]
    receivers: Option<Vec<String>>,
    #[serde(default, rename = "continue")]
    continue_: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    receivers: BTreeMap<String, Receiver>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    #[serde(deserialize_with = "one_or_many")]
    default: Option<Vec<String>>,
}

/// What a notice is matched on.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub kind: Kind,
    pub alarm_name: Option<&'a str>,
    pub state: Option<State>,
    pub severity: Option<Severity>,
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
}

impl<'a> Facts<'a> {
    pub fn of(notice: &'a Notice, severity: Option<Severity>) -> Self {
        let alarm = notice.alarm();
        Self {
            kind: notice.kind(),
            alarm_name: alarm.map(|a| a.name.as_str()),
            state: alarm.map(|a| a.state),
            severity,
            account: notice.account.as_deref(),
            region: notice.region.as_deref(),
        }
    }
}

#[derive(Debug, Clone)]
struct Matchers {
    alarm_name: Option<Vec<GlobMatcher>>,
    state: Option<Vec<State>>,
    severity: Option<Vec<Severity>>,
    account: Option<Vec<String>>,
    region: Option<Vec<String>>,
    kind: Option<Vec<Kind>>,
}

fn any_of<T, F: Fn(&T) -> bool>(set: &Option<Vec<T>>, fact_present: bool, test: F) -> bool {
    match set {
        None => true,
        Some(items) => fact_present && items.iter().any(test),
    }
}

impl Matchers {
    fn matches(&self, f: &Facts<'_>) -> bool {
        any_of(&self.kind, true, |k| *k == f.kind)
            && any_of(&self.alarm_name, f.alarm_name.is_some(), |g| {
                f.alarm_name.is_some_and(|n| g.is_match(n))
            })
            && any_of(&self.state, f.state.is_some(), |s| Some(*s) == f.state)
            && any_of(&self.severity, f.severity.is_some(), |s| {
                Some(*s) == f.severity
            })
            && any_of(&self.account, f.account.is_some(), |a| {
                Some(a.as_str()) == f.account
            })
            && any_of(&self.region, f.region.is_some(), |r| {
                Some(r.as_str()) == f.region
            })
    }
}

#[derive(Debug, Clone)]
pub struct Route {
    matchers: Matchers,
    pub receivers: Vec<String>,
    pub continue_: bool,
}

/// A validated routing document.
#[derive(Debug, Clone)]
pub struct Routing {
    pub receivers: BTreeMap<String, Receiver>,
    pub routes: Vec<Route>,
    pub default: Vec<String>,
}

fn parse_list<T>(
    field: &str,
    items: Option<Vec<String>>,
    parse: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> Result<Option<Vec<T>>, Error> {
    items
        .map(|items| {
            if items.is_empty() {
                return Err(Error::Routing(format!(
                    "{field}: empty list (leave the field out to match anything)"
                )));
            }
            items
                .iter()
                .map(|s| {
                    parse(s).ok_or_else(|| {
                        Error::Routing(format!("{field}: {s:?} is not one of {expected}"))
                    })
                })
                .collect()
        })
        .transpose()
}

impl Routing {
    /// Parses and validates a JSON or YAML document.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let trimmed = text.trim_start();
        let raw: RawDocument = if trimmed.starts_with('{') {
            serde_json::from_str(text).map_err(|e| Error::Routing(format!("invalid JSON: {e}")))?
        } else {
            serde_yaml_ng::from_str(text)
                .map_err(|e| Error::Routing(format!("invalid YAML: {e}")))?
        };
        Self::validate(raw)
    }

    fn validate(raw: RawDocument) -> Result<Self, Error> {
        if raw.receivers.is_empty() {
            return Err(Error::Routing(
                "receivers: at least one receiver is needed".into(),
            ));
        }
        for (name, receiver) in &raw.receivers {
            if name.trim().is_empty() {
                return Err(Error::Routing(
                    "receivers: a receiver has an empty name".into(),
                ));
            }
            if let Some((field, reference)) = receiver.secret() {
                SecretRef::parse(reference)
                    .map_err(|e| Error::Routing(format!("receivers.{name}.{field}: {e}")))?;
            }
            if let Receiver::Sns { topic_arn } = receiver {
                let ok =
                    topic_arn.starts_with("arn:") && topic_arn.split(':').nth(2) == Some("sns");
                if !ok {
                    return Err(Error::Routing(format!(
                        "receivers.{name}.topic_arn: {topic_arn:?} is not an SNS topic ARN"
                    )));
                }
            }
        }
        let known = |field: &str, names: &[String]| -> Result<(), Error> {
            if names.is_empty() {
                return Err(Error::Routing(format!(
                    "{field}: at least one receiver is needed"
                )));
            }
            for n in names {
                if !raw.receivers.contains_key(n) {
                    return Err(Error::Routing(format!(
                        "{field}: unknown receiver {n:?} (not under receivers)"
                    )));
                }
            }
            Ok(())
        };
        let default = raw.default.unwrap_or_default();
        known("default", &default)?;
        let mut routes = Vec::with_capacity(raw.routes.len());
        for (i, r) in raw.routes.into_iter().enumerate() {
            let receivers = r.receivers.unwrap_or_default();
            known(&format!("routes[{i}].receivers"), &receivers)?;
            let m = r.matchers;
            let field = |f: &str| format!("routes[{i}].match.{f}");
            let alarm_name = m
                .alarm_name
                .map(|globs| {
                    globs
                        .iter()
                        .map(|g| {
                            Glob::new(g).map(|g| g.compile_matcher()).map_err(|e| {
                                Error::Routing(format!(
                                    "{}: bad glob {g:?}: {e}",
                                    field("alarm_name")
                                ))
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?;
            let matchers = Matchers {
                alarm_name,
                state: parse_list(
                    &field("state"),
                    m.state,
                    State::parse,
                    "ALARM, OK, INSUFFICIENT_DATA",
                )?,
                severity: parse_list(
                    &field("severity"),
                    m.severity,
                    Severity::parse,
                    "critical, error, warning, info",
                )?,
                account: parse_list(
                    &field("account"),
                    m.account,
                    |s| Some(s.trim().to_string()),
                    "",
                )?,
                region: parse_list(
                    &field("region"),
                    m.region,
                    |s| Some(s.trim().to_string()),
                    "",
                )?,
                kind: parse_list(
                    &field("kind"),
                    m.kind,
                    Kind::parse,
                    "alarm, rds, budgets, health, text",
                )?,
            };
            routes.push(Route {
                matchers,
                receivers,
                continue_: r.continue_,
            });
        }
        Ok(Self {
            receivers: raw.receivers,
            routes,
            default,
        })
    }

    /// The receivers for a notice, in route order without repeats: every matching route
    /// down to the first one without `continue`; the default when none matches.
    pub fn route(&self, facts: &Facts<'_>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut matched = false;
        for route in &self.routes {
            if route.matchers.matches(facts) {
                matched = true;
                for r in &route.receivers {
                    if !out.contains(r) {
                        out.push(r.clone());
                    }
                }
                if !route.continue_ {
                    break;
                }
            }
        }
        if matched {
            out
        } else {
            self.default.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
