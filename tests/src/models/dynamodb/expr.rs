//! DynamoDB's condition, key-condition and update expressions: parsed as the Developer
//! Guide's grammar states ("Condition and filter expressions, operators, and functions";
//! "Update expressions"), placeholders (`#name`, `:value`) resolved at evaluation.
//!
//! Paths: top-level attributes, and one map member below one (`a.b`, `#a.#b`) in an update's
//! SET and REMOVE (alarm-fanout's per-receiver records); no list elements (`a[0]`), no
//! deeper paths, no nested path in a condition: those are refused as not modelled rather
//! than guessed at.

use std::collections::BTreeSet;

use super::DynamoError;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Name(String),
    Val(String),
    Open,
    Close,
    Comma,
    Cmp(CmpOp),
    Plus,
    Minus,
    Dot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An attribute as written: bare, or a `#placeholder`; or a member of a map attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Path {
    Bare(String),
    Name(String),
    /// `parent.member`, both top-level forms (only in an update's SET and REMOVE).
    Member(Box<Path>, Box<Path>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Path(Path),
    Value(String),
    Size(Path),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Cmp(Operand, CmpOp, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    Exists(Path),
    NotExists(Path),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
    Type(Path, Operand),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

/// The right-hand side of a SET action.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    Operand(Operand),
    IfNotExists(Path, Box<SetValue>),
    ListAppend(Box<SetValue>, Box<SetValue>),
    Plus(Box<SetValue>, Box<SetValue>),
    Minus(Box<SetValue>, Box<SetValue>),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpdateExpr {
    pub set: Vec<(Path, SetValue)>,
    pub remove: Vec<Path>,
    pub add: Vec<(Path, String)>,
    pub delete: Vec<(Path, String)>,
}

/// A subset of DynamoDB's reserved words (the list has over 500; these are the ones an
/// attribute of ours could plausibly be called): a bare attribute with one of these names
/// is refused, as the service does, so an expression must use a `#name` for it.
const RESERVED: &[&str] = &[
    "ACTION",
    "BY",
    "COUNT",
    "DATA",
    "DATE",
    "DAY",
    "DELETE",
    "DURATION",
    "END",
    "GROUP",
    "HOUR",
    "INDEX",
    "KEY",
    "LIMIT",
    "MINUTE",
    "MONTH",
    "NAME",
    "ORDER",
    "OWNER",
    "PATH",
    "SECOND",
    "SIZE",
    "SOURCE",
    "START",
    "STATE",
    "STATUS",
    "TABLE",
    "TIME",
    "TIMESTAMP",
    "TTL",
    "TYPE",
    "USER",
    "VALUE",
    "VALUES",
    "YEAR",
    "ZONE",
];

fn invalid(message: impl Into<String>) -> DynamoError {
    DynamoError::validation(message)
}

fn tokens(src: &str) -> Result<Vec<Tok>, DynamoError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let word = |i: &mut usize| {
        let start = *i;
        while *i < chars.len() && (chars[*i].is_alphanumeric() || chars[*i] == '_') {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' | ')' | ',' | '+' | '-' | '=' => {
                out.push(match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    ',' => Tok::Comma,
                    '+' => Tok::Plus,
                    '-' => Tok::Minus,
                    _ => Tok::Cmp(CmpOp::Eq),
                });
                i += 1;
            }
            '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('<', Some('>')) => (CmpOp::Ne, 2),
                    ('<', Some('=')) => (CmpOp::Le, 2),
                    ('>', Some('=')) => (CmpOp::Ge, 2),
                    ('<', _) => (CmpOp::Lt, 1),
                    _ => (CmpOp::Gt, 1),
                };
                out.push(Tok::Cmp(op));
                i += len;
            }
            '#' | ':' => {
                i += 1;
                let w = word(&mut i);
                if w.is_empty() {
                    return Err(invalid(format!(
                        "Invalid expression: a bare '{c}' in {src}"
                    )));
                }
                out.push(if c == '#' {
                    Tok::Name(format!("#{w}"))
                } else {
                    Tok::Val(format!(":{w}"))
                });
            }
            c if c.is_alphabetic() || c == '_' => out.push(Tok::Word(word(&mut i))),
            '.' => {
                out.push(Tok::Dot);
                i += 1;
            }
            '[' => {
                return Err(invalid(format!(
                    "nested document paths are not modelled (in {src})"
                )))
            }
            other => {
                return Err(invalid(format!(
                    "Invalid expression: Syntax error; token: \"{other}\" in {src}"
                )))
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    src: String,
}

