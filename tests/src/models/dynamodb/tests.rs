//! The DynamoDB model's own tests: conditions as AWS evaluates them, racing conditional
//! writes, transactions, TTL that does not delete at expiry, and stale eventual reads.

use chrono::{DateTime, Duration, Utc};

use super::*;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap()
}

fn key(pk: &str) -> Item {
    Item::from([("pk".to_string(), Value::s(pk))])
}

fn item(pairs: &[(&str, Value)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn model() -> DynamoModel {
    let mut m = DynamoModel::new(1);
    m.create_table(TableSpec::new("t", "pk").ttl("expires_at"));
    m.create_table(TableSpec::new("s", "pk").sort_key("sk"));
    m
}

#[test]
fn attribute_not_exists_lets_one_put_create_an_item() {
    let mut m = model();
    let none = Placeholders::new();
    let first = m.put_item("t", key("a"), Some("attribute_not_exists(pk)"), &none, t0());
    assert_eq!(first, Ok(None));
    let second = m.put_item("t", key("a"), Some("attribute_not_exists(pk)"), &none, t0());
    assert_eq!(second.unwrap_err().code, "ConditionalCheckFailedException");
}

#[test]
fn racing_lease_claims_see_one_winner() {
    // alarm-fanout's lease: free, expired, or already ours.
    let mut m = model();
    let claim = |m: &mut DynamoModel, me: &str, now: DateTime<Utc>| {
        let ph = Placeholders::new()
            .value(":me", Value::s(me))
            .value(":now", Value::n(now.timestamp()))
            .value(":until", Value::n(now.timestamp() + 30));
        m.update_item(
            "t",
            &key("subject"),
            "SET lease_holder = :me, lease_until = :until",
            Some("attribute_not_exists(lease_until) OR lease_until < :now OR lease_holder = :me"),
            &ph,
            now,
        )
    };
    assert!(claim(&mut m, "a", t0()).is_ok());
    let b = claim(&mut m, "b", t0() + Duration::seconds(1));
    assert_eq!(b.unwrap_err().code, "ConditionalCheckFailedException");
    assert!(
        claim(&mut m, "a", t0() + Duration::seconds(2)).is_ok(),
        "ours again"
    );
    let later = claim(&mut m, "b", t0() + Duration::seconds(40)).unwrap();
    assert_eq!(
        later.get("lease_holder"),
        Some(&Value::s("b")),
        "expired lease taken"
    );
}

#[test]
fn comparisons_with_a_missing_attribute_are_false_except_not_equal() {
    let mut m = model();
    let none = Placeholders::new();
    m.put_item("t", key("a"), None, &none, t0()).unwrap();
    let ph = |v: Value| Placeholders::new().value(":v", v);
    for (cond, holds) in [
        ("x = :v", false),
        ("x < :v", false),
        ("x <> :v", true),
        ("NOT x = :v", true),
        ("pk = :v", false),
    ] {
        let r = m.put_item("t", key("a"), Some(cond), &ph(Value::n(1)), t0());
        assert_eq!(r.is_ok(), holds, "{cond}: {r:?}");
    }
    // A number and a string are never equal or ordered.
    m.put_item(
        "t",
        item(&[("pk", Value::s("b")), ("n", Value::n(5))]),
        None,
        &none,
        t0(),
    )
    .unwrap();
    let r = m.put_item("t", key("b"), Some("n = :v"), &ph(Value::s("5")), t0());
    assert!(r.is_err());
    let r = m.put_item(
        "t",
        key("b"),
        Some("n > :v"),
        &ph(Value::N("4.5".into())),
        t0(),
    );
    assert!(r.is_ok(), "{r:?}");
}

#[test]
fn updates_read_the_old_item_and_refuse_what_aws_refuses() {
    let mut m = model();
    let ph = Placeholders::new()
        .value(":one", Value::n(1))
        .value(":zero", Value::n(0));
    let new = m
        .update_item(
            "t",
            &key("c"),
            "SET n = if_not_exists(n, :zero) + :one ADD hits :one",
            None,
            &ph,
            t0(),
        )
        .unwrap();
    assert_eq!(new.get("n"), Some(&Value::n(1)));
    assert_eq!(new.get("hits"), Some(&Value::n(1)));
    let new = m
        .update_item(
            "t",
            &key("c"),
            "SET n = n + :one ADD hits :one REMOVE gone",
            None,
            &ph.clone().value(":zero", Value::n(0)),
            t0(),
        )
        .unwrap_err();
    assert!(new.message.contains("unused"), "{new}");
    let again = m
        .update_item(
            "t",
            &key("c"),
            "SET n = n + :one ADD hits :one",
            None,
            &Placeholders::new().value(":one", Value::n(1)),
            t0(),
        )
        .unwrap();
    assert_eq!(again.get("n"), Some(&Value::n(2)));
    for (expr, why) in [
        ("SET pk = :one", "part of the key"),
        ("SET n = :one, n = :one", "overlap"),
        ("SET #state = :one", "not defined"),
        ("SET status = :one", "reserved keyword"),
        ("SET m = missing + :one", "does not exist"),
        ("SET a = :one SET b = :one", "only be used once"),
    ] {
        let e = m
            .update_item(
                "t",
                &key("c"),
                expr,
                None,
                &Placeholders::new().value(":one", Value::n(1)),
                t0(),
            )
            .unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(e.message.contains(why), "{expr}: {e}");
    }
    let e = m
        .update_item(
            "t",
            &key("c"),
            "SET n = :one",
            None,
            &Placeholders::new()
                .value(":one", Value::n(1))
                .value(":x", Value::n(2)),
            t0(),
        )
        .unwrap_err();
    assert!(
        e.message.contains("ExpressionAttributeValues unused"),
        "{e}"
    );
}

#[test]
fn a_transaction_is_cancelled_whole_with_a_reason_per_item() {
    let mut m = model();
    let none = Placeholders::new();
    m.put_item(
        "s",
        item(&[("pk", Value::s("p")), ("sk", Value::s("1"))]),
        None,
        &none,
        t0(),
    )
    .unwrap();
    let put = |sk: &str| TransactOp::Put {
        item: item(&[("pk", Value::s("p")), ("sk", Value::s(sk))]),
        condition: Some("attribute_not_exists(pk)".into()),
    };
    let e = m
        .transact_write("s", vec![put("2"), put("1")], &none, t0())
        .unwrap_err();
    assert_eq!(e.code, "TransactionCanceledException");
    assert_eq!(e.reasons, vec!["None", "ConditionalCheckFailed"]);
    let ph = Placeholders::new().value(":pk", Value::s("p"));
    assert_eq!(
        m.query("s", "pk = :pk", &ph, true, t0()).unwrap().len(),
        1,
        "nothing written"
    );
    let e = m
        .transact_write("s", vec![put("3"), put("3")], &none, t0())
        .unwrap_err();
    assert!(e.message.contains("multiple operations on one item"));
    m.transact_write("s", vec![put("3"), put("2")], &none, t0())
        .unwrap();
    let sks: Vec<Value> = m
        .query(
            "s",
            "pk = :pk AND begins_with(sk, :p)",
            &ph.clone().value(":p", Value::s("")),
            true,
            t0(),
        )
        .unwrap()
        .iter()
        .filter_map(|i| i.get("sk").cloned())
        .collect();
    assert_eq!(
        sks,
        vec![Value::s("1"), Value::s("2"), Value::s("3")],
        "in sort-key order"
    );
}

#[test]
fn expired_items_stay_readable_until_ttl_deletes_them_days_later() {
    let mut m = model();
    let none = Placeholders::new();
    let expires = t0() + Duration::hours(1);
    m.put_item(
        "t",
        item(&[
            ("pk", Value::s("e")),
            ("expires_at", Value::n(expires.timestamp())),
        ]),
        None,
        &none,
        t0(),
    )
    .unwrap();
    let just_after = expires + Duration::seconds(1);
    assert!(m
        .get_item("t", &key("e"), true, just_after)
        .unwrap()
        .is_some());
    // A condition still sees it: a create-if-absent fails.
    let r = m.put_item(
        "t",
        key("e"),
        Some("attribute_not_exists(pk)"),
        &none,
        just_after,
    );
    assert!(r.is_err());
    let gone = expires + Duration::hours(49);
    assert!(m.get_item("t", &key("e"), true, gone).unwrap().is_none());
    assert_eq!(m.ttl_deleted, 1);
}

#[test]
fn an_eventually_consistent_read_can_miss_the_last_second_and_never_more() {
    let mut m = model();
    let none = Placeholders::new();
    m.put_item(
        "t",
        item(&[("pk", Value::s("r")), ("v", Value::n(1))]),
        None,
        &none,
        t0(),
    )
    .unwrap();
    let write = t0() + Duration::seconds(10);
    m.put_item(
        "t",
        item(&[("pk", Value::s("r")), ("v", Value::n(2))]),
        None,
        &none,
        write,
    )
    .unwrap();
    let reads: Vec<Option<Value>> = (0..200)
        .map(|_| {
            m.get_item("t", &key("r"), false, write + Duration::milliseconds(500))
                .unwrap()
                .and_then(|i| i.get("v").cloned())
        })
        .collect();
    assert!(reads.contains(&Some(Value::n(1))), "some reads are stale");
    assert!(reads.contains(&Some(Value::n(2))), "some are not");
    let consistent = m.get_item("t", &key("r"), true, write).unwrap();
    assert_eq!(
        consistent.and_then(|i| i.get("v").cloned()),
        Some(Value::n(2))
    );
    let later = m
        .get_item("t", &key("r"), false, write + Duration::milliseconds(1001))
        .unwrap();
    assert_eq!(later.and_then(|i| i.get("v").cloned()), Some(Value::n(2)));
}

#[test]
fn keys_and_tables_are_checked() {
    let mut m = model();
    let none = Placeholders::new();
    let e = m.get_item("nope", &key("a"), true, t0()).unwrap_err();
    assert_eq!(e.code, "ResourceNotFoundException");
    let e = m.get_item("s", &key("a"), true, t0()).unwrap_err();
    assert!(e.message.contains("does not match the schema"), "{e}");
    let e = m
        .put_item("t", item(&[("x", Value::n(1))]), None, &none, t0())
        .unwrap_err();
    assert!(e.message.contains("Missing the key pk"), "{e}");
    let e = m.put_item("t", key(""), None, &none, t0()).unwrap_err();
    assert_eq!(e.code, "ValidationException");
    let big = item(&[
        ("pk", Value::s("big")),
        ("blob", Value::S("x".repeat(MAX_ITEM_BYTES))),
    ]);
    assert!(m
        .put_item("t", big, None, &none, t0())
        .unwrap_err()
        .message
        .contains("maximum allowed size"));
}

#[test]
fn a_map_member_is_set_and_removed_inside_an_existing_map_only() {
    let mut m = model();
    let empty = || Placeholders::new().value(":empty", Value::M(std::collections::BTreeMap::new()));
    m.update_item(
        "t",
        &key("a"),
        "SET rx = if_not_exists(rx, :empty), progress = if_not_exists(progress, :empty)",
        None,
        &empty(),
        t0(),
    )
    .unwrap();
    let named = Placeholders::new()
        .value(":d", Value::s("ALARM"))
        .name("#r", "tg");
    let update = |m: &mut DynamoModel, k: &str, u: &str, ph: &Placeholders| {
        m.update_item("t", &key(k), u, None, ph, t0())
    };
    let new = update(&mut m, "a", "SET rx.#r = :d, progress.#r = :d", &named).unwrap();
    let tg = |v: Option<&Value>| match v {
        Some(Value::M(map)) => map.get("tg").cloned(),
        _ => None,
    };
    assert_eq!(tg(new.get("rx")), Some(Value::s("ALARM")));
    assert_eq!(tg(new.get("progress")), Some(Value::s("ALARM")));
    let new = update(&mut m, "a", "SET rx.#r = :d REMOVE progress.#r", &named).unwrap();
    assert_eq!(tg(new.get("progress")), None);
    assert_eq!(tg(new.get("rx")), Some(Value::s("ALARM")));
    // No parent map: refused, as AWS refuses it.
    let err = update(&mut m, "b", "SET rx.#r = :d", &named).unwrap_err();
    assert!(err.message.contains("document path"), "{err}");
    // A path and its member overlap.
    let both = named
        .clone()
        .value(":empty", Value::M(std::collections::BTreeMap::new()));
    let err = update(&mut m, "a", "SET rx = :empty, rx.#r = :d", &both).unwrap_err();
    assert!(err.message.contains("overlap"), "{err}");
    // Conditions on nested paths are not modelled: refused, not guessed at.
    let err = m
        .update_item(
            "t",
            &key("a"),
            "SET rx.#r = :d",
            Some("rx.#r = :d"),
            &named,
            t0(),
        )
        .unwrap_err();
    assert!(err.message.contains("not modelled"), "{err}");
}
