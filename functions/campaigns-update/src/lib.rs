//! `PUT /api/v1/campaigns/{id}`: rename a campaign.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::http::{HandlerResult, json_body, named, path_id};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    named(StatusCode::OK, "campaign", &db.rename_campaign(&caller.account_id, &path_id(&req, "id")?, json_body(&req)?).await?)
}