impl Parser {
    fn new(src: &str) -> Result<Self, DynamoError> {
        Ok(Self {
            toks: tokens(src)?,
            at: 0,
            src: src.to_string(),
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn syntax(&self) -> DynamoError {
        let near = self
            .peek()
            .map(|t| format!("{t:?}"))
            .unwrap_or_else(|| "<EOF>".into());
        invalid(format!(
            "Invalid expression: Syntax error; token: {near}, in {}",
            self.src
        ))
    }

    fn expect(&mut self, tok: Tok) -> Result<(), DynamoError> {
        if self.next() == Some(tok) {
            Ok(())
        } else {
            self.at -= 1;
            Err(self.syntax())
        }
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn done(&self) -> Result<(), DynamoError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.syntax()),
        }
    }

    fn path(&mut self) -> Result<Path, DynamoError> {
        let top = self.element()?;
        if self.peek() != Some(&Tok::Dot) {
            return Ok(top);
        }
        self.at += 1;
        let member = self.element()?;
        if self.peek() == Some(&Tok::Dot) {
            return Err(invalid(
                "nested document paths deeper than one map member are not modelled",
            ));
        }
        Ok(Path::Member(Box::new(top), Box::new(member)))
    }

    fn element(&mut self) -> Result<Path, DynamoError> {
        match self.next() {
            Some(Tok::Name(n)) => Ok(Path::Name(n)),
            Some(Tok::Word(w)) => {
                if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&w)) {
                    return Err(invalid(format!(
                        "Attribute name is a reserved keyword; reserved keyword: {w}"
                    )));
                }
                Ok(Path::Bare(w))
            }
            _ => {
                self.at -= 1;
                Err(self.syntax())
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, DynamoError> {
        match self.peek().cloned() {
            Some(Tok::Val(v)) => {
                self.at += 1;
                Ok(Operand::Value(v))
            }
            Some(Tok::Word(w)) if w == "size" && self.toks.get(self.at + 1) == Some(&Tok::Open) => {
                self.at += 2;
                let p = self.path()?;
                self.expect(Tok::Close)?;
                Ok(Operand::Size(p))
            }
            _ => Ok(Operand::Path(self.path()?)),
        }
    }

    fn or(&mut self) -> Result<Cond, DynamoError> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            self.at += 1;
            left = Cond::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Cond, DynamoError> {
        let mut left = self.not()?;
        while self.keyword("AND") {
            self.at += 1;
            left = Cond::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Cond, DynamoError> {
        if self.keyword("NOT") {
            self.at += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, DynamoError> {
        if self.peek() == Some(&Tok::Open) {
            self.at += 1;
            let c = self.or()?;
            self.expect(Tok::Close)?;
            return Ok(c);
        }
        if let Some(Tok::Word(f)) = self.peek().cloned() {
            if self.toks.get(self.at + 1) == Some(&Tok::Open) && f != "size" {
                self.at += 2;
                let c = match f.as_str() {
                    "attribute_exists" => Cond::Exists(self.path()?),
                    "attribute_not_exists" => Cond::NotExists(self.path()?),
                    "begins_with" | "contains" => {
                        let a = self.operand()?;
                        self.expect(Tok::Comma)?;
                        let b = self.operand()?;
                        if f == "contains" {
                            Cond::Contains(a, b)
                        } else {
                            Cond::BeginsWith(a, b)
                        }
                    }
                    "attribute_type" => {
                        let p = self.path()?;
                        self.expect(Tok::Comma)?;
                        Cond::Type(p, self.operand()?)
                    }
                    other => {
                        return Err(invalid(format!("Invalid function name; function: {other}")))
                    }
                };
                self.expect(Tok::Close)?;
                return Ok(c);
            }
        }
        let left = self.operand()?;
        match self.next() {
            Some(Tok::Cmp(op)) => Ok(Cond::Cmp(left, op, self.operand()?)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("BETWEEN") => {
                let lo = self.operand()?;
                if !self.keyword("AND") {
                    return Err(self.syntax());
                }
                self.at += 1;
                Ok(Cond::Between(left, lo, self.operand()?))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IN") => {
                self.expect(Tok::Open)?;
                let mut list = vec![self.operand()?];
                while self.peek() == Some(&Tok::Comma) {
                    self.at += 1;
                    list.push(self.operand()?);
                }
                self.expect(Tok::Close)?;
                Ok(Cond::In(left, list))
            }
            _ => {
                self.at -= 1;
                Err(self.syntax())
            }
        }
    }

    fn set_value(&mut self) -> Result<SetValue, DynamoError> {
        let left = self.set_operand()?;
        match self.peek() {
            Some(Tok::Plus) => {
                self.at += 1;
                Ok(SetValue::Plus(
                    Box::new(left),
                    Box::new(self.set_operand()?),
                ))
            }
            Some(Tok::Minus) => {
                self.at += 1;
                Ok(SetValue::Minus(
                    Box::new(left),
                    Box::new(self.set_operand()?),
                ))
            }
            _ => Ok(left),
        }
    }

    fn set_operand(&mut self) -> Result<SetValue, DynamoError> {
        if let Some(Tok::Word(f)) = self.peek().cloned() {
            if self.toks.get(self.at + 1) == Some(&Tok::Open) {
                self.at += 2;
                let v = match f.as_str() {
                    "if_not_exists" => {
                        let p = self.path()?;
                        self.expect(Tok::Comma)?;
                        SetValue::IfNotExists(p, Box::new(self.set_operand()?))
                    }
                    "list_append" => {
                        let a = self.set_operand()?;
                        self.expect(Tok::Comma)?;
                        SetValue::ListAppend(Box::new(a), Box::new(self.set_operand()?))
                    }
                    other => {
                        return Err(invalid(format!("Invalid function name; function: {other}")))
                    }
                };
                self.expect(Tok::Close)?;
                return Ok(v);
            }
        }
        Ok(SetValue::Operand(self.operand()?))
    }

    fn update(&mut self) -> Result<UpdateExpr, DynamoError> {
        let mut u = UpdateExpr::default();
        let mut seen = BTreeSet::new();
        while let Some(Tok::Word(clause)) = self.next() {
            let clause = clause.to_ascii_uppercase();
            if !seen.insert(clause.clone()) {
                return Err(invalid(format!(
                    "Invalid UpdateExpression: The \"{clause}\" section can only be used once in an update expression"
                )));
            }
            loop {
                match clause.as_str() {
                    "SET" => {
                        let p = self.path()?;
                        self.expect(Tok::Cmp(CmpOp::Eq))?;
                        u.set.push((p, self.set_value()?));
                    }
                    "REMOVE" => u.remove.push(self.path()?),
                    "ADD" | "DELETE" => {
                        let p = self.path()?;
                        let v = match self.next() {
                            Some(Tok::Val(v)) => v,
                            _ => {
                                self.at -= 1;
                                return Err(self.syntax());
                            }
                        };
                        if clause == "ADD" {
                            u.add.push((p, v));
                        } else {
                            u.delete.push((p, v));
                        }
                    }
                    _ => {
                        self.at -= 1;
                        return Err(self.syntax());
                    }
                }
                if self.peek() == Some(&Tok::Comma) {
                    self.at += 1;
                } else {
                    break;
                }
            }
            if self.peek().is_none() {
                return Ok(u);
            }
        }
        self.at = self.at.saturating_sub(1);
        Err(self.syntax())
    }
}

pub fn parse_condition(src: &str) -> Result<Cond, DynamoError> {
    let mut p = Parser::new(src)?;
    if p.toks.contains(&Tok::Dot) {
        return Err(invalid(format!(
            "nested document paths in conditions are not modelled (in {src})"
        )));
    }
    let c = p.or()?;
    p.done()?;
    Ok(c)
}

pub fn parse_update(src: &str) -> Result<UpdateExpr, DynamoError> {
    if src.trim().is_empty() {
        return Err(invalid(
            "Invalid UpdateExpression: The expression can not be empty;",
        ));
    }
    Parser::new(src)?.update()
}
