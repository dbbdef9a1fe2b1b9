//! What an outside probe of the running product found (issue 24), each kept closed as a class:
//! a claim link answers only for its addressee whatever key comes with it; only the buying side
//! onboards, and the other side's setup request changes and sends nothing; no text input takes
//! control characters; no read shows a secret shown once; every HTML response carries the same
//! protections; every list validates its paging before anything else; a Standard Webhooks sender
//! needs only the `webhook-*` headers.

use api_tests::{CampaignReply, ClientReply, Connection, Deliveries, Entity, Fault, Flow, InboundIntegration, InvitationSent, NewApiKey, SignedUp, WebhookEvent, WebhookReply, TestAccount, TestEnv, assert_error, browser_get, connect, unique};
use infra::local_api::HttpRequest;
use infra::template::Template;
use serde_json::{Value, json};
use shared::platform::accounts::Plan;

/// Who holds the key sent with the link's token.
#[derive(Clone, Copy, Debug)]
enum Key {
    None,
    Addressee,
    Stranger,
    Inviter,
}

/// Who the link was emailed to.
#[derive(Clone, Copy, Debug)]
enum Addressee {
    /// An account, invited by its id.
    Account,
    /// An address that became a user of an account after the invitation was sent.
    AddressThatJoinedAnAccount,
    /// An address with no account.
    AddressWithoutAccount,
}

#[tokio::test]
async fn a_claim_link_answers_only_for_the_account_it_was_emailed_to_whatever_key_comes_with_it() {
    let env = TestEnv::new().await;
    let inviter = env.account("inviter").await;
    let stranger = env.account("stranger").await;
    let cases = [
        (Addressee::Account, Key::None, 200),
        (Addressee::Account, Key::Addressee, 200),
        (Addressee::Account, Key::Stranger, 403),
        (Addressee::Account, Key::Inviter, 403),
        (Addressee::AddressThatJoinedAnAccount, Key::None, 200),
        (Addressee::AddressThatJoinedAnAccount, Key::Addressee, 200),
        (Addressee::AddressThatJoinedAnAccount, Key::Stranger, 403),
        (Addressee::AddressThatJoinedAnAccount, Key::Inviter, 403),
        // Without an account, the link holder may create one (201 with names; 422 without) or, as
        // decided in docs/security.md, accept for the account whose key it holds.
        (Addressee::AddressWithoutAccount, Key::None, 422),
        (Addressee::AddressWithoutAccount, Key::Stranger, 200),
        (Addressee::AddressWithoutAccount, Key::Inviter, 400),
    ];
    for (addressee, key, status) in cases {
        let case = format!("{addressee:?} with {key:?}'s key");
        let account = env.account("addressee").await;
        let address = format!("{}@example.com", unique("invited").to_lowercase());
        let (body, token_to) = match addressee {
            Addressee::Account => (json!({ "account_id": account.id.to_string() }), account.email.clone()),
            Addressee::AddressThatJoinedAnAccount | Addressee::AddressWithoutAccount => (json!({ "email": address }), address.clone()),
        };
        let invitation = env.call("POST", "/invitations/recipient", Some(&inviter.key), Some(body)).await.expect::<InvitationSent>(201).invitation.id;
        if let Addressee::AddressThatJoinedAnAccount = addressee {
            env.db.accounts().add_user(&account.id, address.clone(), "Joined".into()).await.unwrap();
        }
        let token = env.invitation_token(&token_to).await;
        let holder = match key {
            Key::None => None,
            Key::Addressee => Some(&account),
            Key::Stranger => Some(&stranger),
            Key::Inviter => Some(&inviter),
        };
        let reply = env.call("POST", "/invitations/claim", holder.map(|a| a.key.as_str()), Some(json!({ "token": token }))).await;
        assert_eq!(reply.status, status, "{case}: {:?}", reply.body);
        let invitation_now = env.get(&format!("/invitations/{invitation}"), &inviter).await.body;
        if status == 200 {
            let accepting = match (addressee, key) {
                (Addressee::AddressWithoutAccount, Key::Stranger) => &stranger,
                _ => &account,
            };
            assert_eq!(reply.body["connection"]["account_id"], accepting.id.to_string(), "{case}");
            assert_eq!(invitation_now["status"], "accepted", "{case}");
            // The stranger's connection is undone, so that it can accept the next case's link.
            if accepting.id == stranger.id {
                let revoked = env.call("DELETE", &format!("/connections/{}", reply.body["connection"]["id"].as_str().unwrap()), Some(&stranger.key), None).await;
                assert_eq!(revoked.status, 200, "{case}");
            }
        } else {
            assert_eq!(reply.body["error"].as_str().is_some(), true, "{case}");
            assert_eq!(invitation_now["status"], "pending", "{case}: a refused claim changes nothing");
        }
    }
    // Refused claims connected nobody to the stranger.
    let connections = env.get("/connections", &stranger).await.body;
    assert!(connections.as_array().unwrap().iter().all(|c| c["status"] == "revoked"), "{connections:?}");
}

