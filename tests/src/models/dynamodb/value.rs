//! DynamoDB's attribute values, and how expressions compare and add them.
//!
//! Numbers travel as strings; the model compares and adds them as `i128` when both are
//! whole (exact to DynamoDB's 38 digits of precision), else as `f64` (ASSUMPTION: no
//! function stores fractional numbers where the last digits matter).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

pub type Item = BTreeMap<String, Value>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    S(String),
    N(String),
    B(Vec<u8>),
    Bool(bool),
    Null,
    L(Vec<Value>),
    M(BTreeMap<String, Value>),
    Ss(BTreeSet<String>),
    Ns(BTreeSet<String>),
}

impl Value {
    pub fn s(s: &str) -> Self {
        Value::S(s.to_string())
    }

    pub fn n(n: i64) -> Self {
        Value::N(n.to_string())
    }

    /// The type's name as `attribute_type` and the wire format spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::S(_) => "S",
            Value::N(_) => "N",
            Value::B(_) => "B",
            Value::Bool(_) => "BOOL",
            Value::Null => "NULL",
            Value::L(_) => "L",
            Value::M(_) => "M",
            Value::Ss(_) => "SS",
            Value::Ns(_) => "NS",
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::N(n) => n.trim().parse().ok(),
            _ => None,
        }
    }

    /// Bytes counted toward the 400 KB item limit (names are counted by the item):
    /// strings and binaries by length, numbers about one byte per two digits plus one,
    /// one byte for booleans and nulls, three bytes of overhead per list or map.
    pub fn size(&self) -> usize {
        match self {
            Value::S(s) => s.len(),
            Value::N(n) => n.len().div_ceil(2) + 1,
            Value::B(b) => b.len(),
            Value::Bool(_) | Value::Null => 1,
            Value::L(l) => 3 + l.iter().map(|v| 1 + v.size()).sum::<usize>(),
            Value::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + v.size()).sum::<usize>(),
            Value::Ss(s) => s.iter().map(String::len).sum(),
            Value::Ns(s) => s.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        }
    }

    /// Whether a key attribute may hold this value (S, N or B, and not empty).
    pub fn is_key_value(&self) -> bool {
        match self {
            Value::S(s) => !s.is_empty(),
            Value::B(b) => !b.is_empty(),
            Value::N(_) => true,
            _ => false,
        }
    }
}

/// A number as DynamoDB compares it.
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

fn num(s: &str) -> Option<Num> {
    let s = s.trim();
    if let Ok(i) = s.parse::<i128>() {
        return Some(Num::Int(i));
    }
    s.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Num::Float)
}

fn num_cmp(a: &str, b: &str) -> Option<Ordering> {
    match (num(a)?, num(b)?) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (x, y) => as_f64(x).partial_cmp(&as_f64(y)),
    }
}

fn as_f64(n: Num) -> f64 {
    match n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    }
}

/// `a + b` (or `a - b` when `negate`) of two numbers, as DynamoDB writes the result.
pub fn add_numbers(a: &str, b: &str, negate: bool) -> Option<String> {
    match (num(a)?, num(b)?) {
        (Num::Int(x), Num::Int(y)) => {
            let r = if negate {
                x.checked_sub(y)?
            } else {
                x.checked_add(y)?
            };
            Some(r.to_string())
        }
        (x, y) => {
            let (x, y) = (as_f64(x), as_f64(y));
            Some(format!("{}", if negate { x - y } else { x + y }))
        }
    }
}

/// The canonical form of a number (for equality and sets: "1.0" and "1" are one number).
fn canonical(n: &str) -> String {
    match num(n) {
        Some(Num::Int(i)) => i.to_string(),
        Some(Num::Float(f)) if f.fract() == 0.0 && f.abs() < 1e30 => format!("{}", f as i128),
        Some(Num::Float(f)) => format!("{f}"),
        None => n.to_string(),
    }
}

/// A key value as text that tells types apart and numbers by value (for the model's maps).
pub fn key_text(v: &Value) -> String {
    match v {
        Value::N(n) => format!("N:{}", canonical(n)),
        Value::S(s) => format!("S:{s}"),
        Value::B(b) => format!("B:{b:?}"),
        other => format!("{other:?}"),
    }
}

/// Equality as `=` sees it: same type and value (numbers by value).
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::N(x), Value::N(y)) => num_cmp(x, y) == Some(Ordering::Equal),
        (Value::Ns(x), Value::Ns(y)) => {
            let c = |s: &BTreeSet<String>| s.iter().map(|n| canonical(n)).collect::<BTreeSet<_>>();
            c(x) == c(y)
        }
        _ => a == b,
    }
}

/// Order as `<`, `<=`, `>`, `>=` and BETWEEN see it: only between two numbers, two
/// strings (by UTF-8 bytes) or two binaries; any other pair has no order (the comparison
/// is false).
pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::N(x), Value::N(y)) => num_cmp(x, y),
        (Value::S(x), Value::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::B(x), Value::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// A number set with `n` added, by value.
pub fn number_set_union(a: &BTreeSet<String>, b: &BTreeSet<String>) -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = a.iter().map(|n| canonical(n)).collect();
    let mut out = a.clone();
    for n in b {
        if seen.insert(canonical(n)) {
            out.insert(n.clone());
        }
    }
    out
}

/// A number set without the numbers of `b`, by value.
pub fn number_set_difference(a: &BTreeSet<String>, b: &BTreeSet<String>) -> BTreeSet<String> {
    let gone: BTreeSet<String> = b.iter().map(|n| canonical(n)).collect();
    a.iter()
        .filter(|n| !gone.contains(&canonical(n)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value_strings_by_bytes_and_types_never() {
        assert!(equal(&Value::N("1.0".into()), &Value::n(1)));
        assert_eq!(order(&Value::n(9), &Value::n(10)), Some(Ordering::Less));
        assert_eq!(
            order(&Value::s("9"), &Value::s("10")),
            Some(Ordering::Greater)
        );
        assert_eq!(order(&Value::s("1"), &Value::n(1)), None);
        assert!(!equal(&Value::s("1"), &Value::n(1)));
        assert_eq!(
            add_numbers("1700000000", "60", false).as_deref(),
            Some("1700000060")
        );
        assert_eq!(add_numbers("1.5", "1", true).as_deref(), Some("0.5"));
        let a: BTreeSet<String> = ["1".to_string()].into();
        let b: BTreeSet<String> = ["1.0".to_string(), "2".to_string()].into();
        assert_eq!(number_set_union(&a, &b).len(), 2);
        assert_eq!(
            number_set_difference(&b, &a),
            BTreeSet::from(["2".to_string()])
        );
    }
}
