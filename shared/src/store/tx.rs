//! Conditional writes and transactions, with failures reported by the `Part` whose condition
//! failed (a type, not a string), so callers turn them into precise API errors.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use crate::store::Db;
use crate::platform::error::ApiError;
use crate::store::keys::{Item, Key};

/// Which write of a transaction a failed condition belongs to: named by the item it writes (and,
/// where one transaction writes two of a kind with different conditions, by its role).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Account,
    ApiKey,
    Audit,
    BuyerStep,
    Campaign,
    Channel,
    Client,
    Connection,
    Dedupe,
    Delivered,
    Delivery,
    Endpoint,
    Entity,
    Event,
    Flow,
    Guard,
    IdempotencyKey,
    Integration,
    IntegrationLookup,
    Invitation,
    InviteeInvitation,
    Lead,
    Link,
    MirrorEntity,
    OldToken,
    Onboard,
    Partner,
    PartnerAccount,
    PartnerAddress,
    PartnerMirror,
    RateLimit,
    SellerFlow,
    Session,
    Token,
    User,
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TxError {
    /// The condition of this write failed.
    Condition(Part),
    /// Another transaction touched the same items at the same time; nothing was written.
    Conflict,
    Other(ApiError),
}

impl From<ApiError> for TxError {
    fn from(err: ApiError) -> Self {
        TxError::Other(err)
    }
}

/// A write with an optional condition; `#name` placeholders in expressions are resolved to the
/// attribute of the same name, `:value` placeholders come from `values`.
pub struct Write {
    part: Part,
    key: Key,
    kind: WriteKind,
    condition: Option<String>,
    values: HashMap<String, AttributeValue>,
}

enum WriteKind {
    Put(Item),
    Update { set: Vec<(String, AttributeValue)>, remove: Vec<String>, add: Vec<(String, AttributeValue)> },
    Delete,
    Check,
}

impl Write {
    pub fn put(part: Part, key: Key, item: Item) -> Write {
        Write { part, key, kind: WriteKind::Put(item), condition: None, values: HashMap::new() }
    }

    pub fn update(part: Part, key: Key) -> Write {
        Write { part, key, kind: WriteKind::Update { set: vec![], remove: vec![], add: vec![] }, condition: None, values: HashMap::new() }
    }

    pub fn delete(part: Part, key: Key) -> Write {
        Write { part, key, kind: WriteKind::Delete, condition: None, values: HashMap::new() }
    }

    pub fn check(part: Part, key: Key) -> Write {
        Write { part, key, kind: WriteKind::Check, condition: None, values: HashMap::new() }
    }

    /// Only for `update`: set an attribute.
    pub fn set(mut self, attribute: &str, value: AttributeValue) -> Write {
        if let WriteKind::Update { set, .. } = &mut self.kind {
            set.push((attribute.to_string(), value));
        }
        self
    }

    /// Only for `update`: add to a number (a version counter, say).
    pub fn add(mut self, attribute: &str, value: AttributeValue) -> Write {
        if let WriteKind::Update { add, .. } = &mut self.kind {
            add.push((attribute.to_string(), value));
        }
        self
    }

    /// Only for `update`: remove an attribute.
    pub fn remove(mut self, attribute: &str) -> Write {
        if let WriteKind::Update { remove, .. } = &mut self.kind {
            remove.push(attribute.to_string());
        }
        self
    }

    pub fn only_if(mut self, condition: &str) -> Write {
        self.condition = Some(condition.to_string());
        self
    }

    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Write {
        self.values.insert(placeholder.to_string(), value);
        self
    }

    fn update_expression(set: &[(String, AttributeValue)], remove: &[String], add: &[(String, AttributeValue)]) -> String {
        let mut clauses = vec![];
        if !set.is_empty() {
            let parts: Vec<String> = set.iter().map(|(a, _)| format!("#{a} = :set_{a}")).collect();
            clauses.push(format!("SET {}", parts.join(", ")));
        }
        if !remove.is_empty() {
            let parts: Vec<String> = remove.iter().map(|a| format!("#{a}")).collect();
            clauses.push(format!("REMOVE {}", parts.join(", ")));
        }
        if !add.is_empty() {
            let parts: Vec<String> = add.iter().map(|(a, _)| format!("#{a} :add_{a}")).collect();
            clauses.push(format!("ADD {}", parts.join(", ")));
        }
        clauses.join(" ")
    }

    /// The update expression, with every value it uses added to `values`.
    fn update_parts(set: Vec<(String, AttributeValue)>, remove: Vec<String>, add: Vec<(String, AttributeValue)>, values: &mut HashMap<String, AttributeValue>) -> String {
        let expr = Write::update_expression(&set, &remove, &add);
        for (attribute, value) in set {
            values.insert(format!(":set_{attribute}"), value);
        }
        for (attribute, value) in add {
            values.insert(format!(":add_{attribute}"), value);
        }
        expr
    }

