#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = shared::config::aws()?;
    shared::lambda::run(shared::setup::BuyerSetup::from_env(&aws)?, onboard_buyer::handle).await
}
