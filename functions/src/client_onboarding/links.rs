//! The onboarding link a client opens (public: its token is the credential).

use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::{ApiError, Db};
use shared::client_onboarding::domain::campaign::{Client, ClientStatus};
use shared::platform::http::{HandlerResult, json, named, optional_json_body, path_text, wants_page};

use crate::pages;

/// `POST /c/{token}/complete`: the client finished, with the details it confirmed or completed
/// (optional); emits `client.completed` once.
pub async fn complete(db: &Db, req: Request) -> HandlerResult {
    let details = optional_json_body(&req)?;
    named(StatusCode::OK, "client", &db.client_onboarding().complete_client(&path_text(&req, "token")?, details).await?)
}

/// What the client onboarding page shows.
#[derive(Serialize)]
struct ClientPage<'a> {
    /// `invited`, `completed`, or `unknown` for a link that names no client.
    state: &'a str,
    /// Who is asking: the name of the account that runs the campaign.
    owner: Option<&'a str>,
    campaign: Option<CampaignName<'a>>,
    client: Option<&'a Client>,
}

#[derive(Serialize)]
struct CampaignName<'a> {
    name: &'a str,
}

/// `GET /c/{token}`: what an onboarding link is for. A browser (`Accept: text/html`) gets the
/// onboarding page; any other caller the JSON it always had.
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let wants_page = wants_page(&req);
    let found = db.client_onboarding().client_by_link(&path_text(&req, "token")?).await;
    match (found, wants_page) {
        (Ok((_, client, campaign)), false) => {
            json(StatusCode::OK, &serde_json::json!({ "client": client, "campaign": { "id": campaign.id, "name": campaign.name } }))
        }
        (Ok((owner, client, campaign)), true) => {
            let state = if client.status == ClientStatus::Completed { "completed" } else { "invited" };
            let owner = db.accounts().account(&owner).await?.map(|a| a.name);
            pages::CLIENT_ONBOARDING.respond(&ClientPage { state, owner: owner.as_deref(), campaign: Some(CampaignName { name: &campaign.name }), client: Some(&client) })
        }
        (Err(ApiError::NotFound(_)), true) => pages::CLIENT_ONBOARDING.respond(&ClientPage { state: "unknown", owner: None, campaign: None, client: None }),
        (Err(err), _) => Err(err),
    }
}
