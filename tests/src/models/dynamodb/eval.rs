//! Evaluating expressions against an item, as DynamoDB does: a comparison with a missing
//! attribute or between two types is false (except `<>`, which is then true); every SET
//! operand reads the item as it was before the update; a path may appear in one action.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use super::expr::{CmpOp, Cond, Operand, Path, SetValue, UpdateExpr};
use super::value::{
    add_numbers, equal, number_set_difference, number_set_union, order, Item, Value,
};
use super::DynamoError;

/// ExpressionAttributeNames and ExpressionAttributeValues of one request.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    pub names: BTreeMap<String, String>,
    pub values: BTreeMap<String, Value>,
}

impl Placeholders {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names
            .insert(placeholder.to_string(), attribute.to_string());
        self
    }

    pub fn value(mut self, placeholder: &str, v: Value) -> Self {
        self.values.insert(placeholder.to_string(), v);
        self
    }

    pub fn attribute(&self, p: &Path) -> Result<String, DynamoError> {
        match p {
            Path::Bare(b) => Ok(b.clone()),
            Path::Member(..) => Err(DynamoError::validation(
                "a nested document path where only a top-level attribute is modelled",
            )),
            Path::Name(n) => self.names.get(n).cloned().ok_or_else(|| {
                DynamoError::validation(format!(
                    "An expression attribute name used in the document path is not defined; attribute name: {n}"
                ))
            }),
        }
    }

    pub fn get(&self, v: &str) -> Result<&Value, DynamoError> {
        self.values.get(v).ok_or_else(|| {
            DynamoError::validation(format!(
                "An expression attribute value used in expression is not defined; attribute value: {v}"
            ))
        })
    }
}

fn operand(
    o: &Operand,
    item: Option<&Item>,
    ph: &Placeholders,
) -> Result<Option<Value>, DynamoError> {
    Ok(match o {
        Operand::Value(v) => Some(ph.get(v)?.clone()),
        Operand::Path(p) => item.and_then(|i| i.get(&ph_attr(ph, p))).cloned(),
        Operand::Size(p) => {
            let size = match item.and_then(|i| i.get(&ph_attr(ph, p))) {
                Some(Value::S(s)) => Some(s.len()),
                Some(Value::B(b)) => Some(b.len()),
                Some(Value::L(l)) => Some(l.len()),
                Some(Value::M(m)) => Some(m.len()),
                Some(Value::Ss(s)) | Some(Value::Ns(s)) => Some(s.len()),
                _ => None,
            };
            size.map(|n| Value::N(n.to_string()))
        }
    })
}

/// The attribute a path names; placeholders were checked before evaluation.
fn ph_attr(ph: &Placeholders, p: &Path) -> String {
    ph.attribute(p).unwrap_or_default()
}

