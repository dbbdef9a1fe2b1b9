//! `GET /onboards`: the account's onboards, newest first (seed 000), paged with `?limit=` and `?cursor=`.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::domain::onboard::Onboard;
use shared::http::{HandlerResult, page, page_request};
use shared::keys::prefix;
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.list::<Onboard>(&caller.account_id, prefix::ONBOARD, &page_request(&req)?, None).await?;
    page(&req, &listed)
}
