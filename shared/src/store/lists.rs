//! Paginated lists: a Query on the account's partition (newest first, ids are time-ordered)
//! with an opaque cursor. A page may hold fewer than `limit` items when a filter applies; the
//! list ends when there is no next cursor.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;

use crate::store::Db;
use crate::platform::error::ApiError;
use crate::platform::id::Id;
use crate::store::keys::{self, Item, PK, SK};
use crate::platform::seal::Sealer;

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
        if cursor.is_some_and(|c| !crate::platform::seal::looks_sealed(c)) {
            return Err(ApiError::BadRequest("cursor is not valid for this list".into()));
        }
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

impl Filter {
    fn apply(&self, mut query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        for (placeholder, name) in crate::store::tx::placeholder_names(&self.expression) {
            query = query.expression_attribute_names(placeholder, name);
        }
        for (placeholder, value) in &self.values {
            query = query.expression_attribute_values(*placeholder, value.clone());
        }
        query.filter_expression(&self.expression)
    }
}

/// What a cursor is bound to: it opens only for the partition and list it was issued for.
fn cursor_context(partition: &str, prefix: &str) -> Vec<u8> {
    [partition.as_bytes(), b"\0", prefix.as_bytes()].concat()
}

/// The next page's start, sealed: opaque to clients, and any change to it fails.
fn encode_cursor(sealer: &Sealer, key: &HashMap<String, AttributeValue>, partition: &str, prefix: &str) -> Option<String> {
    sealer.seal(&cursor_context(partition, prefix), key.get(SK)?.as_s().ok()?.as_bytes())
}

/// A cursor is only honoured inside the partition and list it was issued for: a forged or
/// altered one cannot start a Query anywhere.
fn decode_cursor(sealer: &Sealer, cursor: &str, partition: &str, prefix: &str) -> Result<Item, ApiError> {
    let invalid = || ApiError::BadRequest("cursor is not valid for this list".into());
    let sk = sealer.open(&cursor_context(partition, prefix), cursor).ok_or_else(invalid)?;
    let sk = String::from_utf8(sk).map_err(|_| invalid())?;
    if !sk.starts_with(prefix) {
        return Err(invalid());
    }
    Ok(HashMap::from([(PK.to_string(), keys::string(partition)), (SK.to_string(), keys::string(sk))]))
}

impl Db {
    /// A cursor for a list merged from several partitions (`list` names it), at sort key `sk`.
    pub(in crate::store) fn seal_cursor(&self, sk: &str, list: &str) -> Option<String> {
        self.sealer().seal(&cursor_context(list, ""), sk.as_bytes())
    }

    /// The sort key a merged list's cursor holds (only for the list it was issued for).
    pub(in crate::store) fn open_cursor(&self, cursor: &str, list: &str) -> Result<String, ApiError> {
        let invalid = || ApiError::BadRequest("cursor is not valid for this list".into());
        String::from_utf8(self.sealer().open(&cursor_context(list, ""), cursor).ok_or_else(invalid)?).map_err(|_| invalid())
    }

    /// A partition's newest `limit` items whose sort key is below `before` (all, without it) and,
    /// with a filter, those of them that match it; and, when the partition has more, the sort key
    /// the read stopped at (everything above it was read).
    pub(in crate::store) async fn newest_before(&self, partition: String, before: Option<&str>, limit: i32, filter: Option<&Filter>) -> Result<(Vec<Item>, Option<String>), ApiError> {
        let condition = if before.is_some() { "#pk = :pk AND #sk < :before" } else { "#pk = :pk" };
        let mut query = self
            .client()
            .query()
            .table_name(&self.table)
            .key_condition_expression(condition)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", keys::string(partition))
            .scan_index_forward(false)
            .limit(limit);
        if let Some(before) = before {
            query = query.expression_attribute_names("#sk", SK).expression_attribute_values(":before", keys::string(before));
        }
        if let Some(filter) = filter {
            query = filter.apply(query);
        }
        let out = query.send().await?;
        let stopped_at = out.last_evaluated_key.as_ref().and_then(|key| key.get(SK)).and_then(|sk| sk.as_s().ok()).cloned();
        Ok((out.items.unwrap_or_default(), stopped_at))
    }

    /// Newest-first page of the items whose sort key starts with `prefix` in the account's partition.
    pub(in crate::store) async fn list<T: DeserializeOwned>(
        &self,
        account: &Id,
        prefix: &str,
        page: &PageRequest,
        filter: Option<Filter>,
    ) -> Result<Page<T>, ApiError> {
        self.list_in(keys::account_partition(account), prefix, page, filter).await
    }

    /// The same in any partition (an integration's events, say).
    pub(in crate::store) async fn list_in<T: DeserializeOwned>(
        &self,
        partition: String,
        prefix: &str,
        page: &PageRequest,
        filter: Option<Filter>,
    ) -> Result<Page<T>, ApiError> {
        let start = page.cursor.as_deref().map(|c| decode_cursor(self.sealer(), c, &partition, prefix)).transpose()?;
        let mut query = self
            .client()
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
            query = filter.apply(query);
        }
        let out = query.send().await?;
        let items = out.items.unwrap_or_default().into_iter().map(keys::parse).collect::<Result<Vec<T>, _>>()?;
        let next_cursor = out.last_evaluated_key.as_ref().and_then(|key| encode_cursor(self.sealer(), key, &partition, prefix));
        Ok(Page { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

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
        let sealer = Sealer::from_secret(Some("s"));
        let key = HashMap::from([(PK.to_string(), keys::string("ACCOUNT#a")), (SK.to_string(), keys::string("INVITATION#x"))]);
        let cursor = encode_cursor(&sealer, &key, "ACCOUNT#a", "INVITATION#").unwrap();
        assert_eq!(decode_cursor(&sealer, &cursor, "ACCOUNT#a", "INVITATION#").unwrap(), key);
        assert!(decode_cursor(&sealer, &cursor, "ACCOUNT#b", "INVITATION#").is_err(), "another account's partition");
        assert!(decode_cursor(&sealer, &cursor, "ACCOUNT#a", "AUDIT#").is_err(), "another list");
        assert!(decode_cursor(&sealer, "not base64!", "ACCOUNT#a", "INVITATION#").is_err());
        assert!(decode_cursor(&sealer, "", "ACCOUNT#a", "INVITATION#").is_err());
    }

    #[test]
    fn the_old_readable_cursors_are_refused() {
        let sealer = Sealer::from_secret(Some("s"));
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"pk":"ACCOUNT#a","sk":"INVITATION#x"}"#);
        assert!(decode_cursor(&sealer, &forged, "ACCOUNT#a", "INVITATION#").is_err());
    }
}
