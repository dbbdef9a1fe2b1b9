#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = shared::config::aws()?;
    shared::lambda::run_events(table_stream::Queues::from_env(&aws)?, table_stream::handle).await
}
