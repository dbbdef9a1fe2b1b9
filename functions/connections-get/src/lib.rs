//! `GET /connections/{id}`: by connection id or by the invitation id that created it.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::http::{HandlerResult, json, path_id};
use shared::{ApiError, Db};

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let connection = db.connection(&caller.account_id, &path_id(&req, "id")?).await?.ok_or(ApiError::NotFound("connection"))?;
    json(StatusCode::OK, &connection)
}
