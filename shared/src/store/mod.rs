//! The DynamoDB store. Every access is a GetItem, a Query or a transaction: no Scan.

pub mod accounts;
pub mod audit;
pub mod connections;
pub mod invitations;
pub mod lists;
pub mod tx;

use aws_sdk_dynamodb::Client;

use crate::error::ApiError;
use crate::keys::{Item, Key};

#[derive(Clone, Debug)]
pub struct Db {
    pub client: Client,
    pub table: String,
}

impl Db {
    pub fn new(client: Client, table: impl Into<String>) -> Db {
        Db { client, table: table.into() }
    }

    /// The table named by `TABLE_NAME`, with the SDK configured from the environment
    /// (`AWS_ENDPOINT_URL` points it at moto or LocalStack).
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Db, crate::config::ConfigError> {
        Ok(Db::new(Client::new(config), crate::config::required("TABLE_NAME")?))
    }

    /// One strongly consistent GetItem: reads right after a write see it.
    pub async fn get(&self, key: &Key) -> Result<Option<Item>, ApiError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item)
    }

    pub async fn get_as<T: serde::de::DeserializeOwned>(&self, key: &Key) -> Result<Option<T>, ApiError> {
        self.get(key).await?.map(crate::keys::parse).transpose()
    }
}
