//! What the table's stream router looks for: onboard completions (→ buyer setup), new outbound
//! webhook deliveries (→ the delivery queue) and new leads with buyer steps to deliver (→ the
//! lead-delivery queue). The records' images are stored items, so they are read here.

use aws_lambda_events::event::dynamodb::EventRecord;

use crate::store::keys;

use crate::onboards::domain::onboard::{Onboard, OnboardStatus};
use crate::onboards::domain::buyer_setup::SetupRequest;

/// The setup an onboard record's change asks for: only a change *into* completion (either name),
/// so an unrelated update of a completed onboard, or a redelivered INSERT, triggers nothing.
pub fn completion(record: &EventRecord) -> Option<SetupRequest> {
    if record.event_name != "MODIFY" {
        return None;
    }
    let status = |image: &serde_dynamo::Item| -> Option<OnboardStatus> {
        serde_dynamo::from_item::<_, StatusOnly>(image.clone()).ok().filter(|s| s.kind == keys::ItemType::Onboard.as_str()).map(|s| s.status)
    };
    let new_status = status(&record.change.new_image)?;
    let old_status = status(&record.change.old_image);
    if !new_status.is_completion() || old_status.is_some_and(OnboardStatus::is_completion) {
        return None;
    }
    let onboard: Onboard = serde_dynamo::from_item(record.change.new_image.clone()).ok()?;
    Some(SetupRequest {
        account_id: onboard.account_id,
        connection_id: onboard.connection_id,
        flow_id: onboard.flow_id,
        onboard_id: Some(onboard.id),
        actor: "system".into(),
    })
}

/// The new item of an INSERT record whose `type` is `kind`, read as `T`.
fn inserted<T: serde::de::DeserializeOwned>(record: &EventRecord, kind: keys::ItemType) -> Option<T> {
    let image = &record.change.new_image;
    let is_kind = matches!(image.get(keys::TYPE), Some(serde_dynamo::AttributeValue::S(t)) if t == kind.as_str());
    (record.event_name == "INSERT" && is_kind).then(|| serde_dynamo::from_item(image.clone()).ok()).flatten()
}

/// A new outbound webhook delivery (an outbox item) to queue for sending.
pub fn new_delivery(record: &EventRecord) -> Option<crate::client_onboarding::domain::webhook_endpoint::DeliveryMessage> {
    #[derive(serde::Deserialize)]
    struct DeliveryImage {
        account_id: crate::platform::id::Id,
        endpoint_id: crate::platform::id::Id,
        id: crate::platform::id::Id,
    }
    let image: DeliveryImage = inserted(record, keys::ItemType::Delivery)?;
    Some(crate::client_onboarding::domain::webhook_endpoint::DeliveryMessage { account_id: image.account_id, endpoint_id: image.endpoint_id, delivery_id: image.id })
}

/// A new lead with a buyer step to deliver. Only an INSERT: the steps a delivery settles later
/// are MODIFYs, and every pending step is delivered from the one message.
pub fn new_lead(record: &EventRecord) -> Option<crate::leads::domain::lead::LeadMessage> {
    let lead: crate::leads::domain::lead::Lead = inserted(record, keys::ItemType::Lead)?;
    lead.pending_steps().next()?;
    Some(crate::leads::domain::lead::LeadMessage { account_id: lead.account_id, flow_id: lead.flow_id, lead_id: lead.id })
}

#[derive(serde::Deserialize)]
struct StatusOnly {
    #[serde(rename = "type")]
    kind: String,
    status: OnboardStatus,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::id::Id;

    fn image(kind: &str, status: &str) -> serde_dynamo::Item {
        let onboard = serde_json::json!({
            "pk": "ACCOUNT#a", "sk": "ONBOARD#o", "type": kind,
            "id": Id::generate(), "account_id": Id::generate(), "invitation_id": Id::generate(), "connection_id": Id::generate(),
            "flow_id": null, "status": status, "created_at": "t", "updated_at": "t", "version": 2,
            "setup_status": null, "setup_error": null, "redirect": null,
        });
        serde_dynamo::to_item(onboard).unwrap()
    }

    fn record(event: &str, old: Option<serde_dynamo::Item>, new: serde_dynamo::Item) -> EventRecord {
        let mut record = EventRecord::default();
        record.event_name = event.to_string();
        record.change.old_image = old.unwrap_or_default();
        record.change.new_image = new;
        record
    }