#[tokio::test]
async fn only_the_buying_side_onboards_and_the_sellers_setup_request_changes_and_sends_nothing() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let vendor = env.account("vendor").await;
    let (invitation, connection) = connect(&env, &seller, &buyer).await;
    let setup = |key: String| {
        let (env, connection) = (&env, connection.clone());
        async move { env.call("POST", "/onboard/buyer", Some(&key), Some(json!({ "connection_id": connection }))).await }
    };
    let mail = || async { (env.emails_to(&seller.email).await.len(), env.emails_to(&buyer.email).await.len()) };

    // Before and after the buyer's setup, the seller's request is refused and sends nothing.
    let before = mail().await;
    assert!(assert_error(&setup(seller.key.clone()).await, 403, "forbidden").contains("only the buyer"));
    assert_eq!(mail().await, before);
    assert!(!env.get(&format!("/connections/{connection}"), &seller).await.expect::<Connection>(200).buyer_delivery_configured);
    assert_eq!(setup(buyer.key.clone()).await.status, 200);
    let after_setup = mail().await;
    assert_eq!(after_setup, (before.0 + 1, before.1), "the seller's users are told, once");
    let refused = setup(seller.key.clone()).await;
    assert_eq!(mail().await, after_setup, "no role-inverted email to the buyer");
    assert!(assert_error(&refused, 403, "forbidden").contains("only the buyer"));

    // POST /onboards: neither the seller nor a source onboards.
    let onboard = |key: String, invitation: String| {
        let env = &env;
        async move { env.call("POST", "/onboards", Some(&key), Some(json!({ "invitation_id": invitation }))).await }
    };
    assert_error(&onboard(seller.key.clone(), invitation.clone()).await, 403, "forbidden");
    let sourced = env.call("POST", "/invitations/source", Some(&seller.key), Some(json!({ "email": vendor.email }))).await;
    let source_invitation = sourced.expect::<InvitationSent>(201).invitation.id;
    assert_eq!(env.call("POST", &format!("/invitations/{source_invitation}/accept"), Some(&vendor.key), None).await.status, 200);
    assert_error(&onboard(vendor.key.clone(), source_invitation.clone()).await, 403, "forbidden");
    assert_eq!(onboard(seller.key.clone(), source_invitation).await.status, 201, "the seller buys from its source");
    assert_eq!(onboard(buyer.key.clone(), invitation).await.status, 201);
}

/// A published campaign and one client's link token.
async fn campaign_and_link(env: &TestEnv, account: &TestAccount) -> (String, String) {
    let campaign = env.call("POST", "/api/v1/campaigns", Some(&account.key), Some(json!({ "name": "Spring" }))).await.expect::<CampaignReply>(201).campaign.id;
    env.call("POST", &format!("/api/v1/campaigns/{campaign}/publish"), Some(&account.key), None).await.expect::<CampaignReply>(200);
    let client = env.call("POST", "/api/v1/clients", Some(&account.key), Some(json!({ "campaign_id": campaign, "email": "c@example.com" }))).await.expect::<ClientReply>(201).client;
    let link_token = client.link.expect("the link, shown once").rsplit('/').next().unwrap().to_string();
    (campaign, link_token)
}

