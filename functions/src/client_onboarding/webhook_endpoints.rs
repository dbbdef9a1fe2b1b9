//! Outbound webhook endpoints and their signing secrets.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::Db;
use shared::platform::auth::authenticate;
use shared::platform::http::{HandlerResult, json_body, named, named_page, no_content, page_request, path_id};
use shared::platform::idempotency::once;
use shared::client_onboarding::ClientOnboarding;
use shared::store::lists::Page;

/// `POST /api/v1/webhooks`: a webhook endpoint; its signing secret is shown once.
pub async fn create(app: &ClientOnboarding, req: Request) -> HandlerResult {
    let caller = authenticate(&app.db, &req).await?;
    once(&app.db, &caller.account_id, &req, async {
        let (endpoint, secret) = app.db.client_onboarding().create_endpoint(&caller.account_id, json_body(&req)?, app.url_policy).await?;
        named(StatusCode::CREATED, "webhook", &endpoint.view(&shared::platform::time::now(), Some(secret)))
    })
    .await
}

/// `DELETE /api/v1/webhooks/{id}`: stop sending to an endpoint.
pub async fn delete(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    db.client_onboarding().delete_endpoint(&caller.account_id, &path_id(&req, "id")?).await?;
    no_content()
}

/// `GET /api/v1/webhooks`: the account's webhook endpoints (never their secrets).
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.client_onboarding().endpoints(&caller.account_id, &page_request(&req)?).await?;
    let now = shared::platform::time::now();
    let items = listed.items.iter().map(|e| e.view(&now, None)).collect();
    named_page(&req, "webhooks", &Page { items, next_cursor: listed.next_cursor })
}

/// `POST /api/v1/webhooks/{id}/secrets`: a new signing secret (shown once); the previous one keeps signing for 24 hours.
pub async fn rotate_secret(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async {
        let (endpoint, secret) = db.client_onboarding().rotate_endpoint_secret(&caller.account_id, &path_id(&req, "id")?).await?;
        named(StatusCode::CREATED, "webhook", &endpoint.view(&shared::platform::time::now(), Some(secret)))
    })
    .await
}
