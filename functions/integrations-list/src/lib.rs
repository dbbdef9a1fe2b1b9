//! `GET /integrations`: the account's integrations, newest first.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::http::{HandlerResult, page, page_request, api_origin};
use shared::store::lists::Page;
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.integrations(&caller.account_id, &page_request(&req)?).await?;
    let origin = api_origin(&req);
    let items = listed.items.into_iter().map(|i| i.view(&origin, None)).collect();
    page(&req, &Page { items, next_cursor: listed.next_cursor })
}
