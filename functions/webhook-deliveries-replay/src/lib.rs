//! `POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/replay`: send a delivery's event again.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::idempotency::once;
use shared::http::{HandlerResult, named, path_id};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async {
        let replay = db.replay_delivery(&caller.account_id, &path_id(&req, "id")?, &path_id(&req, "delivery_id")?).await?;
        named(StatusCode::ACCEPTED, "delivery", &replay)
    })
    .await
}
