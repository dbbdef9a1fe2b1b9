//! `GET /integrations/{id}`: one integration, without its secret.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::http::{HandlerResult, json, path_id, api_origin};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let integration = db.integration(&caller.account_id, &path_id(&req, "id")?).await?;
    json(StatusCode::OK, &integration.view(&api_origin(&req), None))
}
