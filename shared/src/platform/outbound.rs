//! Outbound HTTP(S) calls (provider APIs, webhook deliveries): hyper with rustls/ring and the
//! system's roots, a whole-request timeout, bodies read up to a limit, and — for URLs our users
//! choose — no connection to private, loopback or link-local addresses, checked on the addresses
//! DNS actually returns (so a public name resolving to 127.0.0.1 is refused too).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;

use crate::platform::public_url::is_public;

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

/// hyper's errors say "client error (Connect)"; the cause (refused, DNS, TLS) is in the chain.
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[derive(Debug)]
pub struct OutboundResponse {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

/// DNS through tokio, keeping only the addresses the client may reach.
#[derive(Clone, Copy, Debug)]
pub struct GuardedResolver {
    allow_private: bool,
}

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| allow_private || is_public(a.ip())).collect();
            if allowed.is_empty() {
                return Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, format!("{} resolves to no public address", name.as_str())));
            }
            Ok(allowed.into_iter())
        })
    }
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>;

#[derive(Debug)]
pub struct HttpClient {
    /// Built at the first call, not at cold start: loading the TLS roots costs about 1.5 ms of
    /// init (measured), and most invocations of a function may never call out.
    client: std::sync::OnceLock<HttpsClient>,
    timeout: Duration,
    allow_private: bool,
}

impl HttpClient {
    /// For URLs an operator configured (a provider's API): any address.
    pub fn new(timeout: Duration) -> HttpClient {
        HttpClient { client: std::sync::OnceLock::new(), timeout, allow_private: true }
    }

    /// For URLs users chose (webhook endpoints): public addresses only, unless `allow_private`
    /// (the local mode).
    pub fn guarded(timeout: Duration, allow_private: bool) -> HttpClient {
        HttpClient { allow_private, ..HttpClient::new(timeout) }
    }

    /// The pooled client, kept for the rest of the process.
    fn client(&self) -> Result<&HttpsClient, OutboundError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let mut http = HttpConnector::new_with_resolver(GuardedResolver { allow_private: self.allow_private });
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| OutboundError::Connect(format!("TLS roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(self.client.get_or_init(|| Client::builder(TokioExecutor::new()).build(https)))
    }

    pub async fn send(&self, method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Result<OutboundResponse, OutboundError> {
        let mut request = hyper::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body))).map_err(|e| OutboundError::Request(e.to_string()))?;
        // An address literal never reaches the resolver: check it here.
        let literal = request.uri().host().map(|h| h.trim_start_matches('[').trim_end_matches(']')).and_then(|h| h.parse::<IpAddr>().ok());
        if let Some(ip) = literal.filter(|ip| !self.allow_private && !is_public(*ip)) {
            return Err(OutboundError::Connect(format!("{ip} is not a public address")));
        }
        let exchange = async {
            let response = self.client()?.request(request).await.map_err(|e| OutboundError::Connect(with_causes(&e)))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES).collect().await.map_err(|e| OutboundError::Body(e.to_string()))?;
            Ok(OutboundResponse { status: parts.status.as_u16(), headers: parts.headers, body: body.to_bytes() })
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| OutboundError::Timeout(self.timeout))?
    }
}
