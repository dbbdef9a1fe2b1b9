//! Paginated lists: a Query on the account's partition (newest first, ids are time-ordered)
//! with an opaque cursor. A page may hold fewer than `limit` items when a filter applies; the
//! list ends when there is no next cursor.

use std::collections::HashMap;
use std::sync::OnceLock;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::{Digest, Sha256};
use serde::de::DeserializeOwned;

use super::Db;
use crate::error::ApiError;
use crate::id::Id;
use crate::keys::{self, Item, PK, SK};

pub const DEFAULT_LIMIT: i32 = 25;
pub const MAX_LIMIT: i32 = 100;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageRequest {
    pub limit: i32,
    pub cursor: Option<String>,
}

impl PageRequest {
    /// From the `limit` and `cursor` query parameters.
    pub fn from_query(limit: Option<&str>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<i32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(ApiError::BadRequest(format!("limit must be an integer from 1 to {MAX_LIMIT}"))),
            },
        };
        Ok(PageRequest { limit, cursor: cursor.map(str::to_string) })
    }
}

#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A filter on the listed items: an expression with `#name` / `:value` placeholders.
pub struct Filter {
    pub expression: String,
    pub values: Vec<(&'static str, AttributeValue)>,
}

/// The key cursors are sealed with: from the stack's `CURSOR_SECRET`, or (unset) one made for
/// this process, whose cursors then work only within it.
fn cursor_key() -> &'static LessSafeKey {
    static KEY: OnceLock<LessSafeKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let material: [u8; 32] = match std::env::var("CURSOR_SECRET").ok().filter(|s| !s.is_empty()) {
            Some(secret) => Sha256::digest(secret.as_bytes()).into(),
            None => {
                tracing::warn!("CURSOR_SECRET is not set: list cursors are valid in this process only");
                let mut random = [0; 32];
                let _ = getrandom::fill(&mut random);
                random
            }
        };
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &material).unwrap_or_else(|_| unreachable!("AES-256 takes 32 bytes")))
    })
}

/// What a cursor is bound to: it opens only for the partition and list it was issued for.
fn cursor_aad(partition: &str, prefix: &str) -> Vec<u8> {
    [partition.as_bytes(), b"\0", prefix.as_bytes()].concat()
}

/// The next page's start, sealed (AES-256-GCM): opaque to clients, and any change to it fails.
fn encode_cursor(key: &HashMap<String, AttributeValue>, partition: &str, prefix: &str) -> Option<String> {
    let mut sealed = key.get(SK)?.as_s().ok()?.as_bytes().to_vec();
    let mut nonce = [0; NONCE_LEN];
    getrandom::fill(&mut nonce).ok()?;
    cursor_key().seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(cursor_aad(partition, prefix)), &mut sealed).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([&nonce[..], &sealed].concat()))
}

/// A cursor is only honoured inside the partition and list it was issued for: a forged or
/// altered one cannot start a Query anywhere.
fn decode_cursor(cursor: &str, partition: &str, prefix: &str) -> Result<Item, ApiError> {
    let invalid = || ApiError::BadRequest("cursor is not valid for this list".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    if bytes.len() < NONCE_LEN {
        return Err(invalid());
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| invalid())?;
    let mut sealed = sealed.to_vec();
    let sk = cursor_key().open_in_place(nonce, Aad::from(cursor_aad(partition, prefix)), &mut sealed).map_err(|_| invalid())?;
    let sk = std::str::from_utf8(sk).map_err(|_| invalid())?;
    if !sk.starts_with(prefix) {
        return Err(invalid());
    }
    Ok(HashMap::from([(PK.to_string(), keys::string(partition)), (SK.to_string(), keys::string(sk))]))
}

impl Db {
    /// Newest-first page of the items whose sort key starts with `prefix` in the account's partition.
    pub async fn list<T: DeserializeOwned>(
        &self,
        account: &Id,
        prefix: &str,
        page: &PageRequest,
        filter: Option<Filter>,
    ) -> Result<Page<T>, ApiError> {
        self.list_in(keys::account_partition(account), prefix, page, filter).await
    }

    /// The same in any partition (an integration's events, say).
    pub async fn list_in<T: DeserializeOwned>(
        &self,
        partition: String,
        prefix: &str,
        page: &PageRequest,
        filter: Option<Filter>,
    ) -> Result<Page<T>, ApiError> {
        let start = page.cursor.as_deref().map(|c| decode_cursor(c, &partition, prefix)).transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", keys::string(&partition))
            .expression_attribute_values(":prefix", keys::string(prefix))
            .scan_index_forward(false)
            .limit(page.limit)
            .set_exclusive_start_key(start);
        if let Some(filter) = filter {
            for (placeholder, name) in super::tx::placeholder_names(&filter.expression) {
                query = query.expression_attribute_names(placeholder, name);
            }
            for (placeholder, value) in filter.values {
                query = query.expression_attribute_values(placeholder, value);
            }
            query = query.filter_expression(filter.expression);
        }
        let out = query.send().await?;
        let items = out.items.unwrap_or_default().into_iter().map(keys::parse).collect::<Result<Vec<T>, _>>()?;
        let next_cursor = out.last_evaluated_key.as_ref().and_then(|key| encode_cursor(key, &partition, prefix));
        Ok(Page { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageRequest::from_query(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(PageRequest::from_query(Some("100"), None).unwrap().limit, 100);
        for bad in ["0", "101", "-1", "ten", ""] {
            assert_eq!(PageRequest::from_query(Some(bad), None).unwrap_err().status().as_u16(), 400, "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_only_within_their_list() {
        let key = HashMap::from([(PK.to_string(), keys::string("ACCOUNT#a")), (SK.to_string(), keys::string("INVITATION#x"))]);
        let cursor = encode_cursor(&key, "ACCOUNT#a", "INVITATION#").unwrap();
        assert_eq!(decode_cursor(&cursor, "ACCOUNT#a", "INVITATION#").unwrap(), key);
        assert!(decode_cursor(&cursor, "ACCOUNT#b", "INVITATION#").is_err(), "another account's partition");
        assert!(decode_cursor(&cursor, "ACCOUNT#a", "AUDIT#").is_err(), "another list");
        assert!(decode_cursor("not base64!", "ACCOUNT#a", "INVITATION#").is_err());
        assert!(decode_cursor("", "ACCOUNT#a", "INVITATION#").is_err());
    }

    #[test]
    fn cursors_are_opaque_and_tamper_evident() {
        let key = HashMap::from([(PK.to_string(), keys::string("ACCOUNT#a")), (SK.to_string(), keys::string("INVITATION#x"))]);
        let cursor = encode_cursor(&key, "ACCOUNT#a", "INVITATION#").unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("INVITATION"), "no internal key in the clear");
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 1;
            let altered = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(altered);
            assert!(decode_cursor(&altered, "ACCOUNT#a", "INVITATION#").is_err(), "byte {i} altered");
        }
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"pk":"ACCOUNT#a","sk":"INVITATION#x"}"#);
        assert!(decode_cursor(&forged, "ACCOUNT#a", "INVITATION#").is_err(), "the old readable form is refused");
    }
}
