//! Lambda entry point: wiring only (`groundcrew::runtime` owns start-up and the loop).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    groundcrew::runtime::run(telegram_webhook::build_from_env(), telegram_webhook::serve).await
}
