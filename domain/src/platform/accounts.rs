//! Accounts (tenants), their users and API keys: who calls the API.

use serde::{Deserialize, Serialize};

use crate::platform::id::Id;
use crate::platform::time::Timestamp;

/// Who is calling (`auth` tells): the account the key belongs to and the user it was issued to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub account_id: Id,
    pub user_email: String,
    /// The API key's id, or the session's for a person signed in on the pages.
    pub key_id: Id,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Paid,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: Id,
    pub name: String,
    pub plan: Plan,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub email: String,
    pub name: String,
    pub account_id: Id,
    pub created_at: Timestamp,
    /// Whether the user is emailed the change notices of the account's relationships
    /// (`ChangeNotice`): on until they turn it off.
    #[serde(default = "on")]
    pub change_emails: bool,
}

fn on() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub key_id: Id,
    pub account_id: Id,
    pub user_email: String,
    /// The first characters of the key, so an operator can tell keys apart without the secret.
    pub key_prefix: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub revoked_at: Option<Timestamp>,
}
