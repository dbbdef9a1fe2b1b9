//! The stream -> queue -> function pipelines, driven step by step as Lambda's event sources
//! would drive them.

use infra::template::Template;
use shared::platform::mail::Mailer;

use crate::environment::{TestEnv, unique};

/// The stream -> queue -> buyer-setup pipeline on a test environment's table and its own queues,
/// driven step by step as Lambda's event sources would drive it.
pub struct Pipeline {
    pub stream: infra::pipeline::StreamReader,
    pub queues: &'static functions::stream::Queues,
    pub reader: infra::pipeline::QueueReader,
    pub setup: &'static shared::onboards::buyer_setup::BuyerSetup,
    pub delivery_reader: infra::pipeline::QueueReader,
    pub worker: &'static functions::client_onboarding::webhook_deliveries::Worker,
    pub lead_reader: infra::pipeline::QueueReader,
    pub leads: &'static shared::leads::service::Leads,
    /// The table for `lead-figures`, the stream's second consumer (fed the same records here).
    pub figures: &'static shared::store::Db,
    /// Settled steps `lead-figures` has counted since the pipeline opened.
    figures_counted: usize,
    /// Stream records held for `lead-figures` until a batch is full (its event source's batch
    /// size; 1 here unless a bench models Lambda's batching window), or until `count_figures`.
    pub figures_batch: usize,
    held: Vec<aws_lambda_events::event::dynamodb::EventRecord>,
}

/// How long the tests' leads are kept (a deployment's default: 90 days).
pub const LEAD_RETENTION: std::time::Duration = std::time::Duration::from_secs(90 * 86_400);

enum Queue {
    BuyerSetup,
    WebhookDelivery,
    LeadDelivery,
}

/// Retries of outbound webhooks come within a second or two here (production: 30 s base).
pub const TEST_RETRY_BASE: std::time::Duration = std::time::Duration::from_secs(1);

impl TestEnv {
    /// Opens the table's stream now (later changes only) and creates the template's queues.
    pub async fn pipeline(&self) -> Pipeline {
        let template = Template::load().expect("template.yaml");
        let sqs = aws_sdk_sqs::Client::from_conf(aws_sdk_sqs::config::Builder::from(&self.config).interceptor(self.queue_calls.clone()).build());
        let queues = infra::bootstrap::create_queues(&sqs, &template, &unique("q")).await.expect("queues");
        self.queue_calls.take();
        let (setup_url, delivery_url, lead_url) = (queues["BuyerSetupQueue"].clone(), queues["WebhookDeliveryQueue"].clone(), queues["LeadDeliveryQueue"].clone());
        let sender = template.parameter_default("SenderEmail").expect("sender");
        let ses = aws_sdk_ses::Client::from_conf(aws_sdk_ses::config::Builder::from(&self.config).interceptor(self.mail_calls.clone()).build());
        let setup = shared::onboards::buyer_setup::BuyerSetup { db: self.db.clone(), mailer: Mailer::new(ses, sender) };
        let deliverer = shared::client_onboarding::deliver::Deliverer::new(self.db.clone(), shared::platform::public_url::UrlPolicy { allow_private: true }, TEST_RETRY_BASE);
        let queues = functions::stream::Queues { sqs: shared::platform::config::LazyClient::ready(sqs.clone()), buyer_setup_url: setup_url.clone(), webhook_delivery_url: delivery_url.clone(), lead_delivery_url: lead_url.clone() };
        Pipeline {
            stream: infra::pipeline::StreamReader::open(&self.config, &self.db.table, infra::pipeline::Start::Latest, None).await.expect("stream"),
            queues: Box::leak(Box::new(queues)),
            reader: infra::pipeline::QueueReader { sqs: sqs.clone(), url: setup_url },
            setup: Box::leak(Box::new(setup)),
            delivery_reader: infra::pipeline::QueueReader { sqs: sqs.clone(), url: delivery_url.clone() },
            worker: Box::leak(Box::new(functions::client_onboarding::webhook_deliveries::Worker { deliverer, sqs: shared::platform::config::LazyClient::ready(sqs.clone()), queue_url: delivery_url })),
            lead_reader: infra::pipeline::QueueReader { sqs, url: lead_url },
            leads: Box::leak(Box::new(shared::leads::service::Leads { db: self.db.clone(), retention: LEAD_RETENTION })),
            figures: Box::leak(Box::new(self.db.clone())),
            figures_counted: 0,
            figures_batch: 1,
            held: vec![],
        }
    }
}

impl Pipeline {
    /// Feeds the stream's new records to the stream router until `expected` messages have been
    /// queued on the buyer-setup queue (moto's stream may lag a poll), and returns them.
    pub async fn queued_setups(&mut self, expected: usize) -> aws_lambda_events::event::sqs::SqsEvent {
        self.queued(Queue::BuyerSetup, expected).await
    }

