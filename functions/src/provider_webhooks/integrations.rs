//! Integrations: a provider's inbound webhooks registered for the account, and the deliveries
//! accepted from it.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::Db;
use shared::platform::auth::authenticate;
use shared::platform::http::{api_origin, HandlerResult, json, json_body, no_content, page, page_request, path_id};
use shared::platform::idempotency::once;
use shared::store::lists::Page;

/// `GET /integrations/{id}/events`: every accepted delivery, newest first.
pub async fn events(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.provider_webhooks().integration_events(&caller.account_id, &path_id(&req, "id")?, &page_request(&req)?).await?;
    let items = listed.items.into_iter().map(|event| event.view()).collect();
    page(&req, &Page { items, next_cursor: listed.next_cursor })
}

/// `POST /integrations`: register a provider's inbound webhooks; the secret is shown once.
pub async fn create(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async {
        let (integration, secret) = db.provider_webhooks().create_integration(&caller.account_id, json_body(&req)?).await?;
        json(StatusCode::CREATED, &integration.view(&api_origin(&req), Some(secret)))
    })
    .await
}

/// `DELETE /integrations/{id}`: stop accepting the provider's deliveries.
pub async fn delete(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    db.provider_webhooks().delete_integration(&caller.account_id, &path_id(&req, "id")?).await?;
    no_content()
}

/// `GET /integrations/{id}`: one integration, without its secret.
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let integration = db.provider_webhooks().integration(&caller.account_id, &path_id(&req, "id")?).await?;
    json(StatusCode::OK, &integration.view(&api_origin(&req), None))
}

/// `GET /integrations`: the account's integrations, newest first.
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.provider_webhooks().integrations(&caller.account_id, &page_request(&req)?).await?;
    let origin = api_origin(&req);
    let items = listed.items.into_iter().map(|i| i.view(&origin, None)).collect();
    page(&req, &Page { items, next_cursor: listed.next_cursor })
}
