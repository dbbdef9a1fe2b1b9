#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run((), openapi_get::handle).await
}
