//! `POST /webhooks/{integration_id}`: a provider's delivery, authenticated by the provider's own scheme.
//!
//! Public (no API key). Replies `200 {"success": true}` to new and repeated deliveries alike
//! (Incode's contract), so that a taken delivery is never retried.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::http::{HandlerResult, body_bytes, json, path_id};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    db.receive_webhook(&path_id(&req, "integration_id")?, req.headers(), body_bytes(&req)).await?;
    json(StatusCode::OK, &serde_json::json!({ "success": true }))
}
