//! `PUT /flows/{id}`: replace a flow (optionally `If-Match` its version).

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::http::{HandlerResult, if_match, json_body, path_id, with_etag};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let id = path_id(&req, "id")?;
    let (flow, entities) = db.update_flow(&caller.account_id, &id, json_body(&req)?, if_match(&req)?).await?;
    with_etag(StatusCode::OK, &flow.view(&entities), flow.version)
}