/// One line of text that would split an email header, and other controls.
const CONTROLS: [&str; 4] = ["Acme\r\nBcc: victim@example.com", "A\u{0}cme", "Ac\u{1b}[31mme", "Ac\u{2028}me"];

#[tokio::test]
async fn no_text_input_takes_control_characters() {
    let env = TestEnv::new().await;
    let account = env.account_with_plan("texts", Plan::Paid).await;
    let (campaign, link_token) = campaign_and_link(&env, &account).await;
    let flow = env.call("POST", "/flows", Some(&account.key), Some(json!({ "name": "Mine", "enabled": true }))).await.expect::<Flow>(201).id;
    let invited = format!("{}@example.com", unique("claimer").to_lowercase());
    assert_eq!(env.call("POST", "/invitations/recipient", Some(&account.key), Some(json!({ "email": invited }))).await.status, 201);
    let claim_token = env.invitation_token(&invited).await;
    let emails_before = env.emails_to(&invited).await.len();

    // Every text field a request takes, with what makes the rest of the body valid.
    let inputs: Vec<(&str, String, Option<&str>, Box<dyn Fn(&str) -> Value>, &str)> = vec![
        ("POST", "/invitations/recipient".into(), Some(&account.key), Box::new(|t| json!({ "email": "n@example.com", "name": t })), "name"),
        ("POST", "/invitations/recipient".into(), Some(&account.key), Box::new(|t| json!({ "email": format!("n@example.com{t}") })), "email"),
        ("POST", "/invitations/claim".into(), None, Box::new(|t| json!({ "token": claim_token, "account_name": t, "name": "Ann" })), "account_name"),
        ("POST", "/invitations/claim".into(), None, Box::new(|t| json!({ "token": claim_token, "account_name": "Ann Co", "name": t })), "name"),
        ("POST", "/flows".into(), Some(&account.key), Box::new(|t| json!({ "name": t, "enabled": true })), "name"),
        ("POST", "/flows".into(), Some(&account.key), Box::new(|t| json!({ "name": "f", "enabled": true, "fields": [t] })), "fields[0]"),
        ("POST", "/flows".into(), Some(&account.key), Box::new(|t| json!({ "name": "f", "enabled": true, "steps": [{ "type": "filter", "integration": { "module_id": t } }] })), "steps[0].integration.module_id"),
        ("POST", "/flows".into(), Some(&account.key), Box::new(|t| json!({ "name": "f", "enabled": true, "steps": [{ "type": "filter", "integration": { "module_id": "m", "mappings": [{ "property": t, "value": "v" }] } }] })), "steps[0].integration.mappings[0].property"),
        ("POST", "/flows".into(), Some(&account.key), Box::new(|t| json!({ "name": "f", "enabled": true, "acceptance_criteria": { "required": [t] } })), "acceptance_criteria.required[0]"),
        ("POST", "/flows".into(), Some(&account.key), Box::new(|t| json!({ "name": "f", "enabled": true, "acceptance_criteria": { "rules": [{ "field": "state", "operator": "is_one_of", "values": [t] }] } })), "acceptance_criteria.rules[0].values[0]"),
        ("PUT", format!("/flows/{flow}"), Some(&account.key), Box::new(|t| json!({ "name": t, "enabled": true })), "name"),
        ("POST", "/api/v1/campaigns".into(), Some(&account.key), Box::new(|t| json!({ "name": t })), "name"),
        ("PUT", format!("/api/v1/campaigns/{campaign}"), Some(&account.key), Box::new(|t| json!({ "name": t })), "name"),
        ("POST", "/api/v1/clients".into(), Some(&account.key), Box::new(|t| json!({ "campaign_id": campaign, "email": "c2@example.com", "first_name": t })), "first_name"),
        ("POST", "/api/v1/clients".into(), Some(&account.key), Box::new(|t| json!({ "campaign_id": campaign, "email": "c2@example.com", "last_name": t })), "last_name"),
        ("POST", "/api/v1/clients".into(), Some(&account.key), Box::new(|t| json!({ "campaign_id": campaign, "email": "c2@example.com", "company_name": t })), "company_name"),
        ("POST", "/api/v1/clients".into(), Some(&account.key), Box::new(|t| json!({ "campaign_id": campaign, "email": "c2@example.com", "phone": format!("+1 555{t}") })), "phone"),
        ("POST", format!("/c/{link_token}/complete"), None, Box::new(|t| json!({ "company_name": t })), "company_name"),
        ("POST", "/integrations".into(), Some(&account.key), Box::new(|t| json!({ "provider": "incode", "name": t })), "name"),
    ];
    for (method, path, key, body, field) in &inputs {
        for text in CONTROLS {
            let reply = env.call(method, path, *key, Some(body(text))).await;
            let details = assert_error(&reply, 422, "validation failed");
            assert!(details.starts_with(&format!("{field}:")), "{method} {path} {text:?}: {details}");
        }
    }
    assert_eq!(env.emails_to(&invited).await.len(), emails_before, "a refused claim sends nothing");
    assert_eq!(env.get("/api/v1/clients", &account).await.body["clients"].as_array().unwrap().len(), 1, "nothing was created");
}

