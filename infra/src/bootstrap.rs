//! Creates what `template.yaml` declares (table, queues, SES identity) on the endpoint the SDK is
//! configured for: moto locally, or LocalStack/AWS through `AWS_ENDPOINT_URL`. Idempotent.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::template::{KeySchema, Template};

/// The physical names of what was created.
#[derive(Clone, Debug)]
pub struct Stack {
    pub table: String,
    /// Logical id → queue URL.
    pub queues: HashMap<String, String>,
    pub sender: String,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn key_elements(key: &KeySchema) -> Result<Vec<KeySchemaElement>, BoxError> {
    let mut elements = vec![KeySchemaElement::builder().attribute_name(&key.hash).key_type(KeyType::Hash).build()?];
    if let Some(range) = &key.range {
        elements.push(KeySchemaElement::builder().attribute_name(range).key_type(KeyType::Range).build()?);
    }
    Ok(elements)
}

pub async fn create_table(ddb: &aws_sdk_dynamodb::Client, template: &Template, name: &str) -> Result<(), BoxError> {
    let spec = template.table()?;
    let mut create = ddb.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest).set_key_schema(Some(key_elements(&spec.key)?));
    for (attribute, kind) in &spec.attributes {
        create = create.attribute_definitions(
            AttributeDefinition::builder().attribute_name(attribute).attribute_type(ScalarAttributeType::from(kind.as_str())).build()?,
        );
    }
    for index in &spec.indexes {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(key_elements(&index.key)?))
                .projection(Projection::builder().projection_type(ProjectionType::from(index.projection.as_str())).build())
                .build()?,
        );
    }
    if let Some(view) = &spec.stream_view_type {
        create = create.stream_specification(
            StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::from(view.as_str())).build()?,
        );
    }
    match create.send().await {
        Ok(_) => {}
        Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => return Ok(()),
        Err(err) => return Err(aws_sdk_dynamodb::error::DisplayErrorContext(err).to_string().into()),
    }
    if let Some(attribute) = &spec.ttl_attribute {
        ddb.update_time_to_live()
            .table_name(name)
            .time_to_live_specification(TimeToLiveSpecification::builder().attribute_name(attribute).enabled(true).build()?)
            .send()
            .await?;
    }
    Ok(())
}

/// Queues in dependency order (dead-letter queues first), named `<prefix>-<LogicalId>`.
pub async fn create_queues(sqs: &aws_sdk_sqs::Client, template: &Template, prefix: &str) -> Result<HashMap<String, String>, BoxError> {
    let mut specs = template.queues()?;
    specs.sort_by_key(|q| q.redrive.is_some());
    let mut urls = HashMap::new();
    let mut arns = HashMap::new();
    for spec in specs {
        let mut create = sqs.create_queue().queue_name(format!("{prefix}-{}", spec.logical_id));
        if let Some(v) = spec.visibility_timeout {
            create = create.attributes(QueueAttributeName::VisibilityTimeout, v.to_string());
        }
        if let Some(v) = spec.retention_period {
            create = create.attributes(QueueAttributeName::MessageRetentionPeriod, v.to_string());
        }
        if let Some((dlq, max_receives)) = &spec.redrive {
            let arn: &String = arns.get(dlq).ok_or(format!("{}: dead-letter queue {dlq} is not declared", spec.logical_id))?;
            let policy = serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": max_receives.to_string() });
            create = create.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
        }
        let url = create.send().await?.queue_url.ok_or("CreateQueue returned no URL")?;
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or("queue has no ARN")?;
        arns.insert(spec.logical_id.clone(), arn);
        urls.insert(spec.logical_id, url);
    }
    Ok(urls)
}

/// Creates everything: the table `<prefix>`, the queues `<prefix>-<LogicalId>`, and verifies the
/// sender identity (moto verifies at once; AWS sends a verification email).
pub async fn create_stack(config: &aws_config::SdkConfig, template: &Template, prefix: &str) -> Result<Stack, BoxError> {
    create_table(&aws_sdk_dynamodb::Client::new(config), template, prefix).await?;
    let queues = create_queues(&aws_sdk_sqs::Client::new(config), template, prefix).await?;
    let sender = template.parameter_default("SenderEmail").ok_or("template has no SenderEmail default")?;
    let ses = aws_sdk_ses::Client::new(config);
    for identity in template.email_identities() {
        ses.verify_email_identity().email_address(identity).send().await?;
    }
    Ok(Stack { table: prefix.to_string(), queues, sender })
}
