//! Invitations end to end: send, dedupe, resend, accept, decline, revoke, claim by link, expiry.

use std::sync::Arc;

use api_tests::{all_at_once, concurrently, statuses, Accepted, Answered, AuditEvent, Connection, Entity, Invitation, InvitationSent, LINK_BASE, SignedUp, TestAccount, TestEnv, assert_error, race, unique};
use serde_json::{Value, json};
use shared::partners::settings::InvitationSettings;

async fn invite_buyer(env: &TestEnv, seller: &TestAccount, email: &str) -> InvitationSent {
    env.call("POST", "/invitations/recipient", Some(&seller.key), Some(json!({ "email": email }))).await.expect(201)
}

#[tokio::test]
async fn inviting_an_existing_account_by_email_then_accepting_connects_both_sides() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;

    let sent = invite_buyer(&env, &seller, &buyer.email).await;
    assert_eq!(sent.message, "Invitation was sent successfully");
    let entity = &sent.entity;
    assert!(entity.pending);
    assert!(!entity.expired);
    // Who owns the address is the invitee's to reveal, by accepting.
    assert_eq!(entity.name, buyer.email, "named after the email, not the account that owns it");
    assert_eq!(sent.invitation.invitee_account, None, "{sent:?}");
    let invitation_id = sent.invitation.id.clone();
    assert_eq!(env.get(&format!("/invitations/{invitation_id}"), &seller).await.expect::<Invitation>(200).invitee_account, None);
    assert_eq!(env.get("/invitations", &seller).await.expect::<Vec<Invitation>>(200)[0].invitee_account, None);
    assert!(!env.get("/entities", &seller).await.body.to_string().contains(&buyer.name));
    assert_eq!(entity.invitation_id.as_ref(), Some(&invitation_id));
    assert_eq!(sent.invitation.relationship_type, "buyer");
    assert_eq!(sent.invitation.status, "pending");
    assert_eq!(sent.email_sent, Some(true));
    assert_eq!(env.emails_to(&buyer.email).await.len(), 1, "the invitation is emailed");

    // The buyer sees it as received; the seller as sent.
    let received: Vec<Invitation> = env.get("/invitations?direction=received", &buyer).await.expect(200);
    assert_eq!(received[0].id, invitation_id);
    assert_eq!(received[0].direction, "received");
    let sent_list: Vec<Invitation> = env.get("/invitations?direction=sent", &seller).await.expect(200);
    assert_eq!(sent_list[0].id, invitation_id);
    assert_eq!(received[0].invitee_account.as_ref().unwrap().id, buyer.id.to_string(), "the invitee sees itself");

    let accepted: Accepted = env.call("POST", &format!("/invitations/{invitation_id}/accept"), Some(&buyer.key), None).await.expect(200);
    let seen_by_seller: Invitation = env.get(&format!("/invitations/{invitation_id}"), &seller).await.expect(200);
    assert_eq!(seen_by_seller.invitee_account.unwrap().id, buyer.id.to_string(), "accepted: now the seller knows who");
    let connection = &accepted.connection;
    let connection_id = connection.id.as_str();
    assert_eq!(connection.relationship_type, "seller", "the buyer sees the inviter as its seller");
    assert_eq!(connection.connected_account.id, seller.id.to_string());
    assert_eq!(connection.connected_account.name, seller.name);
    assert_eq!(connection.created_by, seller.email);
    assert!(!connection.buyer_delivery_configured);

    // The seller sees the same connection from its side, by connection id or invitation id.
    for id in [connection_id, invitation_id.as_str()] {
        let seen: Connection = env.get(&format!("/connections/{id}"), &seller).await.expect(200);
        assert_eq!(seen.id, connection_id);
        assert_eq!(seen.relationship_type, "buyer");
        assert_eq!(seen.connected_account.id, buyer.id.to_string());
        assert_eq!(seen.invitation_id, invitation_id);
        assert_eq!(seen.created_by, seller.email);
    }

    // Entities on both sides are connected (mutual source access).
    let seller_entity: Entity = env.get(&format!("/entities/{}", entity.id), &seller).await.expect(200);
    assert!(!seller_entity.pending);
    assert_eq!(seller_entity.connected.as_deref(), Some("buyer"));
    assert_eq!(seller_entity.connected_account_id, Some(buyer.id.to_string()));
    let buyer_entities: Vec<Entity> = env.get("/entities", &buyer).await.expect(200);
    assert_eq!(buyer_entities.len(), 1);
    assert_eq!(buyer_entities[0].connected.as_deref(), Some("seller"));
    assert_eq!(buyer_entities[0].name, seller.name);
    assert_eq!(buyer_entities[0].connected_account_id, Some(seller.id.to_string()));

    let status: Invitation = env.get(&format!("/invitations/{invitation_id}"), &seller).await.expect(200);
    assert_eq!(status.status, "accepted");
    assert_eq!(status.connection_id.as_deref(), Some(connection_id));
}