    #[test]
    fn only_a_change_into_completion_triggers_the_setup() {
        let into = record("MODIFY", Some(image("onboard", "in_progress")), image("onboard", "completed"));
        let request = completion(&into).expect("a completion");
        assert_eq!(request.actor, "system");
        assert!(request.onboard_id.is_some());
        assert!(completion(&record("MODIFY", Some(image("onboard", "created")), image("onboard", "completed_flows_sync"))).is_some());
        assert!(completion(&record("MODIFY", Some(image("onboard", "completed")), image("onboard", "completed"))).is_none(), "unrelated update");
        assert!(completion(&record("MODIFY", Some(image("onboard", "created")), image("onboard", "in_progress"))).is_none());
        assert!(completion(&record("INSERT", None, image("onboard", "completed"))).is_none());
        assert!(completion(&record("MODIFY", Some(image("flow", "x")), image("flow", "completed"))).is_none(), "other item types");
    }

    #[test]
    fn only_new_leads_with_a_step_to_deliver_are_queued() {
        let step = |outcome: &str| serde_json::json!({ "step_id": Id::generate(), "entity": { "id": Id::generate(), "name": "B" }, "outcome": outcome, "reason": null, "buyer_flow_id": null, "delivered_lead_id": null, "at": null });
        let (account, flow, id) = (Id::generate(), Id::generate(), Id::generate());
        let item = |kind: &str, steps: Vec<serde_json::Value>| {
            serde_dynamo::to_item(serde_json::json!({
                "pk": "ACCOUNT#a", "sk": "LEAD#f#l", "type": kind, "ttl": 1, "gsi1pk": "LEAD#l", "gsi1sk": "LEAD",
                "id": id, "account_id": account, "flow_id": flow, "source": { "id": Id::generate(), "entity": { "id": Id::generate(), "name": "S" } },
                "submitted_by": account, "fields": { "email": "a@b.co" }, "outcome": "success", "reason": null, "steps": steps, "hops": 0, "origin": null,
                "created_at": "t", "updated_at": "t", "expires_at": "t", "version": 1,
            }))
            .unwrap()
        };
        let message = new_lead(&record("INSERT", None, item("lead", vec![step("skipped"), step("pending")]))).expect("queued");
        assert_eq!((&message.account_id, &message.flow_id, &message.lead_id), (&account, &flow, &id));
        assert!(new_lead(&record("INSERT", None, item("lead", vec![step("skipped")]))).is_none(), "nothing to deliver");
        assert!(new_lead(&record("MODIFY", Some(item("lead", vec![step("pending")])), item("lead", vec![step("pending")]))).is_none(), "steps settle later");
        assert!(new_lead(&record("INSERT", None, item("flow", vec![step("pending")]))).is_none());
    }

    #[test]
    fn only_new_deliveries_are_queued() {
        let (account, endpoint, id) = (Id::generate(), Id::generate(), Id::generate());
        let item = |kind: &str| {
            serde_dynamo::to_item(serde_json::json!({ "type": kind, "account_id": account, "endpoint_id": endpoint, "id": id, "status": "pending" })).unwrap()
        };
        let message = new_delivery(&record("INSERT", None, item("webhook_delivery"))).expect("queued");
        assert_eq!((message.account_id, message.delivery_id), (account.clone(), id.clone()));
        assert!(new_delivery(&record("MODIFY", Some(item("webhook_delivery")), item("webhook_delivery"))).is_none(), "attempts recorded later");
        assert!(new_delivery(&record("INSERT", None, item("client"))).is_none());
    }
}

fn lead_image(image: &serde_dynamo::Item) -> Option<crate::leads::domain::lead::Lead> {
    let is_lead = matches!(image.get(keys::TYPE), Some(serde_dynamo::AttributeValue::S(t)) if t == keys::ItemType::Lead.as_str());
    is_lead.then(|| serde_dynamo::from_item(image.clone()).ok()).flatten()
}

/// The settled buyer steps of a lead's change that count on a connection: only a MODIFY whose
/// old image had them pending, so a redelivered record finds them again (and the markers of
/// `PartnersTable::count_figures` count them once).
pub fn settled_figures(record: &EventRecord) -> Vec<crate::leads::domain::figures::FigureEvent> {
    match (record.event_name.as_str(), lead_image(&record.change.old_image), lead_image(&record.change.new_image)) {
        ("MODIFY", Some(before), Some(after)) => crate::leads::domain::figures::settled_figures(&before, &after),
        _ => vec![],
    }
}

/// What a record adds to partner reports: a new lead's submission, the buyer steps a lead's
/// change settled (`LeadsTable::count_reports` counts each record once).
pub fn report_events(record: &EventRecord) -> crate::store::leads::reports::StreamedEvents {
    let events = match (record.event_name.as_str(), lead_image(&record.change.new_image)) {
        ("INSERT", Some(after)) => crate::leads::domain::reports::report_events(None, &after),
        ("MODIFY", Some(after)) => match lead_image(&record.change.old_image) {
            Some(before) => crate::leads::domain::reports::report_events(Some(&before), &after),
            None => vec![],
        },
        _ => vec![],
    };
    crate::store::leads::reports::StreamedEvents { record_id: record.event_id.clone(), events }
}
