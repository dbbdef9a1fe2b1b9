//! `POST /flows`: a flow with sources and steps naming the caller's entities.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::idempotency::once;
use shared::http::{HandlerResult, json_body, with_etag};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async {
        let (flow, entities) = db.create_flow(&caller.account_id, json_body(&req)?).await?;
        with_etag(StatusCode::CREATED, &flow.view(&entities), flow.version)
    })
    .await
}
