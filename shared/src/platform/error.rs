//! The one error type of the API. Every failure a handler can meet is a variant here, and each
//! variant knows its status code and renders as `{"error": "...", "details": "..."}` (seed 001).

use lambda_http::http::StatusCode;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the request is well-formed JSON but asks for something invalid.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: missing, malformed, unknown or revoked credentials (LeadConduit's wording).
    #[error("authentication failed: {0}")]
    Unauthenticated(&'static str),
    /// 403: authenticated, but this caller may not do this to something it can see.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: absent, or owned by another account (never tell the two apart).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 405: the path is served, with other methods (`allow`, the `Allow` header).
    #[error("{method} is not a method of this path; it takes {allow}")]
    MethodNotAllowed { method: String, allow: String },
    /// 409: the resource is in a state that does not allow the change.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 410: the resource existed but has expired.
    #[error("gone: {0}")]
    Gone(String),
    /// 413: the body is over the limit.
    #[error("request body is {size} bytes; the limit is {limit}")]
    PayloadTooLarge { size: usize, limit: usize },
    /// 400: the body is not JSON at all.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// 422: JSON, but a field is missing, of the wrong type or invalid.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// 429: the API key's requests in the current window are used up (seed 001).
    #[error("rate limit of {limit} requests per {window} s exceeded; retry in {retry_after} s")]
    TooManyRequests { limit: u32, window: u64, retry_after: u64 },
    /// 502: a provider API we called failed or answered with an error. The client is told which
    /// one; the cause (a DNS or TLS error, the provider's status) is logged, never sent.
    #[error("{upstream} failed: {cause}")]
    BadGateway { upstream: &'static str, cause: String },
    /// 503: the table was unavailable (throttled, conflicting, timed out or unreachable) after
    /// the store's own retries; nothing half-done stays, and the request may be sent again
    /// (`Retry-After`). The cause is logged, never sent.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 500: our fault. The message is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation { field: field.into(), message: message.into() }
    }

    /// For endpoints whose contract has no 422 (seed 000's PUT): body problems are a 400.
    pub fn as_bad_request(self) -> ApiError {
        match self {
            ApiError::Validation { .. } => ApiError::BadRequest(self.to_string()),
            other => other,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::InvalidJson(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The short, stable `error` string clients can match on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad request",
            ApiError::InvalidJson(_) => "invalid JSON",
            ApiError::Unauthenticated(_) => "authentication failed",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not found",
            ApiError::MethodNotAllowed { .. } => "method not allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::Gone(_) => "gone",
            ApiError::PayloadTooLarge { .. } => "payload too large",
            ApiError::Validation { .. } => "validation failed",
            ApiError::TooManyRequests { .. } => "rate limit exceeded",
            ApiError::BadGateway { .. } => "bad gateway",
            ApiError::Unavailable(_) => "service unavailable",
            ApiError::Internal(_) => "internal error",
        }
    }

    /// The human-readable `details`; internal errors say nothing about our internals.
    pub fn details(&self) -> String {
        match self {
            ApiError::BadRequest(d)
            | ApiError::InvalidJson(d)
            | ApiError::Forbidden(d)
            | ApiError::Conflict(d)
            | ApiError::Gone(d) => d.clone(),
            ApiError::BadGateway { upstream, .. } => format!("{upstream} did not complete the request; retry later"),
            ApiError::Unauthenticated(d) => (*d).to_string(),
            ApiError::NotFound(what) => format!("{what} not found"),
            ApiError::Validation { .. } | ApiError::PayloadTooLarge { .. } | ApiError::TooManyRequests { .. } | ApiError::MethodNotAllowed { .. } => self.to_string(),
            ApiError::Unavailable(_) => "the service is busy; retry the request shortly (with the same Idempotency-Key where it takes one)".to_string(),
            ApiError::Internal(_) => "the request could not be completed; retry later".to_string(),
        }
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.code(), "details": self.details() })
    }
}

