//! openapi.yaml against the API: the document is well formed, names exactly the template's
//! routes, and (after the whole suite ran, see infra/test) every status code it documents was
//! produced by some test. Each response's schema is checked where it happens (TestEnv::request).

use std::collections::BTreeSet;

use api_tests::openapi::OPENAPI;
use infra::template::Template;

#[test]
fn the_document_names_exactly_the_templates_routes() {
    let documented: BTreeSet<(String, String)> = OPENAPI.documented().into_iter().map(|(m, p, _)| (m, p)).collect();
    let routes: BTreeSet<(String, String)> = Template::load().unwrap().routes().unwrap().into_iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(documented, routes);
}

#[test]
fn every_error_response_is_the_error_shape() {
    for (method, path, status) in OPENAPI.documented() {
        if status >= 400 {
            let ok = serde_json::json!({ "error": "not found", "details": "invitation not found" });
            OPENAPI.check(&method, &path, status, &ok).unwrap();
            assert!(OPENAPI.check(&method, &path, status, &serde_json::json!({ "message": "x" })).is_err(), "{method} {path} {status}");
        }
    }
}

/// Run by infra/test after the rest of the suite, with the responses it recorded.
#[test]
#[ignore = "run by infra/test after the whole suite"]
fn every_documented_status_code_is_produced_by_some_test() {
    let file = std::env::var("OPENAPI_RECORD").expect("OPENAPI_RECORD (infra/test sets it)");
    let text = std::fs::read_to_string(&file).expect("recorded responses");
    let produced: BTreeSet<(String, String, u16)> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| (v["method"].as_str().unwrap().to_string(), v["path"].as_str().unwrap().to_string(), v["status"].as_u64().unwrap() as u16))
        .collect();
    let missing: Vec<_> = OPENAPI.documented().difference(&produced).cloned().collect();
    assert!(missing.is_empty(), "documented but never produced by a test: {missing:#?}");
}

/// Clients are generated from the document: every operation is named after the function that
/// serves it (`invitations-create` is `invitationsCreate`) and tagged with a declared area; the
/// servers name the deployed URL, not only the local one.
#[test]
fn every_operation_is_named_after_its_function_and_tagged() {
    let document = OPENAPI.document();
    let declared: BTreeSet<&str> = document["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for route in Template::load().unwrap().routes().unwrap() {
        let operation = &document["paths"][&route.path][route.method.to_lowercase()];
        let mut words = route.binary.split('-');
        let mut expected: String = words.next().unwrap().to_string() + &words.map(|w| w[..1].to_uppercase() + &w[1..]).collect::<String>();
        // A page's function serves its HEAD too, under an id of its own.
        if route.method == "HEAD" {
            expected += "Head";
        }
        assert_eq!(operation["operationId"], expected.as_str(), "{} {}", route.method, route.path);
        let tags = operation["tags"].as_array().unwrap_or_else(|| panic!("{} {} has no tags", route.method, route.path));
        assert!(!tags.is_empty() && tags.iter().all(|t| declared.contains(t.as_str().unwrap())), "{} {}: {tags:?}", route.method, route.path);
    }
    let servers: Vec<&str> = document["servers"].as_array().unwrap().iter().map(|s| s["url"].as_str().unwrap()).collect();
    assert!(servers.iter().any(|url| url.starts_with("https://") && url.contains("execute-api")), "{servers:?}");
}
