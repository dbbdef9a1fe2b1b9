//! The webhook receiver and what it feeds: integrations, provider authentication (signature
//! vectors), dedupe, verification sessions (Incode), channel onboarding (360dialog).

use std::sync::Arc;

use api_tests::{all_at_once, concurrently, statuses, Channel, ChannelKey, FakeServer, InboundIntegration, Reply, TestAccount, TestEnv, VerificationSession, WebhookEvent, assert_error, race};
use serde_json::{Value, json};
use shared::platform::signature;

const SECRET: &str = "a-long-enough-shared-secret-for-tests";

async fn integration(env: &TestEnv, account: &TestAccount, body: Value) -> (String, String) {
    let created: InboundIntegration = env.call("POST", "/integrations", Some(&account.key), Some(body)).await.expect(201);
    (created.id, created.secret.expect("the secret, shown once"))
}

async fn events(env: &TestEnv, account: &TestAccount, id: &str) -> Vec<WebhookEvent> {
    env.get(&format!("/integrations/{id}/events"), account).await.expect(200)
}

async fn session(env: &TestEnv, account: &TestAccount, interview: &str) -> VerificationSession {
    env.get(&format!("/verification-sessions/{interview}"), account).await.expect(200)
}

async fn channel(env: &TestEnv, account: &TestAccount, id: &str) -> Channel {
    env.get(&format!("/channels/{id}"), account).await.expect(200)
}

async fn incode(env: &TestEnv, id: &str, token: &str, body: &Value) -> Reply {
    env.post_raw(&format!("/webhooks/{id}"), &[("authorization", &format!("Bearer {token}")), ("content-type", "application/json")], body.to_string().as_bytes()).await
}

async fn redirect(env: &TestEnv, id: &str, query: &str) -> Reply {
    env.call("GET", &format!("/integrations/{id}/redirect?{query}"), None, None).await
}

