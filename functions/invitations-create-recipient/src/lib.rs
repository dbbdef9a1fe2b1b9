//! `POST /invitations/recipient`: invite a buyer (LeadConduit's route).

use lambda_http::Request;
use shared::auth::authenticate;
use shared::idempotency::once;
use shared::domain::Relationship;
use shared::http::{HandlerResult, json_body};
use shared::invite::Inviter;

pub async fn handle(inviter: &Inviter, req: Request) -> HandlerResult {
    let caller = authenticate(&inviter.db, &req).await?;
    once(&inviter.db, &caller.account_id, &req, async { inviter.send(&caller, json_body(&req)?, Some(Relationship::Buyer)).await }).await
}
