//! `POST /invitations/claim`: accept through the emailed link's token, with an API key or by creating a free account.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::Deserialize;
use shared::auth::authenticate_if_present;
use shared::domain::validate;
use shared::http::{HandlerResult, json, json_body};
use shared::store::invitations::Claimant;
use shared::{ApiError, Db};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimBody {
    token: String,
    /// For a new account: its name, and the first user's name.
    account_name: Option<String>,
    name: Option<String>,
}

pub async fn handle(db: &Db, req: Request) -> HandlerResult {
    let caller = authenticate_if_present(db, &req).await?;
    let body: ClaimBody = json_body(&req)?;
    let claimant = match caller {
        Some(caller) => Claimant::Account(caller),
        None => Claimant::NewAccount {
            account_name: validate::name("account_name", body.account_name.as_deref().ok_or_else(|| missing("account_name"))?)?,
            user_name: validate::name("name", body.name.as_deref().ok_or_else(|| missing("name"))?)?,
        },
    };
    let accepted = db.claim_invitation(&body.token, claimant).await?;
    let Some(new) = accepted.new_account else {
        return json(StatusCode::OK, &serde_json::json!({
            "message": "Invitation was accepted",
            "connection": accepted.connection,
            "invitation": accepted.invitation,
        }));
    };
    // The only time the new account's API key is shown.
    json(StatusCode::CREATED, &serde_json::json!({
        "message": "Invitation was accepted and your account was created",
        "connection": accepted.connection,
        "invitation": accepted.invitation,
        "account": new.account,
        "user": new.user,
        "api_key": new.api_key,
    }))
}

fn missing(field: &str) -> ApiError {
    ApiError::validation(field, format!("missing field `{field}` (required to create an account; or authenticate to accept as an existing one)"))
}
