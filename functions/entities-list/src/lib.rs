//! `GET /entities`: the partners this account sees (pending, connected or former), newest first.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::domain::Entity;
use shared::http::{HandlerResult, page, page_request};
use shared::keys::prefix;
use shared::store::lists::Page;
use shared::{Db, time};

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.list::<Entity>(&caller.account_id, prefix::ENTITY, &page_request(&req)?, None).await?;
    let now = time::now();
    let items = listed.items.iter().map(|e| e.view(&now)).collect();
    page(&req, &Page { items, next_cursor: listed.next_cursor.clone() })
}
