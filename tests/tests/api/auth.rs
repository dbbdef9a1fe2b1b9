//! Authentication on every route of template.yaml: Bearer and Basic keys, and 401 for missing,
//! malformed, unknown and revoked ones, with LeadConduit's error wording.

use api_tests::{TestEnv, assert_error};
use base64::Engine;
use infra::local_api::HttpRequest;
use infra::template::Template;

fn request(method: &str, path: &str, authorization: Option<&str>) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        uri: path
            .replace("{id}", "64b8f0f5e4b0c3a1d5e6f7a8")
            .replace("{integration_id}", "64b8f0f5e4b0c3a1d5e6f7a8")
            .replace("{delivery_id}", "64b8f0f5e4b0c3a1d5e6f7a8")
            .replace("{token}", "not-a-real-token"),
        headers: authorization.map(|a| vec![("authorization".to_string(), a.to_string())]).unwrap_or_default(),
        body: b"{}".to_vec(),
    }
}

/// Reached without an API key: providers (their own signature or token authenticates them,
/// tests/tests/api/webhooks.rs), browsers (the redirect records only claims) and clients holding an
/// onboarding link (the token is the credential, tests/tests/api/client_onboarding.rs).
/// The contract and its page are public documents.
const PUBLIC_ROUTES: [(&str, &str); 15] = [
    ("POST", "/webhooks/{integration_id}"),
    ("GET", "/integrations/{id}/redirect"),
    ("GET", "/c/{token}"),
    ("POST", "/c/{token}/complete"),
    ("GET", "/openapi.yaml"),
    ("GET", "/docs"),
    // The pages people click: the invitation's token is the credential; the buyer onboarding
    // page is static and asks for the key itself.
    ("GET", "/invitations/claim"),
    ("GET", "/buyer-onboarding"),
    // Signing in: the address is all one gives; the emailed link's token is the credential
    // (tests/tests/api/people.rs). The dashboard page without a session offers the sign-in.
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    ("GET", "/sign-in/link"),
    ("POST", "/sign-in/link"),
    ("GET", "/dashboard"),
    ("GET", "/settings/apis"),
    ("GET", "/settings/webhooks"),
];

/// Reached with a person's session only, never with an API key (`people.rs` counts a session's
/// requests against the limit).
const SESSION_ROUTES: [(&str, &str); 1] = [("POST", "/sign-out")];

fn is_public(route: &infra::template::Route) -> bool {
    // A HEAD answers a page's headers and nothing else (`probe.rs` checks each).
    route.method == "HEAD" || PUBLIC_ROUTES.contains(&(route.method.as_str(), route.path.as_str()))
}

#[tokio::test]
async fn every_route_refuses_requests_without_a_valid_key() {
    let env = TestEnv::new().await;
    let account = env.account("revoked").await;
    let key_id = {
        let (key, record) = env.db.accounts().issue_api_key(&account.email).await.unwrap();
        env.db.accounts().revoke_api_key(&account.id, &record.key_id).await.unwrap();
        key
    };
    let unknown = format!("sk_live_{}", "0".repeat(40));
    let basic_unknown = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("API:{unknown}")));
    let credentials = [
        Some("Bearer sk_live_tooshort".to_string()),
        Some(format!("Bearer {unknown}")),
        Some(format!("Bearer {key_id}")),
        Some(basic_unknown),
        Some("Digest abc".to_string()),
    ];
    let routes = Template::load().unwrap().routes().unwrap();
    assert!(routes.len() >= 16);
    for route in &routes {
        if is_public(route) {
            continue;
        }
        // The claim link is public: anonymous callers create an account instead.
        if route.path != "/invitations/claim" {
            let reply = env.request(request(&route.method, &route.path, None)).await;
            assert_error(&reply, 401, "authentication failed");
        }
        for credential in &credentials {
            let reply = env.request(request(&route.method, &route.path, credential.as_deref())).await;
            assert_error(&reply, 401, "authentication failed");
        }
    }
}

#[tokio::test]
async fn bearer_and_basic_with_any_username_authenticate() {
    let env = TestEnv::new().await;
    let account = env.account("account").await;
    for authorization in [
        format!("Bearer {}", account.key),
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("API:{}", account.key))),
        format!("basic {}", base64::engine::general_purpose::STANDARD.encode(format!("anyone:{}", account.key))),
    ] {
        let reply = env.request(HttpRequest { method: "GET".into(), uri: "/connections".into(), headers: vec![("Authorization".into(), authorization)], body: vec![] }).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    let other_key = env.db.accounts().issue_api_key(&account.email).await.unwrap().0;
    let reply = env.call("GET", "/entities", Some(&other_key), None).await;
    assert_eq!(reply.status, 200, "a second key works alongside the first");
}

