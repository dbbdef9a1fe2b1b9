//! Campaigns: what clients are onboarded to (seed 001).

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::Db;
use shared::platform::auth::authenticate;
use shared::platform::http::{HandlerResult, json_body, named, named_page, page_request, path_id, query_param};
use shared::platform::idempotency::once;

/// `POST /api/v1/campaigns`: a draft campaign.
pub async fn create(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async { named(StatusCode::CREATED, "campaign", &db.client_onboarding().create_campaign(&caller.account_id, json_body(&req)?).await?) }).await
}

/// `GET /api/v1/campaigns/{id}`: one campaign, draft or published.
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    named(StatusCode::OK, "campaign", &db.client_onboarding().campaign(&caller.account_id, &path_id(&req, "id")?).await?)
}

/// `GET /api/v1/campaigns`: published campaigns (seed 001); `?status=draft|all` shows drafts too.
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let status = query_param(&req, "status");
    named_page(&req, "campaigns", &db.client_onboarding().campaigns(&caller.account_id, status.as_deref(), &page_request(&req)?).await?)
}

/// `POST /api/v1/campaigns/{id}/publish`: publish a campaign, emitting `flow.created` once.
pub async fn publish(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    named(StatusCode::OK, "campaign", &db.client_onboarding().publish_campaign(&caller.account_id, &path_id(&req, "id")?).await?)
}

/// `PUT /api/v1/campaigns/{id}`: rename a campaign.
pub async fn update(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    named(StatusCode::OK, "campaign", &db.client_onboarding().rename_campaign(&caller.account_id, &path_id(&req, "id")?, json_body(&req)?).await?)
}
