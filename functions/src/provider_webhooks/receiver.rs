//! The one receiver of every provider's webhooks.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::Db;
use shared::platform::http::{HandlerResult, bounded_body, json, path_id};

/// `POST /webhooks/{integration_id}`: a provider's delivery, authenticated by the provider's own scheme.
///
/// Public (no API key). Replies `200 {"success": true}` to new and repeated deliveries alike
/// (Incode's contract), so that a taken delivery is never retried.
pub async fn receive(db: &Db, req: Request) -> HandlerResult {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    db.provider_webhooks().receive_webhook(&path_id(&req, "integration_id")?, header, bounded_body(&req)?).await?;
    json(StatusCode::OK, &serde_json::json!({ "success": true }))
}
