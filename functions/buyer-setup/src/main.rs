#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = shared::config::aws()?;
    shared::lambda::run_events(shared::setup::BuyerSetup::from_env(&aws)?, buyer_setup::handle).await
}