    /// The same for new outbound webhook deliveries.
    pub async fn queued_deliveries(&mut self, expected: usize) -> aws_lambda_events::event::sqs::SqsEvent {
        self.queued(Queue::WebhookDelivery, expected).await
    }

    /// The same for new leads with buyer steps to deliver.
    pub async fn queued_leads(&mut self, expected: usize) -> aws_lambda_events::event::sqs::SqsEvent {
        self.queued(Queue::LeadDelivery, expected).await
    }

    /// One run of `lead-deliver` on `messages`, settled like the SQS event source.
    pub async fn deliver_leads(&self, messages: &aws_lambda_events::event::sqs::SqsEvent) -> aws_lambda_events::event::sqs::SqsBatchResponse {
        let response = functions::leads::delivery::consume_queue(self.leads, messages.clone()).await.expect("lead-deliver");
        self.lead_reader.settle(messages, &response).await.expect("settle");
        response
    }

    async fn queued(&mut self, queue: Queue, expected: usize) -> aws_lambda_events::event::sqs::SqsEvent {
        let mut received = aws_lambda_events::event::sqs::SqsEvent::default();
        for _ in 0..250 {
            self.consume_stream().await;
            let reader = match queue {
                Queue::BuyerSetup => &self.reader,
                Queue::WebhookDelivery => &self.delivery_reader,
                Queue::LeadDelivery => &self.lead_reader,
            };
            received.records.extend(reader.receive(0).await.expect("receive").records);
            if received.records.len() >= expected {
                return received;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("expected {expected} queued messages, got {}", received.records.len());
    }

    /// One poll of the stream, its records given to both its consumers (`table-stream` and
    /// `lead-figures`, the latter in batches of `figures_batch`).
    async fn consume_stream(&mut self) {
        let changes = self.stream.poll().await.expect("stream");
        if !changes.records.is_empty() {
            self.held.extend(changes.records.iter().cloned());
            if self.held.len() >= self.figures_batch {
                self.count_held().await;
            }
            let response = functions::stream::route(self.queues, changes).await.expect("stream router");
            assert!(response.batch_item_failures.is_empty());
        }
        self.stream.settle(infra::pipeline::Outcome::Done).expect("settle");
    }

    async fn count_held(&mut self) {
        let mut batch = aws_lambda_events::event::dynamodb::Event::default();
        batch.records = std::mem::take(&mut self.held);
        self.figures_counted += batch.records.iter().map(|r| shared::store::stream::settled_figures(r).len()).sum::<usize>();
        let figures = functions::leads::figures::count(self.figures, batch).await.expect("lead-figures");
        assert!(figures.batch_item_failures.is_empty(), "lead-figures failed");
    }

    /// Feeds the stream to its consumers until `lead-figures` has counted `total` settled steps
    /// since the pipeline opened (the figures are counted off the delivery path, from the stream).
    pub async fn count_figures(&mut self, total: usize) {
        for _ in 0..250 {
            if !self.held.is_empty() {
                self.count_held().await;
            }
            if self.figures_counted >= total {
                return;
            }
            self.consume_stream().await;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("expected {total} settled steps counted, got {}", self.figures_counted);
    }

    /// One delivery of `messages` to the buyer-setup function, settled like the SQS event source.
    pub async fn deliver(&self, messages: &aws_lambda_events::event::sqs::SqsEvent) -> aws_lambda_events::event::sqs::SqsBatchResponse {
        let response = functions::onboards::buyer_setup::consume_queue(self.setup, messages.clone()).await.expect("buyer-setup");
        self.reader.settle(messages, &response).await.expect("settle");
        response
    }

    /// One run of `webhook-deliver` on `messages`, settled like the SQS event source.
    pub async fn send_webhooks(&self, messages: &aws_lambda_events::event::sqs::SqsEvent) -> aws_lambda_events::event::sqs::SqsBatchResponse {
        let response = functions::client_onboarding::webhook_deliveries::consume_queue(self.worker, messages.clone()).await.expect("webhook-deliver");
        self.delivery_reader.settle(messages, &response).await.expect("settle");
        response
    }

    /// The next retry messages (re-queued with a delay), waiting up to `seconds` for them.
    pub async fn retried_deliveries(&self, seconds: u64) -> aws_lambda_events::event::sqs::SqsEvent {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        while std::time::Instant::now() < deadline {
            let messages = self.delivery_reader.receive(1).await.expect("receive");
            if !messages.records.is_empty() {
                return messages;
            }
        }
        panic!("no retry was queued within {seconds} s");
    }
}