/// Every `type: string` property of every request body, with what constrains it.
fn string_properties(document: &Value, schema: &Value, at: &str, found: &mut Vec<(String, bool)>) {
    let schema = match schema["$ref"].as_str() {
        Some(target) => {
            // A named text schema (Name, Text, Email, Phone, ExternalId, Id, ...) states its rule.
            let resolved = document.pointer(target.trim_start_matches('#')).unwrap();
            if resolved["type"] == "string" {
                found.push((at.to_string(), resolved["pattern"].is_string() || resolved["enum"].is_array()));
                return;
            }
            resolved
        }
        None => schema,
    };
    for part in ["allOf", "oneOf", "anyOf"] {
        for sub in schema[part].as_array().into_iter().flatten() {
            string_properties(document, sub, at, found);
        }
    }
    if schema["type"] == "string" {
        found.push((at.to_string(), schema["pattern"].is_string() || schema["enum"].is_array() || schema["const"].is_string()));
    }
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        string_properties(document, property, &format!("{at}.{name}"), found);
    }
    string_properties_of(document, &schema["items"], &format!("{at}[]"), found);
    string_properties_of(document, &schema["additionalProperties"], &format!("{at}.*"), found);
}

fn string_properties_of(document: &Value, schema: &Value, at: &str, found: &mut Vec<(String, bool)>) {
    if schema.is_object() {
        string_properties(document, schema, at, found);
    }
}

#[test]
fn every_text_a_request_body_takes_states_what_it_accepts() {
    // Opaque values the server only compares or stores (secrets, tokens): any visible text.
    const OPAQUE: [&str; 9] = [
        "POST /invitations/claim.token",
        "POST /sign-in/link.token",
        "POST /integrations.partner_api_key",
        "POST /verification-sessions.external_customer_id",
        "POST /flows/{id}/sources/{source_id}/submit.*",
        // Ignored: the entity's own name is used.
        "POST /flows.sources[].entity.name",
        "POST /flows.steps[].entity.name",
        "PUT /flows/{id}.sources[].entity.name",
        "PUT /flows/{id}.steps[].entity.name",
    ];
    let document = api_tests::openapi::OPENAPI.document();
    let mut unconstrained = vec![];
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap().iter().filter(|(m, _)| *m != "parameters") {
            for (_, media) in operation["requestBody"]["content"].as_object().into_iter().flatten() {
                let mut found = vec![];
                string_properties(document, &media["schema"], &format!("{} {path}", method.to_uppercase()), &mut found);
                unconstrained.extend(found.into_iter().filter(|(at, constrained)| !constrained && !OPAQUE.contains(&at.as_str())).map(|(at, _)| at));
            }
        }
    }
    unconstrained.sort();
    unconstrained.dedup();
    assert!(unconstrained.is_empty(), "text fields without a pattern (use Name, Text, Email, Phone or ExternalId): {unconstrained:#?}");
}

