//! The calling account: who an API key belongs to.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::{ApiError, Db};
use shared::platform::auth::authenticate;
use shared::platform::http::{HandlerResult, json};

/// `GET /account`: the account the API key belongs to, with its plan (which tells, for one, whether
/// it may choose the flow its leads arrive in).
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let account = db.accounts().account(&caller.account_id).await?.ok_or(ApiError::Unauthenticated("account no longer exists"))?;
    json(StatusCode::OK, &account)
}
