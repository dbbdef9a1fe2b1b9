//! Requests no route takes: API Gateway's `$default` route. A path the API serves, asked with
//! another method, is a 405 naming the methods it takes in `Allow`; any other path a 404. Both
//! are the API's JSON errors, like every other non-2xx answer.

use lambda_http::{Request, RequestExt};
use shared::ApiError;
use shared::platform::http::HandlerResult;

// `ROUTES`: every (method, path) of template.yaml, read when built (build/routes.rs).
include!(concat!(env!("OUT_DIR"), "/routes.rs"));

/// Whether `path` is one of `template`'s paths: `{name}` stands for one non-empty segment.
fn matches(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(t), Some(p)) if (t.starts_with('{') && !p.is_empty()) || t == p => {}
            _ => return false,
        }
    }
}

/// The methods the API takes on `path`, in the template's order, each once.
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    let mut methods: Vec<&'static str> = vec![];
    for (method, template) in ROUTES {
        if matches(template, path) && !methods.contains(method) {
            methods.push(method);
        }
    }
    methods
}

/// `$default`: 405 with `Allow` for a path served with other methods, else 404.
pub async fn fallback(_: &(), req: Request) -> HandlerResult {
    let path = req.raw_http_path();
    let allowed = allowed_methods(&path);
    if allowed.is_empty() {
        return Err(ApiError::NotFound("route"));
    }
    Err(ApiError::MethodNotAllowed { method: req.method().to_string(), allow: allowed.join(", ") })
}

