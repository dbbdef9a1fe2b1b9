//! `GET /onboards/{id}`: one of the caller's onboards, with its version as `ETag`.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::http::{HandlerResult, path_id, with_etag};
use shared::{ApiError, Db};

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let onboard = db.onboard(&caller.account_id, &path_id(&req, "id")?).await?.ok_or(ApiError::NotFound("onboard"))?;
    with_etag(StatusCode::OK, &onboard, onboard.version)
}
