//! Configuration from the environment, read once per cold start.

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} must be set")]
    Missing(&'static str),
    #[error("environment variable {0} must be {1}")]
    Invalid(&'static str, &'static str),
}

/// What a function is built from at cold start: its variables (the process environment in
/// Lambda; the local API's or a test's own elsewhere) and the SDK configuration they describe.
pub struct Env {
    vars: std::sync::Arc<dyn Fn(&str) -> Option<String> + Send + Sync>,
    /// Built when a state first asks for it (`aws()`), so that a function without AWS clients
    /// links no SDK configuration at all.
    aws: std::sync::OnceLock<aws_config::SdkConfig>,
    /// A DynamoDB client to use rather than one built from `aws` (the tests count its calls).
    dynamodb: Option<aws_sdk_dynamodb::Client>,
    /// One per environment: what one function seals, another opens.
    sealer: std::sync::OnceLock<crate::platform::seal::Sealer>,
}

impl Env {
    /// Lambda's: the process environment.
    pub fn lambda() -> Env {
        Env::from_vars(|name| std::env::var(name).ok())
    }

    /// The SDK configuration will come from `vars` as `aws()` reads it from the process.
    pub fn from_vars(vars: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Env {
        Env { vars: std::sync::Arc::new(vars), aws: std::sync::OnceLock::new(), dynamodb: None, sealer: std::sync::OnceLock::new() }
    }

    /// An SDK configuration built elsewhere (the local stack's workstation loader, the tests').
    pub fn new(aws: aws_config::SdkConfig, vars: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Env {
        Env { aws: std::sync::OnceLock::from(aws), ..Env::from_vars(vars) }
    }

    pub fn aws(&self) -> Result<&aws_config::SdkConfig, ConfigError> {
        if let Some(config) = self.aws.get() {
            return Ok(config);
        }
        let vars = self.vars.clone();
        let config = aws_from(move |name| vars(name).filter(|v| !v.is_empty()))?;
        Ok(self.aws.get_or_init(|| config))
    }

    pub fn with_dynamodb(self, client: aws_sdk_dynamodb::Client) -> Env {
        Env { dynamodb: Some(client), ..self }
    }

    /// A variable, unset when empty (as a template's empty parameter sets it).
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.vars)(name).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }

    /// An SDK client built at its first use.
    pub fn client<C>(&self, build: fn(&aws_config::SdkConfig) -> C) -> Result<LazyClient<C>, ConfigError> {
        Ok(LazyClient::from_config(self.aws()?, build))
    }

    /// The sealer under the stack's `STACK_SECRET` (`platform::seal`).
    pub fn sealer(&self) -> crate::platform::seal::Sealer {
        self.sealer.get_or_init(|| crate::platform::seal::Sealer::from_secret(self.optional("STACK_SECRET").as_deref())).clone()
    }

    pub fn dynamodb(&self) -> Result<LazyClient<aws_sdk_dynamodb::Client>, ConfigError> {
        match &self.dynamodb {
            Some(client) => Ok(LazyClient::ready(client.clone())),
            None => self.client(aws_sdk_dynamodb::Client::new),
        }
    }
}

/// What a function builds once per cold start (its clients and settings) from its `Env`.
pub trait FromEnv: Sized + Sync + 'static {
    fn from_env(env: &Env) -> Result<Self, ConfigError>;
}

/// A function that needs nothing (it serves a compiled-in document).
impl FromEnv for () {
    fn from_env(_: &Env) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// The SDK configuration a Lambda function builds its clients from: region, credentials and
/// endpoints from the environment, which is all Lambda provides.
///
/// Deliberately not `aws_config::load_defaults`: its provider chains (profiles, SSO, STS web
/// identity, IMDS) are never used in Lambda but add about a megabyte to every binary and work to
/// every cold start. TLS is rustls with ring rather than the larger aws-lc (docs/performance.md).
/// Operator tools on a workstation use `infra`'s full loader instead.
pub fn aws() -> Result<aws_config::SdkConfig, ConfigError> {
    aws_from(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// `aws()` over any source of variables (the process environment in Lambda).
pub fn aws_from(env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Result<aws_config::SdkConfig, ConfigError> {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    use aws_credential_types::provider::SharedCredentialsProvider;
    let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")).ok_or(ConfigError::Missing("AWS_REGION"))?;
    let mut config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()))
        .http_client(https_client(&env))
        .retry_config(aws_config::retry::RetryConfig::standard())
        .time_source(aws_smithy_async::time::SystemTimeSource::new());
    if let Some(sleep) = aws_smithy_async::rt::sleep::default_async_sleep() {
        config = config.sleep_impl(sleep);
    }
    if let Some(endpoint) = env("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(endpoint);
    }
    Ok(config.service_config(ServiceEndpoints(Box::new(env))).build())
}

/// `AWS_ENDPOINT_URL_<SERVICE>` (`_DYNAMODB`, `_DYNAMODB_STREAMS`, `_SQS`, `_SES`), which every
/// SDK client consults before `AWS_ENDPOINT_URL`, as the AWS SDKs' own environment loaders do: so
/// one binary runs against LocalStack (one URL), a split local stack or AWS (none).
struct ServiceEndpoints(Box<dyn Fn(&str) -> Option<String> + Send + Sync>);

impl std::fmt::Debug for ServiceEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceEndpoints")
    }
}

