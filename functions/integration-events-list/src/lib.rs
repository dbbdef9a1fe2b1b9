//! `GET /integrations/{id}/events`: every accepted delivery, newest first.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::http::{HandlerResult, page, page_request, path_id};
use shared::store::lists::Page;
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.integration_events(&caller.account_id, &path_id(&req, "id")?, &page_request(&req)?).await?;
    let items = listed.items.into_iter().map(|event| event.view()).collect();
    page(&req, &Page { items, next_cursor: listed.next_cursor })
}
