//! `GET /api/v1/webhooks`: the account's webhook endpoints (never their secrets).

use lambda_http::Request;
use shared::auth::authenticate;
use shared::http::{HandlerResult, named_page, page_request};
use shared::store::lists::Page;
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.endpoints(&caller.account_id, &page_request(&req)?).await?;
    let now = shared::time::now();
    let items = listed.items.iter().map(|e| e.view(&now, None)).collect();
    named_page(&req, "webhooks", &Page { items, next_cursor: listed.next_cursor })
}
