//! Connections: what an accepted invitation creates between two accounts.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::{ApiError, Db};
use shared::platform::auth::authenticate;
use shared::partners::domain::documentation::RelationshipDocsBody;
use shared::partners::notices::PartnerChanges;
use shared::platform::http::{HandlerResult, api_origin, json, json_body, page, page_request, path_id};

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

/// `DELETE /connections/{id}`: either party ends the connection, for both at once; the
/// partner's people are emailed what stops.
pub async fn revoke(changes: &PartnerChanges, req: Request) -> HandlerResult {
    let caller = authenticate(&changes.db, &req).await?;
    let revoked = changes.db.partners().revoke_connection(&caller, &path_id(&req, "id")?).await?;
    changes.notices().connection_revoked(&revoked, &api_origin(&req)).await;
    json(StatusCode::OK, &revoked)
}

/// `PUT /connections/{id}/documentation`: what the account records about the relationship
/// (purpose, expected volume, contacts), replacing what it recorded before; on its own copy
/// only, never shown to the partner.
pub async fn document(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let body: RelationshipDocsBody = json_body(&req)?;
    let documentation = body.validate()?;
    json(StatusCode::OK, &db.partners().document_connection(&caller.account_id, &path_id(&req, "id")?, &documentation).await?)
}
