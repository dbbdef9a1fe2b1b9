//! Identity-verification sessions (Incode interviews) whose status the provider's webhooks update.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::Db;
use shared::platform::auth::authenticate;
use shared::platform::http::{HandlerResult, json, json_body, path_text};
use shared::platform::idempotency::once;

/// `POST /verification-sessions`: register an Incode interview to track.
pub async fn create(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async { json(StatusCode::CREATED, &db.provider_webhooks().register_verification_session(&caller.account_id, json_body(&req)?).await?) }).await
}

/// `GET /verification-sessions/{id}`: an interview's status (`UNKNOWN` until the first webhook) and history.
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    json(StatusCode::OK, &db.provider_webhooks().verification_session(&caller.account_id, &path_text(&req, "id")?).await?)
}
