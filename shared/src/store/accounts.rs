//! Accounts, users and API keys.


use aws_sdk_dynamodb::types::AttributeValue;

use crate::store::tx::{Part, TxError, UpdateError, Write, busy};
use crate::platform::accounts::{Account, ApiKeyRecord, Plan, User};
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, ItemType, prefix};
use crate::platform::{secret, time};

/// A new account with its first user and API key; the key is returned once and stored hashed.
#[derive(Debug)]
pub struct NewAccount {
    pub account: Account,
    pub user: User,
    pub api_key: String,
    pub key: ApiKeyRecord,
}

impl NewAccount {
    pub fn new(name: String, plan: Plan, email: String, user_name: String) -> NewAccount {
        let now = time::now();
        let account = Account { id: Id::generate(), name, plan, created_at: now.clone(), updated_at: now.clone() };
        let user = User { email, name: user_name, account_id: account.id.clone(), created_at: now, change_emails: true };
        let (api_key, key) = new_key(&user);
        NewAccount { account, user, api_key, key }
    }

    /// The writes that create it; the user's condition fails (label `user`) if the email is taken.
    pub(in crate::store) fn writes(&self) -> Result<Vec<Write>, ApiError> {
        let account_key = keys::account(&self.account.id);
        Ok(vec![
            Write::put(Part::Account, account_key.clone(), keys::item(&account_key, ItemType::Account, &self.account)?)
                .only_if("attribute_not_exists(#pk)"),
            user_write(&self.user)?,
            key_write(&self.api_key, &self.key)?,
        ])
    }
}

fn new_key(user: &User) -> (String, ApiKeyRecord) {
    let api_key = secret::new_api_key();
    let record = ApiKeyRecord {
        key_id: Id::generate(),
        account_id: user.account_id.clone(),
        user_email: user.email.clone(),
        key_prefix: api_key[..secret::API_KEY_PREFIX.len() + 4].to_string(),
        created_at: time::now(),
        revoked_at: None,
    };
    (api_key, record)
}

fn user_write(user: &User) -> Result<Write, ApiError> {
    let key = keys::user(&user.email);
    let mut item = keys::item(&key, ItemType::User, user)?;
    item.extend(keys::account_index(&user.account_id, format!("{}{}", prefix::USER, user.email)));
    Ok(Write::put(Part::User, key, item).only_if("attribute_not_exists(#pk)"))
}

fn key_write(api_key: &str, record: &ApiKeyRecord) -> Result<Write, ApiError> {
    let key = keys::api_key(&secret::hash(api_key));
    let mut item = keys::item(&key, ItemType::ApiKey, record)?;
    item.extend(keys::account_index(&record.account_id, format!("{}{}", prefix::API_KEY, record.key_id)));
    Ok(Write::put(Part::ApiKey, key, item).only_if("attribute_not_exists(#pk)"))
}

fn email_taken(email: &str) -> ApiError {
    ApiError::Conflict(format!("a user with email {email} already exists"))
}

/// Accounts, their users and their API keys.
#[derive(Clone, Copy, Debug)]
pub struct AccountsTable<'a> {
    db: &'a crate::store::Db,
}

impl crate::store::Db {
    /// Accounts, their users and their API keys.
    pub fn accounts(&self) -> AccountsTable<'_> {
        AccountsTable { db: self }
    }
}

