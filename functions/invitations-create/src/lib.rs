//! `POST /invitations`: invite a partner as `buyer`, `seller` or `both` (`relationship_type`).

use lambda_http::Request;
use shared::auth::authenticate;
use shared::http::{HandlerResult, json_body};
use shared::invite::Inviter;

pub async fn handle(inviter: &Inviter, req: Request) -> HandlerResult {
    let caller = authenticate(&inviter.db, &req).await?;
    inviter.send(&caller, json_body(&req)?, None).await
}