/// Everything whose secret is shown once, and the ids to read them back by.
struct Secrets {
    env: TestEnv,
    account: TestAccount,
    /// Shown once: API keys, signing secrets, link tokens.
    secrets: Vec<String>,
    ids: Vec<String>,
    /// A path parameter's value for each name a route uses.
    params: Vec<(&'static str, String)>,
    /// A session of `account`'s user (the cookie's value).
    session: String,
}

/// One of everything that has a secret shown once, or a public page.
async fn secrets() -> Secrets {
    // Every route read many times from one key: more than a minute's default allowance.
    let env = TestEnv::with_rate_limit(shared::platform::ratelimit::RateLimit { requests: 10_000, window: std::time::Duration::from_secs(60), shards: None }).await;
    let account = env.account("keeper").await;
    let other = env.account("other").await;
    let mut secrets = vec![account.key.clone(), other.key.clone()];
    let endpoint = env.call("POST", "/api/v1/webhooks", Some(&account.key), Some(json!({ "url": "https://hooks.example.com/in" }))).await.expect::<WebhookReply>(201).webhook;
    secrets.push(endpoint.secret.expect("the secret, shown once"));
    let endpoint_id = endpoint.id;
    let rotated: WebhookReply = env.call("POST", &format!("/api/v1/webhooks/{endpoint_id}/secrets"), Some(&account.key), None).await.expect(201);
    secrets.push(rotated.webhook.secret.expect("rotated secret"));
    let integration = env.call("POST", "/integrations", Some(&account.key), Some(json!({ "provider": "360dialog", "partner_id": "prt1", "partner_api_key": "partner-api-key-kept-quiet" }))).await;
    let integration: InboundIntegration = integration.expect(201);
    secrets.extend([integration.secret.expect("the secret, shown once"), "partner-api-key-kept-quiet".to_string()]);
    let integration_id = integration.id;
    let (campaign, link_token) = campaign_and_link(&env, &account).await;
    secrets.push(link_token.clone());
    let invited = format!("{}@example.com", unique("newcomer").to_lowercase());
    let invitation = env.call("POST", "/invitations/recipient", Some(&account.key), Some(json!({ "email": invited }))).await.expect::<InvitationSent>(201).invitation.id;
    let claim_token = env.invitation_token(&invited).await;
    secrets.push(claim_token.clone());
    let claimed: SignedUp = env.call("POST", "/invitations/claim", None, Some(json!({ "token": claim_token, "account_name": "Newcomer Co", "name": "New" }))).await.expect(201);
    secrets.push(claimed.api_key);
    let connection = claimed.accepted.connection.id;
    let entity = env.get("/entities", &account).await.expect::<Vec<Entity>>(200).remove(0).id;
    let flow: Flow = env.call("POST", "/flows", Some(&account.key), Some(json!({ "name": "Mine", "enabled": true, "sources": [{ "entity": { "id": entity } }] }))).await.expect(201);
    let (flow_id, source_id) = (flow.id, flow.sources[0].id.clone());
    let delivery = env.get(&format!("/api/v1/webhooks/{endpoint_id}/deliveries"), &account).await.expect::<Deliveries>(200).deliveries.remove(0).id;
    let made = env.call("POST", "/api-keys", Some(&account.key), None).await.expect::<NewApiKey>(201);
    secrets.push(made.api_key);
    let link = env.db.people().issue_link(&account.email, &account.id).await.unwrap();
    let (session, _) = env.db.people().sign_in(&link).await.unwrap().expect("a session");
    secrets.extend([link, session.clone()]);
    let ids = vec![endpoint_id.clone(), integration_id.clone(), campaign, invitation, connection, entity, flow_id.clone(), made.key.id];
    let params = vec![("source_id", source_id), ("delivery_id", delivery), ("integration_id", integration_id), ("token", link_token)];
    Secrets { env, account, secrets, ids, params, session }
}

/// `route`'s path with each parameter filled: `{id}` by `id`, the others from `params`.
fn fill(path: &str, id: &str, params: &[(&'static str, String)]) -> String {
    let mut filled = path.replace("{id}", id);
    for (name, value) in params {
        filled = filled.replace(&format!("{{{name}}}"), value);
    }
    filled
}

#[tokio::test]
async fn no_read_shows_a_secret_that_was_shown_once() {
    let s = secrets().await;
    let mut reads = 0;
    for route in Template::load().unwrap().routes().unwrap().into_iter().filter(|r| r.method == "GET") {
        // The two links themselves carry their token in the URL; what they show is checked by
        // their own tests (tests/tests/api/invitations.rs, client_onboarding.rs).
        if route.path == "/invitations/claim" || route.path == "/c/{token}" {
            continue;
        }
        let ids: Vec<&str> = if route.path.contains("{id}") { s.ids.iter().map(String::as_str).collect() } else { vec![""] };
        for id in ids {
            let path = fill(&route.path, id, &s.params);
            for accept in ["application/json", "text/html"] {
                let reply = s.env.request(HttpRequest { headers: vec![("authorization".into(), format!("Bearer {}", s.account.key)), ("accept".into(), accept.into())], ..browser_get(&path) }).await;
                assert!(reply.status < 500 && reply.status != 429, "GET {path}: {}", reply.status);
                reads += usize::from(reply.status == 200);
                let text = reply.body.to_string();
                for secret in &s.secrets {
                    assert!(!text.contains(secret.as_str()), "GET {path} ({accept}) shows a secret shown once: {text}");
                }
            }
        }
    }
    assert!(reads >= 50, "{reads} reads answered 200");
}

#[tokio::test]
async fn every_html_response_has_the_same_protections() {
    let s = secrets().await;
    let (mut pages, mut headed) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
    let claim = format!("/invitations/claim?token={}", unique("t"));
    let routes = Template::load().unwrap().routes().unwrap();
    for route in routes.iter().filter(|r| r.method == "GET") {
        let ids: Vec<&str> = if route.path.contains("{id}") { s.ids.iter().map(String::as_str).collect() } else { vec![""] };
        for id in ids {
            let mut path = fill(&route.path, id, &s.params);
            match route.path.as_str() {
                "/invitations/claim" => path = claim.clone(),
                "/integrations/{id}/redirect" => path += "?client=cl1&channels=[ch1]",
                _ => {}
            }
            let reply = s.env.request(browser_get(&path)).await;
            if !reply.headers.get("content-type").is_some_and(|t| t.starts_with("text/html")) {
                continue;
            }
            pages.insert(route.path.clone());
            let header = |name: &str| reply.headers.get(name).map(String::as_str).unwrap_or_default();
            let csp = header("content-security-policy");
            for directive in ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"] {
                assert!(csp.contains(directive), "GET {path}: CSP {csp:?} lacks {directive}");
            }
            assert_eq!((header("x-content-type-options"), header("x-frame-options"), header("referrer-policy")), ("nosniff", "DENY", "no-referrer"), "GET {path}");
            assert!(["no-store", "public, max-age=300"].contains(&header("cache-control")), "GET {path}: {:?}", header("cache-control"));
            // A link checker's HEAD, without an Accept: the page's headers (HTTP sends no body:
            // end_to_end.rs checks that over the wire).
            if routes.iter().any(|r| r.method == "HEAD" && r.path == route.path) {
                let head = s.env.request(HttpRequest { method: "HEAD".into(), headers: vec![], ..browser_get(&path) }).await;
                let head_header = |name: &str| head.headers.get(name).cloned().unwrap_or_default();
                assert_eq!((head.status, head_header("content-type"), head_header("content-security-policy")), (reply.status, header("content-type").to_string(), csp.to_string()), "HEAD {path}");
                headed.insert(route.path.clone());
            }
        }
    }
    assert_eq!(headed.iter().map(String::as_str).collect::<Vec<_>>(), expected_with_head(), "every page but 360dialog's redirect answers HEAD");
    let expected = ["/buyer-onboarding", "/c/{token}", "/dashboard", "/docs", "/flows/{id}/sources/{source_id}/docs", "/integrations/{id}/redirect", "/invitations/claim", "/settings/apis", "/settings/webhooks", "/sign-in", "/sign-in/link"];
    assert_eq!(pages.iter().map(String::as_str).collect::<Vec<_>>(), expected, "every route that answers a browser with a page was checked");
}

/// The pages a HEAD reaches: all but 360dialog's redirect (a provider's browser hop).
fn expected_with_head() -> Vec<&'static str> {
    vec!["/buyer-onboarding", "/c/{token}", "/dashboard", "/docs", "/flows/{id}/sources/{source_id}/docs", "/invitations/claim", "/settings/apis", "/settings/webhooks", "/sign-in", "/sign-in/link"]
}

/// A valid value for a query parameter of the contract.
fn valid(document: &Value, parameter: &Value) -> Option<String> {
    let schema = &parameter["schema"];
    let schema = schema["$ref"].as_str().map_or(schema, |target| document.pointer(target.trim_start_matches('#')).unwrap());
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.as_str().map(str::to_string);
    }
    (schema["pattern"] == "^[0-9a-fA-F]{24}$").then(|| shared::Id::generate().to_string())
}

