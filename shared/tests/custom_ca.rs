//! The SDK clients' trust decisions (docs/decisions.md, "Trust"): an https endpoint named by
//! `AWS_ENDPOINT_URL_<SERVICE>` whose certificate comes from a locally generated CA works when
//! `SSL_CERT_FILE` names that CA (LocalStack over TLS, a proxy), and the AWS-only trust store
//! refuses it. Its own test binary: it sets process-wide variables.

use std::process::{Command, Stdio};

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let status = Command::new("openssl").args(args).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null()).status().expect("openssl");
    assert!(status.success(), "openssl {args:?}");
}

/// A CA and a certificate it signs for 127.0.0.1, made for this run.
fn local_ca(dir: &std::path::Path) {
    openssl(dir, &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=test local CA"]);
    openssl(dir, &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(dir, &["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "san.ext"]);
}

/// A DynamoDB stand-in over TLS: every request gets an empty GetItem answer.
const SERVER: &str = r#"
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b"{}"
        self.send_response(200)
        self.send_header("content-type", "application/x-amz-json-1.0")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), H)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

#[tokio::test]
async fn an_https_endpoint_with_a_locally_generated_ca_works_when_configured() {
    let dir = std::env::temp_dir().join(format!("custom-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    local_ca(&dir);
    let mut server = Command::new("python3")
        .args(["-c", SERVER, dir.join("server.pem").to_str().unwrap(), dir.join("server.key").to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut port = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stdout.take().unwrap()), &mut port).unwrap();
    let endpoint = format!("https://127.0.0.1:{}", port.trim());

    // SAFETY: set before any other thread of this test binary reads the environment.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", dir.join("ca.pem"));
        std::env::set_var("AWS_ENDPOINT_URL_DYNAMODB", &endpoint);
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("TABLE_NAME", "t");
    }
    let account = shared::Id::generate();

    // As a function builds it: an endpoint is configured, so the system roots (SSL_CERT_FILE).
    let env = shared::platform::config::Env::lambda();
    let config = env.aws().unwrap().clone();
    let db = <shared::Db as shared::platform::config::FromEnv>::from_env(&env).unwrap();
    assert_eq!(db.accounts().account(&account).await.map_err(|e| e.to_string()).unwrap(), None, "the local CA is trusted");

    // The AWS-only trust store does not know the local CA.
    let aws_only = config.to_builder().http_client(shared::platform::config::https_client_trusting(shared::platform::config::Trust::Aws)).build();
    let refused = shared::Db::new(aws_sdk_dynamodb::Client::new(&aws_only), "t", env.sealer()).accounts().account(&account).await;
    assert!(refused.is_err(), "a certificate from an unknown CA is refused");

    let _ = server.kill();
    let _ = std::fs::remove_dir_all(&dir);
}
