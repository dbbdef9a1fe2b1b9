//! Outbound HTTP(S) calls to provider APIs: hyper with rustls/ring and the system's roots, a
//! whole-request timeout, bodies read up to a limit.

use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Responses larger than this are not read (provider answers are small JSON documents).
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("invalid request: {0}")]
    Request(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("reading the response failed: {0}")]
    Body(String),
}

#[derive(Debug)]
pub struct OutboundResponse {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

#[derive(Debug)]
pub struct HttpClient {
    /// Built at the first call, not at cold start: loading the TLS roots costs about 1.5 ms of
    /// init (measured), and most invocations of a function may never call out.
    client: std::sync::OnceLock<HttpsClient>,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(timeout: Duration) -> HttpClient {
        HttpClient { client: std::sync::OnceLock::new(), timeout }
    }

    /// The pooled client, kept for the rest of the process.
    fn client(&self) -> Result<&HttpsClient, OutboundError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| OutboundError::Connect(format!("TLS roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(self.client.get_or_init(|| Client::builder(TokioExecutor::new()).build(https)))
    }

    pub async fn send(&self, method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Result<OutboundResponse, OutboundError> {
        let mut request = hyper::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body))).map_err(|e| OutboundError::Request(e.to_string()))?;
        let exchange = async {
            let response = self.client()?.request(request).await.map_err(|e| OutboundError::Connect(e.to_string()))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES).collect().await.map_err(|e| OutboundError::Body(e.to_string()))?;
            Ok(OutboundResponse { status: parts.status.as_u16(), headers: parts.headers, body: body.to_bytes() })
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| OutboundError::Timeout(self.timeout))?
    }
}
