//! People signing in: the emailed link, the session it starts, the CSRF token every change made
//! with it carries, signing out here and everywhere, and what an outsider learns (nothing).

use api_tests::{ApiKey, Invitation, InvitationSent, NewApiKey, Reply, TestAccount, TestEnv, assert_error, browser_get, page_data};
use infra::local_api::HttpRequest;
use serde_json::{Value, json};

/// `POST /sign-in` for `address`.
async fn ask_for_link(env: &TestEnv, address: &str) -> Reply {
    env.call("POST", "/sign-in", None, Some(json!({ "email": address }))).await
}

/// The sign-in token in the newest email to `address`.
async fn emailed_token(env: &TestEnv, address: &str) -> String {
    let emails = env.emails_to(address).await;
    let body = emails.last().unwrap_or_else(|| panic!("no email to {address}"))["body"].as_str().unwrap_or_default().to_string();
    let start = body.find("/sign-in/link?token=").expect("a sign-in link in the email") + "/sign-in/link?token=".len();
    body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// A signed-in person: the session token (the cookie's value) and the page's CSRF token.
struct Person {
    session: String,
    csrf: String,
}

/// Uses a sign-in link; the cookie the answer sets.
async fn use_link(env: &TestEnv, token: &str) -> (Reply, Option<String>) {
    let reply = env.call("POST", "/sign-in/link", None, Some(json!({ "token": token }))).await;
    let cookie = reply.headers.get("set-cookie").cloned();
    (reply, cookie)
}

/// Signs `account`'s user in through a link the store issues (as the email would carry).
async fn signed_in(env: &TestEnv, account: &TestAccount) -> Person {
    let token = env.db.people().issue_link(&account.email, &account.id).await.expect("a link");
    let (reply, cookie) = use_link(env, &token).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let session = cookie.expect("a session cookie").split(';').next().unwrap().strip_prefix("__Host-session=").expect("the session cookie").to_string();
    let page = env.request(as_person(browser_get("/dashboard"), &session, None)).await;
    let csrf = page_data(&page)["person"]["csrf"].as_str().expect("the page's CSRF token").to_string();
    Person { session, csrf }
}

fn as_person(mut request: HttpRequest, session: &str, csrf: Option<&str>) -> HttpRequest {
    request.headers.push(("cookie".into(), format!("theme=dark; __Host-session={session}")));
    if let Some(csrf) = csrf {
        request.headers.push(("x-csrf-token".into(), csrf.into()));
    }
    request
}

/// `method uri` with the session cookie (and CSRF token, if given) and a JSON body.
/// `GET /connections` as `person`: 200 while the session lasts.
async fn works(env: &TestEnv, person: &Person) -> Reply {
    call_as(env, person, None, "GET", "/connections", None).await
}

async fn call_as(env: &TestEnv, person: &Person, csrf: Option<&str>, method: &str, uri: &str, body: Option<Value>) -> Reply {
    let headers = vec![("content-type".to_string(), "application/json".to_string())];
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    env.request(as_person(HttpRequest { method: method.into(), uri: uri.into(), headers, body }, &person.session, csrf)).await
}

#[tokio::test]
async fn a_person_signs_in_by_the_emailed_link_and_the_session_calls_the_api() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let sent = ask_for_link(&env, &seller.email.to_uppercase()).await;
    assert_eq!(sent.status, 202, "{:?}", sent.body);
    let emails = env.emails_to(&seller.email).await;
    assert_eq!(emails.len(), 1);
    assert!(emails[0]["subject"].as_str().unwrap().contains(&seller.name), "{:?}", emails[0]);
    let token = emailed_token(&env, &seller.email).await;

    // Opening the link shows whose it is and uses nothing up (mail scanners fetch links).
    for _ in 0..2 {
        let page = env.request(browser_get(&format!("/sign-in/link?token={token}"))).await;
        assert_eq!(page_data(&page), json!({ "state": "valid", "email": seller.email }));
    }
    let (reply, cookie) = use_link(&env, &token).await;
    assert_eq!(reply.body, json!({ "signed_in_as": seller.email, "next": "/dashboard" }));
    let cookie = cookie.expect("Set-Cookie");
    for part in ["__Host-session=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=43200"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    let session = cookie.split(';').next().unwrap().strip_prefix("__Host-session=").unwrap().to_string();
    assert!(!session.contains(&token) && session.len() >= 32);

    // The link works once.
    let (again, cookie) = use_link(&env, &token).await;
    assert_error(&again, 404, "not found");
    assert!(cookie.is_none());
    let page = env.request(browser_get(&format!("/sign-in/link?token={token}"))).await;
    assert_eq!(page_data(&page)["state"], "unknown");

    // The dashboard knows the person; the API answers the session as it answers the account's key.
    let page = env.request(as_person(browser_get("/dashboard"), &session, None)).await;
    let person = &page_data(&page)["person"];
    assert_eq!((person["email"].as_str(), person["account"].as_str()), (Some(seller.email.as_str()), Some(seller.name.as_str())));
    let person = Person { session, csrf: person["csrf"].as_str().unwrap().to_string() };
    let listed: Vec<Invitation> = call_as(&env, &person, None, "GET", "/invitations", None).await.expect(200);
    assert!(listed.is_empty());

    // A change needs the page's CSRF token as well: the cookie alone is what another site could send.
    let invite = json!({ "email": "partner@example.com", "relationship_type": "buyer" });
    for wrong in [None, Some("not-the-token"), Some("")] {
        let refused = call_as(&env, &person, wrong, "POST", "/invitations", Some(invite.clone())).await;
        assert!(assert_error(&refused, 401, "authentication failed").contains("X-CSRF-Token"), "{wrong:?}");
    }
    assert!(env.get("/invitations", &seller).await.expect::<Vec<Invitation>>(200).is_empty(), "nothing was sent without the token");
    let invited: InvitationSent = call_as(&env, &person, Some(&person.csrf.clone()), "POST", "/invitations", Some(invite)).await.expect(201);
    assert_eq!(invited.invitation.created_by, seller.email, "made by the signed-in person, for their account");
    assert_eq!(env.get("/invitations", &seller).await.expect::<Vec<Invitation>>(200).len(), 1);
}

#[tokio::test]
async fn an_address_no_account_uses_gets_the_same_answer_and_no_link() {
    let env = TestEnv::new().await;
    let user = env.account("known").await;
    let stranger = format!("{}@example.com", api_tests::unique("stranger").to_lowercase());
    let known = ask_for_link(&env, &user.email).await;
    let unknown = ask_for_link(&env, &stranger).await;
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body), "the caller cannot tell them apart");
    let told = env.emails_to(&stranger).await;
    assert_eq!(told.len(), 1, "the address's own inbox is told");
    let body = told[0]["body"].as_str().unwrap();
    assert!(body.contains("no account uses this address") && !body.contains("token="), "{body}");
    let hash = shared::platform::secret::hash(&stranger);
    assert!(env.stored_item(&format!("SIGNINSENT#{hash}"), "SIGNINSENT").await.is_some(), "throttled like a user's");
    assert!(!format!("{:?}", env.stored_item(&format!("SIGNINSENT#{hash}"), "SIGNINSENT").await).contains(&stranger), "the address itself is not stored");
}

