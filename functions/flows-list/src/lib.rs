//! `GET /flows`: the account's flows, newest first, each source and step marked `active`.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::domain::flow::Flow;
use shared::http::{HandlerResult, page, page_request};
use shared::keys::prefix;
use shared::store::lists::Page;
use shared::{Db, Id};

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.list::<Flow>(&caller.account_id, prefix::FLOW, &page_request(&req)?, None).await?;
    let ids: Vec<Id> = listed.items.iter().flat_map(Flow::entity_ids).collect();
    let entities = db.entities(&caller.account_id, &ids).await?;
    let items = listed.items.iter().map(|flow| flow.view(&entities)).collect();
    page(&req, &Page { items, next_cursor: listed.next_cursor })
}
