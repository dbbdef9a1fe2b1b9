//! `POST /verification-sessions`: register an Incode interview to track.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::idempotency::once;
use shared::http::{HandlerResult, json, json_body};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async { json(StatusCode::CREATED, &db.register_verification_session(&caller.account_id, json_body(&req)?).await?) }).await
}
