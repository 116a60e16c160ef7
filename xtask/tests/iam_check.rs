//! The IAM check on a small workspace made for each test: one function crate calling SQS
//! through its adapter, the shared crate, a template, and IAM data written here. Each
//! test breaks one thing and asserts the check fails for that reason. The SDK's
//! operations are read from the real aws-sdk-sqs sources in the cargo registry, at the
//! version this repository's Cargo.lock pins.

use std::path::Path;

use xtask::check::{run, Options, Report};
use xtask::iam_data::IamData;
use xtask::rules;

fn locked_version(name: &str) -> String {
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock"))
        .expect("the repository's Cargo.lock");
    let pattern = format!("name = \"{name}\"\nversion = \"");
    let at = lock
        .find(&pattern)
        .unwrap_or_else(|| panic!("{name} in Cargo.lock"));
    let rest = &lock[at + pattern.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// cfn-lint's data format, for the actions these tests use and every STAR_OK action.
fn iam_data() -> IamData {
    let mut services = serde_json::Map::new();
    let mut add = |action: &str, resources: &[&str]| {
        let (prefix, name) = action.split_once(':').unwrap();
        let service = services
            .entry(prefix.to_string())
            .or_insert_with(|| serde_json::json!({"Actions": {}}));
        service["Actions"][name.to_ascii_lowercase()] = serde_json::json!({"Resources": resources});
    };
    for (action, _) in rules::STAR_OK {
        let despite = rules::STAR_OK_DESPITE_RESOURCE_TYPES.contains(action);
        add(action, if despite { &["dataset"] } else { &[] });
    }
    for action in [
        "sqs:SendMessage",
        "sqs:DeleteMessage",
        "sqs:ReceiveMessage",
        "sqs:PurgeQueue",
        "sqs:ListQueues",
    ] {
        add(action, &["queue"]);
    }
    IamData::parse(&serde_json::Value::Object(services).to_string()).unwrap()
}

const ADAPTER: &str = r#"
use aws_sdk_sqs as sqs;

pub struct Queue {
    client: sqs::Client,
    url: String,
}

impl Queue {
    pub async fn send(&self, body: &str) -> Result<(), String> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    pub async fn forget(&self, handle: &str) -> Result<(), String> {
        let request = self.client.delete_message().queue_url(&self.url);
        request
            .receipt_handle(handle)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    async fn purge(client: &aws_sdk_sqs::Client) {
        client.purge_queue().send().await.unwrap();
    }
}
"#;

const TEMPLATE: &str = r#"
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Queue:
    Type: AWS::SQS::Queue
  DemoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/demo
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Sid: UseTheQueue
              Effect: Allow
              Action:
                - sqs:SendMessage
                - !If [IsProd, sqs:DeleteMessage, !Ref AWS::NoValue]
              Resource: !GetAtt Queue.Arn
            - Sid: NeverElsewhere
              Effect: Deny
              Action: sqs:PurgeQueue
              Resource: !Sub "arn:${AWS::Partition}:sqs:*:*:other"
"#;

struct Workspace {
    dir: tempfile::TempDir,
    template: String,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sqs = locked_version("aws-sdk-sqs");
        let write = |rel: &str, text: &str| {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"shared\", \"functions/*\"]\n\n[workspace.dependencies]\n\
             aws-sdk-sqs = { version = \"1\", default-features = false }\n",
        );
        write(
            "Cargo.lock",
            &format!(
                "version = 4\n\n[[package]]\nname = \"aws-sdk-sqs\"\nversion = \"{sqs}\"\n\
                 source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
                 [[package]]\nname = \"demo\"\nversion = \"0.1.0\"\n\
                 dependencies = [\"aws-sdk-sqs\", \"groundcrew\"]\n\n\
                 [[package]]\nname = \"groundcrew\"\nversion = \"0.1.0\"\n\
                 dependencies = [\"aws-sdk-sqs\"]\n"
            ),
        );
        write(
            "shared/Cargo.toml",
            "[package]\nname = \"groundcrew\"\n\n[dependencies]\naws-sdk-sqs.workspace = true\n",
        );
        write(
            "shared/src/lib.rs",
            "pub mod queues;\n#[cfg(test)]\nmod checks;\n",
        );
        write(
            "shared/src/queues.rs",
            "pub struct Lister {\n    client: aws_sdk_sqs::Client,\n}\n\nimpl Lister {\n    \
             pub async fn all(&self) {\n        let _ = self.client.list_queues().send().await;\n    \
             }\n}\n\npub fn unrelated() {}\n",
        );
        write(
            "functions/demo/Cargo.toml",
            "[package]\nname = \"demo\"\n\n[dependencies]\naws-sdk-sqs.workspace = true\n\
             groundcrew = { path = \"../../shared\" }\n",
        );
        write("functions/demo/src/lib.rs", "mod aws;\nmod logic;\n");
        write("functions/demo/src/aws.rs", ADAPTER);
        write(
            "functions/demo/src/logic.rs",
            "pub fn decide() -> bool {\n    groundcrew::queues::unrelated();\n    true\n}\n",
        );
        Self {
            dir,
            template: TEMPLATE.to_string(),
        }
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.dir.path().join(rel), text).unwrap();
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let path = self.dir.path().join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{rel} has no {from:?}");
        std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    }

    fn edit_template(&mut self, from: &str, to: &str) {
        assert!(self.template.contains(from), "template has no {from:?}");
        self.template = self.template.replacen(from, to, 1);
    }

    fn check(&self) -> Report {
        run(&Options {
            root: self.dir.path().to_path_buf(),
            template: self.template.clone(),
            iam: iam_data(),
            verbose: true,
        })
    }
}

fn problems(report: &Report) -> String {
    report.functions[0].problems.join("\n")
}

#[test]
fn the_workspace_as_made_passes() {
    let report = Workspace::new().check();
    let text = report.render();
    assert_eq!((report.passed(), report.failed()), (1, 0), "{text}");
    assert!(
        text.starts_with("ok   demo (DemoFunction; 2 granted, 2 called)"),
        "{text}"
    );
    assert!(text.ends_with("iam-check: 1 passed, 0 failed\n"), "{text}");
    // The call through a `let` binding later sent, and the Deny statement, are seen.
    assert!(
        text.contains("call sqs:DeleteMessage: functions/demo/src/aws.rs:"),
        "{text}"
    );
    assert!(
        text.contains("Deny statement NeverElsewhere: sqs:PurgeQueue"),
        "{text}"
    );
    assert!(report.functions[0].adapters_only, "{text}");
}

#[test]
fn an_added_action_fails() {
    let mut ws = Workspace::new();
    ws.edit_template(
        "- sqs:SendMessage",
        "- sqs:SendMessage\n                - sqs:ReceiveMessage",
    );
    let report = ws.check();
    assert_eq!(report.failed(), 1, "{}", report.render());
    assert!(
        problems(&report).contains(
            "statement UseTheQueue grants sqs:ReceiveMessage, which the code never calls"
        ),
        "{}",
        report.render()
    );
}

#[test]
fn a_removed_action_fails() {
    let mut ws = Workspace::new();
    ws.edit_template("- !If [IsProd, sqs:DeleteMessage, !Ref AWS::NoValue]", "");
    let report = ws.check();
    assert_eq!(report.failed(), 1, "{}", report.render());
    assert!(
        problems(&report).contains("the code calls sqs:DeleteMessage (functions/demo/src/aws.rs:"),
        "{}",
        report.render()
    );
}

#[test]
fn resource_star_fails_for_an_action_with_resource_level_permissions() {
    let mut ws = Workspace::new();
    ws.edit_template("Resource: !GetAtt Queue.Arn", "Resource: \"*\"");
    let report = ws.check();
    assert_eq!(report.failed(), 1, "{}", report.render());
    assert!(
        problems(&report).contains("statement UseTheQueue: sqs:SendMessage on Resource \"*\""),
        "{}",
        report.render()
    );
}

#[test]
fn a_managed_policy_or_a_sam_policy_template_fails() {
    let mut ws = Workspace::new();
    ws.edit_template(
        "      Policies:\n",
        "      Policies:\n        - AWSLambdaBasicExecutionRole\n        - SQSPollerPolicy:\n            QueueName: q\n",
    );
    let report = ws.check();
    let text = problems(&report);
    assert!(
        text.contains("managed policy 'AWSLambdaBasicExecutionRole'"),
        "{text}"
    );
    assert!(
        text.contains("SAM policy template or managed policy 'SQSPollerPolicy'"),
        "{text}"
    );
}

#[test]
fn a_new_sdk_call_in_code_fails_until_granted() {
    let ws = Workspace::new();
    ws.edit(
        "functions/demo/src/aws.rs",
        "    pub async fn forget",
        "    pub async fn purge(&self) {\n        let _ = self.client.purge_queue().queue_url(&self.url).send().await;\n    }\n\n    pub async fn forget",
    );
    let report = ws.check();
    assert_eq!(report.failed(), 1, "{}", report.render());
    assert!(
        problems(&report).contains("the code calls sqs:PurgeQueue (functions/demo/src/aws.rs:"),
        "{}",
        report.render()
    );
}

#[test]
fn calls_in_test_code_do_not_count() {
    // The adapter's `#[cfg(test)]` module calls purge_queue: the made workspace passes.
    let report = Workspace::new().check();
    assert!(
        !report.render().contains("PurgeQueue ("),
        "{}",
        report.render()
    );
}

#[test]
fn a_shared_type_charges_the_functions_that_name_it() {
    let ws = Workspace::new();
    ws.edit(
        "functions/demo/src/logic.rs",
        "groundcrew::queues::unrelated();",
        "let _lister: Option<groundcrew::queues::Lister> = None;",
    );
    let report = ws.check();
    let text = problems(&report);
    assert!(
        text.contains(
            "the code calls sqs:ListQueues (shared/src/queues.rs:7) but no statement grants it"
        ),
        "{}",
        report.render()
    );
}

#[test]
fn sdk_clients_outside_the_adapters_are_reported() {
    let ws = Workspace::new();
    ws.write(
        "functions/demo/src/logic.rs",
        "pub async fn decide(client: &aws_sdk_sqs::Client) {\n    let _ = client.send_message().send().await;\n}\n",
    );
    let report = ws.check();
    let f = &report.functions[0];
    assert!(!f.adapters_only);
    let all = format!("{}\n{}", f.problems.join("\n"), f.notes.join("\n"));
    assert!(
        all.contains(
            "functions/demo/src/logic.rs:1 names aws_sdk_sqs::Client outside the adapters"
        ),
        "{all}"
    );
    assert!(
        all.contains("functions/demo/src/logic.rs:2 calls sqs SendMessage outside the adapters"),
        "{all}"
    );
    // A warning until the switch is turned on, then a failure.
    assert_eq!(
        report.failed() == 1,
        rules::ADAPTER_RULE_IS_ERROR,
        "{}",
        report.render()
    );
}

#[test]
fn an_untyped_call_that_is_never_sent_is_not_an_sdk_call() {
    let ws = Workspace::new();
    ws.write(
        "functions/demo/src/logic.rs",
        "pub trait Store { fn delete_message(&self); }\npub fn decide(s: impl Store) {\n    s.delete_message();\n}\n",
    );
    let report = ws.check();
    assert_eq!(report.failed(), 0, "{}", report.render());
    assert!(report
        .render()
        .contains("ignored .delete_message() at functions/demo/src/logic.rs:3"));
}

#[test]
fn a_role_or_global_policies_cannot_be_checked() {
    let mut ws = Workspace::new();
    ws.edit_template(
        "      CodeUri: functions/demo\n",
        "      CodeUri: functions/demo\n      Role: arn:aws:iam::1:role/x\n",
    );
    assert!(problems(&ws.check()).contains("has a Role"));
    let mut ws = Workspace::new();
    ws.edit_template(
        "Resources:\n",
        "Globals:\n  Function:\n    Policies: []\nResources:\n",
    );
    let report = ws.check();
    assert_eq!(report.failed(), 1);
    assert!(report
        .render()
        .contains("Globals.Function.Policies is not supported"));
}

#[test]
fn operations_map_to_their_iam_actions() {
    assert_eq!(
        rules::to_actions("dynamodb", "TransactWriteItems"),
        [
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem"
        ]
    );
    assert_eq!(
        rules::to_actions("lambda", "Invoke"),
        ["lambda:InvokeFunction"]
    );
    assert_eq!(
        rules::to_actions("applicationautoscaling", "RegisterScalableTarget"),
        ["application-autoscaling:RegisterScalableTarget"]
    );
}

#[test]
fn a_granted_action_iam_does_not_know_fails() {
    let mut ws = Workspace::new();
    ws.edit_template(
        "- sqs:SendMessage",
        "- sqs:SendMessage\n                - sqs:SendMessages",
    );
    let text = problems(&ws.check());
    assert!(
        text.contains("statement UseTheQueue: sqs:SendMessages is not an IAM action"),
        "{text}"
    );
    assert!(
        text.contains("grants sqs:SendMessages, which the code never calls"),
        "{text}"
    );
}

#[test]
fn a_module_declared_without_its_file_fails() {
    let ws = Workspace::new();
    ws.write(
        "functions/demo/src/lib.rs",
        "mod aws;\nmod logic;\nmod gone;\n",
    );
    let text = problems(&ws.check());
    assert!(
        text.contains("cannot read functions/demo/src/gone/mod.rs")
            && text.contains("does not exist"),
        "{text}"
    );
}
