#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run((), docs_page::handle).await
}
