#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = shared::config::aws()?;
    shared::lambda::run(shared::Db::from_env(&aws)?, webhook_endpoints_rotate::handle).await
}