#[tokio::test]
async fn a_second_invitation_to_the_same_partner_returns_the_pending_one() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let email = format!("{}@example.com", unique("prospect"));
    let first = invite_buyer(&env, &seller, &email).await;
    let again: InvitationSent = env.call("POST", "/invitations/recipient", Some(&seller.key), Some(json!({ "email": email.to_uppercase() }))).await.expect(200);
    assert_eq!(again.invitation.id, first.invitation.id);
    assert_eq!(again.entity.id, first.entity.id);
    assert_eq!(env.emails_to(&email).await.len(), 1, "no second email for the same invitation");

    let other_role = env.call("POST", "/invitations/source", Some(&seller.key), Some(json!({ "email": email }))).await;
    let details = assert_error(&other_role, 409, "conflict");
    assert!(details.contains("different relationship"), "{details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_to_one_partner_create_one_invitation() {
    let env = Arc::new(TestEnv::new().await);
    let seller = env.account("seller").await;
    let email = format!("{}@example.com", unique("prospect"));
    let replies = all_at_once(&env, "POST", "/invitations/recipient", Some(&seller.key), Some(json!({ "email": email }))).await;
    let created: Vec<&api_tests::Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(created.len(), 1, "one invitation created: {:?}", statuses(&replies));
    for reply in &replies {
        assert!(matches!(reply.status, 200 | 201 | 409), "{:?}", reply.body);
        if reply.status == 200 {
            assert_eq!(reply.read::<InvitationSent>().invitation.id, created[0].read::<InvitationSent>().invitation.id, "the pending one is returned");
        }
    }
    assert_eq!(env.get("/invitations", &seller).await.expect::<Vec<Invitation>>(200).len(), 1);
    assert_eq!(env.emails_to(&email).await.len(), 1, "one email");
}

/// The one interleaving that matters most, forced: the second send read "no pending invitation"
/// before the first committed. Its transaction's conditions must catch it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_send_that_read_before_another_committed_returns_the_pending_one() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let email = format!("{}@example.com", unique("prospect"));
    let body = json!({ "email": email });
    env.gate.arm("TransactWriteItems");
    let env = Arc::new(env);
    let (a, b) = race(&env, || ("POST", "/invitations/recipient".to_string(), Some(seller.key.clone()), Some(body.clone()))).await;
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 201], "{:?} / {:?}", a.body, b.body);
    assert_eq!(a.read::<InvitationSent>().invitation.id, b.read::<InvitationSent>().invitation.id);
    assert_eq!(env.get("/invitations", &seller).await.expect::<Vec<Invitation>>(200).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_of_one_link_create_one_account() {
    let env = Arc::new(TestEnv::new().await);
    let seller = env.account("seller").await;
    let email = format!("{}@example.com", unique("newbuyer"));
    invite_buyer(&env, &seller, &email).await;
    let token = env.invitation_token(&email).await;
    let replies = concurrently(|i| {
        let (env, token) = (env.clone(), token.clone());
        async move { env.call("POST", "/invitations/claim", None, Some(json!({ "token": token, "account_name": format!("Claimer {i}"), "name": "Bea" }))).await }
    })
    .await;
    let statuses = statuses(&replies);
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 201 | 404 | 409)), "{statuses:?}");
    let key = replies.iter().find(|r| r.status == 201).unwrap().read::<SignedUp>().api_key;
    let buyer = TestAccount { id: shared::Id::generate(), name: String::new(), email: email.clone(), key };
    assert_eq!(env.get("/connections", &buyer).await.expect::<Vec<Connection>>(200).len(), 1);
    assert_eq!(env.get("/connections", &seller).await.expect::<Vec<Connection>>(200).len(), 1, "one connection, to one new account");
}