/// Whether `c` holds for `item` (`None`: no item under that key).
pub fn holds(c: &Cond, item: Option<&Item>, ph: &Placeholders) -> Result<bool, DynamoError> {
    let has = |p: &Path| item.is_some_and(|i| i.contains_key(&ph_attr(ph, p)));
    Ok(match c {
        Cond::Exists(p) => has(p),
        Cond::NotExists(p) => !has(p),
        Cond::Cmp(a, op, b) => match (operand(a, item, ph)?, operand(b, item, ph)?) {
            (Some(x), Some(y)) => compare(&x, *op, &y),
            _ => *op == CmpOp::Ne,
        },
        Cond::Between(a, lo, hi) => match (
            operand(a, item, ph)?,
            operand(lo, item, ph)?,
            operand(hi, item, ph)?,
        ) {
            (Some(x), Some(l), Some(h)) => {
                if order(&l, &h) == Some(Ordering::Greater) {
                    return Err(DynamoError::validation(
                        "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound",
                    ));
                }
                compare(&x, CmpOp::Ge, &l) && compare(&x, CmpOp::Le, &h)
            }
            _ => false,
        },
        Cond::In(a, list) => match operand(a, item, ph)? {
            Some(x) => {
                let mut any = false;
                for o in list {
                    any |= operand(o, item, ph)?.is_some_and(|y| equal(&x, &y));
                }
                any
            }
            None => false,
        },
        Cond::BeginsWith(a, b) => match (operand(a, item, ph)?, operand(b, item, ph)?) {
            (Some(Value::S(x)), Some(Value::S(y))) => x.starts_with(&y),
            (Some(Value::B(x)), Some(Value::B(y))) => x.starts_with(&y),
            _ => false,
        },
        Cond::Contains(a, b) => match (operand(a, item, ph)?, operand(b, item, ph)?) {
            (Some(Value::S(x)), Some(Value::S(y))) => x.contains(&y),
            (Some(Value::Ss(x)), Some(Value::S(y))) => x.contains(&y),
            (Some(Value::Ns(x)), Some(y @ Value::N(_))) => {
                x.iter().any(|n| equal(&Value::N(n.clone()), &y))
            }
            (Some(Value::L(x)), Some(y)) => x.iter().any(|v| equal(v, &y)),
            _ => false,
        },
        Cond::Type(p, t) => match (
            item.and_then(|i| i.get(&ph_attr(ph, p))),
            operand(t, item, ph)?,
        ) {
            (Some(v), Some(Value::S(t))) => v.type_name() == t,
            _ => false,
        },
        Cond::And(a, b) => holds(a, item, ph)? && holds(b, item, ph)?,
        Cond::Or(a, b) => holds(a, item, ph)? || holds(b, item, ph)?,
        Cond::Not(a) => !holds(a, item, ph)?,
    })
}

fn compare(x: &Value, op: CmpOp, y: &Value) -> bool {
    match op {
        CmpOp::Eq => equal(x, y),
        CmpOp::Ne => !equal(x, y),
        CmpOp::Lt => order(x, y) == Some(Ordering::Less),
        CmpOp::Le => matches!(order(x, y), Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => order(x, y) == Some(Ordering::Greater),
        CmpOp::Ge => matches!(order(x, y), Some(Ordering::Greater | Ordering::Equal)),
    }
}

fn wrong_type(what: &str) -> DynamoError {
    DynamoError::validation(format!(
        "An operand in the update expression has an incorrect data type ({what})"
    ))
}

fn set_value(v: &SetValue, old: &Item, ph: &Placeholders) -> Result<Value, DynamoError> {
    match v {
        SetValue::Operand(o) => operand(o, Some(old), ph)?.ok_or_else(|| {
            DynamoError::validation(
                "The provided expression refers to an attribute that does not exist in the item",
            )
        }),
        SetValue::IfNotExists(p, v) => match old.get(&ph_attr(ph, p)) {
            Some(existing) => Ok(existing.clone()),
            None => set_value(v, old, ph),
        },
        SetValue::ListAppend(a, b) => match (set_value(a, old, ph)?, set_value(b, old, ph)?) {
            (Value::L(mut x), Value::L(y)) => {
                x.extend(y);
                Ok(Value::L(x))
            }
            _ => Err(wrong_type("list_append needs two lists")),
        },
        SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
            match (set_value(a, old, ph)?, set_value(b, old, ph)?) {
                (Value::N(x), Value::N(y)) => add_numbers(&x, &y, matches!(v, SetValue::Minus(..)))
                    .map(Value::N)
                    .ok_or_else(|| wrong_type("number overflow")),
                _ => Err(wrong_type("+ and - need two numbers")),
            }
        }
    }
}

/// A path as its attributes spell it (`rx.tg`), for the overlap check.
fn display_path(p: &Path, ph: &Placeholders) -> Result<String, DynamoError> {
    match p {
        Path::Member(top, member) => {
            Ok(format!("{}.{}", ph.attribute(top)?, ph.attribute(member)?))
        }
        _ => ph.attribute(p),
    }
}

