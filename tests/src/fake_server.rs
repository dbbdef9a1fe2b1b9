//! A stand-in for a provider's HTTP API on 127.0.0.1.

use std::collections::HashMap;
use std::sync::Arc;


/// A stand-in for a provider's HTTP API on 127.0.0.1: answers every request with the next of
/// `replies` (the last one repeats) and keeps what it was sent.
pub struct FakeServer {
    pub url: String,
    pub requests: Arc<std::sync::Mutex<Vec<RecordedRequest>>>,
}

#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl FakeServer {
    pub async fn start(replies: Vec<(u16, &'static str)>) -> FakeServer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let requests: Arc<std::sync::Mutex<Vec<RecordedRequest>>> = Arc::default();
        let seen = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else { return };
                let mut raw = vec![];
                let mut buf = [0u8; 4096];
                let (head, mut body) = loop {
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break (String::new(), vec![]);
                    }
                    raw.extend_from_slice(&buf[..n]);
                    if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        break (String::from_utf8_lossy(&raw[..end]).into_owned(), raw[end + 4..].to_vec());
                    }
                };
                let mut lines = head.lines();
                let mut first = lines.next().unwrap_or_default().split(' ');
                let (method, path) = (first.next().unwrap_or_default().to_string(), first.next().unwrap_or_default().to_string());
                let headers: HashMap<String, String> =
                    lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
                let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                while body.len() < length {
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&buf[..n]);
                }
                let index = {
                    let mut all = seen.lock().expect("requests");
                    all.push(RecordedRequest { method, path, headers, body });
                    all.len() - 1
                };
                let (status, reply) = replies[index.min(replies.len() - 1)];
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        FakeServer { url, requests }
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().expect("requests").clone()
    }
}
