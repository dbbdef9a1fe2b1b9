//! Property-based fuzzing of the parsers that read what strangers send: webhook signature
//! headers and the 360dialog redirect query. None may panic on any input; what they accept
//! must be exactly what the matching formatter produces.

use base64::Engine;
use proptest::prelude::*;
use shared::provider_webhooks::domain::channel::{MAX_CHANNELS_PER_REDIRECT, Redirect, parse_id_list};
use shared::platform::signature::{self, SignatureError, StandardHeaders};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const BODY: &[u8] = b"{}";
const OTHER_BODY: &[u8] = b"{ }";

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn onboard_headers_never_panic_and_accept_only_the_exact_signature(header in ".{0,80}", body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let secret = "secret-0123456789abcdef";
        if signature::verify_onboard(secret, &body, Some(&header)).is_ok() {
            prop_assert_eq!(header.trim().to_ascii_lowercase(), signature::sign_onboard(secret, &body));
        }
        if let Ok(bytes) = signature::parse_onboard(&header) {
            prop_assert_eq!(header.trim().to_ascii_lowercase(), format!("sha256={}", hex::encode(bytes)));
        }
    }

    #[test]
    fn onboard_signatures_round_trip(body in proptest::collection::vec(any::<u8>(), 0..500), secret in "[ -~]{1,64}") {
        let header = signature::sign_onboard(&secret, &body);
        prop_assert!(signature::verify_onboard(&secret, &body, Some(&header)).is_ok());
        let mut tampered = body.clone();
        tampered.push(b'x');
        prop_assert_eq!(signature::verify_onboard(&secret, &tampered, Some(&header)), Err(SignatureError::Mismatch));
        prop_assert_eq!(signature::verify_onboard(&secret, &body, Some(&header[..header.len() - 1])), Err(SignatureError::Malformed));
    }

    #[test]
    fn standard_headers_never_panic(signature_header in ".{0,200}", id in ".{0,40}", timestamp in ".{0,20}") {
        let headers = StandardHeaders { id: &id, timestamp: &timestamp, signature: &signature_header };
        let verified = signature::verify_standard(SECRET, headers, BODY, 1_700_000_000);
        prop_assert!(verified.is_err() || signature_header.contains("v1,"));
        let _ = signature::parse_standard(&signature_header);
    }

    #[test]
    fn standard_signatures_verify_among_others(id in "[a-zA-Z0-9_]{1,40}", age in 0u64..=300, others in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 32), 0..3)) {
        let now = 1_700_000_000u64;
        let timestamp = (now - age).to_string();
        let mut entries: Vec<String> = others.iter().map(|mac| format!("v1,{}", base64(mac))).collect();
        entries.push(signature::sign_standard(SECRET, &id, now - age, BODY));
        let header = entries.join(" ");
        let headers = StandardHeaders { id: &id, timestamp: &timestamp, signature: &header };
        prop_assert!(signature::verify_standard(SECRET, headers, BODY, now).is_ok());
        prop_assert_eq!(signature::verify_standard(SECRET, headers, OTHER_BODY, now), Err(SignatureError::Mismatch));
        prop_assert_eq!(signature::verify_standard(SECRET, headers, BODY, now + 301), Err(SignatureError::Stale));
    }

    #[test]
    fn redirect_queries_never_panic(client in proptest::option::of(".{0,70}"), channels in proptest::option::of(".{0,120}"), revoked in proptest::option::of(".{0,60}")) {
        if let Ok(redirect) = Redirect::parse(client.as_deref(), channels.as_deref(), revoked.as_deref()) {
            prop_assert!(redirect.granted.len() + redirect.revoked.len() <= MAX_CHANNELS_PER_REDIRECT);
            prop_assert!(redirect.granted.iter().all(|g| !redirect.revoked.contains(g)));
            prop_assert!(redirect.granted.iter().chain(&redirect.revoked).chain([&redirect.client]).all(|id| id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')));
        }
    }

    #[test]
    fn bracketed_lists_round_trip(ids in proptest::collection::vec("[A-Za-z0-9_-]{1,64}", 0..20), spaced in any::<bool>()) {
        let separator = if spaced { ", " } else { "," };
        let parsed = parse_id_list("channels", &format!("[{}]", ids.join(separator))).unwrap();
        let mut expected: Vec<String> = vec![];
        for id in ids {
            if !expected.contains(&id) {
                expected.push(id);
            }
        }
        prop_assert_eq!(parsed, expected);
    }
}
