//! Clients of a campaign, each with its onboarding link.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::{Db, Id};
use shared::platform::auth::authenticate;
use shared::platform::http::{api_origin, HandlerResult, json_body, named, named_page, page_request, query_param};
use shared::platform::idempotency::once;
use shared::client_onboarding::ClientOnboarding;

/// `POST /api/v1/clients`: add a client to a published campaign; the response carries its onboarding link, once.
pub async fn create(app: &ClientOnboarding, req: Request) -> HandlerResult {
    let caller = authenticate(&app.db, &req).await?;
    once(&app.db, &caller.account_id, &req, async {
        let base = app.link_base.clone().unwrap_or_else(|| api_origin(&req));
        let (client, link) = app.db.client_onboarding().create_client(&caller.account_id, json_body(&req)?, &base).await?;
        let mut body = serde_json::to_value(&client).map_err(|e| shared::ApiError::Internal(e.to_string()))?;
        body["link"] = link.into();
        named(StatusCode::CREATED, "client", &body)
    })
    .await
}

/// `GET /api/v1/clients`: the account's clients, optionally `?campaign_id=`.
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let paging = page_request(&req)?;
    let campaign = query_param(&req, "campaign_id").map(|id| Id::from_path(&id)).transpose()?;
    if let Some(id) = &campaign {
        db.client_onboarding().campaign(&caller.account_id, id).await?;
    }
    named_page(&req, "clients", &db.client_onboarding().clients(&caller.account_id, campaign.as_ref(), &paging).await?)
}