impl AccountsTable<'_> {
    pub async fn create_account(&self, new: &NewAccount) -> Result<(), ApiError> {
        self.db.transact(new.writes()?).await.map_err(|err| match err {
            TxError::Condition(Part::User) => email_taken(&new.user.email),
            TxError::Condition(_) => ApiError::Conflict("account could not be created; retry".into()),
            TxError::Busy => busy(),
            TxError::Other(e) => e,
        })
    }

    pub async fn account(&self, id: &Id) -> Result<Option<Account>, ApiError> {
        self.db.get_as(&keys::account(id)).await
    }

    pub async fn user(&self, email: &str) -> Result<Option<User>, ApiError> {
        self.db.get_as(&keys::user(email)).await
    }

    /// Adds a user to an existing account (the account's existence is part of the condition).
    pub async fn add_user(&self, account_id: &Id, email: String, name: String) -> Result<User, ApiError> {
        let user = User { email, name, account_id: account_id.clone(), created_at: time::now(), change_emails: true };
        let writes = vec![Write::check(Part::Account, keys::account(account_id)).only_if("attribute_exists(#pk)"), user_write(&user)?];
        self.db.transact(writes).await.map_err(|err| match err {
            TxError::Condition(Part::Account) => ApiError::NotFound("account"),
            TxError::Condition(_) => email_taken(&user.email),
            TxError::Busy => busy(),
            TxError::Other(e) => e,
        })?;
        Ok(user)
    }

    /// A new API key for an existing user, shown once.
    pub async fn issue_api_key(&self, email: &str) -> Result<(String, ApiKeyRecord), ApiError> {
        let user = self.user(email).await?.ok_or(ApiError::NotFound("user"))?;
        let (api_key, record) = new_key(&user);
        self.db.transact(vec![key_write(&api_key, &record)?]).await.map_err(|err| match err {
            TxError::Other(e) => e,
            TxError::Busy => busy(),
            _ => ApiError::Conflict("key could not be issued; retry".into()),
        })?;
        Ok((api_key, record))
    }

    /// The API key stored under `hash`, the hash of a presented key. The lookup is by hash
    /// already; the stored hash is compared in constant time as well, which keeps the check
    /// independent of how the table matched it.
    pub async fn api_key(&self, hash: &str) -> Result<Option<ApiKeyRecord>, ApiError> {
        let Some(item) = self.db.get(&keys::api_key(hash)).await? else { return Ok(None) };
        let stored_hash = item.get(keys::PK).and_then(|v| v.as_s().ok()).and_then(|pk| keys::api_key_hash(pk));
        if !stored_hash.is_some_and(|stored| secret::hashes_match(stored, hash)) {
            return Ok(None);
        }
        keys::parse(item).map(Some)
    }

    /// Revokes by key id (the secret itself is never stored): found through the account's index.
    pub async fn revoke_api_key(&self, account_id: &Id, key_id: &Id) -> Result<(), ApiError> {
        let entry = keys::account_index(account_id, format!("{}{key_id}", prefix::API_KEY));
        let item = self.db.find_indexed(entry).await?.ok_or(ApiError::NotFound("API key"))?;
        let hash = item.get(keys::PK).and_then(|v| v.as_s().ok()).and_then(|pk| keys::api_key_hash(pk));
        let key = keys::api_key(hash.ok_or(ApiError::NotFound("API key"))?);
        let revoke = Write::update(Part::ApiKey, key).set("revoked_at", keys::string(time::now())).only_if("attribute_exists(#pk)");
        self.db.transact(vec![revoke]).await.map_err(|err| match err {
            TxError::Other(e) => e,
            TxError::Busy => busy(),
            _ => ApiError::NotFound("API key"),
        })
    }

    /// The account's API keys, newest first (the 100 newest: keys are made by hand), revoked ones
    /// included; never the key itself.
    pub async fn api_keys(&self, account_id: &Id) -> Result<Vec<ApiKeyRecord>, ApiError> {
        let items = self.db.indexed(keys::account_partition(account_id), prefix::API_KEY, true, 100).await?;
        items.into_iter().map(keys::parse).collect()
    }

    /// Every user's email, for notifications (GSI1 on the account; users per account are few).
    pub async fn account_user_emails(&self, account_id: &Id) -> Result<Vec<String>, ApiError> {
        Ok(self.account_users(account_id).await?.into_iter().map(|u| u.email).collect())
    }

    /// The account's users (one Query of the account's GSI1 list).
    pub async fn account_users(&self, account_id: &Id) -> Result<Vec<User>, ApiError> {
        let items = self.db.indexed(keys::account_partition(account_id), prefix::USER, false, 1000).await?;
        items.into_iter().map(keys::parse::<User>).collect()
    }

    /// Turns a user's change-notice emails on or off; the user as it now is.
    pub async fn set_change_emails(&self, email: &str, on: bool) -> Result<User, ApiError> {
        let write = Write::update(Part::User, keys::user(email)).set("change_emails", AttributeValue::Bool(on)).only_if("attribute_exists(#pk)");
        match self.db.update_returning(write).await {
            Ok(item) => keys::parse(item),
            Err(UpdateError::Condition(_)) => Err(ApiError::NotFound("user")),
            Err(UpdateError::Other(e)) => Err(e),
        }
    }
}
