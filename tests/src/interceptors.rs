//! SDK interceptors on the tests' DynamoDB client: round trips counted by operation, capacity
//! consumed, and transactions held at a gate (to stage races).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;


/// Counts DynamoDB round trips (every request the SDK transmits, retries included), by operation.
#[derive(Debug, Default, Clone)]
pub struct CallCounter {
    total: Arc<AtomicUsize>,
    names: Arc<Mutex<Vec<String>>>,
}

impl CallCounter {
    pub fn total(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    /// The operations since the last call, in order.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.names.lock().expect("counter lock"))
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(&self, context: &BeforeTransmitInterceptorContextRef<'_>, _: &RuntimeComponents, _: &mut ConfigBag) -> Result<(), BoxError> {
        self.total.fetch_add(1, Ordering::SeqCst);
        self.names.lock().expect("counter lock").push(operation(context));
        Ok(())
    }
}

/// Forces one interleaving of a race, for the few tests that need that exact one (most race
/// tests send truly concurrent requests with `concurrently`, against DynamoDB Local): the next
/// write of the armed kind is held, after its reads, until another of that kind has completed.
/// The held request then acts on state read before the other committed, and its conditions must
/// catch it — an interleaving real concurrency produces only sometimes.
#[derive(Clone, Debug, Default)]
pub struct TransactionGate {
    state: Arc<(Mutex<GateState>, std::sync::Condvar)>,
}

#[derive(Debug, Default)]
struct GateState {
    /// The operation to hold (`TransactWriteItems`, `UpdateItem`), while armed.
    armed: Option<&'static str>,
    holding: bool,
    released: bool,
}

/// Marks, in one request's config bag, the transaction that will release the held one.
#[derive(Debug, Clone)]
struct Releaser;
impl aws_smithy_types::config_bag::Storable for Releaser {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// Asks DynamoDB for the capacity every request consumes (`ReturnConsumedCapacity: TOTAL`, set on
/// the operation's input before it is serialized) and adds up what the responses report: the
/// read and write request units a deployment would be billed (the cost model, docs/cost.md).
#[derive(Debug, Default, Clone)]
pub struct CapacityMeter {
    units: Arc<Mutex<Capacity>>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Capacity {
    pub read: f64,
    pub write: f64,
}

impl CapacityMeter {
    /// The units consumed since the last call.
    pub fn take(&self) -> Capacity {
        std::mem::take(&mut self.units.lock().expect("meter lock"))
    }
}

impl Intercept for CapacityMeter {
    fn name(&self) -> &'static str {
        "CapacityMeter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::*;
        let total = Some(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total);
        let input = context.input_mut();
        if let Some(i) = input.downcast_mut::<get_item::GetItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<batch_get_item::BatchGetItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<query::QueryInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<update_item::UpdateItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<put_item::PutItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<delete_item::DeleteItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<transact_write_items::TransactWriteItemsInput>() {
            // DynamoDB Local reports 2 units per transaction whatever it holds; DynamoDB bills 2
            // per KB of each item it writes or checks. Counted here: a Put by its item's size, any
            // other action as one KB (the items updated, deleted and checked here are smaller).
            let units: f64 = i.transact_items().iter().map(|action| 2.0 * action.put().map_or(1.0, |put| (item_size(put.item()) as f64 / 1024.0).ceil().max(1.0))).sum();
            self.units.lock().expect("meter lock").write += units;
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::*;
        use aws_sdk_dynamodb::types::ConsumedCapacity;
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        let sum = |c: &[ConsumedCapacity]| c.iter().filter_map(|c| c.capacity_units).sum::<f64>();
        let (read, write) = if let Some(o) = output.downcast_ref::<get_item::GetItemOutput>() {
            (sum(o.consumed_capacity.as_slice()), 0.0)
        } else if let Some(o) = output.downcast_ref::<batch_get_item::BatchGetItemOutput>() {
            (sum(o.consumed_capacity()), 0.0)
        } else if let Some(o) = output.downcast_ref::<query::QueryOutput>() {
            (sum(o.consumed_capacity.as_slice()), 0.0)
        } else if let Some(o) = output.downcast_ref::<update_item::UpdateItemOutput>() {
            (0.0, sum(o.consumed_capacity.as_slice()))
        } else if let Some(o) = output.downcast_ref::<put_item::PutItemOutput>() {
            (0.0, sum(o.consumed_capacity.as_slice()))
        } else if let Some(o) = output.downcast_ref::<delete_item::DeleteItemOutput>() {
            (0.0, sum(o.consumed_capacity.as_slice()))
        } else {
            (0.0, 0.0)
        };
        let mut units = self.units.lock().expect("meter lock");
        units.read += read;
        units.write += write;
        Ok(())
    }
}

/// An item's size as DynamoDB counts it: attribute names and values in bytes (numbers about
/// half their digits, plus a byte; containers 3 bytes plus their elements).
fn item_size(item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue as V;
    fn value(v: &V) -> usize {
        match v {
            V::S(s) => s.len(),
            V::N(n) => n.len().div_ceil(2) + 1,
            V::B(b) => b.as_ref().len(),
            V::Bool(_) | V::Null(_) => 1,
            V::L(list) => 3 + list.iter().map(|v| 1 + value(v)).sum::<usize>(),
            V::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value(v)).sum::<usize>(),
            V::Ss(set) => set.iter().map(String::len).sum(),
            V::Ns(set) => set.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
            _ => 0,
        }
    }
    item.iter().map(|(name, v)| name.len() + value(v)).sum()
}

fn operation(context: &BeforeTransmitInterceptorContextRef<'_>) -> String {
    // `X-Amz-Target: DynamoDB_20120810.GetItem` names the operation on the wire.
    let target = context.request().headers().get("x-amz-target").unwrap_or_default();
    target.rsplit('.').next().unwrap_or_default().to_string()
}

impl TransactionGate {
    /// Hold the next `operation` (`TransactWriteItems`, `UpdateItem`) until another completes.
    pub fn arm(&self, operation: &'static str) {
        *self.state.0.lock().expect("gate lock") = GateState { armed: Some(operation), ..GateState::default() };
    }
}

impl Intercept for TransactionGate {
    fn name(&self) -> &'static str {
        "TransactionGate"
    }

