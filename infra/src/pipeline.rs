//! The stream → queue → buyer-setup pipeline, run locally: what Lambda's event source mappings do
//! in AWS (read the table's stream, invoke the stream consumer; read the queue, invoke the
//! buyer-setup function, delete what succeeded), done by polling moto (or any endpoint).

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Reads a table's stream from the moment it is opened (every shard, from LATEST).
pub struct StreamReader {
    client: aws_sdk_dynamodbstreams::Client,
    iterators: Vec<String>,
}

impl StreamReader {
    pub async fn open(config: &aws_config::SdkConfig, table: &str) -> Result<StreamReader, BoxError> {
        let ddb = aws_sdk_dynamodb::Client::new(config);
        let description = ddb.describe_table().table_name(table).send().await?;
        let arn = description.table.and_then(|t| t.latest_stream_arn).ok_or("the table has no stream")?;
        let client = aws_sdk_dynamodbstreams::Client::new(config);
        let stream = client.describe_stream().stream_arn(&arn).send().await?;
        let mut iterators = vec![];
        for shard in stream.stream_description.map(|d| d.shards.unwrap_or_default()).unwrap_or_default() {
            let iterator = client
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(shard.shard_id.unwrap_or_default())
                .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::Latest)
                .send()
                .await?;
            iterators.extend(iterator.shard_iterator);
        }
        Ok(StreamReader { client, iterators })
    }

    /// The records written since the last poll, as the Lambda event the consumer receives.
    pub async fn poll(&mut self) -> Result<Event, BoxError> {
        let mut event = Event::default();
        for iterator in &mut self.iterators {
            let out = self.client.get_records().shard_iterator(iterator.as_str()).send().await?;
            for record in out.records.unwrap_or_default() {
                event.records.push(lambda_record(record));
            }
            if let Some(next) = out.next_shard_iterator {
                *iterator = next;
            }
        }
        Ok(event)
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
        let out = self.sqs.receive_message().queue_url(&self.url).max_number_of_messages(10).wait_time_seconds(wait_seconds).send().await?;
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
                self.sqs.delete_message().queue_url(&self.url).receipt_handle(handle).send().await?;
            }
        }
        Ok(())
    }
}

/// The pipelines until the process ends, as Lambda's event sources would run them: stream →
/// `table-stream` → the buyer-setup queue → `buyer-setup`, and → the delivery queue →
/// `webhook-deliver`.
pub struct Pipelines {
    pub stream: StreamReader,
    pub queues: &'static table_stream::Queues,
    pub setups: QueueReader,
    pub setup: &'static shared::setup::BuyerSetup,
    pub deliveries: QueueReader,
    pub worker: &'static webhook_deliver::Worker,
}

impl Pipelines {
    pub async fn run(mut self) -> Result<(), BoxError> {
        loop {
            let changes = self.stream.poll().await?;
            if !changes.records.is_empty() {
                table_stream::handle(self.queues, changes).await?;
            }
            let messages = self.setups.receive(0).await?;
            if !messages.records.is_empty() {
                let response = buyer_setup::handle(self.setup, messages.clone()).await?;
                self.setups.settle(&messages, &response).await?;
            }
            let messages = self.deliveries.receive(0).await?;
            if !messages.records.is_empty() {
                let response = webhook_deliver::handle(self.worker, messages.clone()).await?;
                self.deliveries.settle(&messages, &response).await?;
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    }
}
