//! `POST /api/v1/clients`: add a client to a published campaign; the response carries its onboarding link, once.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::idempotency::once;
use shared::http::{HandlerResult, json_body, named, api_origin};
use shared::store::campaigns::ClientOnboarding;

pub async fn handle(app: &ClientOnboarding, req: Request) -> HandlerResult {
    let caller = authenticate(&app.db, &req).await?;
    once(&app.db, &caller.account_id, &req, async {
        let base = app.link_base.clone().unwrap_or_else(|| api_origin(&req));
        let (client, link) = app.db.create_client(&caller.account_id, json_body(&req)?, &base).await?;
        let mut body = serde_json::to_value(&client).map_err(|e| shared::ApiError::Internal(e.to_string()))?;
        body["link"] = link.into();
        named(StatusCode::CREATED, "client", &body)
    })
    .await
}
