//! The account's audit trail of invitation and connection events.

use lambda_http::Request;
use shared::Db;
use shared::auth::authenticate;
use shared::domain::AuditEvent;
use shared::http::{HandlerResult, page, page_request};
use shared::keys::prefix;

/// `GET /audit`: the account's invitation and connection events, newest first.
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.list::<AuditEvent>(&caller.account_id, prefix::AUDIT, &page_request(&req)?, None).await?;
    page(&req, &listed)
}