#[tokio::test]
async fn a_second_request_within_a_minute_sends_nothing_more_and_bad_input_is_refused() {
    let env = TestEnv::new().await;
    let user = env.account("twice").await;
    for _ in 0..3 {
        assert_eq!(ask_for_link(&env, &user.email).await.status, 202);
    }
    assert_eq!(env.emails_to(&user.email).await.len(), 1, "a retried or repeated request sends one email a minute");
    assert_error(&ask_for_link(&env, "not an address").await, 422, "validation failed");
    assert_error(&env.call("POST", "/sign-in", None, Some(json!({ "email": user.email, "admin": true }))).await, 422, "validation failed");
    assert_error(&env.post_raw("/sign-in", &[("content-type", "application/json")], b"{").await, 400, "invalid JSON");
    assert_error(&env.call("POST", "/sign-in/link", None, Some(json!({ "token": "" }))).await, 404, "not found");
    assert_error(&env.call("POST", "/sign-in/link", None, Some(json!({}))).await, 422, "validation failed");
}

#[tokio::test]
async fn an_expired_link_is_refused_and_says_so() {
    let env = TestEnv::new().await;
    let user = env.account("late").await;
    let token = env.db.people().issue_link(&user.email, &user.id).await.unwrap();
    // The link as it is stored, fifteen minutes on (DynamoDB's TTL deletes late: expiry is checked).
    let key = format!("SIGNIN#{}", shared::platform::secret::hash(&token));
    let mut item = env.stored_item(&key, "SIGNIN").await.expect("the link");
    item.insert("expires_at".into(), aws_sdk_dynamodb::types::AttributeValue::S("2020-01-01T00:00:00Z".into()));
    env.plant_item(item).await;
    let page = env.request(browser_get(&format!("/sign-in/link?token={token}"))).await;
    assert_eq!(page_data(&page), json!({ "state": "expired", "email": null }));
    let (reply, cookie) = use_link(&env, &token).await;
    assert!(assert_error(&reply, 410, "gone").contains("/sign-in"));
    assert!(cookie.is_none());
}

