//! `GET /entities/{id}`: one of the caller's entities.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::domain::Entity;
use shared::http::{HandlerResult, json, path_id};
use shared::{ApiError, Db, keys, time};

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let key = keys::entity(&caller.account_id, &path_id(&req, "id")?);
    let entity: Entity = db.get_as(&key).await?.ok_or(ApiError::NotFound("entity"))?;
    json(StatusCode::OK, &entity.view(&time::now()))
}