#[tokio::test]
async fn unknown_paths_are_404_and_other_methods_405_with_allow() {
    let env = TestEnv::new().await;
    assert_error(&env.call("GET", "/nope", None, None).await, 404, "not found");
    assert_error(&env.call("GET", "/flows/x/y/z", None, None).await, 404, "not found");
    // Every path of the contract, asked with each method it does not take: 405 naming the ones it does.
    let mut methods_of: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for route in Template::load().unwrap().routes().unwrap() {
        methods_of.entry(route.path.replace("{id}", "01a2435e2ccd011b35b86984").replace("{source_id}", "01a2435e2ccd011b35b86985").replace("{delivery_id}", "01a2435e2ccd011b35b86986").replace("{integration_id}", "01a2435e2ccd011b35b86987").replace("{token}", "tok")).or_default().push(route.method);
    }
    for (path, methods) in &methods_of {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "TRACE", "OPTIONS", "HEAD"].iter().filter(|m| env.api.route_for(m, path).is_none()) {
            let reply = env.call(method, path, None, None).await;
            assert_error(&reply, 405, "method not allowed");
            let mut allowed: Vec<&str> = reply.headers["allow"].split(", ").collect();
            allowed.sort();
            // What API Gateway routes on this path: its own routes and any whose parameters match it.
            let mut expected: Vec<&str> = ["DELETE", "GET", "HEAD", "POST", "PUT"].into_iter().filter(|m| env.api.route_for(m, path).is_some()).collect();
            expected.sort();
            assert!(methods.iter().all(|m| expected.contains(&m.as_str())), "{path}: {methods:?} in {expected:?}");
            assert_eq!(allowed, expected, "{method} {path}");
        }
    }
    assert!(methods_of.len() > 40, "every path was asked");
}

#[tokio::test]
async fn every_route_that_takes_a_body_refuses_an_oversized_one() {
    let env = TestEnv::new().await;
    let account = env.account("account").await;
    let document = &api_tests::openapi::OPENAPI;
    let oversized = format!("{{\"name\":\"{}\"}}", "x".repeat(shared::platform::http::MAX_BODY_BYTES));
    let mut checked = 0;
    for route in Template::load().unwrap().routes().unwrap() {
        if !document.takes_body(&route.method, &route.path) {
            continue;
        }
        let mut req = request(&route.method, &route.path, Some(&format!("Bearer {}", account.key)));
        req.body = oversized.clone().into_bytes();
        assert_error(&env.request(req).await, 413, "payload too large");
        checked += 1;
    }
    assert!(checked >= 8, "{checked} routes take a body");
}

/// The limit applies to every authenticated route, before the handler does anything.
#[tokio::test]
async fn every_authenticated_route_answers_429_over_the_limit() {
    let limit = shared::platform::ratelimit::RateLimit { requests: 1, window: std::time::Duration::from_secs(3600), shards: None };
    let env = TestEnv::with_rate_limit(limit).await;
    let account = env.account("limited").await;
    let mut checked = 0;
    for route in Template::load().unwrap().routes().unwrap() {
        if is_public(&route) || SESSION_ROUTES.contains(&(route.method.as_str(), route.path.as_str())) {
            continue;
        }
        let key = env.db.accounts().issue_api_key(&account.email).await.unwrap().0;
        let authorization = format!("Bearer {key}");
        env.request(request(&route.method, &route.path, Some(&authorization))).await;
        let refused = env.request(request(&route.method, &route.path, Some(&authorization))).await;
        assert_error(&refused, 429, "rate limit exceeded");
        assert!(refused.headers.contains_key("retry-after"), "{} {}", route.method, route.path);
        checked += 1;
    }
    assert!(checked >= 30, "{checked} routes");
}

/// lambda_http builds each request's URI from `Host` and `X-Forwarded-Proto`; headers that do
/// not form a URL used to panic it (an empty reply), on every route.
#[tokio::test]
async fn every_route_answers_400_to_forwarding_headers_that_form_no_url() {
    let env = TestEnv::new().await;
    let account = env.account("headers").await;
    let authorization = format!("Bearer {}", account.key);
    for route in Template::load().unwrap().routes().unwrap() {
        for (name, value) in [("host", "a:99999"), ("x-forwarded-proto", "x/y"), ("host", "a b")] {
            let mut req = request(&route.method, &route.path, Some(&authorization));
            req.headers.push((name.into(), value.into()));
            let reply = env.request(req).await;
            assert!(assert_error(&reply, 400, "bad request").contains("Host"), "{} {} with {name}: {value}", route.method, route.path);
        }
    }
}