async fn hub_event(env: &TestEnv, id: &str, body: Value, token: &str) -> Reply {
    env.post_raw(&format!("/webhooks/{id}"), &[("x-webhook-token", token)], body.to_string().as_bytes()).await
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn integrations_show_their_secret_once_and_belong_to_their_account() {
    let env = TestEnv::new().await;
    let owner = env.account("owner").await;
    let other = env.account("other").await;
    let (id, secret) = integration(&env, &owner, json!({ "provider": "incode", "name": "Incode prod" })).await;
    assert!(secret.starts_with("whsec_"));

    let got = env.get(&format!("/integrations/{id}"), &owner).await;
    let receive_url = got.expect::<InboundIntegration>(200).receive_url;
    // Without API_URL, the domain API Gateway served the request on (the local event says 127.0.0.1).
    assert_eq!(receive_url, format!("https://127.0.0.1/webhooks/{id}"));
    let listed = env.get("/integrations", &owner).await;
    assert_eq!(listed.expect::<Vec<InboundIntegration>>(200).len(), 1);
    for reply in [&got, &listed] {
        let text = reply.body.to_string();
        assert!(!text.contains(&secret) && !text.contains(&shared::platform::secret::hash(&secret)), "no secret material after creation: {text}");
    }

    assert_error(&env.get(&format!("/integrations/{id}"), &other).await, 404, "not found");
    assert_error(&env.get(&format!("/integrations/{id}/events"), &other).await, 404, "not found");
    assert_error(&env.call("DELETE", &format!("/integrations/{id}"), Some(&other.key), None).await, 404, "not found");
    assert!(env.get("/integrations", &other).await.expect::<Vec<InboundIntegration>>(200).is_empty());
    assert_error(&env.get("/integrations/not-an-id", &owner).await, 400, "bad request");
    assert_error(&env.get("/integrations/not-an-id/events", &owner).await, 400, "bad request");
    assert_error(&env.call("DELETE", "/integrations/not-an-id", Some(&owner.key), None).await, 400, "bad request");
    assert_error(&env.get("/integrations?limit=0", &owner).await, 400, "bad request");
    assert_error(&env.get(&format!("/integrations/{id}/events?cursor=forged"), &owner).await, 400, "bad request");
    assert_error(&env.call("GET", "/integrations", None, None).await, 401, "authentication failed");

    let missing = env.call("POST", "/integrations", Some(&owner.key), Some(json!({ "name": "x" }))).await;
    assert!(assert_error(&missing, 422, "validation failed").contains("provider"));
    assert_error(&env.call("POST", "/integrations", Some(&owner.key), Some(json!({ "provider": "stripe" }))).await, 422, "validation failed");
    assert_error(&env.call("POST", "/integrations", Some(&owner.key), Some(json!({ "provider": "incode", "extra": 1 }))).await, 422, "validation failed");
    assert_error(&env.call("POST", "/integrations", Some(&owner.key), Some(json!({ "provider": "incode", "secret": "short" }))).await, 422, "validation failed");
    let huge = json!({ "provider": "incode", "name": "x".repeat(70_000) });
    assert_error(&env.call("POST", "/integrations", Some(&owner.key), Some(huge)).await, 413, "payload too large");
    let not_json = env.post_raw("/integrations", &[("authorization", &format!("Bearer {}", owner.key))], b"{nope").await;
    assert_error(&not_json, 400, "invalid JSON");

    // Deleted: the receive URL is gone with it.
    assert_eq!(env.call("DELETE", &format!("/integrations/{id}"), Some(&owner.key), None).await.status, 204);
    // A deleted (or never existing) integration is refused exactly like a wrong credential, so
    // the public route does not tell which ids exist.
    let deleted = incode(&env, &id, &secret, &json!({ "interviewId": "a1", "onboardingStatus": "ONBOARDING_FINISHED" })).await;
    let (other_id, _) = integration(&env, &owner, json!({ "provider": "incode" })).await;
    let wrong_token = incode(&env, &other_id, "wrong-token-of-some-length", &json!({ "interviewId": "a1", "onboardingStatus": "ONBOARDING_FINISHED" })).await;
    let never = incode(&env, &shared::Id::generate().to_string(), &secret, &json!({ "interviewId": "a1" })).await;
    for reply in [&deleted, &never] {
        assert_eq!((reply.status, &reply.body), (wrong_token.status, &wrong_token.body));
    }
    assert_error(&wrong_token, 401, "authentication failed");
    assert_error(&env.get(&format!("/integrations/{id}"), &owner).await, 404, "not found");
}

#[tokio::test]
async fn onboard360_signatures_are_verified_over_the_raw_body() {
    let env = TestEnv::new().await;
    let account = env.account("receiver").await;
    let (id, secret) = integration(&env, &account, json!({ "provider": "360onboard", "secret": SECRET })).await;
    assert_eq!(secret, SECRET, "a supplied secret is the one used");
    let url = format!("/webhooks/{id}");
    let body = br#"{"event":"client.created","data":{"client_id":"770e8400"},"timestamp":"2024-01-15T09:00:00Z"}"#;
    let good = signature::sign_onboard(SECRET, body);
    let send = |sig: String, body: Vec<u8>| {
        let env = &env;
        let url = url.clone();
        async move { env.post_raw(&url, &[("x-360onboard-signature", &sig), ("x-360onboard-event", "client.created")], &body).await }
    };

    let mut tampered_body = body.to_vec();
    tampered_body[20] = b'X';
    let last = good.chars().last().unwrap();
    let tampered_signature = format!("{}{}", &good[..good.len() - 1], if last == 'a' { 'b' } else { 'a' });
    let refused = [
        ("tampered body", good.clone(), tampered_body),
        ("tampered signature", tampered_signature, body.to_vec()),
        ("truncated", good[..40].to_string(), body.to_vec()),
        ("empty", String::new(), body.to_vec()),
        ("prefix alone", "sha256=".into(), body.to_vec()),
        ("no prefix", good["sha256=".len()..].to_string(), body.to_vec()),
        ("wrong secret", signature::sign_onboard("another-secret-of-enough-length", body), body.to_vec()),
    ];
    for (case, sig, body) in refused {
        let reply = send(sig, body).await;
        assert_eq!(reply.status, 401, "{case}: {:?}", reply.body);
        assert_error(&reply, 401, "authentication failed");
    }
    let unsigned = env.post_raw(&url, &[("x-360onboard-event", "client.created")], body).await;
    assert_error(&unsigned, 401, "authentication failed");
    assert!(events(&env, &account, &id).await.is_empty(), "refused deliveries record nothing");

    let accepted = send(good.clone(), body.to_vec()).await;
    assert_eq!((accepted.status, &accepted.body), (200, &json!({ "success": true })));
    let recorded = events(&env, &account, &id).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].event_type, "client.created");
    assert_eq!(recorded[0].payload["data"]["client_id"], "770e8400", "the provider's payload, as sent");
    assert_eq!(recorded[0].outcome, "recorded");

    // A retry of the same delivery (no webhook-id: the body's hash) is taken once.
    assert_eq!(send(good, body.to_vec()).await.status, 200);
    assert_eq!(events(&env, &account, &id).await.len(), 1);

    let no_event = env.post_raw(&url, &[("x-360onboard-signature", &signature::sign_onboard(SECRET, b"{}"))], b"{}").await;
    assert_error(&no_event, 400, "bad request");
    let not_json = env.post_raw(&url, &[("x-360onboard-signature", &signature::sign_onboard(SECRET, b"nope")), ("x-360onboard-event", "x")], b"nope").await;
    assert_error(&not_json, 400, "invalid JSON");
    let big = vec![b' '; shared::platform::http::MAX_BODY_BYTES + 1];
    assert_error(&env.post_raw(&url, &[("x-360onboard-signature", &signature::sign_onboard(SECRET, &big))], &big).await, 413, "payload too large");
    assert_error(&env.post_raw(&format!("/webhooks/{}", shared::Id::generate()), &[], body).await, 401, "authentication failed");
    assert_error(&env.post_raw("/webhooks/xyz", &[], body).await, 400, "bad request");
}

