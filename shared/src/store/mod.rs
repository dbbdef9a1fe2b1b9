//! The DynamoDB table: its primitives, its key shapes, and each area's part of it. Every access is
//! a GetItem, a Query or a transaction: no Scan.

pub mod accounts;
pub mod idempotency;
pub(in crate::store) mod keys;
pub mod lists;
pub mod rate_limits;
#[cfg(feature = "events")]
pub mod stream;
pub(in crate::store) mod tx;

pub use tx::{BUSY_ATTEMPTS, backoff};

/// The table's attribute names that `template.yaml` declares too (tests check they agree).
pub mod schema {
    pub use super::keys::{GSI1, GSI1_PK, GSI1_SK, PENDING_LEADS, PENDING_LEADS_PK, PENDING_LEADS_SK, PK, SK, TTL};
}

// Each area's part of the table is a child of this module, so that the table's primitives and
// key shapes, visible only in `crate::store`, are the compiler's business: no service or handler
// can name an item. Their files sit in their areas' folders.
#[path = "../client_onboarding/store/mod.rs"]
pub mod client_onboarding;
#[path = "../leads/store/mod.rs"]
pub mod leads;
#[path = "../onboards/store/mod.rs"]
pub mod onboards;
#[path = "../partners/store/mod.rs"]
pub mod partners;
#[path = "../people/store/mod.rs"]
pub mod people;
#[path = "../provider_webhooks/store/mod.rs"]
pub mod provider_webhooks;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::platform::config::{ConfigError, Env, FromEnv};
use crate::platform::error::ApiError;
use crate::store::keys::{Item, Key};

#[derive(Clone, Debug)]
pub struct Db {
    /// Built at the first call (`client()`), not at cold start.
    sdk: crate::platform::config::LazyClient<Client>,
    pub table: String,
    /// Requests per API key (`crate::platform::ratelimit`).
    pub rate_limit: crate::platform::ratelimit::RateLimit,
    /// Seals list cursors, kept responses and delivery bodies.
    sealer: crate::platform::seal::Sealer,
}

/// The table named by `TABLE_NAME`, with the SDK configured from the environment
/// (`AWS_ENDPOINT_URL` points it at DynamoDB Local or LocalStack).
impl FromEnv for Db {
    fn from_env(env: &Env) -> Result<Db, ConfigError> {
        Ok(Db { sdk: env.dynamodb()?, table: env.required("TABLE_NAME")?, rate_limit: crate::platform::ratelimit::RateLimit::from_env(env), sealer: env.sealer() })
    }
}

impl Db {
    pub fn new(client: Client, table: impl Into<String>, sealer: crate::platform::seal::Sealer) -> Db {
        Db { sdk: crate::platform::config::LazyClient::ready(client), table: table.into(), rate_limit: crate::platform::ratelimit::RateLimit::default(), sealer }
    }

    pub(crate) fn sealer(&self) -> &crate::platform::seal::Sealer {
        &self.sealer
    }

    pub(in crate::store) fn client(&self) -> &Client {
        self.sdk.get()
    }


    /// One strongly consistent GetItem: reads right after a write see it.
    pub(in crate::store) async fn get(&self, key: &Key) -> Result<Option<Item>, ApiError> {
        let out = self
            .client()
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item)
    }

    /// Several items in as few BatchGetItem calls as DynamoDB allows (100 keys each), strongly
    /// consistent; unprocessed keys are asked again. Absent items are simply not returned; a key
    /// named twice is asked once (BatchGetItem refuses duplicates).
    pub(in crate::store) async fn get_many(&self, keys: &[Key]) -> Result<Vec<Item>, ApiError> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        let mut keys = keys.to_vec();
        keys.sort_by(|a, b| (&a.pk, &a.sk).cmp(&(&b.pk, &b.sk)));
        keys.dedup();
        let mut found = vec![];
        for chunk in keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.iter().map(Key::to_item).collect()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            );
            while let Some(request) = pending.take() {
                let out = self.client().batch_get_item().request_items(&self.table, request).send().await?;
                found.extend(out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
                pending = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys().is_empty());
            }
        }
        Ok(found)
    }

    /// The item whose GSI1 key is `entry` (each such entry names one item). GSI reads are
    /// eventually consistent.
    pub(in crate::store) async fn find_indexed(&self, entry: [(String, aws_sdk_dynamodb::types::AttributeValue); 2]) -> Result<Option<Item>, ApiError> {
        let [(_, pk), (_, sk)] = entry;
        Ok(self.query_gsi1(pk, "#sk = :sk", sk, true, 1).await?.into_iter().next())
    }

    /// The items whose GSI1 partition is `partition` and sort key starts with `prefix`, oldest
    /// first or newest first, at most `limit` (one Query: GSI reads are eventually consistent).
    pub(in crate::store) async fn indexed(&self, partition: String, prefix: &str, newest_first: bool, limit: i32) -> Result<Vec<Item>, ApiError> {
        let (pk, prefix) = (crate::store::keys::string(partition), crate::store::keys::string(prefix));
        self.query_gsi1(pk, "begins_with(#sk, :sk)", prefix, !newest_first, limit).await
    }

    async fn query_gsi1(&self, pk: AttributeValue, sk_condition: &str, sk: AttributeValue, forward: bool, limit: i32) -> Result<Vec<Item>, ApiError> {
        let out = self
            .client()
            .query()
            .table_name(&self.table)
            .index_name(crate::store::keys::GSI1)
            .key_condition_expression(format!("#pk = :pk AND {sk_condition}"))
            .expression_attribute_names("#pk", crate::store::keys::GSI1_PK)
            .expression_attribute_names("#sk", crate::store::keys::GSI1_SK)
            .expression_attribute_values(":pk", pk)
            .expression_attribute_values(":sk", sk)
            .scan_index_forward(forward)
            .limit(limit)
            .send()
            .await?;
        Ok(out.items.unwrap_or_default())
    }

    /// Every item whose key attributes `keys` (partition, sort) match `partition` and
    /// `sort_condition` (on `#sk`, with `values`), in the table or an index, in sort-key order,
    /// read page after page (DynamoDB returns 1 MB at a time).
    pub(in crate::store) async fn query_all(&self, index: Option<&str>, keys: (&str, &str), partition: String, sort_condition: &str, values: &[(&str, String)]) -> Result<Vec<Item>, ApiError> {
        let mut found = vec![];
        let mut start = None;
        loop {
            let mut query = self
                .client()
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_string))
                .key_condition_expression(format!("#pk = :pk AND {sort_condition}"))
                .expression_attribute_names("#pk", keys.0)
                .expression_attribute_names("#sk", keys.1)
                .expression_attribute_values(":pk", AttributeValue::S(partition.clone()))
                .set_exclusive_start_key(start);
            for (placeholder, value) in values {
                query = query.expression_attribute_values(*placeholder, AttributeValue::S(value.clone()));
            }
            let out = query.send().await?;
            found.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    pub(in crate::store) async fn get_as<T: serde::de::DeserializeOwned>(&self, key: &Key) -> Result<Option<T>, ApiError> {
        self.get(key).await?.map(crate::store::keys::parse).transpose()
    }
}
