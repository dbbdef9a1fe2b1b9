//! The table stream → `table-stream` → queues → `buyer-setup` / `webhook-deliver` pipelines (and
//! the stream → `lead-figures`), run
//! locally the way Lambda's event source mappings run them in AWS: the stream is read shard by
//! shard from a checkpoint, records a function did not process are read again, and queue messages
//! are deleted only once the function reports them done. Nothing here stops on an error: it is
//! logged with its cause and polling resumes with backoff.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_dynamodbstreams::error::DisplayErrorContext;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use serde::{Deserialize, Serialize};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An SDK error with its whole chain of causes (its `Display` alone says only "service error").
fn cause(err: impl std::error::Error) -> BoxError {
    DisplayErrorContext(err).to_string().into()
}

/// Where reading starts on the shards that have no checkpoint when the reader opens. Shards found
/// later (a shard split) are always read from their start, as Lambda does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Only what is written from now on (the template's `StartingPosition: LATEST`).
    Latest,
    /// Everything the stream still holds (24 h): nothing written before the poller started is
    /// missed, which the local stack wants because its API may answer before the poller runs.
    TrimHorizon,
}

/// The last processed sequence number of each shard of one stream: what an event source mapping
/// keeps so that it resumes where it stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub stream_arn: String,
    pub shards: BTreeMap<String, String>,
}

impl Checkpoint {
    /// The checkpoint stored at `path` if it belongs to `stream_arn` (a recreated table has a new
    /// stream, and an old position means nothing on it).
    fn load(path: &PathBuf, stream_arn: &str) -> Option<Checkpoint> {
        let text = std::fs::read_to_string(path).ok()?;
        match serde_json::from_str::<Checkpoint>(&text) {
            Ok(checkpoint) if checkpoint.stream_arn == stream_arn => Some(checkpoint),
            Ok(_) => {
                tracing::warn!(path = %path.display(), "stream checkpoint is for another stream; starting afresh");
                None
            }
            Err(err) => {
                tracing::warn!(path = %path.display(), error = %err, "stream checkpoint unreadable; starting afresh");
                None
            }
        }
    }

    /// Written whole then renamed, so a kill never leaves half a file.
    fn save(&self, path: &PathBuf) -> std::io::Result<()> {
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&temporary, path)
    }
}

/// Reads a table's stream the way an event source mapping does.
pub struct StreamReader {
    client: aws_sdk_dynamodbstreams::Client,
    checkpoint: Checkpoint,
    /// Where the checkpoint is kept across restarts (`None`: in memory only).
    store: Option<PathBuf>,
    /// Start position of the shards that were there, without a checkpoint, when opened.
    initial: BTreeMap<String, Start>,
    /// Open shards and their current iterator (`None`: to be acquired from the checkpoint).
    iterators: BTreeMap<String, Option<String>>,
    /// Shards read to their end.
    finished: HashSet<String>,
    listed_at: Option<Instant>,
    /// (shard, sequence number) of each record the last poll returned, in the event's order.
    read: Vec<(String, String)>,
    /// The shard the last event came from: the next poll starts after it, so no shard waits.
    last_shard: Option<String>,
}

/// How often the shard list is read again (shards split; AWS rolls them over about every 4 h).
const LIST_SHARDS_EVERY: Duration = Duration::from_secs(10);

