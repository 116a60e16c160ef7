//! The template side: each function's grants, from its inline policy statements.
//!
//! CloudFormation's short tags (`!Ref`, `!Sub`, `!If`, ...) are read as the long forms
//! (`{Ref: ..}`, `{Fn::Sub: ..}`) so that `!If` branches can be followed.

use serde_yaml_ng::{Mapping, Value};

use crate::CheckError;

/// The functions of a template: (logical id, properties), in template order.
pub struct Template {
    pub functions: Vec<(String, Mapping)>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, CheckError> {
        let raw: Value = serde_yaml_ng::from_str(text)
            .map_err(|e| CheckError::new(format!("template.yaml: {e}")))?;
        let doc = long_form(raw);
        let globals = doc
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(Value::as_mapping);
        for key in ["Policies", "Role"] {
            if globals.is_some_and(|g| g.contains_key(key)) {
                return Err(CheckError::new(format!(
                    "Globals.Function.{key} is not supported by this check"
                )));
            }
        }
        let resources = doc
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or_else(|| CheckError::new("template.yaml has no Resources"))?;
        let functions: Vec<(String, Mapping)> = resources
            .iter()
            .filter(|(_, r)| {
                r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Function")
            })
            .map(|(id, r)| {
                let props = r
                    .get("Properties")
                    .and_then(Value::as_mapping)
                    .cloned()
                    .unwrap_or_default();
                (text_of(id), props)
            })
            .collect();
        if functions.is_empty() {
            return Err(CheckError::new(
                "no AWS::Serverless::Function in the template",
            ));
        }
        Ok(Self { functions })
    }
}

/// A tagged value as CloudFormation's long form: `!GetAtt a.b` is `{Fn::GetAtt: [a, b]}`.
fn long_form(value: Value) -> Value {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let suffix = tag.trim_start_matches('!');
            let name = match suffix {
                "Ref" | "Condition" => suffix.to_string(),
                _ => format!("Fn::{suffix}"),
            };
            let inner = match (suffix, long_form(tagged.value)) {
                ("GetAtt", Value::String(s)) => match s.split_once('.') {
                    Some((a, b)) => Value::Sequence(vec![a.into(), b.into()]),
                    None => Value::Sequence(vec![s.into()]),
                },
                (_, v) => v,
            };
            let mut map = Mapping::new();
            map.insert(name.into(), inner);
            Value::Mapping(map)
        }
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(long_form).collect()),
        Value::Mapping(map) => Value::Mapping(
            map.into_iter()
                .map(|(k, v)| (long_form(k), long_form(v)))
                .collect(),
        ),
        other => other,
    }
}

fn single_key(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_mapping()?;
    if map.len() != 1 {
        return None;
    }
    let (k, v) = map.iter().next()?;
    Some((k.as_str()?, v))
}

/// The alternatives a value may take: both branches of `Fn::If`, minus `AWS::NoValue`.
pub fn branches(value: &Value) -> Vec<&Value> {
    match single_key(value) {
        Some(("Fn::If", Value::Sequence(parts))) if parts.len() == 3 => {
            let mut out = branches(&parts[1]);
            out.extend(branches(&parts[2]));
            out
        }
        Some(("Ref", Value::String(r))) if r == "AWS::NoValue" => Vec::new(),
        _ => vec![value],
    }
}

/// A string-or-list field (`Action`, `Resource`), with `Fn::If` branches flattened.
pub fn flat_list(value: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for v in branches(value) {
        match v {
            Value::Sequence(items) => items.iter().for_each(|i| out.extend(branches(i))),
            other => out.push(other),
        }
    }
    out
}

/// A scalar as text; anything else in YAML flow style.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => serde_yaml_ng::to_string(other)
            .map(|s| s.trim().replace('\n', " "))
            .unwrap_or_default(),
    }
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: String,
    pub effect: String,
    pub actions: Vec<String>,
    /// `Resource: "*"` (in some branch).
    pub star: bool,
}

/// The inline statements of a function's `Policies`; what cannot be compared with the
/// code (a Role, managed policies, SAM policy templates, Not*, wildcard actions) goes to
/// `problems`.
pub fn policy_statements(props: &Mapping, problems: &mut Vec<String>) -> Vec<Statement> {
    if props.contains_key("Role") {
        problems.push("has a Role: its permissions are not in Policies; not supported".into());
        return Vec::new();
    }
    let policies: Vec<&Value> = match props.get("Policies") {
        None => Vec::new(),
        Some(Value::Sequence(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    let mut statements = Vec::new();
    for policy in policies.into_iter().flat_map(branches) {
        if let Value::String(name) = policy {
            problems.push(format!(
                "managed policy '{name}': expand it into inline statements to check it"
            ));
            continue;
        }
        let Some(raw) = policy.get("Statement") else {
            let name = match policy {
                Value::Mapping(m) => m.keys().next().map(text_of).unwrap_or("?".into()),
                other => text_of(other),
            };
            problems.push(format!(
                "SAM policy template or managed policy '{name}': not expanded; \
                 write its statements inline to check them"
            ));
            continue;
        };
        let raw: Vec<&Value> = match raw {
            Value::Sequence(items) => items.iter().collect(),
            one => vec![one],
        };
        // Statements are numbered within their policy document.
        let mut n = 0;
        for st in raw.into_iter().flat_map(branches) {
            n += 1;
            let Some(map) = st.as_mapping() else {
                problems.push(format!("statement #{n} is not a mapping"));
                continue;
            };
            let sid = map.get("Sid").map(text_of).unwrap_or(format!("#{n}"));
            for bad in ["NotAction", "NotResource", "NotPrincipal"] {
                if map.contains_key(bad) {
                    problems.push(format!("statement {sid}: {bad} cannot be checked"));
                }
            }
            let mut actions = Vec::new();
            for a in map.get("Action").map(flat_list).unwrap_or_default() {
                match a {
                    Value::String(a) if a.contains('*') || a.contains('?') => problems.push(
                        format!("statement {sid}: wildcard action {a} (grant named actions)"),
                    ),
                    Value::String(a) => actions.push(a.clone()),
                    other => problems.push(format!(
                        "statement {sid}: action {} is not a plain string",
                        text_of(other)
                    )),
                }
            }
            let star = map
                .get("Resource")
                .map(flat_list)
                .unwrap_or_default()
                .iter()
                .any(|r| r.as_str() == Some("*"));
            let effect = map
                .get("Effect")
                .map(text_of)
                .unwrap_or_else(|| "Allow".into());
            statements.push(Statement {
                sid,
                effect,
                actions,
                star,
            });
        }
    }
    statements
}
