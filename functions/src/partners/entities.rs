//! Entities: the partners an account sees, pending, connected or former.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::{ApiError, Db};
use shared::platform::time;
use shared::platform::auth::authenticate;
use shared::platform::http::{HandlerResult, json, page, page_request, path_id};
use shared::store::lists::Page;

/// `GET /entities/{id}`: one of the caller's entities.
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let entity = db.partners().entity(&caller.account_id, &path_id(&req, "id")?).await?.ok_or(ApiError::NotFound("entity"))?;
    json(StatusCode::OK, &entity.view(&time::now()))
}

/// `GET /entities`: the partners this account sees (pending, connected or former), newest first.
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.partners().entities(&caller.account_id, &page_request(&req)?).await?;
    let now = time::now();
    let items = listed.items.iter().map(|e| e.view(&now)).collect();
    page(&req, &Page { items, next_cursor: listed.next_cursor.clone() })
}
