//! `POST /c/{token}/complete`: the onboarding page reports the client finished; emits `client.completed` once.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::http::{HandlerResult, named, path_text};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    named(StatusCode::OK, "client", &db.complete_client(&path_text(&req, "token")?).await?)
}