#[tokio::test]
async fn a_partner_without_an_account_claims_the_link_and_gets_a_free_account() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let email = format!("{}@example.com", unique("newbuyer"));
    let sent = invite_buyer(&env, &seller, &email).await;
    assert_eq!(sent.invitation.invitee_account, None);
    assert_eq!(sent.entity.name, email, "the entity is named after the email until connected");
    let mail = env.emails_to(&email).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0]["subject"].as_str().unwrap().contains(&seller.name));
    assert!(mail[0]["body"].as_str().unwrap().contains(LINK_BASE));
    let token = env.invitation_token(&email).await;

    let missing = env.call("POST", "/invitations/claim", None, Some(json!({ "token": token, "name": "Bea" }))).await;
    assert!(assert_error(&missing, 422, "validation failed").contains("account_name"));
    let unknown = env.call("POST", "/invitations/claim", None, Some(json!({ "token": "nope", "account_name": "B", "name": "Bea" }))).await;
    assert_error(&unknown, 404, "not found");

    let claimed: SignedUp = env.call("POST", "/invitations/claim", None, Some(json!({ "token": token, "account_name": "Buyer Co", "name": "Bea" }))).await.expect(201);
    assert_eq!(claimed.account.plan, "free");
    assert_eq!(claimed.account.name, "Buyer Co");
    assert_eq!(claimed.user.email, email);
    assert_eq!(claimed.accepted.connection.relationship_type, "seller");
    assert!(claimed.api_key.starts_with("sk_live_"));

    // The key works, once, for the new account; the link is spent.
    let buyer = TestAccount { id: shared::Id::parse(&claimed.account.id).unwrap(), name: "Buyer Co".into(), email: email.clone(), key: claimed.api_key };
    let connections: Vec<Connection> = env.get("/connections", &buyer).await.expect(200);
    assert_eq!(connections[0].connected_account.id, seller.id.to_string());
    let again = env.call("POST", "/invitations/claim", None, Some(json!({ "token": token, "account_name": "Again", "name": "Bea" }))).await;
    assert!(assert_error(&again, 409, "conflict").contains("already accepted"), "a used link says what became of it");
    let seller_view: Entity = env.get(&format!("/entities/{}", sent.entity.id), &seller).await.expect(200);
    assert_eq!(seller_view.connected_account_id, Some(buyer.id.to_string()));
}

#[tokio::test]
async fn a_link_sent_before_its_user_existed_accepts_for_the_account_the_address_joined() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let colleague = format!("{}@example.com", unique("colleague"));
    invite_buyer(&env, &seller, &colleague).await;
    env.db.accounts().add_user(&buyer.id, colleague.clone(), "Colleague".into()).await.unwrap();
    let token = env.invitation_token(&colleague).await;

    // The emailed link proves the address, which now belongs to a user of the buyer's account:
    // it accepts for that account, creating none (the names given are not needed).
    let claimed = env.call("POST", "/invitations/claim", None, Some(json!({ "token": token, "account_name": "Dup", "name": "C" }))).await;
    assert!(claimed.body.get("api_key").is_none() && claimed.body.get("account").is_none());
    let claimed: Accepted = claimed.expect(200);
    assert_eq!(claimed.connection.account_id, buyer.id.to_string());
    assert_eq!(claimed.connection.connected_account.id, seller.id.to_string());
    assert_eq!(claimed.invitation.responded_by, Some(colleague));
    let connections: Vec<Connection> = env.get("/connections", &buyer).await.expect(200);
    assert_eq!(connections[0].connected_account.id, seller.id.to_string());
}

#[tokio::test]
async fn the_emailed_link_alone_accepts_or_declines_for_the_invited_account() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let other_seller = env.account("other").await;

    invite_buyer(&env, &seller, &buyer.email).await;
    let token = env.invitation_token(&buyer.email).await;
    let accepted: Accepted = env.call("POST", "/invitations/claim", None, Some(json!({ "token": token }))).await.expect(200);
    assert_eq!(accepted.connection.account_id, buyer.id.to_string());
    assert_eq!(accepted.invitation.responded_by.as_ref(), Some(&buyer.email));
    let declined_late = env.call("POST", "/invitations/claim", None, Some(json!({ "token": token, "answer": "decline" }))).await;
    assert!(assert_error(&declined_late, 409, "conflict").contains("already accepted"));

    let sent = invite_buyer(&env, &other_seller, &buyer.email).await;
    let token = env.invitation_token(&buyer.email).await;
    let declined: Answered = env.call("POST", "/invitations/claim", None, Some(json!({ "token": token, "answer": "decline" }))).await.expect(200);
    assert_eq!(declined.invitation.status, "declined");
    let seen_by_inviter: Invitation = env.get(&format!("/invitations/{}", sent.invitation.id), &other_seller).await.expect(200);
    assert_eq!(seen_by_inviter.status, "declined");
    assert_eq!(seen_by_inviter.responded_by, Some(buyer.email.clone()));
    let connections: Vec<Connection> = env.get("/connections", &buyer).await.expect(200);
    assert_eq!(connections.len(), 1, "only the accepted invitation connected");
    let unknown_answer = env.call("POST", "/invitations/claim", None, Some(json!({ "token": token, "answer": "maybe" }))).await;
    assert!(assert_error(&unknown_answer, 422, "validation failed").contains("unknown variant `maybe`"));
}

