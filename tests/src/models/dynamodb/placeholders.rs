//! The placeholders rule: every `#name` and `:value` an expression uses must be defined,
//! and every one defined must be used (the service refuses either with a
//! ValidationException).

use std::collections::BTreeSet;

use super::expr::{Cond, Operand, Path, SetValue, UpdateExpr};
use super::{DynamoError, Placeholders};

pub fn used_by(cond: Option<&Cond>, update: Option<&UpdateExpr>) -> Used {
    let mut used = Used::default();
    if let Some(c) = cond {
        used.cond(c);
    }
    if let Some(u) = update {
        used.update(u);
    }
    used
}

/// Every placeholder used is defined and every one defined is used, as the service demands.
pub fn check_placeholders(used: &[&Used], ph: &Placeholders) -> Result<(), DynamoError> {
    let names: BTreeSet<&String> = used.iter().flat_map(|u| &u.names).collect();
    let values: BTreeSet<&String> = used.iter().flat_map(|u| &u.values).collect();
    for n in &names {
        ph.attribute(&Path::Name((*n).clone()))?;
    }
    for v in &values {
        ph.get(v)?;
    }
    let unused = |defined: Vec<&String>, used: &BTreeSet<&String>| {
        defined
            .into_iter()
            .filter(|d| !used.contains(d))
            .cloned()
            .collect::<Vec<_>>()
    };
    let n = unused(ph.names.keys().collect(), &names);
    if !n.is_empty() {
        return Err(DynamoError::validation(format!(
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
            n.join(", ")
        )));
    }
    let v = unused(ph.values.keys().collect(), &values);
    if !v.is_empty() {
        return Err(DynamoError::validation(format!(
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
            v.join(", ")
        )));
    }
    Ok(())
}

/// The placeholders an expression uses, so unused and undefined ones can be refused.
#[derive(Debug, Default)]
pub struct Used {
    pub names: BTreeSet<String>,
    pub values: BTreeSet<String>,
}

impl Used {
    fn path(&mut self, p: &Path) {
        match p {
            Path::Name(n) => {
                self.names.insert(n.clone());
            }
            Path::Member(top, member) => {
                self.path(top);
                self.path(member);
            }
            Path::Bare(_) => {}
        }
    }

    fn operand(&mut self, o: &Operand) {
        match o {
            Operand::Path(p) | Operand::Size(p) => self.path(p),
            Operand::Value(v) => {
                self.values.insert(v.clone());
            }
        }
    }

    pub fn cond(&mut self, c: &Cond) {
        match c {
            Cond::Cmp(a, _, b) | Cond::BeginsWith(a, b) | Cond::Contains(a, b) => {
                self.operand(a);
                self.operand(b);
            }
            Cond::Between(a, b, d) => {
                for o in [a, b, d] {
                    self.operand(o);
                }
            }
            Cond::In(a, list) => {
                self.operand(a);
                list.iter().for_each(|o| self.operand(o));
            }
            Cond::Exists(p) | Cond::NotExists(p) => self.path(p),
            Cond::Type(p, o) => {
                self.path(p);
                self.operand(o);
            }
            Cond::And(a, b) | Cond::Or(a, b) => {
                self.cond(a);
                self.cond(b);
            }
            Cond::Not(a) => self.cond(a),
        }
    }

    fn set_value(&mut self, v: &SetValue) {
        match v {
            SetValue::Operand(o) => self.operand(o),
            SetValue::IfNotExists(p, v) => {
                self.path(p);
                self.set_value(v);
            }
            SetValue::ListAppend(a, b) | SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
                self.set_value(a);
                self.set_value(b);
            }
        }
    }

    pub fn update(&mut self, u: &UpdateExpr) {
        for (p, v) in &u.set {
            self.path(p);
            self.set_value(v);
        }
        u.remove.iter().for_each(|p| self.path(p));
        for (p, v) in u.add.iter().chain(&u.delete) {
            self.path(p);
            self.values.insert(v.clone());
        }
    }
}
