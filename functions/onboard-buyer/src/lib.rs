//! `POST /onboard/buyer`: the buyer delivery setup, synchronously (seed 000).

use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::Deserialize;
use shared::auth::authenticate;
use shared::http::{HandlerResult, json, json_body};
use shared::setup::{BuyerSetup, Mode, SetupRequest};
use shared::{ApiError, Id};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BuyerSetupBody {
    connection_id: Option<Id>,
    invitation_id: Option<Id>,
    flow_id: Option<Id>,
}

pub async fn handle(setup: &BuyerSetup, req: Request) -> HandlerResult {
    let caller = authenticate(&setup.db, &req).await?;
    let body: BuyerSetupBody = json_body(&req)?;
    let invitation = match &body.invitation_id {
        Some(id) => Some(setup.db.invitation(&caller.account_id, id).await?.ok_or(ApiError::NotFound("invitation"))?),
        None => None,
    };
    let connection_id = match (body.connection_id, invitation.as_ref().map(|i| i.connection_id.clone())) {
        (None, None) => return Err(ApiError::validation("connection_id", "give connection_id or invitation_id")),
        (_, Some(None)) => return Err(ApiError::BadRequest("the invitation has not been accepted".into())),
        (Some(given), Some(Some(resolved))) if given != resolved => {
            return Err(ApiError::BadRequest("connection_id and invitation_id name different connections".into()));
        }
        (Some(id), _) | (None, Some(Some(id))) => id,
    };
    let request = SetupRequest {
        onboard_id: setup.db.onboard_of_connection(&caller.account_id, &connection_id).await?,
        account_id: caller.account_id,
        connection_id,
        flow_id: body.flow_id,
        actor: caller.user_email,
    };
    let done = setup.run(&request, Mode::Sync).await?;
    json(StatusCode::OK, &serde_json::json!({ "redirect": done.redirect }))
}