#[tokio::test]
async fn only_the_invited_account_answers_an_invitation() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let stranger = env.account("stranger").await;
    let id = invite_buyer(&env, &seller, &buyer.email).await.invitation.id;

    for action in ["accept", "decline"] {
        let by_stranger = env.call("POST", &format!("/invitations/{id}/{action}"), Some(&stranger.key), None).await;
        assert_error(&by_stranger, 404, "not found");
        let by_inviter = env.call("POST", &format!("/invitations/{id}/{action}"), Some(&seller.key), None).await;
        assert!(assert_error(&by_inviter, 403, "forbidden").contains("invited account"));
    }
    for (method, path) in [("PUT", format!("/invitations/{id}/resend")), ("DELETE", format!("/invitations/{id}"))] {
        let by_invitee = env.call(method, &path, Some(&buyer.key), None).await;
        assert!(assert_error(&by_invitee, 403, "forbidden").contains("inviting account"));
        let by_stranger = env.call(method, &path, Some(&stranger.key), None).await;
        assert_error(&by_stranger, 404, "not found");
    }
    let token = env.invitation_token(&buyer.email).await;
    let stolen_link = env.call("POST", "/invitations/claim", Some(&stranger.key), Some(json!({ "token": token }))).await;
    assert!(assert_error(&stolen_link, 403, "forbidden").contains("another account"));
    assert_error(&env.get(&format!("/invitations/{id}"), &stranger).await, 404, "not found");
}

#[tokio::test]
async fn answered_invitations_are_final_and_say_why() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;

    let declined = invite_buyer(&env, &seller, &buyer.email).await;
    let declined_id = declined.invitation.id.as_str();
    let reply: Invitation = env.call("POST", &format!("/invitations/{declined_id}/decline"), Some(&buyer.key), None).await.expect(200);
    assert_eq!(reply.status, "declined");
    let accept = env.call("POST", &format!("/invitations/{declined_id}/accept"), Some(&buyer.key), None).await;
    assert!(assert_error(&accept, 409, "conflict").contains("declined"));
    let decline_again = env.call("POST", &format!("/invitations/{declined_id}/decline"), Some(&buyer.key), None).await;
    assert!(assert_error(&decline_again, 409, "conflict").contains("declined"));
    let entity: Entity = env.get(&format!("/entities/{}", declined.entity.id), &seller).await.expect(200);
    assert!(!entity.pending);

    let revoked = invite_buyer(&env, &seller, &buyer.email).await;
    let revoked_id = revoked.invitation.id.as_str();
    assert_ne!(revoked_id, declined_id, "a declined invitation frees the partner for a new one");
    assert_eq!(revoked.entity.id, declined.entity.id, "the partner keeps one entity");
    let reply: Invitation = env.call("DELETE", &format!("/invitations/{revoked_id}"), Some(&seller.key), None).await.expect(200);
    assert_eq!(reply.status, "revoked");
    let accept = env.call("POST", &format!("/invitations/{revoked_id}/accept"), Some(&buyer.key), None).await;
    assert!(assert_error(&accept, 409, "conflict").contains("revoked"));
    let again = env.call("DELETE", &format!("/invitations/{revoked_id}"), Some(&seller.key), None).await;
    assert!(assert_error(&again, 409, "conflict").contains("revoked"));

    let (accepted_id, _) = api_tests::connect(&env, &seller, &buyer).await;
    let twice = env.call("POST", &format!("/invitations/{accepted_id}/accept"), Some(&buyer.key), None).await;
    assert!(assert_error(&twice, 409, "conflict").contains("accepted"));
    let revoke_accepted = env.call("DELETE", &format!("/invitations/{accepted_id}"), Some(&seller.key), None).await;
    assert!(assert_error(&revoke_accepted, 409, "conflict").contains("accepted"));
    let resend_accepted = env.call("PUT", &format!("/invitations/{accepted_id}/resend"), Some(&seller.key), None).await;
    assert!(assert_error(&resend_accepted, 409, "conflict").contains("accepted"));
    let reinvite = env.call("POST", "/invitations/recipient", Some(&seller.key), Some(json!({ "email": buyer.email }))).await;
    assert!(assert_error(&reinvite, 409, "conflict").contains("already connected"));

    let statuses = |reply: api_tests::Reply| reply.expect::<Vec<Invitation>>(200).into_iter().map(|i| i.status).collect::<Vec<_>>();
    assert_eq!(statuses(env.get("/invitations", &seller).await), ["accepted", "revoked", "declined"], "newest first");
    assert_eq!(statuses(env.get("/invitations?status=revoked", &buyer).await), ["revoked"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_accepts_create_exactly_one_connection() {
    let env = Arc::new(TestEnv::new().await);
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let sent = invite_buyer(&env, &seller, &buyer.email).await;
    let path = format!("/invitations/{}/accept", sent.invitation.id);
    let replies = all_at_once(&env, "POST", &path, Some(&buyer.key), None).await;
    let statuses = statuses(&replies);
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 200 | 409)), "{statuses:?}");
    for account in [&seller, &buyer] {
        let connections: Vec<Connection> = env.get("/connections", account).await.expect(200);
        assert_eq!(connections.len(), 1, "{connections:?}");
    }
    let audit: Vec<AuditEvent> = env.get("/audit", &seller).await.expect(200);
    let accepted = audit.iter().filter(|e| e.event == "invitation.accepted").count();
    assert_eq!(accepted, 1, "one audit entry: {audit:?}");
}