    fn read_before_transmit(&self, context: &BeforeTransmitInterceptorContextRef<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        let (lock, released) = &*self.state;
        let mut state = lock.lock().expect("gate lock");
        if state.armed.is_none_or(|armed| armed != operation(context)) {
            return Ok(());
        }
        // Every authenticated request counts itself with an UpdateItem; that is not the write
        // a race test means to hold.
        let body = context.request().body().bytes().unwrap_or_default();
        if body.windows(b"RATELIMIT#".len()).any(|w| w == b"RATELIMIT#") {
            return Ok(());
        }
        if !state.holding {
            state.holding = true;
            // Bounded, so a test that never sends a second transaction fails instead of hanging.
            // block_in_place hands this worker's queued tasks (the other request among them) to
            // another thread while this one waits; needs a multi-thread test runtime.
            tokio::task::block_in_place(|| {
                let (state, _) = released.wait_timeout_while(state, std::time::Duration::from_secs(10), |s| !s.released).expect("gate lock");
                drop(state);
            });
        } else if state.holding && !state.released {
            cfg.interceptor_state().store_put(Releaser);
        }
        Ok(())
    }

    fn read_after_transmit(&self, _: &aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        if cfg.load::<Releaser>().is_some() {
            let (lock, released) = &*self.state;
            let mut state = lock.lock().expect("gate lock");
            state.released = true;
            state.armed = None;
            released.notify_all();
        }
        Ok(())
    }
}

/// Failures DynamoDB Local never produces, injected at the SDK (a real server cannot be made to
/// produce them): the next request of an operation whose body holds a marker meets the fault.
#[derive(Clone, Debug, Default)]
pub struct FaultInjector {
    planned: Arc<Mutex<Vec<(Fault, &'static str, String)>>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The request reaches DynamoDB and commits; its response is lost (the caller sees an error,
    /// as after a timeout).
    ResponseLost,
    /// The request never reaches DynamoDB (the network failed, the function died first).
    NotSent,
    /// A transaction cancelled because another touched its first item at the same time
    /// (DynamoDB's `TransactionConflict`): nothing commits.
    TransactionConflict,
    /// A transaction cancelled by throttling (`ThrottlingError`): nothing commits.
    Throttled,
}

impl Fault {
    /// The cancellation reason DynamoDB gives for the fault, if it is a cancellation.
    fn cancellation(self) -> Option<&'static str> {
        match self {
            Fault::TransactionConflict => Some("TransactionConflict"),
            Fault::Throttled => Some("ThrottlingError"),
            Fault::ResponseLost | Fault::NotSent => None,
        }
    }
}

/// Marks, in one request's config bag, the fault it meets.
#[derive(Debug, Clone)]
struct Meets(Fault);
impl aws_smithy_types::config_bag::Storable for Meets {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

impl FaultInjector {
    /// The next `operation` (`*`: any) whose request body contains `marker` meets `fault` (once).
    pub fn plan(&self, fault: Fault, operation: &'static str, marker: &str) {
        self.planned.lock().expect("faults lock").push((fault, operation, marker.to_string()));
    }