#[tokio::test]
async fn every_list_validates_its_paging_before_anything_else() {
    // Some hundred requests from one key: more than a minute's default allowance.
    let env = TestEnv::with_rate_limit(shared::platform::ratelimit::RateLimit { requests: 10_000, window: std::time::Duration::from_secs(60), shards: None }).await;
    let account = env.account("lister").await;
    let document = api_tests::openapi::OPENAPI.document();
    let mut lists = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(operation) = item.get("get") else { continue };
        let parameters: Vec<Value> = operation["parameters"].as_array().into_iter().flatten().map(|p| match p["$ref"].as_str() {
            Some(target) => document.pointer(target.trim_start_matches('#')).unwrap().clone(),
            None => p.clone(),
        }).collect();
        if !parameters.iter().any(|p| p["name"] == "limit") {
            continue;
        }
        lists += 1;
        // Each filter the list takes, set to a valid value, alone and all together; the path's
        // id names nothing: paging is checked before anything is looked up.
        let filters: Vec<String> = parameters.iter().filter(|p| p["in"] == "query" && p["name"] != "limit" && p["name"] != "cursor").filter_map(|p| valid(document, p).map(|v| format!("{}={v}", p["name"].as_str().unwrap()))).collect();
        let mut queries = vec![String::new(), filters.join("&")];
        queries.extend(filters.iter().cloned());
        let base = path.replace("{id}", &shared::Id::generate().to_string());
        for query in queries {
            for paging in ["limit=-285&cursor=junk", "limit=0", "limit=101", "limit=ten", "cursor=junk"] {
                let uri = format!("{base}?{}", [query.as_str(), paging].into_iter().filter(|q| !q.is_empty()).collect::<Vec<_>>().join("&"));
                assert_error(&env.get(&uri, &account).await, 400, "bad request");
            }
        }
    }
    assert!(lists >= 14, "{lists} lists");
}