#[tokio::test]
async fn resending_renews_expiry_and_link_and_emails_again() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let email = format!("{}@example.com", unique("prospect"));
    let sent = invite_buyer(&env, &seller, &email).await;
    let id = sent.invitation.id.as_str();
    let old_token = env.invitation_token(&email).await;

    let resent: InvitationSent = env.call("PUT", &format!("/invitations/{id}/resend"), Some(&seller.key), None).await.expect(200);
    assert_eq!(resent.message, "Invitation was resent successfully");
    assert_eq!(resent.invitation.id, id);
    assert!(resent.invitation.expires_at >= sent.invitation.expires_at);
    assert_eq!(env.emails_to(&email).await.len(), 2);
    let new_token = env.invitation_token(&email).await;
    assert_ne!(new_token, old_token);

    let old = env.call("POST", "/invitations/claim", None, Some(json!({ "token": old_token, "account_name": "B", "name": "B" }))).await;
    assert_error(&old, 404, "not found");
    let new = env.call("POST", "/invitations/claim", None, Some(json!({ "token": new_token, "account_name": "B", "name": "B" }))).await;
    new.expect::<SignedUp>(201);
    let audit: Vec<AuditEvent> = env.get("/audit", &seller).await.expect(200);
    let events: Vec<&str> = audit.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, ["connection.created", "invitation.accepted", "invitation.resent", "invitation.sent"]);
}

