//! `GET /invitations/{id}`: one invitation, sent or received by the caller.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::http::{HandlerResult, json, path_id};
use shared::{ApiError, Db, time};

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let invitation = db.invitation(&caller.account_id, &path_id(&req, "id")?).await?.ok_or(ApiError::NotFound("invitation"))?;
    json(StatusCode::OK, &invitation.as_seen_at(&time::now()))
}
