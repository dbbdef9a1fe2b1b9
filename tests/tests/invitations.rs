//! Invitations end to end: send, dedupe, resend, accept, decline, revoke, claim by link, expiry.

use api_tests::{LINK_BASE, TestAccount, TestEnv, unique};
use serde_json::{Value, json};
use shared::config::InvitationSettings;

async fn invite_buyer(env: &TestEnv, seller: &TestAccount, email: &str) -> Value {
    let reply = env.call("POST", "/invitations/recipient", Some(&seller.key), Some(json!({ "email": email }))).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply.body
}

#[tokio::test]
async fn inviting_an_existing_account_by_email_then_accepting_connects_both_sides() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;

    let sent = invite_buyer(&env, &seller, &buyer.email).await;
    assert_eq!(sent["message"], "Invitation was sent successfully");
    let entity = &sent["entity"];
    assert_eq!(entity["pending"], true);
    assert_eq!(entity["expired"], false);
    assert_eq!(entity["name"], buyer.name, "an email of a known user names its account");
    let invitation_id = sent["invitation"]["id"].as_str().unwrap().to_string();
    assert_eq!(entity["invitation_id"], invitation_id);
    assert_eq!(sent["invitation"]["relationship_type"], "buyer");
    assert_eq!(sent["invitation"]["status"], "pending");
    assert_eq!(sent["email_sent"], true);
    assert_eq!(env.emails_to(&buyer.email).await.len(), 1, "the invitation is emailed");

    // The buyer sees it as received; the seller as sent.
    let received = env.get("/invitations?direction=received", &buyer).await;
    assert_eq!(received.status, 200);
    assert_eq!(received.body[0]["id"], invitation_id);
    assert_eq!(received.body[0]["direction"], "received");
    let sent_list = env.get("/invitations?direction=sent", &seller).await;
    assert_eq!(sent_list.body[0]["id"], invitation_id);

    let accepted = env.call("POST", &format!("/invitations/{invitation_id}/accept"), Some(&buyer.key), None).await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    let connection = &accepted.body["connection"];
    let connection_id = connection["id"].as_str().unwrap();
    assert_eq!(connection["relationship_type"], "seller", "the buyer sees the inviter as its seller");
    assert_eq!(connection["connected_account"]["id"], seller.id.to_string());
    assert_eq!(connection["connected_account"]["name"], seller.name);
    assert_eq!(connection["created_by"], seller.email);
    assert_eq!(connection["buyer_delivery_configured"], false);

    // The seller sees the same connection from its side, by connection id or invitation id.
    for id in [connection_id, invitation_id.as_str()] {
        let seen = env.get(&format!("/connections/{id}"), &seller).await;
        assert_eq!(seen.status, 200, "{:?}", seen.body);
        assert_eq!(seen.body["id"], connection_id);
        assert_eq!(seen.body["relationship_type"], "buyer");
        assert_eq!(seen.body["connected_account"]["id"], buyer.id.to_string());
        assert_eq!(seen.body["invitation_id"], invitation_id);
        for field in ["created_at", "updated_at", "created_by"] {
            assert!(seen.body[field].is_string(), "{field}");
        }
    }

    // Entities on both sides are connected (mutual source access).
    let seller_entity = env.get(&format!("/entities/{}", entity["id"].as_str().unwrap()), &seller).await;
    assert_eq!(seller_entity.body["pending"], false);
    assert_eq!(seller_entity.body["connected"], "buyer");
    assert_eq!(seller_entity.body["connected_account_id"], buyer.id.to_string());
    let buyer_entities = env.get("/entities", &buyer).await;
    assert_eq!(buyer_entities.body.as_array().unwrap().len(), 1);
    assert_eq!(buyer_entities.body[0]["connected"], "seller");
    assert_eq!(buyer_entities.body[0]["name"], seller.name);
    assert_eq!(buyer_entities.body[0]["connected_account_id"], seller.id.to_string());

    let status = env.get(&format!("/invitations/{invitation_id}"), &seller).await;
    assert_eq!(status.body["status"], "accepted");
    assert_eq!(status.body["connection_id"], connection_id);
}
