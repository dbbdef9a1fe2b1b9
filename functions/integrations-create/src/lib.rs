//! `POST /integrations`: register a provider's inbound webhooks; the secret is shown once.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::idempotency::once;
use shared::http::{HandlerResult, json, json_body, api_origin};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async {
        let (integration, secret) = db.create_integration(&caller.account_id, json_body(&req)?).await?;
        json(StatusCode::CREATED, &integration.view(&api_origin(&req), Some(secret)))
    })
    .await
}
