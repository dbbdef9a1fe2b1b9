#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = shared::config::aws()?;
    shared::lambda::run_events(webhook_deliver::Worker::from_env(&aws)?, webhook_deliver::handle).await
}
