//! `POST /api/v1/campaigns`: a draft campaign.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::idempotency::once;
use shared::http::{HandlerResult, json_body, named};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async { named(StatusCode::CREATED, "campaign", &db.create_campaign(&caller.account_id, json_body(&req)?).await?) }).await
}
