//! `POST /api/v1/webhooks/{id}/secrets`: a new signing secret (shown once); the previous one keeps signing for 24 hours.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::idempotency::once;
use shared::http::{HandlerResult, named, path_id};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async {
        let (endpoint, secret) = db.rotate_endpoint_secret(&caller.account_id, &path_id(&req, "id")?).await?;
        named(StatusCode::CREATED, "webhook", &endpoint.view(&shared::time::now(), Some(secret)))
    })
    .await
}