    fn into_transact_item(self, table: &str) -> Result<TransactWriteItem, ApiError> {
        let Write { key, kind, condition, mut values, .. } = self;
        let mut expressions = condition.clone().unwrap_or_default();
        let built = match kind {
            WriteKind::Put(item) => {
                let put = Put::builder().table_name(table).set_item(Some(item)).set_condition_expression(condition);
                let names = placeholder_names(&expressions);
                let put = put.set_expression_attribute_names(non_empty(names)).set_expression_attribute_values(non_empty(values));
                TransactWriteItem::builder().put(put.build().map_err(internal)?)
            }
            WriteKind::Update { set, remove, add } => {
                let update_expr = Write::update_parts(set, remove, add, &mut values);
                expressions.push(' ');
                expressions.push_str(&update_expr);
                let update = Update::builder()
                    .table_name(table)
                    .set_key(Some(key.to_item()))
                    .update_expression(update_expr)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(non_empty(placeholder_names(&expressions)))
                    .set_expression_attribute_values(non_empty(values));
                TransactWriteItem::builder().update(update.build().map_err(internal)?)
            }
            WriteKind::Delete => {
                let delete = Delete::builder()
                    .table_name(table)
                    .set_key(Some(key.to_item()))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(non_empty(placeholder_names(&expressions)))
                    .set_expression_attribute_values(non_empty(values));
                TransactWriteItem::builder().delete(delete.build().map_err(internal)?)
            }
            WriteKind::Check => {
                let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(key.to_item()))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(non_empty(placeholder_names(&expressions)))
                    .set_expression_attribute_values(non_empty(values));
                TransactWriteItem::builder().condition_check(check.build().map_err(internal)?)
            }
        };
        Ok(built.build())
    }
}

fn internal(err: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("building a write: {err}"))
}

fn non_empty<V>(map: HashMap<String, V>) -> Option<HashMap<String, V>> {
    (!map.is_empty()).then_some(map)
}

/// `#name` → `name` for every placeholder in the expressions (DynamoDB rejects unused ones).
pub(crate) fn placeholder_names(expressions: &str) -> HashMap<String, String> {
    let mut names = HashMap::new();
    let bytes = expressions.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'#' {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            let name = &expressions[start..end];
            names.insert(format!("#{name}"), name.to_string());
            i = end;
        } else {
            i += 1;
        }
    }
    names
}

/// Why a single conditional update did not apply.
#[derive(Debug)]
pub enum UpdateError {
    /// The condition failed; the item as it was (`None`: there is no such item).
    Condition(Option<Item>),
    Other(ApiError),
}

/// DynamoDB's limit on the writes of one transaction.
pub(in crate::store) const MAX_TRANSACTION_ITEMS: usize = 100;

impl Db {
    /// One conditional UpdateItem (one round trip) returning the item as written; on a failed
    /// condition, the item as it was, so the caller can say exactly why.
    pub(in crate::store) async fn update_returning(&self, write: Write) -> Result<Item, UpdateError> {
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
        let Write { key, kind: WriteKind::Update { set, remove, add }, condition, mut values, .. } = write else {
            return Err(UpdateError::Other(ApiError::Internal("update_returning takes an update".into())));
        };
        let update_expr = Write::update_parts(set, remove, add, &mut values);
        let names = placeholder_names(&format!("{} {update_expr}", condition.clone().unwrap_or_default()));
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .update_expression(update_expr)
            .set_condition_expression(condition)
            .set_expression_attribute_names(non_empty(names))
            .set_expression_attribute_values(non_empty(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.attributes.unwrap_or_default()),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => Err(UpdateError::Condition(failed.item.clone())),
                _ => Err(UpdateError::Other(err.into())),
            },
        }
    }

    /// All writes commit or none do (at most 100 per call, DynamoDB's limit).
    /// Under an Idempotency-Key's claim, the first transaction that commits also marks the key
    /// done (`crate::store::idempotency`): the effect and the key's record of it commit together.
    pub(in crate::store) async fn transact(&self, mut writes: Vec<Write>) -> Result<(), TxError> {
        let binds = writes.len() < MAX_TRANSACTION_ITEMS && crate::store::idempotency::binding_write().map(|w| writes.push(w)).is_some();
        let parts: Vec<Part> = writes.iter().map(|w| w.part).collect();
        let items = writes.into_iter().map(|w| w.into_transact_item(&self.table)).collect::<Result<Vec<_>, _>>()?;
        let token = binds.then(crate::store::idempotency::binding_token).flatten();
        match self.client().transact_write_items().set_transact_items(Some(items)).set_client_request_token(token).send().await {
            Ok(_) => {
                if binds {
                    crate::store::idempotency::bound();
                }
                Ok(())
            }
            Err(err) => match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
                    let reasons = cancel.cancellation_reasons();
                    let failed = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed"));
                    match failed.map(|index| parts[index]) {
                        // Only the claim's own write names this part: a retry took the key over.
                        Some(Part::IdempotencyKey) if binds => Err(TxError::Other(ApiError::Conflict("this request's Idempotency-Key was taken over by a retry".into()))),
                        Some(part) => Err(TxError::Condition(part)),
                        None => Err(TxError::Conflict),
                    }
                }
                Some(TransactWriteItemsError::TransactionInProgressException(_)) => Err(TxError::Conflict),
                _ => Err(TxError::Other(err.into())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_attribute_names() {
        let names = placeholder_names("#status = :pending AND #expires_at > :now SET #name = :set_name");
        assert_eq!(names.len(), 3);
        assert_eq!(names["#status"], "status");
        assert_eq!(names["#expires_at"], "expires_at");
        assert_eq!(names["#name"], "name");
    }

    #[test]
    fn update_expressions_set_and_remove() {
        let expr = Write::update_expression(&[("status".into(), AttributeValue::S("x".into()))], &["token".into()], &[("version".into(), AttributeValue::N("1".into()))]);
        assert_eq!(expr, "SET #status = :set_status REMOVE #token ADD #version :add_version");
    }
}
