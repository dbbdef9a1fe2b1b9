//! `GET /api/v1/campaigns/{id}`: one campaign, draft or published.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::http::{HandlerResult, named, path_id};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    named(StatusCode::OK, "campaign", &db.campaign(&caller.account_id, &path_id(&req, "id")?).await?)
}