#[tokio::test]
async fn expired_invitations_answer_410_are_recorded_and_can_be_renewed() {
    let expired_env = TestEnv::with_settings(InvitationSettings { ttl: std::time::Duration::ZERO, link_base: Some(LINK_BASE.into()) }).await;
    let env = &expired_env;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let sent = invite_buyer(env, &seller, &buyer.email).await;
    let id = sent.invitation.id.as_str();
    assert_eq!(sent.invitation.status, "expired");
    assert!(sent.entity.expired);
    let listed: Vec<Invitation> = env.get("/invitations?status=expired", &buyer).await.expect(200);
    assert_eq!(listed[0].id, id);
    assert!(env.get("/invitations?status=pending", &buyer).await.expect::<Vec<Invitation>>(200).is_empty());

    let token = env.invitation_token(&buyer.email).await;
    let claim = env.call("POST", "/invitations/claim", Some(&buyer.key), Some(json!({ "token": token }))).await;
    assert!(assert_error(&claim, 410, "gone").contains("expired"));
    let claim = env.call("POST", "/invitations/claim", Some(&buyer.key), Some(json!({ "token": token }))).await;
    assert!(assert_error(&claim, 410, "gone").contains("expired"), "the link still says the invitation expired");
    for action in ["accept", "decline"] {
        let reply = env.call("POST", &format!("/invitations/{id}/{action}"), Some(&buyer.key), None).await;
        assert!(assert_error(&reply, 410, "gone").contains("expired"));
    }
    for account in [&seller, &buyer] {
        let audit: Vec<AuditEvent> = env.get("/audit", account).await.expect(200);
        assert_eq!(audit[0].event, "invitation.expired");
        assert_eq!(audit[0].actor, "system");
    }
    // An expired invitation blocks neither a new one to the same partner nor its own renewal
    // (the new one has expired too under this zero TTL).
    let fresh = env.call("POST", "/invitations/recipient", Some(&seller.key), Some(json!({ "email": buyer.email }))).await;
    assert_ne!(fresh.expect::<InvitationSent>(201).invitation.id, id);
    let renewed = env.call("PUT", &format!("/invitations/{id}/resend"), Some(&seller.key), None).await;
    renewed.expect::<InvitationSent>(200);
    assert_eq!(env.emails_to(&buyer.email).await.len(), 3);
}

#[tokio::test]
async fn invitations_by_account_id_for_both_directions() {
    let env = TestEnv::new().await;
    let a = env.account("partner-a").await;
    let b = env.account("partner-b").await;
    let sent = env.call("POST", "/invitations", Some(&a.key), Some(json!({ "account_id": b.id.to_string(), "relationship_type": "both", "name": "Our friends at B" }))).await;
    let sent: InvitationSent = sent.expect(201);
    assert_eq!(sent.entity.name, "Our friends at B");
    assert_eq!(env.emails_to(&b.email).await.len(), 1, "the account's users are emailed");
    let accepted: Accepted = env.call("POST", &format!("/invitations/{}/accept", sent.invitation.id), Some(&b.key), None).await.expect(200);
    assert_eq!(accepted.connection.relationship_type, "both");
    let a_side: Connection = env.get(&format!("/connections/{}", accepted.connection.id), &a).await.expect(200);
    assert_eq!(a_side.relationship_type, "both");
}

#[tokio::test]
async fn invalid_invitation_requests_get_clear_4xx_errors() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let post = |path: &'static str, body: Value| {
        let key = seller.key.clone();
        let env = &env;
        async move { env.call("POST", path, Some(&key), Some(body)).await }
    };
    let field = |reply: &api_tests::Reply| assert_error(reply, 422, "validation failed");
    assert!(field(&post("/invitations/recipient", json!({})).await).contains("email"));
    assert!(field(&post("/invitations/recipient", json!({ "email": 42 })).await).contains("email"));
    assert!(field(&post("/invitations/recipient", json!({ "email": "not-an-email" })).await).contains("email"));
    assert!(field(&post("/invitations/recipient", json!({ "email": "a@b.co", "emial": "x" })).await).contains("emial"));
    assert!(field(&post("/invitations/recipient", json!({ "email": "a@b.co", "account_id": seller.id.to_string() })).await).contains("account_id"));
    assert!(field(&post("/invitations/recipient", json!({ "account_id": "xyz" })).await).contains("account_id"));
    assert!(field(&post("/invitations/recipient", json!({ "email": "a@b.co", "relationship_type": "seller" })).await).contains("relationship_type"));
    assert!(field(&post("/invitations", json!({ "email": "a@b.co" })).await).contains("relationship_type"));
    assert!(field(&post("/invitations", json!({ "email": "a@b.co", "relationship_type": "owner" })).await).contains("relationship_type"));
    assert!(field(&post("/invitations/source", json!([])).await).contains("body"));

    let self_invite = post("/invitations/source", json!({ "email": seller.email })).await;
    assert!(assert_error(&self_invite, 409, "conflict").contains("itself"));
    let unknown_account = post("/invitations/source", json!({ "account_id": shared::Id::generate().to_string() })).await;
    assert_error(&unknown_account, 404, "not found");

    let raw = |body: &str| api_tests_raw(&seller.key, body);
    assert_error(&env.request(raw("{\"email\":")).await, 400, "invalid JSON");
    assert_error(&env.request(raw("")).await, 400, "invalid JSON");
    let huge = format!("{{\"email\":\"a@b.co\",\"name\":\"{}\"}}", "x".repeat(70_000));
    assert_error(&env.request(raw(&huge)).await, 413, "payload too large");
    assert!(env.get("/invitations", &seller).await.expect::<Vec<Invitation>>(200).is_empty(), "nothing was created");
}