#[tokio::test]
async fn signing_out_ends_this_session_and_everywhere_ends_every_one() {
    let env = TestEnv::new().await;
    let user = env.account("leaving").await;
    let (laptop, phone, tablet) = (signed_in(&env, &user).await, signed_in(&env, &user).await, signed_in(&env, &user).await);
    let other = signed_in(&env, &env.account("other").await).await;
    assert_eq!(works(&env, &laptop).await.status, 200);

    assert_error(&call_as(&env, &laptop, None, "POST", "/sign-out", None).await, 401, "authentication failed");
    assert_error(&call_as(&env, &laptop, Some(&laptop.csrf), "POST", "/sign-out", Some(json!({ "everywhere": "yes" }))).await, 422, "validation failed");
    assert_error(&env.call("POST", "/sign-out", Some(&user.key), None).await, 401, "authentication failed");
    let out = call_as(&env, &laptop, Some(&laptop.csrf), "POST", "/sign-out", None).await;
    assert_eq!(out.body, json!({ "sessions_ended": 1 }));
    assert!(out.headers["set-cookie"].contains("Max-Age=0"), "the browser forgets it");
    assert_error(&works(&env, &laptop).await, 401, "authentication failed");
    assert_eq!(works(&env, &phone).await.status, 200, "only that session ended");

    let out = call_as(&env, &phone, Some(&phone.csrf), "POST", "/sign-out", Some(json!({ "everywhere": true }))).await;
    assert_eq!(out.body, json!({ "sessions_ended": 2 }));
    for ended in [&phone, &tablet] {
        assert_error(&works(&env, ended).await, 401, "authentication failed");
    }
    assert_eq!(works(&env, &other).await.status, 200, "another person's session is theirs");
    let page = env.request(as_person(browser_get("/dashboard"), &tablet.session, None)).await;
    assert_eq!(page_data(&page), json!({ "person": null }), "the dashboard offers the sign-in again");
}

#[tokio::test]
async fn the_sign_in_pages_answer_without_a_session() {
    let env = TestEnv::new().await;
    assert_eq!(page_data(&env.request(browser_get("/sign-in")).await), json!({ "signed_in_as": null }));
    assert_eq!(page_data(&env.request(browser_get("/sign-in/link")).await), json!({ "state": "unknown", "email": null }));
    assert_eq!(page_data(&env.request(browser_get("/dashboard")).await), json!({ "person": null }));
    let forged = env.request(as_person(browser_get("/dashboard"), "made-up-session-token", None)).await;
    assert_eq!(page_data(&forged), json!({ "person": null }));
    let user = env.account("back").await;
    let person = signed_in(&env, &user).await;
    let page = env.request(as_person(browser_get("/sign-in"), &person.session, None)).await;
    assert_eq!(page_data(&page), json!({ "signed_in_as": user.email }));
}

#[tokio::test]
async fn a_sessions_requests_count_against_the_limit_as_a_keys_do() {
    let limit = shared::platform::ratelimit::RateLimit { requests: 1, window: std::time::Duration::from_secs(3600), shards: None };
    let env = TestEnv::with_rate_limit(limit).await;
    let user = env.account("busy").await;
    let person = signed_in(&env, &user).await;
    assert_eq!(works(&env, &person).await.status, 200);
    assert_error(&works(&env, &person).await, 429, "rate limit exceeded");
    assert_eq!(env.get("/connections", &user).await.status, 200, "the account's key has a count of its own");
    let refused = call_as(&env, &person, Some(&person.csrf), "POST", "/sign-out", None).await;
    assert_error(&refused, 429, "rate limit exceeded");
}

#[tokio::test]
async fn the_buyer_onboarding_page_works_as_the_signed_in_person() {
    let env = TestEnv::new().await;
    let buyer = env.account("onboarding").await;
    let person = signed_in(&env, &buyer).await;
    let page = env.request(as_person(browser_get("/buyer-onboarding?invitation_id=64b8f0f5e4b0c3a1d5e6f7a9"), &person.session, None)).await;
    assert_eq!(page_data(&page), json!({ "person": { "email": buyer.email, "account": buyer.name, "csrf": person.csrf } }), "its calls carry the session's CSRF token");
    let forged = env.request(as_person(browser_get("/buyer-onboarding"), "made-up", None)).await;
    assert_eq!(page_data(&forged), json!({ "person": null }));
}

