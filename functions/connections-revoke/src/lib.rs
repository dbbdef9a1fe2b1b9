//! `DELETE /connections/{id}`: either party ends the connection, for both at once.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::http::{HandlerResult, json, path_id};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    json(StatusCode::OK, &db.revoke_connection(&caller, &path_id(&req, "id")?).await?)
}
