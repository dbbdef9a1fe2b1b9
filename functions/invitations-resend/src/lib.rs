//! `PUT /invitations/{id}/resend`: renew an open invitation (new expiry, new link, new email).

use lambda_http::Request;
use shared::auth::authenticate;
use shared::http::{HandlerResult, path_id};
use shared::invite::Inviter;

pub async fn handle(inviter: &Inviter, req: Request) -> HandlerResult {
    let caller = authenticate(&inviter.db, &req).await?;
    inviter.resend(&caller, &path_id(&req, "id")?).await
}
