//! `GET /c/{token}`: what an onboarding link is for (public: the token is the credential).

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::http::{HandlerResult, json, path_text};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let (_, client, campaign) = db.client_by_link(&path_text(&req, "token")?).await?;
    json(StatusCode::OK, &serde_json::json!({ "client": client, "campaign": { "id": campaign.id, "name": campaign.name } }))
}
