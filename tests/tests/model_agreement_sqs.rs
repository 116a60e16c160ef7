//! The SQS model against the local AWS (moto): one request sequence through the SDK and
//! through `QueueModel`, comparing what both can show without waiting on a wall clock:
//! which requests are refused, which messages a receive returns, receive counts, and when
//! a message moves to the dead-letter queue. Messages are made visible again with
//! `ChangeMessageVisibility(0)` (moto cannot be fast-forwarded), and the model's clock
//! stands still, so timing is not what is compared here: the aurora and cloudfront
//! scenarios lean on these semantics, the durations come from SQS's documentation.

use aws_sdk_sqs as sqs;
use chrono::{TimeZone, Utc};
use sim::models::sqs::QueueModel;
use sqs::types::{MessageSystemAttributeName, QueueAttributeName};

const MAX_RECEIVE_COUNT: u32 = 2;

/// What one step showed: "ok", the refusal's error code, or the bodies received with their
/// receive counts.
type Outcome = String;

#[derive(Debug, Clone, Copy)]
enum Step {
    /// Send a body with a delay in seconds.
    Send(&'static str, u32),
    /// Receive up to ten messages.
    Receive,
    /// Change the visibility of the last received message (seconds).
    ChangeVisibility(u32),
    /// Delete the last received message.
    DeleteLast,
}

const SEQUENCE: [Step; 14] = [
    Step::Send("too-late", 901),    // over DelaySeconds' 900: refused
    Step::Send("a", 0),             // visible at once
    Step::Send("later", 900),       // delayed 15 minutes: not received now
    Step::Receive,                  // a, count 1
    Step::ChangeVisibility(43_201), // over 12 hours: refused
    Step::ChangeVisibility(0),      // a visible again
    Step::Receive,                  // a, count 2
    Step::ChangeVisibility(0),      //
    Step::Receive,                  // a over maxReceiveCount: to the DLQ, nothing returned
    Step::Send("b", 0),             //
    Step::Receive,                  // b, count 1
    Step::DeleteLast,               // b gone
    Step::ChangeVisibility(0),      // of a deleted message's handle: refused
    Step::Receive,                  // nothing (later is still delayed)
];

fn received(batch: &[(String, u32)]) -> Outcome {
    if batch.is_empty() {
        return "none".into();
    }
    batch
        .iter()
        .map(|(b, n)| format!("{b}#{n}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn code<E: sqs::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("no code").to_string()
}

async fn moto_sequence(
    client: &sqs::Client,
    queue: &str,
    dlq: &str,
) -> (Vec<Outcome>, Vec<String>) {
    let mut outcomes = Vec::new();
    let mut last_handle = String::new();
    for step in SEQUENCE {
        let outcome = match step {
            Step::Send(body, delay) => match client
                .send_message()
                .queue_url(queue)
                .message_body(body)
                .delay_seconds(delay as i32)
                .send()
                .await
            {
                Ok(_) => "ok".into(),
                Err(e) => code(&e),
            },
            Step::Receive => {
                let out = client
                    .receive_message()
                    .queue_url(queue)
                    .max_number_of_messages(10)
                    .message_system_attribute_names(
                        MessageSystemAttributeName::ApproximateReceiveCount,
                    )
                    .send()
                    .await
                    .expect("receive");
                let batch: Vec<(String, u32)> = out
                    .messages()
                    .iter()
                    .map(|m| {
                        if let Some(h) = m.receipt_handle() {
                            last_handle = h.to_string();
                        }
                        let count = m
                            .attributes()
                            .and_then(|a| {
                                a.get(&MessageSystemAttributeName::ApproximateReceiveCount)
                            })
                            .and_then(|n| n.parse().ok())
                            .unwrap_or(0);
                        (m.body().unwrap_or_default().to_string(), count)
                    })
                    .collect();
                received(&batch)
            }
            Step::ChangeVisibility(secs) => match client
                .change_message_visibility()
                .queue_url(queue)
                .receipt_handle(&last_handle)
                .visibility_timeout(secs as i32)
                .send()
                .await
            {
                Ok(_) => "ok".into(),
                Err(e) => code(&e),
            },
            Step::DeleteLast => match client
                .delete_message()
                .queue_url(queue)
                .receipt_handle(&last_handle)
                .send()
                .await
            {
                Ok(_) => "ok".into(),
                Err(e) => code(&e),
            },
        };
        outcomes.push(outcome);
    }
    let dead = client
        .receive_message()
        .queue_url(dlq)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive from the dead-letter queue");
    let dead = dead
        .messages()
        .iter()
        .map(|m| m.body().unwrap_or_default().to_string())
        .collect();
    (outcomes, dead)
}

/// The model's refusals are plain strings; mapped to the codes SQS gives for them.
fn model_code(refusal: &str) -> String {
    if refusal.starts_with("ReceiptHandleIsInvalid") {
        refusal.into()
    } else {
        "InvalidParameterValue".into()
    }
}

fn model_sequence() -> (Vec<Outcome>, Vec<String>) {
    let now = Utc
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .expect("a valid time");
    let mut q = QueueModel::new(chrono::Duration::seconds(30), MAX_RECEIVE_COUNT);
    let mut outcomes = Vec::new();
    let mut last_handle = String::new();
    for step in SEQUENCE {
        let outcome = match step {
            Step::Send(body, delay) => match q.send(body.into(), delay, now) {
                Ok(_) => "ok".into(),
                Err(e) => model_code(&e),
            },
            Step::Receive => {
                let batch: Vec<(String, u32)> = q
                    .receive(now, 10)
                    .into_iter()
                    .map(|m| {
                        last_handle = m.receipt_handle.clone();
                        (m.body, m.receive_count)
                    })
                    .collect();
                received(&batch)
            }
            Step::ChangeVisibility(secs) => match q.change_visibility(&last_handle, secs, now) {
                Ok(()) => "ok".into(),
                Err(e) => model_code(&e),
            },
            Step::DeleteLast => {
                q.delete(&last_handle);
                "ok".into()
            }
        };
        outcomes.push(outcome);
    }
    let dead = q.dead_letters.iter().map(|m| m.body.clone()).collect();
    (outcomes, dead)
}

#[tokio::test]
async fn sqs_delays_visibility_and_dead_letters_agree_with_moto() {
    let Some(sdk) = groundcrew::testing::local_aws().await else {
        return;
    };
    let client = sqs::Client::new(&sdk);
    let name = groundcrew::testing::unique_name("agree");
    let dlq = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .expect("create the dead-letter queue");
    let dlq_url = dlq.queue_url().unwrap_or_default().to_string();
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("dead-letter queue ARN")
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap_or_default();
    let queue = client
        .create_queue()
        .queue_name(&name)
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(
                r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{MAX_RECEIVE_COUNT}"}}"#
            ),
        )
        .send()
        .await
        .expect("create the queue");
    let queue_url = queue.queue_url().unwrap_or_default().to_string();

    let (moto_outcomes, moto_dead) = moto_sequence(&client, &queue_url, &dlq_url).await;
    let (model_outcomes, model_dead) = model_sequence();
    let steps: Vec<String> = SEQUENCE.iter().map(|s| format!("{s:?}")).collect();
    assert_eq!(
        moto_outcomes, model_outcomes,
        "moto and the model answer the steps {steps:?} alike"
    );
    assert_eq!(moto_dead, model_dead, "the same messages are dead letters");
    assert_eq!(
        model_dead,
        vec!["a".to_string()],
        "the sequence reaches the dead-letter queue"
    );
}