/// The ARN of `table`'s stream once it is enabled. A new table's stream comes up after the table
/// (LocalStack's, like AWS's, takes a moment and drops what is written before): AWS clients wait
/// for `ENABLED`, and so does everything here that writes or reads right after creating a table.
pub async fn stream_enabled(config: &aws_config::SdkConfig, table: &str) -> Result<String, BoxError> {
    let (ddb, streams) = (aws_sdk_dynamodb::Client::new(config), aws_sdk_dynamodbstreams::Client::new(config));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let description = ddb.describe_table().table_name(table).send().await.map_err(cause)?;
        let arn = description.table.and_then(|t| t.latest_stream_arn).ok_or("the table has no stream")?;
        let status = match streams.describe_stream().stream_arn(&arn).send().await {
            Ok(out) => out.stream_description.and_then(|d| d.stream_status),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => None,
            Err(err) => return Err(DisplayErrorContext(err).to_string().into()),
        };
        if status == Some(aws_sdk_dynamodbstreams::types::StreamStatus::Enabled) {
            return Ok(arn);
        }
        if Instant::now() > deadline {
            return Err(format!("the stream of {table} was not enabled within 60 s ({status:?})").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

impl StreamReader {
    /// The stream of `table`, from the checkpoint at `store` where there is one, else from `start`.
    pub async fn open(config: &aws_config::SdkConfig, table: &str, start: Start, store: Option<PathBuf>) -> Result<StreamReader, BoxError> {
        let stream_arn = stream_enabled(config, table).await?;
        let checkpoint = store.as_ref().and_then(|path| Checkpoint::load(path, &stream_arn));
        let resumed = checkpoint.is_some();
        let mut reader = StreamReader {
            client: aws_sdk_dynamodbstreams::Client::new(config),
            checkpoint: checkpoint.unwrap_or(Checkpoint { stream_arn, shards: BTreeMap::new() }),
            store,
            initial: BTreeMap::new(),
            iterators: BTreeMap::new(),
            finished: HashSet::new(),
            listed_at: None,
            read: vec![],
            last_shard: None,
        };
        // With a checkpoint, shards it does not name appeared while nobody read: from their start.
        let start = if resumed { Start::TrimHorizon } else { start };
        for shard in reader.shard_ids().await? {
            if !reader.checkpoint.shards.contains_key(&shard) {
                reader.initial.insert(shard.clone(), start);
            }
            reader.iterators.insert(shard, None);
        }
        // LATEST means "from now", not "from the first poll": take those iterators at once.
        for (shard, start) in reader.initial.clone() {
            if start == Start::Latest {
                let iterator = reader.iterator(&shard).await?;
                reader.iterators.insert(shard, iterator);
            }
        }
        reader.listed_at = Some(Instant::now());
        tracing::info!(stream = %reader.checkpoint.stream_arn, resumed, shards = reader.iterators.len(), "reading the table stream");
        Ok(reader)
    }

    async fn shard_ids(&self) -> Result<Vec<String>, BoxError> {
        let mut shards = vec![];
        let mut after: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_stream()
                .stream_arn(&self.checkpoint.stream_arn)
                .set_exclusive_start_shard_id(after.clone())
                .send()
                .await
                .map_err(cause)?;
            let description = out.stream_description.ok_or("DescribeStream returned no description")?;
            shards.extend(description.shards.unwrap_or_default().into_iter().filter_map(|s| s.shard_id));
            after = description.last_evaluated_shard_id;
            if after.is_none() {
                return Ok(shards);
            }
        }
    }

    /// An iterator just after the shard's checkpoint, or at its start position.
    async fn iterator(&self, shard: &str) -> Result<Option<String>, BoxError> {
        let request = self.client.get_shard_iterator().stream_arn(&self.checkpoint.stream_arn).shard_id(shard);
        let request = match (self.checkpoint.shards.get(shard), self.initial.get(shard)) {
            (Some(sequence), _) => request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(sequence),
            (None, Some(Start::Latest)) => request.shard_iterator_type(ShardIteratorType::Latest),
            (None, _) => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        match request.send().await {
            Ok(out) => Ok(out.shard_iterator),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_trimmed_data_access_exception()) => {
                // Records past the retention period are gone for any reader; Lambda moves on too.
                tracing::warn!(shard, "checkpoint older than the stream's retention; reading from the oldest record");
                let out = self
                    .client
                    .get_shard_iterator()
                    .stream_arn(&self.checkpoint.stream_arn)
                    .shard_id(shard)
                    .shard_iterator_type(ShardIteratorType::TrimHorizon)
                    .send()
                    .await
                    .map_err(cause)?;
                Ok(out.shard_iterator)
            }
            Err(err) => Err(cause(err)),
        }
    }

    /// The records written since the last poll to one shard, as the Lambda event the consumer
    /// receives (Lambda's batches hold one shard's records, in order: consumers rely on it). Call
    /// `settle` with the consumer's answer before polling again.
    pub async fn poll(&mut self) -> Result<Event, BoxError> {
        // A new table's stream has no shard until its first write: look again at once until one is.
        if self.iterators.is_empty() || self.listed_at.is_none_or(|at| at.elapsed() >= LIST_SHARDS_EVERY) {
            for shard in self.shard_ids().await? {
                if !self.finished.contains(&shard) {
                    self.iterators.entry(shard).or_insert(None);
                }
            }
            self.listed_at = Some(Instant::now());
        }
        self.read.clear();
        let mut event = Event::default();
        let mut shards: Vec<String> = self.iterators.keys().cloned().collect();
        let after = self.last_shard.as_ref().and_then(|last| shards.iter().position(|s| s == last)).map_or(0, |i| i + 1);
        let after = after.min(shards.len());
        shards.rotate_left(after);
        for shard in shards {
            if !event.records.is_empty() {
                break;
            }
            let iterator = match self.iterators[&shard].clone() {
                Some(iterator) => iterator,
                None => match self.iterator(&shard).await {
                    Ok(Some(iterator)) => iterator,
                    Ok(None) => continue,
                    Err(err) => return Err(err),
                },
            };
            let out = match self.client.get_records().shard_iterator(&iterator).send().await {
                Ok(out) => out,
                Err(err) if err.as_service_error().is_some_and(|e| e.is_expired_iterator_exception() || e.is_trimmed_data_access_exception()) => {
                    tracing::info!(shard, "shard iterator expired; re-acquiring it from the checkpoint");
                    // Nothing read from it yet: "from now" would skip what came since the lost
                    // iterator was taken, so read from the shard's start (at least once, as the
                    // consumers expect), never lose.
                    self.initial.remove(&shard);
                    self.iterators.insert(shard, None);
                    continue;
                }
                Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                    tracing::info!(shard, "shard no longer exists");
                    self.iterators.remove(&shard);
                    continue;
                }
                Err(err) => {
                    // Keep whatever this poll already read: settle() deals with it.
                    self.iterators.insert(shard, Some(iterator));
                    return Err(cause(err));
                }
            };
            let records = out.records.unwrap_or_default();
            if !records.is_empty() {
                self.last_shard = Some(shard.clone());
            }
            for record in records {
                let record = lambda_record(record);
                if let Some(sequence) = &record.change.sequence_number {
                    self.read.push((shard.clone(), sequence.clone()));
                }
                event.records.push(record);
            }
            match out.next_shard_iterator {
                Some(next) => {
                    self.iterators.insert(shard, Some(next));
                }
                None => {
                    // A closed shard read to its end; its children come with the next listing.
                    self.iterators.remove(&shard);
                    self.finished.insert(shard);
                    self.listed_at = None;
                }
            }
        }
        Ok(event)
    }

    /// Records what became of the last poll's records: those processed are checkpointed; the
    /// shards with records that were not are read again from their checkpoint on the next poll.
    pub fn settle(&mut self, outcome: Outcome) -> std::io::Result<()> {
        let processed = match &outcome {
            Outcome::Done => self.read.len(),
            Outcome::FailedFrom(sequence) => self.read.iter().position(|(_, s)| s == sequence).unwrap_or(0),
            Outcome::Failed => 0,
        };
        for (shard, sequence) in &self.read[..processed] {
            self.checkpoint.shards.insert(shard.clone(), sequence.clone());
        }
        for (shard, _) in &self.read[processed..] {
            self.finished.remove(shard);
            self.iterators.insert(shard.clone(), None);
        }
        self.read.clear();
        match &self.store {
            Some(path) if processed > 0 => self.checkpoint.save(path),
            _ => Ok(()),
        }
    }
}

/// What the consumer did with a polled event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Every record before this sequence number was processed (`ReportBatchItemFailures`).
    FailedFrom(String),
    /// Nothing was processed (the function failed, or the poll did).
    Failed,
}

