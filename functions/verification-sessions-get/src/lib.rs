//! `GET /verification-sessions/{id}`: an interview's status (`UNKNOWN` until the first webhook) and history.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::http::{HandlerResult, json, path_text};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    json(StatusCode::OK, &db.verification_session(&caller.account_id, &path_text(&req, "id")?).await?)
}
