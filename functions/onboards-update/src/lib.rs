//! `PUT /onboards/{id}`: status and flow changes (seed 000); `completed` hands the onboard to the buyer setup.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::Deserialize;
use shared::auth::authenticate;
use shared::domain::onboard::{OnboardStatus, OnboardUpdate};
use shared::http::{HandlerResult, if_match, json_body, path_id, with_etag};
use shared::{Db, Id};

/// The seed's PUT body. It lists no 422, so every body problem here is a 400.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateOnboard {
    account_id: Option<Id>,
    invitation_id: Id,
    connection_id: Option<Id>,
    flow_id: Option<Id>,
    status: Option<String>,
}

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let id = path_id(&req, "id")?;
    let body: UpdateOnboard = json_body(&req).map_err(|e| e.as_bad_request())?;
    let update = OnboardUpdate {
        account_id: body.account_id,
        invitation_id: body.invitation_id,
        connection_id: body.connection_id,
        flow_id: body.flow_id,
        status: body.status.as_deref().map(OnboardStatus::parse).transpose()?,
        expected_version: if_match(&req)?,
    };
    let onboard = db.update_onboard(&caller, &id, &update).await?;
    with_etag(StatusCode::OK, &onboard, onboard.version)
}