impl Outcome {
    /// The stream consumer's answer, as Lambda reads it.
    pub fn of(response: &Result<aws_lambda_events::event::streams::DynamoDbEventResponse, lambda_http::Error>) -> Outcome {
        match response {
            Ok(response) => match response.batch_item_failures.first() {
                None => Outcome::Done,
                Some(failure) => failure.item_identifier.clone().map_or(Outcome::Failed, Outcome::FailedFrom),
            },
            Err(_) => Outcome::Failed,
        }
    }
}

fn lambda_record(record: aws_sdk_dynamodbstreams::types::Record) -> EventRecord {
    let mut out = EventRecord::default();
    out.event_name = record.event_name.map(|n| n.as_str().to_string()).unwrap_or_default();
    out.event_id = record.event_id.unwrap_or_default();
    out.event_source = Some("aws:dynamodb".into());
    if let Some(change) = record.dynamodb {
        out.change.keys = change.keys.unwrap_or_default().into();
        out.change.new_image = change.new_image.unwrap_or_default().into();
        out.change.old_image = change.old_image.unwrap_or_default().into();
        out.change.sequence_number = change.sequence_number;
    }
    out
}

/// Receives from a queue and settles batches the way Lambda's SQS event source does.
pub struct QueueReader {
    pub sqs: aws_sdk_sqs::Client,
    pub url: String,
}

