//! `POST /invitations/{id}/accept`: the invited account accepts; the connection is created.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::auth::authenticate;
use shared::http::{HandlerResult, json, path_id};
use shared::Db;

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let accepted = db.accept_invitation(&caller, &path_id(&req, "id")?).await?;
    json(StatusCode::OK, &serde_json::json!({
        "message": "Invitation was accepted",
        "connection": accepted.connection,
        "invitation": accepted.invitation,
    }))
}