#[tokio::test]
async fn api_keys_are_made_once_listed_without_the_secret_and_revoked_from_settings() {
    let env = TestEnv::new().await;
    let owner = env.account("keys").await;
    let person = signed_in(&env, &owner).await;
    for page in ["/settings/apis", "/settings/webhooks"] {
        let settings = env.request(as_person(browser_get(page), &person.session, None)).await;
        assert_eq!(page_data(&settings)["person"]["csrf"], person.csrf.as_str(), "{page}");
        assert_eq!(page_data(&env.request(browser_get(page)).await), json!({ "person": null }), "{page} without a session");
    }

    assert_error(&call_as(&env, &person, None, "POST", "/api-keys", None).await, 401, "authentication failed");
    let made: NewApiKey = call_as(&env, &person, Some(&person.csrf), "POST", "/api-keys", Some(json!({}))).await.expect(201);
    assert!(made.api_key.starts_with(&made.key.prefix) && made.key.revoked_at.is_none());
    assert_eq!(made.key.user_email, owner.email, "made for the signed-in person");
    let with_new_key = TestAccount { key: made.api_key.clone(), ..owner.clone() };
    assert_eq!(env.get("/account", &with_new_key).await.status, 200, "the new key works at once");

    let listed: Vec<ApiKey> = call_as(&env, &person, None, "GET", "/api-keys", None).await.expect(200);
    assert_eq!(listed.len(), 2, "the first key and the new one");
    assert_eq!(listed[0].id, made.key.id, "newest first");
    let text = call_as(&env, &person, None, "GET", "/api-keys", None).await.body.to_string();
    assert!(!text.contains(&made.api_key) && !text.contains(&owner.key), "never a key itself");

    // Another account's key is not there to revoke.
    let stranger = env.account("stranger").await;
    assert_error(&env.call("DELETE", &format!("/api-keys/{}", made.key.id), Some(&stranger.key), None).await, 404, "not found");
    let revoked = call_as(&env, &person, Some(&person.csrf), "DELETE", &format!("/api-keys/{}", made.key.id), None).await;
    assert_eq!(revoked.status, 204);
    assert_error(&env.get("/account", &with_new_key).await, 401, "authentication failed");
    assert_eq!(works(&env, &person).await.status, 200, "revoking a key ends no session");
    let listed: Vec<ApiKey> = env.get("/api-keys", &owner).await.expect(200);
    assert!(listed[0].revoked_at.is_some() && listed[1].revoked_at.is_none());

    // A retried creation with its Idempotency-Key gets the same key back, and makes no other.
    let keyed = |key: &str| HttpRequest {
        method: "POST".into(),
        uri: "/api-keys".into(),
        headers: vec![("authorization".into(), format!("Bearer {}", owner.key)), ("idempotency-key".into(), key.into())],
        body: vec![],
    };
    let first: NewApiKey = env.request(keyed("make-one")).await.expect(201);
    let again: NewApiKey = env.request(keyed("make-one")).await.expect(201);
    assert_eq!(first.api_key, again.api_key);
    assert_eq!(env.get("/api-keys", &owner).await.expect::<Vec<ApiKey>>(200).len(), 3);
}

#[tokio::test]
async fn a_signed_in_person_accepts_a_link_to_an_address_without_an_account_for_their_own_account() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let buyer = env.account("buyer").await;
    let address = format!("{}@example.com", api_tests::unique("personal"));
    env.call("POST", "/invitations", Some(&seller.key), Some(json!({ "email": address, "relationship_type": "buyer" }))).await.expect::<InvitationSent>(201);
    let token = env.invitation_token(&address).await;
    let person = signed_in(&env, &buyer).await;
    // The page offers it to the signed-in person, naming their account.
    let page = env.request(as_person(browser_get(&format!("/invitations/claim?token={token}")), &person.session, None)).await;
    let data = page_data(&page);
    assert_eq!((data["answers_for"].clone(), data["person"]["account"].clone()), (Value::Null, json!(buyer.name)));
    // Without the page's CSRF token nothing is accepted.
    let claim = json!({ "token": token, "answer": "accept" });
    assert_error(&call_as(&env, &person, None, "POST", "/invitations/claim", Some(claim.clone())).await, 401, "authentication failed");
    assert!(env.get("/connections", &buyer).await.expect::<Vec<Value>>(200).is_empty());
    let accepted: Value = call_as(&env, &person, Some(&person.csrf), "POST", "/invitations/claim", Some(claim)).await.expect(200);
    assert_eq!(accepted["connection"]["account_id"], buyer.id.to_string(), "for the person's own account, no new one");
    let connections: Vec<Value> = env.get("/connections", &buyer).await.expect(200);
    assert_eq!(connections[0]["connected_account"]["id"], seller.id.to_string());
}
