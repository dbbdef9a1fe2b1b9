//! `GET /connections`: the caller's connections, each seen from its side, newest first.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::domain::Connection;
use shared::http::{HandlerResult, page, page_request};
use shared::keys::prefix;
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.list::<Connection>(&caller.account_id, prefix::CONNECTION, &page_request(&req)?, None).await?;
    page(&req, &listed)
}