/// Each kind of refusal a rule gives, as the API answers it: the one place the domain meets HTTP.
impl From<domain::Refusal> for ApiError {
    fn from(refusal: domain::Refusal) -> Self {
        use domain::Refusal::*;
        match refusal {
            Invalid { field, message } => ApiError::Validation { field, message },
            Malformed(d) => ApiError::BadRequest(d),
            NotJson(d) => ApiError::InvalidJson(d),
            NotAllowed(d) => ApiError::Forbidden(d),
            NotFound(what) => ApiError::NotFound(what),
            Conflict(d) => ApiError::Conflict(d),
            Expired(d) => ApiError::Gone(d),
            Broken(d) => ApiError::Internal(d),
        }
    }
}

/// An SDK failure the store did not translate into a domain error: unavailable (503, retry) when
/// the table was busy or out of reach — throttling, a transaction conflict, a timeout, a lost
/// connection or response, DynamoDB's own 5xx —, our fault (500) otherwise. Never the caller's.
impl<E, R> From<aws_sdk_dynamodb::error::SdkError<E, R>> for ApiError
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    fn from(err: aws_sdk_dynamodb::error::SdkError<E, R>) -> Self {
        use aws_sdk_dynamodb::error::SdkError;
        let detail = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err));
        let busy = match &err {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => service.err().code().is_some_and(is_busy),
            _ => false,
        };
        if busy { ApiError::Unavailable(detail) } else { ApiError::Internal(detail) }
    }
}

/// DynamoDB's error codes for "busy, try again": throttling, conflicts and its own failures.
pub fn is_busy(code: &str) -> bool {
    matches!(
        code,
        "ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded" | "TransactionConflictException" | "TransactionInProgressException" | "InternalServerError" | "ServiceUnavailable"
    )
}

impl From<serde_dynamo::Error> for ApiError {
    fn from(err: serde_dynamo::Error) -> Self {
        ApiError::Internal(format!("item (de)serialization: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_renders_error_and_details() {
        let cases = [
            (ApiError::BadRequest("x".into()), 400),
            (ApiError::Unauthenticated("missing Authorization header"), 401),
            (ApiError::Forbidden("x".into()), 403),
            (ApiError::NotFound("invitation"), 404),
            (ApiError::Conflict("x".into()), 409),
            (ApiError::Gone("x".into()), 410),
            (ApiError::PayloadTooLarge { size: 2, limit: 1 }, 413),
            (ApiError::validation("email", "missing"), 422),
            (ApiError::TooManyRequests { limit: 100, window: 60, retry_after: 7 }, 429),
            (ApiError::BadGateway { upstream: "360dialog's Partner API", cause: "dns error: failed to lookup address".into() }, 502),
            (ApiError::Unavailable("throttled".into()), 503),
            (ApiError::Internal("secret table name".into()), 500),
        ];
        for (err, status) in cases {
            assert_eq!(err.status().as_u16(), status);
            let body = err.body();
            assert!(body["error"].as_str().is_some_and(|s| !s.is_empty()));
            assert!(body["details"].as_str().is_some_and(|s| !s.is_empty()));
        }
    }

    #[test]
    fn internal_details_do_not_leak() {
        let err = ApiError::Internal("table onboarding-prod is throttled".into());
        assert!(!err.details().contains("onboarding-prod"));
        let upstream = ApiError::BadGateway { upstream: "360dialog's Partner API", cause: "dns error: no such host hub.internal".into() };
        assert_eq!(upstream.details(), "360dialog's Partner API did not complete the request; retry later");
    }

    #[test]
    fn each_refusal_keeps_its_message_and_gets_its_status() {
        use domain::Refusal;
        let cases = [
            (Refusal::invalid("email", "missing"), 422),
            (Refusal::Malformed("x".into()), 400),
            (Refusal::NotJson("x".into()), 400),
            (Refusal::NotAllowed("x".into()), 403),
            (Refusal::NotFound("invitation"), 404),
            (Refusal::Conflict("x".into()), 409),
            (Refusal::Expired("x".into()), 410),
            (Refusal::Broken("x".into()), 500),
        ];
        for (refusal, status) in cases {
            let detail = refusal.detail();
            let err = ApiError::from(refusal);
            assert_eq!(err.status().as_u16(), status, "{err:?}");
            if status != 500 {
                assert_eq!(err.details(), detail, "{err:?}");
            }
        }
    }

    #[test]
    fn authentication_failures_use_leadconduits_wording() {
        assert_eq!(ApiError::Unauthenticated("x").body()["error"], "authentication failed");
    }
}
