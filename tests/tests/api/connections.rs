//! Connections, entities and the audit trail: revocation, cross-account isolation, bad ids.

use api_tests::{AuditEvent, Connection, Entity, TestEnv, assert_error, connect};
use serde_json::json;

#[tokio::test]
async fn either_party_revokes_and_neither_side_can_use_the_connection() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let (_, connection_id) = connect(&env, &seller, &buyer).await;

    let revoked: Connection = env.call("DELETE", &format!("/connections/{connection_id}"), Some(&buyer.key), None).await.expect(200);
    assert_eq!(revoked.status, "revoked");
    assert_eq!(revoked.revoked_by.as_deref(), Some(buyer.email.as_str()));
    for account in [&seller, &buyer] {
        let seen: Connection = env.get(&format!("/connections/{connection_id}"), account).await.expect(200);
        assert_eq!(seen.status, "revoked", "both copies end together");
        let entities: Vec<Entity> = env.get("/entities", account).await.expect(200);
        assert_eq!(entities[0].connected, None, "the partner is no longer a source: {entities:?}");
        assert_eq!(entities[0].connection_id, None);
        let audit: Vec<AuditEvent> = env.get("/audit", account).await.expect(200);
        assert_eq!(audit[0].event, "connection.revoked");
        assert_eq!(audit[0].actor, buyer.email);
    }
    let again = env.call("DELETE", &format!("/connections/{connection_id}"), Some(&seller.key), None).await;
    assert!(assert_error(&again, 409, "conflict").contains("already revoked"));

    // A revoked pair can connect again, with a new connection and the same entities.
    let entity_before = env.get("/entities", &seller).await.expect::<Vec<Entity>>(200).remove(0).id;
    let (_, second) = connect(&env, &seller, &buyer).await;
    assert_ne!(second, connection_id);
    let entities: Vec<Entity> = env.get("/entities", &seller).await.expect(200);
    assert_eq!(entities.len(), 1);
    assert_eq!(entities[0].id, entity_before);
    assert_eq!(entities[0].connection_id, Some(second));
    let connections: Vec<Connection> = env.get("/connections", &buyer).await.expect(200);
    let statuses: Vec<&str> = connections.iter().map(|c| c.status.as_str()).collect();
    assert_eq!(statuses, ["active", "revoked"]);
}

#[tokio::test]
async fn another_accounts_ids_are_not_found() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let stranger = env.account("stranger").await;
    let (invitation_id, connection_id) = connect(&env, &seller, &buyer).await;
    let entity_id = env.get("/entities", &seller).await.expect::<Vec<Entity>>(200).remove(0).id;
    let audit_id = env.get("/audit", &seller).await.expect::<Vec<AuditEvent>>(200).remove(0).id;

    for (method, path) in [
        ("GET", format!("/connections/{connection_id}")),
        ("GET", format!("/connections/{invitation_id}")),
        ("DELETE", format!("/connections/{connection_id}")),
        ("GET", format!("/invitations/{invitation_id}")),
        ("GET", format!("/entities/{entity_id}")),
        ("GET", format!("/entities/{audit_id}")),
        ("POST", format!("/invitations/{invitation_id}/accept")),
        ("POST", format!("/invitations/{invitation_id}/decline")),
        ("PUT", format!("/invitations/{invitation_id}/resend")),
        ("DELETE", format!("/invitations/{invitation_id}")),
    ] {
        let reply = env.call(method, &path, Some(&stranger.key), None).await;
        assert_error(&reply, 404, "not found");
    }
    for list in ["/connections", "/entities", "/invitations", "/audit"] {
        let reply = env.get(list, &stranger).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, json!([]), "{list} shows nothing of other accounts");
    }
    let still: Connection = env.get(&format!("/connections/{connection_id}"), &seller).await.expect(200);
    assert_eq!(still.status, "active", "the probes changed nothing");
}

#[tokio::test]
async fn malformed_ids_in_paths_are_400() {
    let env = TestEnv::new().await;
    let account = env.account("account").await;
    for (method, path) in [
        ("GET", "/connections/not-an-id"),
        ("DELETE", "/connections/123"),
        ("GET", "/invitations/zzzzzzzzzzzzzzzzzzzzzzzz"),
        ("POST", "/invitations/64b8f0f5e4b0c3a1d5e6f7a/accept"),
        ("POST", "/invitations/%00/decline"),
        ("PUT", "/invitations/..%2F..%2Fetc/resend"),
        ("DELETE", "/invitations/64b8f0f5e4b0c3a1d5e6f7a8a"),
        ("GET", "/entities/ENTITY%23x"),
    ] {
        let reply = env.call(method, path, Some(&account.key), None).await;
        assert!(assert_error(&reply, 400, "bad request").contains("not a valid id"), "{method} {path}");
    }
    let well_formed_unknown = env.get("/connections/64B8F0F5E4B0C3A1D5E6F7A8", &account).await;
    assert_error(&well_formed_unknown, 404, "not found");
}

