//! What an outside probe of the running API found, each pinned by a test: absolute URLs never
//! come from request headers, and the public routes change only what docs/security.md says.

use api_tests::{CampaignReply, ClientReply, InboundIntegration, TestAccount, TestEnv};
use infra::local_api::HttpRequest;
use serde_json::{Value, json};

/// `method uri` as `account`, with extra headers (what a proxy or an attacker may add).
async fn call_with_headers(env: &TestEnv, method: &str, uri: &str, account: &TestAccount, extra: &[(&str, &str)], body: Value) -> api_tests::Reply {
    let mut headers = vec![("authorization".to_string(), format!("Bearer {}", account.key)), ("content-type".into(), "application/json".into())];
    headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env.request(HttpRequest { method: method.into(), uri: uri.into(), headers, body: body.to_string().into_bytes() }).await
}

const SPOOFED: [(&str, &str); 3] = [("host", "evil.example"), ("x-forwarded-host", "evil.example"), ("x-forwarded-proto", "http")];

#[tokio::test]
async fn links_handed_out_never_come_from_request_headers() {
    let env = TestEnv::new().await;
    let account = env.account("links").await;

    let created = call_with_headers(&env, "POST", "/integrations", &account, &SPOOFED, json!({ "provider": "360dialog" })).await;
    let created: InboundIntegration = created.expect(201);
    let id = &created.id;
    let expected = format!("https://127.0.0.1/webhooks/{id}");
    assert_eq!(created.receive_url, expected);
    assert_eq!(created.redirect_registration_url, Some(format!("https://127.0.0.1/integrations/{id}/redirect")));
    let got = call_with_headers(&env, "GET", &format!("/integrations/{id}"), &account, &SPOOFED, Value::Null).await;
    assert_eq!(got.expect::<InboundIntegration>(200).receive_url, expected);
    let listed = call_with_headers(&env, "GET", "/integrations", &account, &SPOOFED, Value::Null).await;
    assert_eq!(listed.expect::<Vec<InboundIntegration>>(200)[0].receive_url, expected);

    let campaign: CampaignReply = env.call("POST", "/api/v1/campaigns", Some(&account.key), Some(json!({ "name": "Links" }))).await.expect(201);
    let campaign_id = campaign.campaign.id;
    env.call("POST", &format!("/api/v1/campaigns/{campaign_id}/publish"), Some(&account.key), None).await.expect::<CampaignReply>(200);
    let client = call_with_headers(&env, "POST", "/api/v1/clients", &account, &SPOOFED, json!({ "campaign_id": campaign_id, "email": "c@example.com" })).await;
    let link = client.expect::<ClientReply>(201).client.link.expect("the link, shown once");
    assert!(link.starts_with("https://127.0.0.1/c/"), "{link}");
}

/// The contract is public and served as built: the document byte for byte, and a reference page
/// naming every operation, with nothing from the document unescaped.
#[tokio::test]
async fn the_api_serves_its_contract_and_a_reference_page() {
    let env = TestEnv::new().await;
    let served = env.call("GET", "/openapi.yaml", None, None).await;
    assert_eq!(served.status, 200);
    assert_eq!(served.headers["content-type"], "application/yaml");
    let file = std::fs::read_to_string(infra::template::Template::path().with_file_name("openapi.yaml")).unwrap();
    assert_eq!(served.body.as_str(), Some(file.as_str()), "the file the tests check the API against");

    let page = env.call("GET", "/docs", None, None).await;
    assert_eq!(page.status, 200);
    assert!(page.headers["content-type"].starts_with("text/html"));
    let html = page.body.as_str().unwrap();
    let document = api_tests::openapi::OPENAPI.document();
    let mut operations = 0;
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values().filter(|o| o["operationId"].is_string()) {
            assert!(html.contains(&format!("id=\"{}\"", operation["operationId"].as_str().unwrap())), "{operation}");
            operations += 1;
        }
    }
    assert!(operations >= 50);
    assert!(html.contains("href=\"openapi.yaml\""));
    // Written for integrators: where the API is and how to authenticate come first, every
    // operation has a request to copy, and nothing refers to this repository's insides.
    for heading in ["Getting started", "Base URL", "Authentication", "Authorization: Bearer sk_live_"] {
        assert!(html.contains(heading), "the page explains {heading}");
    }
    let reads_and_writes = html.matches("<section class=\"op\"").count() - html.matches("<span class=\"method head\">").count();
    assert_eq!(html.matches("<pre tabindex=\"0\" aria-label=\"Example: ").count(), reads_and_writes + 1, "an example for every operation, and a first call");
    assert!(html.contains("-d '{&quot;email&quot;:&quot;partner@example.com&quot;}'"), "request bodies come with an example body");
    for internal in ["seed 0", "tests/", "LeadConduit"] {
        assert!(!file.contains(internal), "the contract mentions {internal:?}");
    }
    // A browser reads the document instead of downloading it.
    let in_browser = env.request(api_tests::browser_get("/openapi.yaml")).await;
    assert_eq!(in_browser.headers["content-type"], "text/plain; charset=utf-8");
    assert!(!html.contains("<script"), "static: no script");
    // The document's own text holds markup-like words ("Incode: Bearer <secret>"): the page shows
    // them escaped, never as markup.
    let sample = "Bearer <secret>";
    assert!(file.contains(sample), "the document still says {sample:?}");
    assert!(html.contains("Bearer &lt;secret&gt;") && !html.contains(sample), "what the document says is escaped");
}

/// docs/security.md says, for every route callable without an API key, what it may change and
/// why that is safe: its table names exactly the document's public operations.
#[test]
fn docs_list_every_public_route() {
    let text = std::fs::read_to_string(infra::template::Template::path().with_file_name("docs/security.md")).unwrap();
    let mut listed = std::collections::BTreeSet::new();
    for row in text.lines().filter(|l| l.starts_with("| `")) {
        let cell = row.split('|').nth(1).unwrap();
        for route in cell.split('`').filter(|s| s.contains(' ') && s.contains('/')) {
            listed.insert(route.to_string());
        }
    }
    let mut public = std::collections::BTreeSet::new();
    for (path, item) in api_tests::openapi::OPENAPI.document()["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap().iter().filter(|(m, _)| *m != "parameters") {
            let options = operation["security"].as_array();
            if options.is_some_and(|o| o.is_empty() || o.iter().any(|s| s.as_object().is_some_and(|m| m.is_empty()))) {
                public.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert_eq!(listed, public);
}

#[tokio::test]
async fn the_claim_link_refuses_a_body_that_is_not_json() {
    let env = TestEnv::new().await;
    let reply = env.post_raw("/invitations/claim", &[("content-type", "text/plain")], b"token=abc").await;
    api_tests::assert_error(&reply, 400, "invalid JSON");
}
