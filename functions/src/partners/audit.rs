//! The account's audit trail of invitation and connection events.

use lambda_http::Request;
use shared::Db;
use shared::platform::auth::authenticate;
use shared::platform::http::{HandlerResult, page, page_request};

/// `GET /audit`: the account's invitation and connection events, newest first.
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.partners().audit_events(&caller.account_id, &page_request(&req)?).await?;
    page(&req, &listed)
}
