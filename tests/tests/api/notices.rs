//! Change management (issue 29): a partner's people are emailed when a connection is revoked and
//! when an invitation they sent is answered — each user who has not turned it off, in Settings
//! (`/notification-settings`), once per change.

use api_tests::{TestEnv, assert_error, connect, unique};
use serde_json::{Value, json};

fn subjects(emails: &[Value]) -> Vec<String> {
    emails.iter().map(|m| m["subject"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn the_partners_people_hear_of_answers_and_revocations_unless_they_turned_it_off() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    // A colleague of the seller's turns the emails off with their own key.
    let colleague = format!("{}@example.com", unique("colleague").to_lowercase());
    env.db.accounts().add_user(&seller.id, colleague.clone(), "Colleague".into()).await.unwrap();
    let (colleague_key, _) = env.db.accounts().issue_api_key(&colleague).await.unwrap();
    let settings: Value = env.call("GET", "/notification-settings", Some(&colleague_key), None).await.expect(200);
    assert_eq!(settings, json!({ "change_emails": true }), "on for a new user");
    let off: Value = env.call("PUT", "/notification-settings", Some(&colleague_key), Some(json!({ "change_emails": false }))).await.expect(200);
    assert_eq!(off, json!({ "change_emails": false }));
    assert_eq!(env.call("GET", "/notification-settings", Some(&colleague_key), None).await.expect::<Value>(200), off);
    assert_eq!(env.call("GET", "/notification-settings", Some(&seller.key), None).await.expect::<Value>(200), json!({ "change_emails": true }), "the other user's stays on");
    assert_error(&env.call("PUT", "/notification-settings", Some(&seller.key), Some(json!({ "change_emails": "no" }))).await, 422, "validation failed");
    assert_error(&env.call("PUT", "/notification-settings", Some(&seller.key), Some(json!({ "change_emails": true, "sms": true }))).await, 422, "validation failed");

    // The buyer accepts: the seller's user is told, the colleague is not.
    let (_, connection) = connect(&env, &seller, &buyer).await;
    let accepted = format!("{} accepted your invitation on Partner Onboarding", buyer.name);
    let to_seller = env.emails_to(&seller.email).await;
    assert_eq!(subjects(&to_seller).iter().filter(|s| **s == accepted).count(), 1, "{:?}", subjects(&to_seller));
    assert!(to_seller.iter().any(|m| m["body"].as_str().unwrap_or_default().contains(&format!("/dashboard#connection/{connection}"))));
    assert!(env.emails_to(&colleague).await.is_empty(), "turned off");

    // The buyer revokes: the seller's people hear what stops; a second revoke changes nothing and says nothing.
    assert_eq!(env.call("DELETE", &format!("/connections/{connection}"), Some(&buyer.key), None).await.status, 200);
    assert_eq!(env.call("DELETE", &format!("/connections/{connection}"), Some(&buyer.key), None).await.status, 409);
    let ended = format!("{} ended your connection on Partner Onboarding", buyer.name);
    let to_seller = env.emails_to(&seller.email).await;
    assert_eq!(subjects(&to_seller).iter().filter(|s| **s == ended).count(), 1, "{:?}", subjects(&to_seller));
    assert!(to_seller.iter().any(|m| m["body"].as_str().unwrap_or_default().contains("no lead goes between you")));
    assert!(env.emails_to(&buyer.email).await.iter().all(|m| !m["subject"].as_str().unwrap_or_default().contains("ended")), "the side that revoked is not told");

    // An invitation declined: the inviter hears it, by the invitee's name.
    let other = env.account("other").await;
    let sent: Value = env.call("POST", "/invitations", Some(&seller.key), Some(json!({ "email": other.email, "relationship_type": "buyer" }))).await.expect(201);
    env.call("POST", &format!("/invitations/{}/decline", sent["invitation"]["id"].as_str().unwrap()), Some(&other.key), None).await.expect::<Value>(200);
    let declined = format!("{} declined your invitation on Partner Onboarding", other.name);
    assert_eq!(subjects(&env.emails_to(&seller.email).await).iter().filter(|s| **s == declined).count(), 1);
    assert!(env.emails_to(&colleague).await.is_empty(), "still off");
}