impl aws_types::service_config::LoadServiceConfig for ServiceEndpoints {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        (self.0)(&service_variable(key.env(), key.service_id()))
    }
}

/// The SDKs' naming: the service id upper-cased, spaces as underscores.
fn service_variable(variable: &str, service_id: &str) -> String {
    format!("{variable}_{}", service_id.to_ascii_uppercase().replace(' ', "_"))
}

/// The roots AWS's own endpoints chain to (Amazon Trust Services' Root CA 1–4, and Starfield
/// Services Root CA G2, which cross-signs them): parsing five certificates instead of a system
/// bundle of ~150 is most of what a cold start saved (docs/decisions.md, "Trust").
pub const AWS_ROOTS_PEM: &str = include_str!("aws_roots.pem");

/// The SDK's hyper/rustls client, with ring as the crypto provider, whose TLS context is built at
/// the first request rather than when a client is constructed (see `Deferred`). It trusts
/// `AWS_ROOTS_PEM` when talking to AWS, and the system's roots (`SSL_CERT_FILE` honoured) when an
/// `AWS_ENDPOINT_URL[_<SERVICE>]` in `env` points it elsewhere (LocalStack over TLS, a proxy).
pub fn https_client(env: &dyn Fn(&str) -> Option<String>) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    let custom_endpoint = ENDPOINT_VARIABLES.iter().any(|name| env(name).is_some_and(|v| !v.is_empty()));
    https_client_trusting(if custom_endpoint { Trust::System } else { Trust::Aws })
}

/// The endpoint variables of every service a function calls (`ServiceEndpoints` reads them).
const ENDPOINT_VARIABLES: [&str; 5] = ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SES"];

/// Which roots the SDK's clients trust.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trust {
    /// `AWS_ROOTS_PEM` only.
    Aws,
    /// The platform's roots (`SSL_CERT_FILE`, `SSL_CERT_DIR`, or the system store).
    System,
}

pub fn https_client_trusting(trust: Trust) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let trust_store = match trust {
        Trust::Aws => TrustStore::empty().with_pem_certificate(AWS_ROOTS_PEM.as_bytes()),
        Trust::System => TrustStore::default(),
    };
    let context = TlsContext::builder().with_trust_store(trust_store).build().unwrap_or_else(|_| tls::TlsContext::default());
    let client = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).tls_context(context).build_https();
    aws_smithy_runtime_api::client::http::SharedHttpClient::new(Deferred(client))
}

/// The SDK client's HTTP client, minus its eager start: the SDK's `validate_base_client_config`
/// builds a connector (TLS context, roots parsed) when each client is constructed, and throws it
/// away; the first request builds it again. Here the connector is built once, at the first
/// request, which a cold start does not wait for.
#[derive(Debug)]
struct Deferred(aws_smithy_runtime_api::client::http::SharedHttpClient);

impl aws_smithy_runtime_api::client::http::HttpClient for Deferred {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// An SDK client built on first use from the function's configuration: a request that never
/// touches a service never pays for its client (endpoint rules, partition data).
pub struct LazyClient<C> {
    client: std::sync::OnceLock<C>,
    build: Option<(aws_config::SdkConfig, fn(&aws_config::SdkConfig) -> C)>,
}

impl<C> LazyClient<C> {
    /// One already built (tests add interceptors to theirs).
    pub fn ready(client: C) -> LazyClient<C> {
        LazyClient { client: std::sync::OnceLock::from(client), build: None }
    }

    pub fn from_config(config: &aws_config::SdkConfig, build: fn(&aws_config::SdkConfig) -> C) -> LazyClient<C> {
        LazyClient { client: std::sync::OnceLock::new(), build: Some((config.clone(), build)) }
    }

    pub fn get(&self) -> &C {
        self.client.get_or_init(|| match &self.build {
            Some((config, build)) => build(config),
            // `ready` filled the cell; no other constructor leaves it empty without a builder.
            None => unreachable!("a LazyClient is ready or has a builder"),
        })
    }
}

impl<C: Clone> Clone for LazyClient<C> {
    fn clone(&self) -> Self {
        match self.client.get() {
            Some(client) => LazyClient::ready(client.clone()),
            None => LazyClient { client: std::sync::OnceLock::new(), build: self.build.clone() },
        }
    }
}

impl<C> std::fmt::Debug for LazyClient<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.client.get().is_some() { "LazyClient(built)" } else { "LazyClient(unbuilt)" })
    }
}

