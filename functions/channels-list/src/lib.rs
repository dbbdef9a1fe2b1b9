//! `GET /channels`: the account's 360dialog channels with status and claims.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::http::{HandlerResult, page, page_request};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    page(&req, &db.channels(&caller.account_id, &page_request(&req)?).await?)
}
