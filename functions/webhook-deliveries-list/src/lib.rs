//! `GET /api/v1/webhooks/{id}/deliveries`: every delivery to an endpoint with each attempt, newest first.

use lambda_http::Request;
use shared::auth::authenticate;
use shared::http::{HandlerResult, named_page, page_request, path_id};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    named_page(&req, "deliveries", &db.deliveries(&caller.account_id, &path_id(&req, "id")?, &page_request(&req)?).await?)
}
