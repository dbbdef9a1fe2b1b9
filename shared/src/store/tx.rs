//! Conditional writes and transactions, with failures reported by the `Part` whose condition
//! failed (a type, not a string), so callers turn them into precise API errors.

use std::cell::RefCell;
use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use crate::platform::error::ApiError;
use crate::platform::metrics::{self, Contention, Metric};
use crate::store::Db;
use crate::store::keys::{self, Item, Key};

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
    /// A settled step's marker: counted once.
    Counted,
    /// A report's bucket (partner reporting).
    Report,
    /// A chunk of stream records counted in reports.
    Reported,
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
    Session,
    /// When an email was last sent (a sign-in link, submission documents).
    Throttle,
    Token,
    User,
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TxError {
    /// The condition of this write failed.
    Condition(Part),
    /// The table kept cancelling it for contention (conflicting transactions, throttling) after
    /// `BUSY_ATTEMPTS`; nothing was written. Worth retrying later (a 503, a queue redelivery).
    Busy,
    Other(ApiError),
}

impl From<ApiError> for TxError {
    fn from(err: ApiError) -> Self {
        TxError::Other(err)
    }
}

/// A write with an optional condition; `#name` placeholders in expressions are resolved to the
/// attribute of the same name, `:value` placeholders come from `values`.
#[derive(Clone)]
pub struct Write {
    part: Part,
    key: Key,
    kind: WriteKind,
    condition: Option<String>,
    values: HashMap<String, AttributeValue>,
}

