//! `GET /api/v1/campaigns`: published campaigns (seed 001); `?status=draft|all` shows drafts too.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::http::{HandlerResult, named_page, page_request, query_param};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let status = query_param(&req, "status");
    named_page(&req, "campaigns", &db.campaigns(&caller.account_id, status.as_deref(), &page_request(&req)?).await?)
}
