//! Flows: where a buyer's leads go, with their sources and steps.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::{ApiError, Db, Id};
use shared::platform::auth::authenticate;
use shared::onboards::domain::flow::Flow;
use shared::platform::http::{HandlerResult, if_match, json_body, page, page_request, path_id, with_etag};
use shared::platform::idempotency::once;
use shared::store::lists::Page;

/// `POST /flows`: a flow with sources and steps naming the caller's entities.
pub async fn create(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async {
        let (flow, entities) = db.onboards().create_flow(&caller.account_id, json_body(&req)?).await?;
        with_etag(StatusCode::CREATED, &flow.view(&entities), flow.version)
    })
    .await
}

/// `GET /flows/{id}`: one flow, each source and step marked `active`.
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let flow = db.onboards().flow(&caller.account_id, &path_id(&req, "id")?).await?.ok_or(ApiError::NotFound("flow"))?;
    let entities = db.partners().entities_among(&caller.account_id, &flow.entity_ids()).await?;
    with_etag(StatusCode::OK, &flow.view(&entities), flow.version)
}

/// `GET /flows`: the account's flows, newest first, each source and step marked `active`.
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.onboards().flows(&caller.account_id, &page_request(&req)?).await?;
    let ids: Vec<Id> = listed.items.iter().flat_map(Flow::entity_ids).collect();
    let entities = db.partners().entities_among(&caller.account_id, &ids).await?;
    let items = listed.items.iter().map(|flow| flow.view(&entities)).collect();
    page(&req, &Page { items, next_cursor: listed.next_cursor })
}

/// `PUT /flows/{id}`: replace a flow (optionally `If-Match` its version).
pub async fn update(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let id = path_id(&req, "id")?;
    let (flow, entities) = db.onboards().update_flow(&caller.account_id, &id, json_body(&req)?, if_match(&req)?).await?;
    with_etag(StatusCode::OK, &flow.view(&entities), flow.version)
}