#[tokio::test]
async fn a_standard_webhooks_sender_needs_only_the_webhook_headers() {
    let env = TestEnv::new().await;
    let account = env.account("standard").await;
    let created: InboundIntegration = env.call("POST", "/integrations", Some(&account.key), Some(json!({ "provider": "360onboard", "standard_webhooks": true }))).await.expect(201);
    let (id, secret) = (created.id, created.secret.expect("the secret, shown once"));
    let body = br#"{"event":"client.created","data":{"client_id":"770e"},"timestamp":"2026-12-04T09:00:00Z"}"#;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let signature = shared::platform::signature::sign_standard(&secret, "msg_std_1", now, body);
    let headers = [("content-type", "application/json"), ("webhook-id", "msg_std_1"), ("webhook-timestamp", &now.to_string()), ("webhook-signature", &signature)];
    let reply = env.post_raw(&format!("/webhooks/{id}"), &headers, body).await;
    assert_eq!((reply.status, &reply.body), (200, &json!({ "success": true })));
    let events: Vec<WebhookEvent> = env.get(&format!("/integrations/{id}/events"), &account).await.expect(200);
    assert_eq!(events[0].event_type, "client.created", "the event is named by the body");
    // A body that names no event, with no header naming one, is the sender's error.
    let unnamed = br#"{"data":{}}"#;
    let signature = shared::platform::signature::sign_standard(&secret, "msg_std_2", now, unnamed);
    let headers = [("content-type", "application/json"), ("webhook-id", "msg_std_2"), ("webhook-timestamp", &now.to_string()), ("webhook-signature", &signature)];
    assert!(assert_error(&env.post_raw(&format!("/webhooks/{id}"), &headers, unnamed).await, 400, "bad request").contains("event"));
}