/// The map a `parent.member` path writes into. DynamoDB refuses the update when the
/// parent is missing or not a map: "The document path provided in the update expression
/// is invalid for update" (Developer Guide, "Update expressions", nested attributes).
fn member_map<'a>(
    item: &'a mut Item,
    top: &Path,
    ph: &Placeholders,
) -> Result<&'a mut BTreeMap<String, Value>, DynamoError> {
    match item.get_mut(&ph.attribute(top)?) {
        Some(Value::M(m)) => Ok(m),
        _ => Err(DynamoError::validation(
            "The document path provided in the update expression is invalid for update",
        )),
    }
}

/// The item after `u` (`key` gives a new item its key), or why the update is refused.
pub fn apply(
    u: &UpdateExpr,
    old: Option<&Item>,
    key: &Item,
    ph: &Placeholders,
) -> Result<Item, DynamoError> {
    let mut paths = BTreeSet::new();
    let all = u
        .set
        .iter()
        .map(|(p, _)| p)
        .chain(&u.remove)
        .chain(u.add.iter().map(|(p, _)| p))
        .chain(u.delete.iter().map(|(p, _)| p));
    for p in all {
        let a = display_path(p, ph)?;
        let top = match p {
            Path::Member(top, _) => ph.attribute(top)?,
            _ => a.clone(),
        };
        if key.contains_key(&top) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {a}. This attribute is part of the key"
            )));
        }
        // A path overlaps another that is it or contains it (`rx` and `rx.tg`).
        let overlaps = paths.iter().any(|q: &String| {
            *q == a || a.starts_with(&format!("{q}.")) || q.starts_with(&format!("{a}."))
        });
        if overlaps || !paths.insert(a.clone()) {
            return Err(DynamoError::validation(format!(
                "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [{a}], path two: [{a}]"
            )));
        }
    }
    let before = old.cloned().unwrap_or_else(|| key.clone());
    let mut new = before.clone();
    for (p, v) in &u.set {
        let value = set_value(v, &before, ph)?;
        match p {
            Path::Member(top, member) => {
                member_map(&mut new, top, ph)?.insert(ph.attribute(member)?, value);
            }
            _ => {
                new.insert(ph.attribute(p)?, value);
            }
        }
    }
    for p in &u.remove {
        match p {
            Path::Member(top, member) => {
                member_map(&mut new, top, ph)?.remove(&ph.attribute(member)?);
            }
            _ => {
                new.remove(&ph.attribute(p)?);
            }
        }
    }
    for (p, v) in &u.add {
        let a = ph.attribute(p)?;
        let added = match (before.get(&a), ph.get(v)?.clone()) {
            (None, v @ (Value::N(_) | Value::Ss(_) | Value::Ns(_))) => v,
            (Some(Value::N(x)), Value::N(y)) => {
                Value::N(add_numbers(x, &y, false).ok_or_else(|| wrong_type("number overflow"))?)
            }
            (Some(Value::Ss(x)), Value::Ss(y)) => Value::Ss(x.union(&y).cloned().collect()),
            (Some(Value::Ns(x)), Value::Ns(y)) => Value::Ns(number_set_union(x, &y)),
            _ => return Err(wrong_type("ADD needs a number or a set of the same type")),
        };
        new.insert(a, added);
    }
    for (p, v) in &u.delete {
        let a = ph.attribute(p)?;
        let left = match (before.get(&a), ph.get(v)?) {
            (None, Value::Ss(_) | Value::Ns(_)) => None,
            (Some(Value::Ss(x)), Value::Ss(y)) => {
                Some(Value::Ss(x.difference(y).cloned().collect()))
            }
            (Some(Value::Ns(x)), Value::Ns(y)) => Some(Value::Ns(number_set_difference(x, y))),
            _ => return Err(wrong_type("DELETE needs a set of the same type")),
        };
        match left {
            Some(Value::Ss(s)) | Some(Value::Ns(s)) if s.is_empty() => {
                new.remove(&a);
            }
            Some(v) => {
                new.insert(a, v);
            }
            None => {}
        }
    }
    Ok(new)
}