#[tokio::test]
async fn the_audit_trail_names_actor_event_and_partner_newest_first() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let (invitation_id, connection_id) = connect(&env, &seller, &buyer).await;
    let audit: Vec<AuditEvent> = env.get("/audit", &buyer).await.expect(200);
    let events: Vec<(&str, &str, &str)> = audit.iter().map(|e| (e.event.as_str(), e.actor.as_str(), e.subject_id.as_str())).collect();
    assert_eq!(
        events,
        [
            ("connection.created", buyer.email.as_str(), connection_id.as_str()),
            ("invitation.accepted", buyer.email.as_str(), invitation_id.as_str()),
            ("invitation.sent", seller.email.as_str(), invitation_id.as_str()),
        ]
    );
    assert!(audit.iter().all(|e| e.partner_account_id == Some(seller.id.to_string())));
    let page = env.get("/audit?limit=1", &buyer).await;
    assert_eq!(page.expect::<Vec<AuditEvent>>(200).len(), 1);
    let next: Vec<AuditEvent> = env.get(&format!("/audit?limit=1&cursor={}", page.headers["x-next-cursor"]), &buyer).await.expect(200);
    assert_eq!(next[0].event, "invitation.accepted");
}

#[tokio::test]
async fn each_side_documents_the_relationship_for_itself() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let (invitation_id, connection_id) = connect(&env, &seller, &buyer).await;
    let uri = format!("/connections/{connection_id}/documentation");
    let docs = json!({
        "purpose": "Auto insurance leads\nfor the west coast",
        "expected_volume": "about 500 a day",
        "contacts": [{ "name": "Ana Lopez", "email": "Ana@Buyer.example.com", "phone": "+1 555 010 0100", "role": "account manager" }],
    });
    let saved: Connection = env.call("PUT", &uri, Some(&seller.key), Some(docs)).await.expect(200);
    let recorded = saved.documentation.expect("the documentation");
    assert_eq!(recorded["purpose"], "Auto insurance leads\nfor the west coast");
    assert_eq!(recorded["contacts"][0]["email"], "ana@buyer.example.com");
    // The seller reads it back (also by the invitation's id); the buyer's copy has none.
    let read: Connection = env.get(&format!("/connections/{invitation_id}"), &seller).await.expect(200);
    assert_eq!(read.documentation, Some(recorded.clone()));
    let buyers: Connection = env.get(&format!("/connections/{connection_id}"), &buyer).await.expect(200);
    assert_eq!(buyers.documentation, None, "the partner never sees it");
    // A cleared field is cleared, not ignored; the whole record is replaced.
    let cleared: Connection = env.call("PUT", &uri, Some(&seller.key), Some(json!({ "purpose": " ", "expected_volume": "about 800 a day" }))).await.expect(200);
    let cleared = cleared.documentation.unwrap();
    assert_eq!((cleared["purpose"].clone(), cleared["expected_volume"].clone(), cleared["contacts"].clone()), (json!(null), json!("about 800 a day"), json!([])));
    // A wrong field is named, and nothing is stored.
    let details = assert_error(&env.call("PUT", &uri, Some(&seller.key), Some(json!({ "contacts": [{ "name": "Bo", "phone": "call me" }] }))).await, 422, "validation failed");
    assert!(details.starts_with("contacts[0].phone"), "{details}");
    assert_error(&env.call("PUT", &uri, Some(&seller.key), Some(json!({ "notes": "x" }))).await, 422, "validation failed");
    let unchanged: Connection = env.get(&format!("/connections/{connection_id}"), &seller).await.expect(200);
    assert_eq!(unchanged.documentation.unwrap()["expected_volume"], "about 800 a day");
    // Another account's connection is not found; the revoked one may still be documented.
    let stranger = env.account("stranger").await;
    assert_error(&env.call("PUT", &uri, Some(&stranger.key), Some(json!({}))).await, 404, "not found");
    env.call("DELETE", &format!("/connections/{connection_id}"), Some(&buyer.key), None).await.expect::<Connection>(200);
    let after: Connection = env.call("PUT", &uri, Some(&buyer.key), Some(json!({ "purpose": "Ended: volumes too low" }))).await.expect(200);
    assert_eq!((after.status.as_str(), after.documentation.unwrap()["purpose"].as_str()), ("revoked", Some("Ended: volumes too low")));
}
