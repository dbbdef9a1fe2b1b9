//! The onboarding link a client opens (public: its token is the credential).

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::Db;
use shared::platform::http::{HandlerResult, json, named, path_text};

/// `POST /c/{token}/complete`: the onboarding page reports the client finished; emits `client.completed` once.
pub async fn complete(db: &Db, req: Request) -> HandlerResult {
    named(StatusCode::OK, "client", &db.client_onboarding().complete_client(&path_text(&req, "token")?).await?)
}

/// `GET /c/{token}`: what an onboarding link is for (public: the token is the credential).
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let (_, client, campaign) = db.client_onboarding().client_by_link(&path_text(&req, "token")?).await?;
    json(StatusCode::OK, &serde_json::json!({ "client": client, "campaign": { "id": campaign.id, "name": campaign.name } }))
}