/// `WEBHOOK_LOCAL_MODE=true` is the local mode (`http://` and private addresses allowed).
impl FromEnv for crate::platform::public_url::UrlPolicy {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(crate::platform::public_url::UrlPolicy { allow_private: env.optional("WEBHOOK_LOCAL_MODE").is_some_and(|v| v == "true") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use aws_types::service_config::ServiceConfigKey;

    fn config(vars: &[(&'static str, &'static str)]) -> aws_config::SdkConfig {
        let vars: std::collections::HashMap<&str, &str> = vars.iter().copied().collect();
        aws_from(move |name| vars.get(name).map(|v| v.to_string())).expect("config")
    }

    fn endpoint(config: &aws_config::SdkConfig, service_id: &str) -> Option<String> {
        let key = ServiceConfigKey::builder().service_id(service_id).env("AWS_ENDPOINT_URL").profile("endpoint_url").build().expect("key");
        config.service_config().and_then(|c| c.load_config(key)).or_else(|| config.endpoint_url().map(str::to_string))
    }

    #[test]
    fn a_service_variable_wins_over_the_general_one() {
        let config = config(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", "http://everything:1"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://ddb:2"),
            ("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "http://streams:3"),
        ]);
        assert_eq!(endpoint(&config, "DynamoDB").as_deref(), Some("http://ddb:2"));
        assert_eq!(endpoint(&config, "DynamoDB Streams").as_deref(), Some("http://streams:3"));
        assert_eq!(endpoint(&config, "SQS").as_deref(), Some("http://everything:1"));
    }

    #[test]
    fn no_variable_means_the_services_own_endpoint() {
        let config = config(&[("AWS_REGION", "eu-west-1"), ("AWS_ENDPOINT_URL_SES", "http://ses:4")]);
        assert_eq!(endpoint(&config, "SES").as_deref(), Some("http://ses:4"));
        assert_eq!(endpoint(&config, "DynamoDB"), None);
    }

    #[test]
    fn the_compiled_in_aws_roots_parse() {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(AWS_ROOTS_PEM.as_bytes()).collect::<Result<_, _>>().expect("PEM");
        assert_eq!(certs.len(), 5);
        let mut roots = rustls::RootCertStore::empty();
        let (valid, invalid) = roots.add_parsable_certificates(certs);
        assert_eq!((valid, invalid), (5, 0), "every root is a usable trust anchor");
    }

    #[test]
    fn variable_names_follow_the_sdks() {
        assert_eq!(service_variable("AWS_ENDPOINT_URL", "DynamoDB Streams"), "AWS_ENDPOINT_URL_DYNAMODB_STREAMS");
        assert_eq!(service_variable("AWS_ENDPOINT_URL", "SES"), "AWS_ENDPOINT_URL_SES");
        for service in ["DynamoDB", "DynamoDB Streams", "SQS", "SES"] {
            assert!(ENDPOINT_VARIABLES.contains(&service_variable("AWS_ENDPOINT_URL", service).as_str()), "{service}: its endpoint decides which roots are trusted");
        }
    }

    /// The real clients, not just the lookup: each request arrives at the endpoint its service's
    /// variable names.
    #[tokio::test]
    async fn each_client_calls_the_endpoint_its_variable_names() {
        let (general, dynamodb) = (Listener::start().await, Listener::start().await);
        let (general_url, dynamodb_url) = (general.url.clone(), dynamodb.url.clone());
        let config = aws_from(move |name| match name {
            "AWS_REGION" => Some("us-east-1".into()),
            "AWS_ENDPOINT_URL" => Some(general_url.clone()),
            "AWS_ENDPOINT_URL_DYNAMODB" => Some(dynamodb_url.clone()),
            _ => None,
        })
        .expect("config");
        let config = config.to_builder().retry_config(aws_config::retry::RetryConfig::disabled())
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(aws_credential_types::Credentials::new("AKID", "secret", None, None, "test")))
            .build();
        let ddb = aws_sdk_dynamodb::Client::new(&config);
        assert!(ddb.list_tables().send().await.is_err(), "the listener answers nothing useful");
        assert!(dynamodb.seen().await.contains("DynamoDB_20120810.ListTables"));
        assert!(general.nothing_seen());
    }

    /// Accepts one connection and keeps what the client sent before it was closed.
    struct Listener {
        url: String,
        request: tokio::task::JoinHandle<String>,
    }

    impl Listener {
        async fn start() -> Listener {
            use tokio::io::AsyncReadExt;
            let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let url = format!("http://{}", socket.local_addr().expect("address"));
            let request = tokio::spawn(async move {
                let Ok((mut stream, _)) = socket.accept().await else { return String::new() };
                let mut buf = vec![0u8; 8192];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                String::from_utf8_lossy(&buf[..n]).into_owned()
            });
            Listener { url, request }
        }

        async fn seen(self) -> String {
            tokio::time::timeout(std::time::Duration::from_secs(5), self.request).await.expect("a request within 5 s").expect("listener")
        }

        fn nothing_seen(&self) -> bool {
            !self.request.is_finished()
        }
    }
}