fn api_tests_raw(key: &str, body: &str) -> infra::local_api::HttpRequest {
    infra::local_api::HttpRequest {
        method: "POST".into(),
        uri: "/invitations/recipient".into(),
        headers: vec![("authorization".into(), format!("Bearer {key}"))],
        body: body.as_bytes().to_vec(),
    }
}

#[tokio::test]
async fn the_three_invitation_routes_answer_alike() {
    let env = TestEnv::new().await;
    let inviter = env.account("inviter").await;
    for (path, extra) in [("/invitations/recipient", json!({})), ("/invitations/source", json!({})), ("/invitations", json!({ "relationship_type": "both" }))] {
        let with = |mut body: Value| {
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        let email = format!("{}@example.com", unique("p"));
        let created: InvitationSent = env.call("POST", path, Some(&inviter.key), Some(with(json!({ "email": email })))).await.expect(201);
        let again: InvitationSent = env.call("POST", path, Some(&inviter.key), Some(with(json!({ "email": email })))).await.expect(200);
        assert_eq!(again.invitation.id, created.invitation.id, "{path}");
        // The same partner in another role, on this route where it can say so.
        let (other_route, other_role) = match path {
            "/invitations/recipient" => ("/invitations/source", json!({ "email": email })),
            "/invitations/source" => ("/invitations/recipient", json!({ "email": email })),
            _ => (path, json!({ "email": email, "relationship_type": "seller" })),
        };
        let conflict = env.call("POST", other_route, Some(&inviter.key), Some(other_role)).await;
        assert_error(&conflict, 409, "conflict");
        let unknown = env.call("POST", path, Some(&inviter.key), Some(with(json!({ "account_id": shared::Id::generate().to_string() })))).await;
        assert_error(&unknown, 404, "not found");
        let itself = env.call("POST", path, Some(&inviter.key), Some(with(json!({ "account_id": inviter.id.to_string() })))).await;
        assert_error(&itself, 409, "conflict");
        let invalid = env.call("POST", path, Some(&inviter.key), Some(with(json!({ "email": "nope" })))).await;
        assert_error(&invalid, 422, "validation failed");
        let mut huge = api_tests_raw(&inviter.key, &format!("{{\"email\":\"a@b.co\",\"name\":\"{}\"}}", "x".repeat(70_000)));
        huge.uri = path.into();
        assert_error(&env.request(huge).await, 413, "payload too large");
    }
}

#[tokio::test]
async fn lists_page_with_an_opaque_cursor() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let other = env.account("other").await;
    let mut ids = vec![];
    for _ in 0..3 {
        let sent = invite_buyer(&env, &seller, &format!("{}@example.com", unique("p"))).await;
        ids.push(sent.invitation.id);
    }
    ids.reverse();
    let first = env.get("/invitations?limit=2&direction=sent", &seller).await;
    let page_ids: Vec<String> = first.expect::<Vec<Invitation>>(200).into_iter().map(|i| i.id).collect();
    assert_eq!(page_ids, ids[..2]);
    let cursor = first.headers["x-next-cursor"].clone();
    // Opaque: not a readable encoding of internal keys.
    let decoded = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &cursor).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&decoded).contains("ACCOUNT#"), "{cursor}");
    // Tamper-evident: a cursor for the seller's own partition, edited, is refused.
    let edited = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, format!(r#"{{"pk":"ACCOUNT#{}","sk":"INVITATION#ffffffffffffffffffffffff"}}"#, seller.id));
    assert_error(&env.get(&format!("/invitations?cursor={edited}"), &seller).await, 400, "bad request");
    assert!(first.headers["link"].contains("rel=\"next\""));
    assert!(first.headers["link"].contains("direction=sent"));
    let second = env.get(&format!("/invitations?limit=2&cursor={cursor}"), &seller).await;
    let page_ids: Vec<String> = second.expect::<Vec<Invitation>>(200).into_iter().map(|i| i.id).collect();
    assert_eq!(page_ids, ids[2..]);
    assert!(!second.headers.contains_key("x-next-cursor"), "the last page names no next one");

    assert_error(&env.get(&format!("/invitations?cursor={cursor}"), &other).await, 400, "bad request");
    assert_error(&env.get(&format!("/audit?cursor={cursor}"), &seller).await, 400, "bad request");
    for list in ["/invitations", "/connections", "/entities", "/audit", "/onboards", "/flows"] {
        assert_error(&env.get(&format!("{list}?limit=0"), &seller).await, 400, "bad request");
        assert_error(&env.get(&format!("{list}?cursor=bm9wZQ"), &seller).await, 400, "bad request");
    }
    assert_error(&env.get("/invitations?limit=abc", &seller).await, 400, "bad request");
    assert_error(&env.get("/invitations?status=lost", &seller).await, 400, "bad request");
    assert_error(&env.get("/invitations?direction=up", &seller).await, 400, "bad request");
}

