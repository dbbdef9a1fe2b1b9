//! `POST /onboards`: an onboard for one of the caller's accepted invitations (seed 000).

use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::Deserialize;
use shared::auth::authenticate;
use shared::idempotency::once;
use shared::http::{HandlerResult, json_body, with_etag};
use shared::{Db, Id};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOnboard {
    invitation_id: Id,
    flow_id: Option<Id>,
}

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async {
        let body: CreateOnboard = json_body(&req)?;
        let onboard = db.create_onboard(&caller, &body.invitation_id, body.flow_id).await?;
        with_etag(StatusCode::CREATED, &onboard, onboard.version)
    })
    .await
}