/// The seed's own signing code (Python `json.dumps(payload, separators=(',', ':'))`, and
/// Node's `JSON.stringify(payload)` where Node is installed) produces a body and signature the
/// receiver accepts.
#[tokio::test]
async fn payloads_signed_as_the_seed_signs_them_verify() {
    let env = TestEnv::new().await;
    let account = env.account("seed-signer").await;
    let (id, _) = integration(&env, &account, json!({ "provider": "360onboard", "secret": SECRET })).await;
    let python = r#"
import hmac, hashlib, json, sys
payload = {"event": "client.completed", "data": {"client_id": "770e", "first_name": "Jöhn", "company_name": "Acme \"Corp\""}, "timestamp": "2024-01-15T09:00:00Z"}
body = json.dumps(payload, separators=(',', ':'))
signature = hmac.new(sys.argv[1].encode('utf-8'), body.encode('utf-8'), hashlib.sha256).hexdigest()
print('sha256=' + signature)
print(body)
"#;
    let node = r#"
const crypto = require('crypto');
const payload = {event: "client.completed", data: {client_id: "770e", first_name: "Jöhn", company_name: 'Acme "Corp"'}, timestamp: "2024-01-15T09:00:00Z"};
const body = JSON.stringify(payload);
console.log('sha256=' + crypto.createHmac('sha256', process.argv[1]).update(body).digest('hex'));
console.log(body);
"#;
    let mut signers = vec![("python3", vec!["-c", python, SECRET])];
    if std::process::Command::new("node").arg("--version").output().is_ok() {
        signers.push(("node", vec!["-e", node, SECRET]));
    } else {
        eprintln!("node is not installed here: only the Python signer ran");
    }
    for (program, args) in signers {
        let out = tokio::process::Command::new(program).args(&args).output().await.expect("run the seed's signer");
        assert!(out.status.success(), "{program}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let (signature, body) = text.trim_end().split_once('\n').unwrap();
        let reply = env.post_raw(&format!("/webhooks/{id}"), &[("x-360onboard-signature", signature), ("x-360onboard-event", "client.completed")], body.as_bytes()).await;
        assert_eq!(reply.status, 200, "{program}-signed delivery: {:?}", reply.body);
    }
    assert!(!events(&env, &account, &id).await.is_empty());
}

#[tokio::test]
async fn standard_webhooks_headers_are_accepted_with_replay_protection() {
    let env = TestEnv::new().await;
    let account = env.account("standard").await;
    let (id, secret) = integration(&env, &account, json!({ "provider": "incode", "standard_webhooks": true })).await;
    let url = format!("/webhooks/{id}");
    let body = br#"{"interviewId":"sw1","onboardingStatus":"ID_VALIDATION_FINISHED"}"#;
    let deliver = |msg: &'static str, timestamp: u64, sig: String| {
        let (env, url) = (&env, url.clone());
        async move {
            let ts = timestamp.to_string();
            env.post_raw(&url, &[("webhook-id", msg), ("webhook-timestamp", &ts), ("webhook-signature", &sig)], body).await
        }
    };
    let t = now();
    assert_eq!(deliver("msg_1", t, signature::sign_standard(&secret, "msg_1", t, body)).await.status, 200);
    // The same message again (a retry): taken once.
    assert_eq!(deliver("msg_1", t, signature::sign_standard(&secret, "msg_1", t, body)).await.status, 200);
    assert_eq!(events(&env, &account, &id).await.len(), 1);
    // A recorded delivery replayed after the tolerance, and one from the future: refused (a
    // margin past 300 s, since the test's clock and the handler's read differ by a second).
    let old = t - 330;
    assert_error(&deliver("msg_1", old, signature::sign_standard(&secret, "msg_1", old, body)).await, 401, "authentication failed");
    let ahead = t + 330;
    assert_error(&deliver("msg_9", ahead, signature::sign_standard(&secret, "msg_9", ahead, body)).await, 401, "authentication failed");
    // Rotation: several signatures, one of them valid.
    let rotated = format!("{} {}", signature::sign_standard("whsec_b2xkIHNlY3JldA==", "msg_2", t, body), signature::sign_standard(&secret, "msg_2", t, body));
    assert_eq!(deliver("msg_2", t, rotated).await.status, 200);
    assert_error(&deliver("msg_3", t, "v1,".into()).await, 401, "authentication failed");
    assert_error(&deliver("msg_3", t, signature::sign_standard(&secret, "msg_other", t, body)).await, 401, "authentication failed");
    assert_eq!(events(&env, &account, &id).await.len(), 2, "msg_1 and msg_2");

    // Only Standard Webhooks: the provider's own token neither stands in for a stale signature
    // nor gives a resent delivery a second dedupe key.
    let bearer = format!("Bearer {secret}");
    let stale_with_token = env.post_raw(&url, &[("authorization", &bearer), ("webhook-id", "msg_1"), ("webhook-timestamp", &old.to_string())], body).await;
    assert_error(&stale_with_token, 401, "authentication failed");
    assert_error(&env.post_raw(&url, &[("authorization", &bearer)], body).await, 401, "authentication failed");
    assert_eq!(events(&env, &account, &id).await.len(), 2, "nothing recorded a second time");
}

