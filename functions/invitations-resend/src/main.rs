#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = shared::config::aws()?;
    shared::lambda::run(shared::invite::Inviter::from_env(&aws)?, invitations_resend::handle).await
}
