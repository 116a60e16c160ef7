#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telegram_webhook::run_lambda().await
}