/// An inviter learns nothing about who owns an address from inviting it: not from the reply, not
/// from a pending invitation returned again, not from an "already connected" refusal.
#[tokio::test]
async fn inviting_an_address_discloses_nothing_about_its_account() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let stranger_email = format!("{}@example.com", unique("nobody"));
    let (_, _) = api_tests::connect(&env, &seller, &buyer).await;
    // A second user of the connected buyer's account.
    let colleague = env.db.accounts().add_user(&buyer.id, format!("{}@example.com", unique("colleague")), "Colleague".into()).await.unwrap().email;

    let mut shapes = vec![];
    for email in [&colleague, &stranger_email] {
        let reply: InvitationSent = env.call("POST", "/invitations/recipient", Some(&seller.key), Some(json!({ "email": email }))).await.expect(201);
        assert_eq!(reply.invitation.invitee_account, None);
        assert_eq!(reply.entity.name, email.as_str());
        let again: InvitationSent = env.call("POST", "/invitations/recipient", Some(&seller.key), Some(json!({ "email": email }))).await.expect(200);
        shapes.push((reply.entity.pending, again.invitation.id == reply.invitation.id));
    }
    assert_eq!(shapes[0], shapes[1], "an owned address and an unknown one look alike");
    // The colleague's account is the one that finds out it is already connected.
    let invitation = env.get("/invitations?direction=received", &buyer).await.expect::<Vec<Invitation>>(200).remove(0).id;
    let refused = env.call("POST", &format!("/invitations/{invitation}/accept"), Some(&buyer.key), None).await;
    assert!(assert_error(&refused, 409, "conflict").contains("already connected"));
}

#[tokio::test]
async fn the_invitation_page_shows_what_the_link_answers_and_what_became_of_it() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let page = |uri: String| env.request(api_tests::browser_get(&uri));

    let address = format!("{}@example.com", unique("newcomer"));
    invite_buyer(&env, &seller, &address).await;
    let token = env.invitation_token(&address).await;
    let open = page(format!("/invitations/claim?token={token}")).await;
    assert_eq!((open.status, open.headers["content-type"].as_str(), open.headers["referrer-policy"].as_str()), (200, "text/html; charset=utf-8", "no-referrer"));
    assert!(!open.body.as_str().unwrap().contains(&token), "the token is not written into the page");
    let data = api_tests::page_data(&open);
    assert_eq!((data["state"].as_str(), data["invitation"]["inviter"]["name"].as_str()), (Some("pending"), Some(seller.name.as_str())));
    assert_eq!((data["invitation"]["invitee_email"].as_str(), data["invitation"]["relationship_type"].as_str()), (Some(address.as_str()), Some("buyer")));
    assert!(data["answers_for"].is_null(), "accepting creates an account");

    invite_buyer(&env, &seller, &buyer.email).await;
    let token = env.invitation_token(&buyer.email).await;
    assert_eq!(api_tests::page_data(&page(format!("/invitations/claim?token={token}")).await)["answers_for"], buyer.name);
    env.call("POST", "/invitations/claim", None, Some(json!({ "token": token }))).await;
    let used = api_tests::page_data(&page(format!("/invitations/claim?token={token}")).await);
    assert_eq!((used["state"].as_str(), used["answers_for"].is_null()), (Some("accepted"), true));

    for uri in ["/invitations/claim?token=nope".to_string(), "/invitations/claim".to_string()] {
        let unknown = page(uri).await;
        assert_eq!((unknown.status, api_tests::page_data(&unknown)["state"].as_str(), api_tests::page_data(&unknown)["invitation"].is_null()), (200, Some("unknown"), true));
    }
}