impl QueueReader {
    /// Up to ten messages, waiting up to `wait_seconds` for the first.
    pub async fn receive(&self, wait_seconds: i32) -> Result<SqsEvent, BoxError> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds)
            .send()
            .await
            .map_err(cause)?;
        let mut event = SqsEvent::default();
        for message in out.messages.unwrap_or_default() {
            let mut record = SqsMessage::default();
            record.message_id = message.message_id;
            record.receipt_handle = message.receipt_handle;
            record.body = message.body;
            event.records.push(record);
        }
        Ok(event)
    }

    /// Deletes the messages the function did not report as failed; those reappear when their
    /// visibility timeout ends (and go to the dead-letter queue after maxReceiveCount).
    pub async fn settle(&self, event: &SqsEvent, response: &SqsBatchResponse) -> Result<(), BoxError> {
        for message in &event.records {
            let failed = response.batch_item_failures.iter().any(|f| Some(&f.item_identifier) == message.message_id.as_ref());
            if let (false, Some(handle)) = (failed, &message.receipt_handle) {
                self.sqs.delete_message().queue_url(&self.url).receipt_handle(handle).send().await.map_err(cause)?;
            }
        }
        Ok(())
    }
}

/// Waits after failures: 0.5 s doubling to 30 s, back to 0.5 s after a success.
struct Backoff(Duration);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(500);
    const MOST: Duration = Duration::from_secs(30);

    async fn failed(&mut self, pipeline: &str, error: &dyn std::fmt::Display) {
        tracing::error!(pipeline, error = %error, retry_in_ms = self.0.as_millis() as u64, "pipeline step failed; retrying");
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(Self::MOST);
    }

    fn succeeded(&mut self) {
        self.0 = Self::FIRST;
    }
}

/// The table stream to one of its consumers (`table-stream`, `lead-figures`), until the process
/// ends: each consumer reads with a reader and checkpoint of its own, as each event source
/// mapping does.
pub async fn run_stream<F, Fut>(pipeline: &'static str, mut stream: StreamReader, consume: F)
where
    F: Fn(Event) -> Fut,
    Fut: Future<Output = Result<aws_lambda_events::event::streams::DynamoDbEventResponse, lambda_http::Error>>,
{
    let mut backoff = Backoff(Backoff::FIRST);
    loop {
        let changes = match stream.poll().await {
            Ok(changes) => changes,
            Err(err) => {
                // What this poll read before failing is read again from the checkpoint.
                let forgotten = stream.settle(Outcome::Failed);
                backoff.failed(pipeline, &err).await;
                if let Err(err) = forgotten {
                    tracing::error!(error = %err, "could not save the stream checkpoint");
                }
                continue;
            }
        };
        if changes.records.is_empty() {
            backoff.succeeded();
            // Lambda polls each shard four times a second.
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        let response = consume(changes).await;
        if let Err(err) = &response {
            tracing::error!(pipeline, error = %err, "stream consumer failed");
        }
        let outcome = Outcome::of(&response);
        match stream.settle(outcome.clone()) {
            Err(err) => backoff.failed(pipeline, &format!("could not save the stream checkpoint: {err}")).await,
            Ok(()) if outcome != Outcome::Done => backoff.failed(pipeline, &"records not processed; reading them again").await,
            Ok(()) => backoff.succeeded(),
        }
    }
}

/// A queue to its function, until the process ends. A function error leaves the whole batch to
/// reappear after the visibility timeout, as in Lambda.
pub async fn run_queue<F, Fut>(pipeline: &'static str, reader: QueueReader, function: F)
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = Result<SqsBatchResponse, lambda_http::Error>>,
{
    let mut backoff = Backoff(Backoff::FIRST);
    loop {
        let messages = match reader.receive(1).await {
            Ok(messages) => messages,
            Err(err) => {
                backoff.failed(pipeline, &err).await;
                continue;
            }
        };
        if messages.records.is_empty() {
            backoff.succeeded();
            continue;
        }
        match function(messages.clone()).await {
            Ok(response) => match reader.settle(&messages, &response).await {
                Ok(()) => backoff.succeeded(),
                Err(err) => backoff.failed(pipeline, &err).await,
            },
            Err(err) => backoff.failed(pipeline, &err).await,
        }
    }
}
