//! The local API over real HTTP, as `infra/run` serves it, and email failures that lose nothing.

use std::io::{Read, Write};
use std::sync::Arc;

use api_tests::{TestEnv, unique};
use infra::template::Template;
use serde_json::json;

fn http(port: u16, request: &str) -> (u16, serde_json::Value) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(body).unwrap())
}

#[tokio::test]
async fn the_local_api_serves_template_routes_over_http() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    let api = env.api_sending_as(&Template::load().unwrap().parameter_default("SenderEmail").unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(infra::local_api::serve(Arc::new(api), listener));

    let body = json!({ "email": format!("{}@example.com", unique("http")) }).to_string();
    let request = format!(
        "POST /invitations/recipient HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        seller.key,
        body.len()
    );
    let (status, reply) = tokio::task::spawn_blocking(move || http(port, &request)).await.unwrap();
    assert_eq!(status, 201, "{reply:?}");
    assert_eq!(reply["message"], "Invitation was sent successfully");
    let (status, reply) = tokio::task::spawn_blocking(move || http(port, "GET /connections HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).await.unwrap();
    assert_eq!(status, 401);
    assert_eq!(reply["error"], "authentication failed");
    // Forwarding headers that form no URL: a JSON 400, where lambda_http used to panic (an empty reply).
    for header in ["Host: a:99999", "Host: x\r\nX-Forwarded-Proto: x/y"] {
        let request = format!("GET /connections HTTP/1.1\r\n{header}\r\nConnection: close\r\n\r\n");
        let (status, reply) = tokio::task::spawn_blocking(move || http(port, &request)).await.unwrap();
        assert_eq!((status, reply["error"].as_str()), (400, Some("bad request")), "{header}");
    }
}

/// Lambda runs an invocation to completion whether or not its caller is still connected; so does
/// the local API. The handler here waits until the client has hung up, then creates a campaign.
#[tokio::test]
async fn a_request_whose_client_hangs_up_still_runs_to_completion() {
    let env = TestEnv::new().await;
    let account = env.account("hangs-up").await;
    let hung_up = Arc::new(tokio::sync::Notify::new());
    let waiting = hung_up.clone();
    let api = env.api_with(move |handlers| {
        let create = handlers.remove("campaigns-create").expect("campaigns-create");
        let held: functions::registry::Handler = Arc::new(move |request| {
            let (create, waiting) = (create.clone(), waiting.clone());
            Box::pin(async move {
                waiting.notified().await;
                create(request).await
            })
        });
        handlers.insert("campaigns-create", held);
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(infra::local_api::serve(Arc::new(api), listener));

    let body = json!({ "name": "Sent by a client that hung up" }).to_string();
    let request = format!(
        "POST /api/v1/campaigns HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        account.key,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes()).await.unwrap();
    // The server has the request when a second one on another connection is answered.
    let (status, _) = tokio::task::spawn_blocking(move || http(port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).await.unwrap();
    assert_eq!(status, 200);
    drop(stream);
    hung_up.notify_one();

    let mut listed = vec![];
    for _ in 0..50 {
        listed = env.get("/api/v1/campaigns?status=draft", &account).await.expect::<api_tests::Campaigns>(200).campaigns;
        if !listed.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Sent by a client that hung up"]);
}

#[tokio::test]
async fn an_invitation_whose_email_fails_is_kept_and_says_so() {
    let env = TestEnv::new().await;
    let seller = env.account("seller").await;
    // SES refuses a sender that was never verified: a real failure, not a mock.
    let api = env.api_sending_as(&format!("{}@unverified.example", unique("nobody")));
    let email = format!("{}@example.com", unique("lost"));
    let reply = api
        .dispatch(infra::local_api::HttpRequest {
            method: "POST".into(),
            uri: "/invitations/recipient".into(),
            headers: vec![("authorization".into(), format!("Bearer {}", seller.key))],
            body: json!({ "email": email }).to_string().into_bytes(),
        })
        .await;
    assert_eq!(reply.status(), 201);
    let lambda_http::Body::Text(text) = reply.body() else { panic!("text body") };
    let sent: api_tests::InvitationSent = serde_json::from_str(text).unwrap();
    assert_eq!(sent.email_sent, Some(false));
    assert!(env.emails_to(&email).await.is_empty());
    let listed = env.get("/invitations", &seller).await.expect::<Vec<api_tests::Invitation>>(200);
    assert_eq!(listed[0].id, sent.invitation.id, "the invitation was kept; it can be resent");
}