#[tokio::test]
async fn a_standard_webhooks_360onboard_integration_refuses_its_own_signature_header() {
    let env = TestEnv::new().await;
    let account = env.account("standard360").await;
    let (id, secret) = integration(&env, &account, json!({ "provider": "360onboard", "standard_webhooks": true })).await;
    let url = format!("/webhooks/{id}");
    let body = br#"{"event":"client.created","data":{"client_id":"c1"}}"#;
    let hour_ago = now() - 3600;
    let stale = signature::sign_standard(&secret, "msg_old", hour_ago, body);
    let ts = hour_ago.to_string();
    let old_headers = [("webhook-id", "msg_old"), ("webhook-timestamp", ts.as_str()), ("webhook-signature", stale.as_str()), ("x-360onboard-event", "client.created")];
    assert_error(&env.post_raw(&url, &old_headers, body).await, 401, "authentication failed");
    let own = signature::sign_onboard(&secret, body);
    let sidestep = env.post_raw(&url, &[("x-360onboard-signature", own.as_str()), ("x-360onboard-event", "client.created")], body).await;
    assert_error(&sidestep, 401, "authentication failed");
    assert!(events(&env, &account, &id).await.is_empty());
}

#[tokio::test]
async fn incode_statuses_follow_the_seed_order_whatever_the_delivery_order() {
    let env = TestEnv::new().await;
    let account = env.account("kyc").await;
    let other = env.account("kyc-other").await;
    let (id, token) = integration(&env, &account, json!({ "provider": "incode" })).await;
    let interview = "664283755e0f8e1b87fcc2ce";

    let registered: VerificationSession = env.call("POST", "/verification-sessions", Some(&account.key), Some(json!({ "interview_id": interview, "external_customer_id": "MyCustomerID#0001" }))).await.expect(201);
    assert_eq!(registered.status, "UNKNOWN");
    assert_error(&env.call("POST", "/verification-sessions", Some(&account.key), Some(json!({ "interview_id": interview }))).await, 409, "conflict");
    assert_error(&env.call("POST", "/verification-sessions", Some(&account.key), Some(json!({ "interview_id": "a/b" }))).await, 422, "validation failed");
    assert_error(&env.call("POST", "/verification-sessions", Some(&account.key), Some(json!({}))).await, 422, "validation failed");
    let unknown_onboard = json!({ "interview_id": "other1", "onboard_id": shared::Id::generate() });
    assert_error(&env.call("POST", "/verification-sessions", Some(&account.key), Some(unknown_onboard)).await, 404, "not found");

    let status = |s: &str| json!({ "interviewId": interview, "externalCustomerId": "MyCustomerID#0001", "onboardingStatus": s });
    assert_error(&incode(&env, &id, "wrong-token", &status("ID_VALIDATION_FINISHED")).await, 401, "authentication failed");
    let no_token = env.post_raw(&format!("/webhooks/{id}"), &[], status("ID_VALIDATION_FINISHED").to_string().as_bytes()).await;
    assert_error(&no_token, 401, "authentication failed");

    for s in ["FACE_VALIDATION_FINISHED", "ID_VALIDATION_FINISHED", "MANUAL_REVIEW_APPROVED", "SOMETHING_NEW"] {
        let reply = incode(&env, &id, &token, &status(s)).await;
        assert_eq!((reply.status, &reply.body), (200, &json!({ "success": true })), "{s}");
    }
    let seen = session(&env, &account, interview).await;
    assert_eq!(seen.status, "FACE_VALIDATION_FINISHED", "late ID validation, early review and an unknown status change nothing");
    let applied: Vec<bool> = seen.history.iter().map(|h| h.applied).collect();
    assert_eq!(applied, [true, false, false, false]);

    // A retried delivery: recorded once, history unchanged.
    assert_eq!(incode(&env, &id, &token, &status("FACE_VALIDATION_FINISHED")).await.status, 200);
    assert_eq!(session(&env, &account, interview).await.history.len(), 4);
    assert_eq!(events(&env, &account, &id).await.len(), 4);

    // The finish arrives: the early manual review now takes effect; expiry no longer can.
    incode(&env, &id, &token, &status("ONBOARDING_FINISHED")).await;
    incode(&env, &id, &token, &status("EXPIRED")).await;
    let seen = session(&env, &account, interview).await;
    assert_eq!(seen.status, "MANUAL_REVIEW_APPROVED");
    assert_eq!(seen.external_customer_id.as_deref(), Some("MyCustomerID#0001"));

    assert_error(&env.get(&format!("/verification-sessions/{interview}"), &other).await, 404, "not found");
    assert_error(&env.get("/verification-sessions/bad%20id", &account).await, 400, "bad request");

    // A webhook for an interview nobody registered is kept (unregistered), and registering it
    // later adopts its history.
    let early = json!({ "interviewId": "early1", "onboardingStatus": "ID_VALIDATION_FINISHED" });
    assert_eq!(incode(&env, &id, &token, &early).await.status, 200);
    let adopted: VerificationSession = env.call("POST", "/verification-sessions", Some(&account.key), Some(json!({ "interview_id": "early1" }))).await.expect(201);
    assert_eq!((adopted.status.as_str(), adopted.registered), ("ID_VALIDATION_FINISHED", true));

    let not_json = env.post_raw("/verification-sessions", &[("authorization", &format!("Bearer {}", account.key))], b"[1,").await;
    assert_error(&not_json, 400, "invalid JSON");

    let bad_payload = incode(&env, &id, &token, &json!({ "onboardingStatus": "EXPIRED" })).await;
    assert_error(&bad_payload, 400, "bad request");
}