#[derive(Clone)]
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

    /// Only for `update`: set element `index` of list `attribute` (the rest of the list is not
    /// sent again).
    pub fn set_element(self, attribute: &str, index: usize, value: AttributeValue) -> Write {
        self.set(&format!("{attribute}[{index}]"), value)
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

    /// What this update makes of an item that does not exist yet (unit tests of what a write
    /// stores, without a table).
    #[cfg(test)]
    pub fn applied_to_empty_item(&self) -> Item {
        let mut item = self.key.to_item();
        if let WriteKind::Update { set, add, .. } = &self.kind {
            item.extend(set.iter().cloned());
            item.extend(add.iter().cloned());
        }
        item
    }

    fn update_expression(set: &[(String, AttributeValue)], remove: &[String], add: &[(String, AttributeValue)]) -> String {
        let mut clauses = vec![];
        if !set.is_empty() {
            let parts: Vec<String> = set.iter().map(|(a, _)| format!("#{a} = :set_{}", value_name(a))).collect();
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
            values.insert(format!(":set_{}", value_name(&attribute)), value);
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

/// A write that the first transaction to commit within a scope carries along (an
/// Idempotency-Key's record of the request's effect, `crate::store::idempotency`), and the token
/// that makes that transaction idempotent for DynamoDB (an SDK retry of a commit whose response
/// was lost succeeds instead of failing its own conditions).
struct FirstCommit {
    write: Write,
    token: String,
    /// Amendments made to `write` before it committed.
    amended: bool,
    /// Which of them the committed write carried; `None` until a transaction carried it.
    committed: Option<bool>,
}

tokio::task_local! {
    static FIRST_COMMIT: RefCell<FirstCommit>;
}

/// What the first commit in a scope carried: whether any transaction committed, and whether
/// the write it carried had been amended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Carried {
    pub committed: bool,
    pub amended: bool,
}

/// Runs `work`; the first of its transactions to commit carries `write` (conditioned as the
/// caller built it), atomically with its own writes.
pub(in crate::store) async fn with_first_commit<T>(write: Write, token: String, work: impl Future<Output = T>) -> (T, Carried) {
    let scope = RefCell::new(FirstCommit { write, token, amended: false, committed: None });
    FIRST_COMMIT
        .scope(scope, async {
            let result = work.await;
            let committed = FIRST_COMMIT.with(|c| c.borrow().committed);
            (result, Carried { committed: committed.is_some(), amended: committed.unwrap_or(false) })
        })
        .await
}

/// Changes the write the first commit will carry, if none has committed yet (`false` outside a
/// scope or after the commit).
pub(in crate::store) fn amend_first_commit(amend: impl FnOnce(Write) -> Write) -> bool {
    FIRST_COMMIT
        .try_with(|c| {
            let mut c = c.borrow_mut();
            if c.committed.is_some() {
                return false;
            }
            c.write = amend(c.write.clone());
            c.amended = true;
            true
        })
        .unwrap_or(false)
}

/// The write to carry and the token, if this is the first commit of a scope.
fn first_commit() -> Option<(Write, String)> {
    FIRST_COMMIT.try_with(|c| {
        let c = c.borrow();
        c.committed.is_none().then(|| (c.write.clone(), c.token.clone()))
    })
    .ok()
    .flatten()
}

fn first_committed() {
    let _ = FIRST_COMMIT.try_with(|c| {
        let mut c = c.borrow_mut();
        c.committed = Some(c.amended);
    });
}

/// The value placeholder's name for an attribute or list element (`steps[3]` → `steps_3`).
fn value_name(attribute: &str) -> String {
    attribute.replace('[', "_").replace(']', "")
}

/// DynamoDB's limit on the writes of one transaction.
pub(in crate::store) const MAX_TRANSACTION_ITEMS: usize = 100;

impl Db {
    /// One conditional UpdateItem (one round trip) returning the item as written; on a failed
    /// condition, the item as it was, so the caller can say exactly why.
    /// Whether this is the first time in `period` that `key`'s event happens (an email sent, say),
    /// recording it if so: one conditional write, so two requests at once count once.
    pub(in crate::store) async fn first_within(&self, key: Key, kind: keys::ItemType, period: std::time::Duration) -> Result<bool, ApiError> {
        #[derive(serde::Serialize)]
        struct Happened {
            at: crate::platform::time::Timestamp,
        }
        let mut item = keys::item(&key, kind, &Happened { at: crate::platform::time::now() })?;
        item.insert(keys::TTL.into(), keys::expires_after(period));
        let now = crate::platform::time::epoch_seconds(std::time::SystemTime::now());
        let write = Write::put(Part::Throttle, key, item).only_if("attribute_not_exists(#pk) OR #ttl < :now").value(":now", aws_sdk_dynamodb::types::AttributeValue::N(now.to_string()));
        match self.transact(vec![write]).await {
            Ok(()) => Ok(true),
            Err(TxError::Condition(_)) => Ok(false),
            Err(TxError::Busy) => Err(busy()),
            Err(TxError::Other(e)) => Err(e),
        }
    }

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
    /// All writes commit or none do (at most 100 per call, DynamoDB's limit). A transaction the
    /// table cancels for contention — another transaction on the same item, throttling — is
    /// retried here with exponential backoff and full jitter, each time logged with the item it
    /// hit and counted (`platform::metrics`); after `BUSY_ATTEMPTS` it is `TxError::Busy`.
    ///
    /// Within `with_first_commit`, the first transaction that commits also carries that write: under
    /// an Idempotency-Key's claim, the effect and the key's record of it commit together.
    pub(in crate::store) async fn transact(&self, mut writes: Vec<Write>) -> Result<(), TxError> {
        let carried = (writes.len() < MAX_TRANSACTION_ITEMS).then(first_commit).flatten();
        let binds = carried.is_some();
        let token = carried.map(|(write, token)| {
            writes.push(write);
            token
        });
        let parts: Vec<Part> = writes.iter().map(|w| w.part).collect();
        let keys: Vec<Key> = writes.iter().map(|w| w.key.clone()).collect();
        let items = writes.into_iter().map(|w| w.into_transact_item(&self.table)).collect::<Result<Vec<_>, _>>()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.client().transact_write_items().set_transact_items(Some(items.clone())).set_client_request_token(token.clone()).send().await;
            let contention = match result {
                Ok(_) => {
                    if binds {
                        first_committed();
                    }
                    return Ok(());
                }
                Err(err) => match cancellation(&err) {
                    Cancelled::Condition(index) => {
                        return match parts[index] {
                            // Only the carried write names this part: a retry took the key over.
                            Part::IdempotencyKey if binds => Err(TxError::Other(ApiError::Conflict("this request's Idempotency-Key was taken over by a retry".into()))),
                            part => Err(TxError::Condition(part)),
                        };
                    }
                    Cancelled::Contention(kind, index) => (kind, index),
                    Cancelled::Not => return Err(TxError::Other(err.into())),
                },
            };
            let (kind, index) = contention;
            let item = index.map(|i| &keys[i]);
            if attempt >= BUSY_ATTEMPTS {
                tracing::error!(?kind, pk = item.map(|k| k.pk.as_str()), sk = item.map(|k| k.sk.as_str()), attempt, "transaction gave up: the table stayed busy");
                metrics::count(Metric::TableBusyFailures, kind);
                return Err(TxError::Busy);
            }
            tracing::warn!(?kind, pk = item.map(|k| k.pk.as_str()), sk = item.map(|k| k.sk.as_str()), attempt, "transaction cancelled by contention; retrying");
            metrics::count(Metric::TableContention, kind);
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
}

/// What a transaction that stayed `Busy` answers: retry later (503).
pub(in crate::store) fn busy() -> ApiError {
    ApiError::Unavailable(format!("the table stayed busy (conflicting transactions or throttling) through {BUSY_ATTEMPTS} attempts"))
}

/// How many times a transaction is sent while the table cancels it for contention.
pub const BUSY_ATTEMPTS: u32 = 6;

/// Full jitter over an exponential ceiling (25 ms doubling, at most 800 ms): retries of
/// transactions that collided spread out instead of colliding again.
pub fn backoff(attempt: u32) -> std::time::Duration {
    let ceiling = 25u64.saturating_mul(1 << attempt.min(5)).min(800);
    let jitter = u64::from(u32::from_be_bytes(crate::platform::secret::random_bytes::<4>()));
    std::time::Duration::from_millis(jitter * ceiling / u64::from(u32::MAX))
}

/// What a failed TransactWriteItems says.
enum Cancelled {
    /// The condition of this write failed.
    Condition(usize),
    /// Contention, at this write where DynamoDB says which.
    Contention(Contention, Option<usize>),
    /// Not a cancellation DynamoDB will take back (validation, an outage the SDK already
    /// retried): the caller's error.
    Not,
}

fn cancellation<R>(err: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, R>) -> Cancelled {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
            let reasons = cancel.cancellation_reasons();
            let code = |wanted: &[&str]| reasons.iter().position(|r| r.code().is_some_and(|c| wanted.contains(&c)));
            if let Some(index) = code(&["ConditionalCheckFailed"]) {
                return Cancelled::Condition(index);
            }
            if let Some(index) = code(&["TransactionConflict"]) {
                return Cancelled::Contention(Contention::Conflict, Some(index));
            }
            if let Some(index) = code(&["ThrottlingError", "ProvisionedThroughputExceeded"]) {
                return Cancelled::Contention(Contention::Throttle, Some(index));
            }
            Cancelled::Not
        }
        Some(TransactWriteItemsError::TransactionInProgressException(_)) => Cancelled::Contention(Contention::Conflict, None),
        _ => Cancelled::Not,
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
        let element = Write::update_expression(&[("steps[3]".into(), AttributeValue::S("x".into()))], &[], &[]);
        assert_eq!(element, "SET #steps[3] = :set_steps_3", "one list element, not the list");
        assert_eq!(placeholder_names(&element)["#steps"], "steps");
    }
}
