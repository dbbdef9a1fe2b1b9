#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = shared::config::aws()?;
    shared::lambda::run(shared::store::campaigns::ClientOnboarding::from_env(shared::Db::from_env(&aws)?), clients_create::handle).await
}
