//! The operator's commands (`infra/admin`), against the local AWS stack.

use std::collections::BTreeSet;

use api_tests::{TestEnv, unique};
use infra::queues::{Redrive, redrive, source_of};
use infra::template::Template;

#[test]
fn a_dead_letter_queue_is_redriven_to_the_queue_whose_failures_it_holds() {
    let template = Template::load().unwrap();
    assert_eq!(source_of(&template, "BuyerSetupDeadLetterQueue").unwrap(), "BuyerSetupQueue");
    assert_eq!(source_of(&template, "WebhookDeliveryDeadLetterQueue").unwrap(), "WebhookDeliveryQueue");
    assert!(source_of(&template, "StreamFailureQueue").unwrap_err().contains("no queue's dead-letter queue"));
    assert!(source_of(&template, "Nope").unwrap_err().contains("not a queue"));
}

#[tokio::test]
async fn redrive_counts_first_then_moves_every_message_back_once() {
    let env = TestEnv::new().await;
    let sqs = aws_sdk_sqs::Client::new(&env.config);
    let queues = infra::bootstrap::create_queues(&sqs, &Template::load().unwrap(), &unique("redrive")).await.unwrap();
    let (dead_letter, source) = (&queues["BuyerSetupDeadLetterQueue"], &queues["BuyerSetupQueue"]);
    let sent: BTreeSet<String> = (0..12).map(|n| format!("{{\"n\":{n}}}")).collect();
    for body in &sent {
        sqs.send_message().queue_url(dead_letter).message_body(body).send().await.unwrap();
    }

    let counted = redrive(&sqs, dead_letter, source, true).await.unwrap();
    assert_eq!(counted, Redrive { counted: 12, moved: 0, dry_run: true });
    let moved = redrive(&sqs, dead_letter, source, false).await.unwrap();
    assert_eq!((moved.counted, moved.moved, moved.dry_run), (12, 12, false));

    let mut arrived = BTreeSet::new();
    loop {
        let batch = sqs.receive_message().queue_url(source).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
        let messages = batch.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        arrived.extend(messages.into_iter().filter_map(|m| m.body));
    }
    assert_eq!(arrived, sent, "every message reached the source queue, once");
    let again = redrive(&sqs, dead_letter, source, false).await.unwrap();
    assert_eq!((again.counted, again.moved), (0, 0), "the dead-letter queue is empty");
}
