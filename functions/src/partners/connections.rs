//! Connections: what an accepted invitation creates between two accounts.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::{ApiError, Db};
use shared::platform::auth::authenticate;
use shared::platform::http::{HandlerResult, json, page, page_request, path_id};

/// `GET /connections/{id}`: by connection id or by the invitation id that created it.
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let connection = db.partners().connection(&caller.account_id, &path_id(&req, "id")?).await?.ok_or(ApiError::NotFound("connection"))?;
    json(StatusCode::OK, &connection)
}

/// `GET /connections`: the caller's connections, each seen from its side, newest first.
pub async fn list(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let listed = db.partners().connections(&caller.account_id, &page_request(&req)?).await?;
    page(&req, &listed)
}

/// `DELETE /connections/{id}`: either party ends the connection, for both at once.
pub async fn revoke(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    json(StatusCode::OK, &db.partners().revoke_connection(&caller, &path_id(&req, "id")?).await?)
}
