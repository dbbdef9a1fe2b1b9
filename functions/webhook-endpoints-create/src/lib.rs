//! `POST /api/v1/webhooks`: a webhook endpoint; its signing secret is shown once.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::idempotency::once;
use shared::http::{HandlerResult, json_body, named};
use shared::store::campaigns::ClientOnboarding;

pub async fn handle(app: &ClientOnboarding, req: Request) -> HandlerResult {
    let caller = authenticate(&app.db, &req).await?;
    once(&app.db, &caller.account_id, &req, async {
        let (endpoint, secret) = app.db.create_endpoint(&caller.account_id, json_body(&req)?, app.url_policy).await?;
        named(StatusCode::CREATED, "webhook", &endpoint.view(&shared::time::now(), Some(secret)))
    })
    .await
}