    /// Drops what was planned and not met; how many that was.
    pub fn clear(&self) -> usize {
        std::mem::take(&mut *self.planned.lock().expect("faults lock")).len()
    }
}

impl FaultInjector {
    /// The planned fault `request` meets, of the cancellations or of the others, taken off the
    /// plan.
    fn take(&self, request: &aws_smithy_runtime_api::http::Request, cancellations: bool) -> Option<Fault> {
        let body = request.body().bytes().unwrap_or_default();
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or_default();
        let mut planned = self.planned.lock().expect("faults lock");
        let meets = |op: &str, marker: &str| (op == "*" || op == operation) && (marker.is_empty() || body.windows(marker.len()).any(|w| w == marker.as_bytes()));
        let index = planned.iter().position(|(fault, op, marker)| fault.cancellation().is_some() == cancellations && meets(op, marker))?;
        Some(planned.remove(index).0)
    }
}

impl Intercept for FaultInjector {
    fn name(&self) -> &'static str {
        "FaultInjector"
    }

    /// A cancellation must commit nothing: the request is pointed at a table that does not
    /// exist (before signing, so it is signed as sent), and its answer replaced afterwards.
    fn modify_before_signing(&self, context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        let request = context.request_mut();
        let Some(fault) = self.take(request, true) else { return Ok(()) };
        let harmless = harmless(request.body().bytes().unwrap_or_default());
        request.headers_mut().insert("content-length", harmless.len().to_string());
        *request.body_mut() = aws_smithy_types::body::SdkBody::from(harmless);
        cfg.interceptor_state().store_put(Meets(fault));
        Ok(())
    }

    fn modify_before_deserialization(&self, context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        let Some(reason) = cfg.load::<Meets>().and_then(|Meets(fault)| fault.cancellation()) else { return Ok(()) };
        let body = format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [{reason}]","CancellationReasons":[{{"Code":"{reason}","Message":"injected"}}]}}"#
        );
        let response = context.response_mut();
        *response.status_mut() = aws_smithy_runtime_api::http::StatusCode::try_from(400).expect("400");
        // The error's name in the header wins over the body's (LocalStack sends one); the
        // checksum was the real answer's.
        response.headers_mut().insert("x-amzn-errortype", "TransactionCanceledException");
        response.headers_mut().remove("x-amz-crc32");
        response.headers_mut().insert("content-length", body.len().to_string());
        *response.body_mut() = aws_smithy_types::body::SdkBody::from(body);
        Ok(())
    }

