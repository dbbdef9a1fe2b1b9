#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = shared::config::aws()?;
    shared::lambda::run(shared::partner::PartnerApi::from_env(shared::Db::from_env(&aws)?), channels_api_key::handle).await
}