/// DynamoDB out of reach (the request never arrives): every route that reads or writes the table
/// answers 503 with `Retry-After`, the error shape and nothing of the cause — never a 500, never
/// a hang. Which routes touch the table is found, not listed: a route that made no DynamoDB call
/// is skipped.
#[tokio::test]
async fn every_route_that_uses_the_table_answers_503_when_it_is_out_of_reach() {
    let s = secrets().await;
    let mut unavailable = std::collections::BTreeSet::new();
    for route in Template::load().unwrap().routes().unwrap() {
        let mut path = fill(&route.path, &s.ids[0], &s.params);
        match route.path.as_str() {
            // Without their query these refuse before they read anything.
            "/integrations/{id}/redirect" => path += "?client=cl1&channels=[ch1]",
            "/sign-in/link" => path += "?token=a-token-of-no-link",
            _ => {}
        }
        // The key for the API, the session for the pages (and signing out), and what each body needs.
        let headers = vec![
            ("authorization".into(), format!("Bearer {}", s.account.key)),
            ("cookie".into(), format!("__Host-session={}", s.session)),
            ("content-type".into(), "application/json".into()),
            ("accept".into(), "application/json".into()),
        ];
        let body = match (route.method.as_str(), route.path.as_str()) {
            ("POST", "/sign-in") => json!({ "email": s.account.email }),
            ("POST", "/sign-in/link") => json!({ "token": "a-token-of-no-link" }),
            _ => json!({}),
        };
        s.env.faults.plan(Fault::NotSent, "*", "");
        let reply = s.env.request(HttpRequest { method: route.method.clone(), uri: path.clone(), headers, body: body.to_string().into_bytes() }).await;
        if s.env.faults.clear() == 1 {
            assert!(reply.status < 500, "{} {path} made no DynamoDB call, yet answered {}", route.method, reply.status);
            continue;
        }
        assert_eq!(assert_error(&reply, 503, "service unavailable"), "the service is busy; retry the request shortly (with the same Idempotency-Key where it takes one)", "{} {path}", route.method);
        assert_eq!(reply.headers.get("retry-after").map(String::as_str), Some("1"), "{} {path}", route.method);
        unavailable.insert(format!("{} {}", route.method, route.path));
    }
    assert!(unavailable.len() >= 50, "{unavailable:#?}");
}
