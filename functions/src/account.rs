//! The calling account: who an API key belongs to, the account's API keys (Settings → APIs), and
//! the calling user's notification settings.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};
use shared::platform::accounts::ApiKeyRecord;
use shared::platform::auth::authenticate;
use shared::platform::http::{HandlerResult, json, json_body, no_content, optional_json_body, path_id};
use shared::platform::idempotency::once;
use shared::platform::time::Timestamp;
use shared::{ApiError, Db, Id};

/// `GET /account`: the account the API key belongs to, with its plan (which tells, for one, whether
/// it may choose the flow its leads arrive in).
pub async fn get(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let account = db.accounts().account(&caller.account_id).await?.ok_or(ApiError::Unauthenticated("account no longer exists"))?;
    json(StatusCode::OK, &account)
}

/// An API key as the account sees it: which one (its first characters), whose, since when,
/// revoked or not. Never the key.
#[derive(Serialize)]
struct ApiKey<'a> {
    id: &'a Id,
    prefix: &'a str,
    user_email: &'a str,
    created_at: &'a Timestamp,
    revoked_at: Option<&'a Timestamp>,
}

impl<'a> From<&'a ApiKeyRecord> for ApiKey<'a> {
    fn from(record: &'a ApiKeyRecord) -> ApiKey<'a> {
        ApiKey { id: &record.key_id, prefix: &record.key_prefix, user_email: &record.user_email, created_at: &record.created_at, revoked_at: record.revoked_at.as_ref() }
    }
}

/// `GET /api-keys`: the account's API keys, newest first.
pub async fn list_keys(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let keys = db.accounts().api_keys(&caller.account_id).await?;
    json(StatusCode::OK, &keys.iter().map(ApiKey::from).collect::<Vec<_>>())
}

/// `POST /api-keys` takes no fields (an empty body, or `{}`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewKey {}

/// `POST /api-keys`: a new API key for the calling user, shown this once (201). A retry with the
/// same Idempotency-Key gets the same key back (kept sealed for the replay), not a second one.
pub async fn create_key(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    once(db, &caller.account_id, &req, async {
        let NewKey {} = optional_json_body(&req)?;
        let (api_key, record) = db.accounts().issue_api_key(&caller.user_email).await?;
        json(StatusCode::CREATED, &serde_json::json!({ "api_key": api_key, "key": ApiKey::from(&record) }))
    })
    .await
}

/// `DELETE /api-keys/{id}`: revokes the key; it is refused from the next request on (sessions are
/// not keys: a person stays signed in).
pub async fn revoke_key(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    db.accounts().revoke_api_key(&caller.account_id, &path_id(&req, "id")?).await?;
    no_content()
}

/// A user's notification settings as the API shows and takes them.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotificationSettings {
    /// Emails when a partner revokes a connection, or accepts or declines an invitation.
    change_emails: bool,
}

/// `GET /notification-settings`: the calling user's (the key's user, or the signed-in person).
pub async fn notification_settings(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let user = db.accounts().user(&caller.user_email).await?.ok_or(ApiError::NotFound("user"))?;
    json(StatusCode::OK, &NotificationSettings { change_emails: user.change_emails })
}

/// `PUT /notification-settings`: turns the calling user's change emails on or off.
pub async fn update_notification_settings(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate(db, &req).await?;
    let NotificationSettings { change_emails } = json_body(&req)?;
    let user = db.accounts().set_change_emails(&caller.user_email, change_emails).await?;
    json(StatusCode::OK, &NotificationSettings { change_emails: user.change_emails })
}
