//! `GET /flows/{id}`: one flow, each source and step marked `active`.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::http::{HandlerResult, path_id, with_etag};
use shared::{ApiError, Db};

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let flow = db.flow(&caller.account_id, &path_id(&req, "id")?).await?.ok_or(ApiError::NotFound("flow"))?;
    let entities = db.entities(&caller.account_id, &flow.entity_ids()).await?;
    with_etag(StatusCode::OK, &flow.view(&entities), flow.version)
}
