//! `GET /audit`: the account's invitation and connection events, newest first.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::domain::AuditEvent;
use shared::http::{HandlerResult, page, page_request};
use shared::keys::prefix;
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.list::<AuditEvent>(&caller.account_id, prefix::AUDIT, &page_request(&req)?, None).await?;
    page(&req, &listed)
}
