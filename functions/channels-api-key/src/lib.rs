//! `POST /channels/{id}/api-key`: generate a running channel's API key through 360dialog's Partner API.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::idempotency::once;
use shared::http::{HandlerResult, json, path_text};
use shared::partner::PartnerApi;

pub async fn handle(api: &PartnerApi, req: Request) -> HandlerResult {
    let caller = authenticate(&api.db, &req).await?;
    once(&api.db, &caller.account_id, &req, async {
        let (channel, key) = api.create_channel_api_key(&caller.account_id, &path_text(&req, "id")?).await?;
        json(StatusCode::CREATED, &serde_json::json!({ "channel_id": channel.id, "api_key": key.api_key, "address": key.address, "app_id": key.app_id }))
    })
    .await
}