#[tokio::test]
async fn channel_redirects_record_claims_and_hub_events_set_status() {
    let partner = FakeServer::start(vec![(500, r#"{"error":"down"}"#), (201, r#"{"api_key":"D360-KEY-1","address":"https://waba.360dialog.io"}"#)]).await;
    let env = TestEnv::with_partner_api(&partner.url).await;
    let account = env.account("wa").await;
    let (id, token) = integration(&env, &account, json!({ "provider": "360dialog", "partner_id": "prt1", "partner_api_key": "partner-key-1" })).await;

    let page = redirect(&env, &id, "client=cl1&channels=[ch1,ch2]&revoked=[ch0]").await;
    assert_eq!(page.status, 200);
    assert!(page.body.as_str().unwrap().contains("2 WhatsApp number(s) connected"));
    assert_eq!(redirect(&env, &id, "client=cl1&channels=[]").await.status, 200, "empty list");
    assert_eq!(redirect(&env, &id, "client=cl1&channels=[ch3]").await.status, 200, "one channel");
    for bad in ["client=cl1&channels=ch1", "client=cl1&channels=[ch1", "client=cl1&channels=[ch1,,ch2]", "channels=[ch1]", "client=cl1"] {
        assert_error(&redirect(&env, &id, bad).await, 400, "bad request");
    }
    assert_error(&env.call("GET", &format!("/integrations/{}/redirect?client=c&channels=[]", shared::Id::generate()), None, None).await, 404, "not found");
    let (incode_id, _) = integration(&env, &account, json!({ "provider": "incode" })).await;
    assert_error(&env.call("GET", &format!("/integrations/{incode_id}/redirect?client=c&channels=[]"), None, None).await, 404, "not found");

    let ch1 = channel(&env, &account, "ch1").await;
    assert_eq!((ch1.status.as_str(), ch1.permission.as_deref()), ("pending", Some("granted")), "a claim sets no status");
    assert_eq!(channel(&env, &account, "ch0").await.permission.as_deref(), Some("revoked"));
    assert_eq!(env.get("/channels", &account).await.expect::<Vec<Channel>>(200).len(), 4);
    assert_error(&env.get("/channels/nope", &env.account("stranger").await).await, 404, "not found");
    assert_error(&env.get("/channels/bad%20id", &account).await, 400, "bad request");
    assert_error(&env.call("POST", "/channels/bad%20id/api-key", Some(&account.key), None).await, 400, "bad request");
    assert_error(&env.get("/channels?limit=many", &account).await, 400, "bad request");

    // Not running yet: no API key.
    let refused = env.call("POST", "/channels/ch1/api-key", Some(&account.key), None).await;
    assert!(assert_error(&refused, 409, "conflict").contains("running"));
    assert!(partner.requests().is_empty());

    // Hub events: only with the token.
    let hub = |event: &str| json!({ "event": event, "payload": { "id": "ch1", "client_id": "cl1", "phone_number": "+4915112345678" } });
    assert_error(&hub_event(&env, &id, hub("channel_running"), "wrong").await, 401, "authentication failed");
    assert_eq!(channel(&env, &account, "ch1").await.status, "pending");
    assert_eq!(hub_event(&env, &id, hub("channel_running"), &token).await.status, 200);
    assert_eq!(hub_event(&env, &id, hub("channel_created"), &token).await.status, 200, "a late created event");
    let ch1 = channel(&env, &account, "ch1").await;
    assert_eq!((ch1.status.as_str(), ch1.phone_number.as_deref()), ("running", Some("+4915112345678")), "never back along the lifecycle");
    let outcomes: Vec<String> = events(&env, &account, &id).await.into_iter().map(|e| e.outcome).collect();
    assert_eq!(&outcomes[..2], ["recorded", "applied"], "newest first: the late created event changed nothing");

    // Anyone can call the redirect: it records the claim, and changes nothing known about an
    // existing channel. Claimed-only channels expire; a channel the hub confirmed does not.
    let before = channel(&env, &account, "ch1").await;
    assert_eq!(redirect(&env, &id, "client=attacker&channels=[]&revoked=[ch1]").await.status, 200);
    assert_eq!(redirect(&env, &id, "client=attacker&channels=[ch1,ch2]").await.status, 200);
    assert_eq!(channel(&env, &account, "ch1").await, before, "the redirect changed a running channel");
    assert_eq!(channel(&env, &account, "ch2").await.claimed_by_client.as_deref(), Some("cl1"), "nor a claimed one");
    let claims: Vec<WebhookEvent> = events(&env, &account, &id).await.into_iter().filter(|e| e.event_type == "redirect").collect();
    assert_eq!(claims[0].payload["client"], "attacker", "the claim itself is recorded");
    let ttl = |channel: &'static str| {
        let (env, pk) = (&env, format!("ACCOUNT#{}", account.id));
        async move { env.stored_item(&pk, &format!("CHANNEL#{channel}")).await.expect("the channel's item").contains_key(shared::store::schema::TTL) }
    };
    assert!(ttl("ch2").await, "a claim the hub never confirmed expires");
    assert!(!ttl("ch1").await, "a channel the hub reported stays");

    // Running: the partner API is asked; its failure is a 502, its key is returned once.
    let failed = env.call("POST", "/channels/ch1/api-key", Some(&account.key), None).await;
    // Which provider failed, not how: its status, DNS or TLS errors go to the log only.
    assert_eq!(assert_error(&failed, 502, "bad gateway"), "360dialog's Partner API did not complete the request; retry later");
    let key: ChannelKey = env.call("POST", "/channels/ch1/api-key", Some(&account.key), None).await.expect(201);
    assert_eq!((key.channel_id.as_str(), key.api_key.as_str()), ("ch1", "D360-KEY-1"));
    let sent = partner.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!((sent[1].method.as_str(), sent[1].path.as_str()), ("POST", "/partners/prt1/channels/ch1/api_keys"));
    assert_eq!(sent[1].headers["x-api-key"], "partner-key-1");
    assert!(channel(&env, &account, "ch1").await.api_key_created_at.is_some());
    assert!(!env.get("/channels/ch1", &account).await.body.to_string().contains("D360-KEY-1"), "the key is not stored");
    assert_error(&env.call("POST", "/channels/nope/api-key", Some(&account.key), None).await, 404, "not found");
}

#[tokio::test]
async fn redirects_go_onward_when_configured() {
    let env = TestEnv::new().await;
    let account = env.account("onward").await;
    let (id, token) = integration(&env, &account, json!({ "provider": "360dialog", "redirect_url": "https://app.example.com/whatsapp/done" })).await;
    let reply = env.call("GET", &format!("/integrations/{id}/redirect?client=cl9&channels=[c9]"), None, None).await;
    assert_eq!(reply.status, 302);
    assert_eq!(reply.headers["location"], "https://app.example.com/whatsapp/done?client=cl9&channels=[c9]");
    let running = json!({ "event": "channel_running", "payload": { "channel_id": "c9" } });
    assert_eq!(hub_event(&env, &id, running, &token).await.status, 200);
    let without_partner = env.call("POST", "/channels/c9/api-key", Some(&account.key), None).await;
    assert!(assert_error(&without_partner, 409, "conflict").contains("partner_id"), "running, but no partner credentials");
}

/// Deliveries at once, truly concurrent: the same delivery many times is taken once; different
/// statuses are all applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_are_taken_once_and_never_lose_a_status() {
    let env = Arc::new(TestEnv::new().await);
    let account = env.account("racer").await;
    let (id, token) = integration(&env, &account, json!({ "provider": "incode" })).await;
    let url = format!("/webhooks/{id}");

    let same = json!({ "interviewId": "race1", "onboardingStatus": "ID_VALIDATION_FINISHED" });
    let replies = all_at_once(&env, "POST", &url, Some(&token), Some(same)).await;
    assert!(replies.iter().all(|r| r.status == 200), "{:?}", statuses(&replies));
    let seen = session(&env, &account, "race1").await;
    assert_eq!(seen.history.len(), 1, "{seen:?}");
    assert_eq!(events(&env, &account, &id).await.len(), 1);

    let different = ["FACE_VALIDATION_FINISHED", "GOVERNMENT_VALIDATION_FINISHED", "POST_PROCESSING_FINISHED", "ONBOARDING_FINISHED"];
    let replies = concurrently(|i| {
        let (env, url, token) = (env.clone(), url.clone(), token.clone());
        let body = json!({ "interviewId": "race1", "onboardingStatus": different[i % different.len()] });
        async move { env.call("POST", &url, Some(&token), Some(body)).await }
    })
    .await;
    assert!(replies.iter().all(|r| r.status == 200), "{:?}", statuses(&replies));
    let seen = session(&env, &account, "race1").await;
    assert_eq!(seen.history.len(), 1 + different.len(), "every status once: {seen:?}");
    assert_eq!(events(&env, &account, &id).await.len(), 1 + different.len());
}

/// The re-read path, forced: a delivery held after its reads until a different one committed
/// must re-read and still apply its status (real concurrency reaches this only sometimes).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delivery_that_read_before_another_committed_still_applies() {
    let env = TestEnv::new().await;
    let account = env.account("racer").await;
    let (id, token) = integration(&env, &account, json!({ "provider": "incode" })).await;
    let url = format!("/webhooks/{id}");
    let env = Arc::new(env);
    let statuses = std::sync::Mutex::new(vec!["FACE_VALIDATION_FINISHED", "GOVERNMENT_VALIDATION_FINISHED"]);
    env.gate.arm("TransactWriteItems");
    let (a, b) = race(&env, || {
        let status = statuses.lock().unwrap().pop().unwrap();
        ("POST", url.clone(), Some(token.clone()), Some(json!({ "interviewId": "race1", "onboardingStatus": status })))
    })
    .await;
    assert_eq!((a.status, b.status), (200, 200), "{:?} / {:?}", a.body, b.body);
    let seen = session(&env, &account, "race1").await;
    assert_eq!(seen.history.len(), 2, "the held delivery re-read and applied: {seen:?}");
    assert_eq!(seen.status, "FACE_VALIDATION_FINISHED");
}
