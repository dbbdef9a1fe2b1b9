#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = shared::config::aws()?;
    shared::lambda::run_events(onboard_stream::Queue::from_env(&aws)?, onboard_stream::handle).await
}