    fn read_before_transmit(&self, context: &BeforeTransmitInterceptorContextRef<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        if cfg.load::<Meets>().is_some() {
            return Ok(());
        }
        match self.take(context.request(), false) {
            Some(Fault::NotSent) => Err("injected: the request never reached DynamoDB".into()),
            Some(fault) => {
                cfg.interceptor_state().store_put(Meets(fault));
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn read_after_transmit(&self, _: &aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        match cfg.load::<Meets>() {
            Some(Meets(Fault::ResponseLost)) => Err("injected: the response was lost after DynamoDB committed".into()),
            _ => Ok(()),
        }
    }
}

/// The request body made harmless: its `TableName`s point at a table that does not exist, and
/// its `ClientRequestToken` is dropped, so that DynamoDB (LocalStack checks tokens) does not take
/// the real retry, with the same token and the real table, for a changed request.
fn harmless(body: &[u8]) -> String {
    let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(body) else { return String::from_utf8_lossy(body).into_owned() };
    fn retarget(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.remove("ClientRequestToken");
                for (key, inner) in map.iter_mut() {
                    if key == "TableName" {
                        *inner = serde_json::Value::String("injected-fault-no-such-table".into());
                    } else {
                        retarget(inner);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(retarget),
            _ => {}
        }
    }
    retarget(&mut json);
    json.to_string()
}

/// Every write DynamoDB is sent, by the item it writes and the partition it falls in, with the
/// write units it costs (a KB or part of one per item, twice in a transaction): where the hot
/// items are (`infra/bench`'s hot-item report).
#[derive(Clone, Debug, Default)]
pub struct WriteLedger {
    entries: Arc<Mutex<Vec<ItemWrite>>>,
}

/// One item written.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemWrite {
    pub pk: String,
    pub sk: String,
    pub units: f64,
}

impl WriteLedger {
    /// The writes since the last call.
    pub fn take(&self) -> Vec<ItemWrite> {
        std::mem::take(&mut *self.entries.lock().expect("ledger lock"))
    }
}

impl Intercept for WriteLedger {
    fn name(&self) -> &'static str {
        "WriteLedger"
    }

    fn read_before_transmit(&self, context: &BeforeTransmitInterceptorContextRef<'_>, _: &RuntimeComponents, _: &mut ConfigBag) -> Result<(), BoxError> {
        let operation = operation(context);
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(context.request().body().bytes().unwrap_or_default()) else { return Ok(()) };
        let key_of = |v: &serde_json::Value| Some((v["pk"]["S"].as_str()?.to_string(), v["sk"]["S"].as_str()?.to_string()));
        let units = |item: &serde_json::Value, factor: f64| factor * (item.to_string().len() as f64 / 1024.0).ceil().max(1.0);
        let mut writes = vec![];
        match operation.as_str() {
            "PutItem" => writes.extend(key_of(&body["Item"]).map(|(pk, sk)| ItemWrite { pk, sk, units: units(&body["Item"], 1.0) })),
            "UpdateItem" | "DeleteItem" => writes.extend(key_of(&body["Key"]).map(|(pk, sk)| ItemWrite { pk, sk, units: 1.0 })),
            "TransactWriteItems" => {
                for action in body["TransactItems"].as_array().into_iter().flatten() {
                    let (target, item) = match (action.get("Put"), action.get("Update"), action.get("Delete"), action.get("ConditionCheck")) {
                        (Some(put), ..) => (&put["Item"], Some(&put["Item"])),
                        (_, Some(update), ..) => (&update["Key"], None),
                        (_, _, Some(delete), _) => (&delete["Key"], None),
                        (_, _, _, Some(check)) => (&check["Key"], None),
                        _ => continue,
                    };
                    writes.extend(key_of(target).map(|(pk, sk)| ItemWrite { pk, sk, units: item.map_or(2.0, |i| units(i, 2.0)) }));
                }
            }
            _ => {}
        }
        self.entries.lock().expect("ledger lock").extend(writes);
        Ok(())
    }
}
