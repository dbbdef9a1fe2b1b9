//! Why a rule refuses. The domain's one error vocabulary, without HTTP: `shared::ApiError` maps
//! each kind to its status in one place. The messages are what clients read in `details`.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    /// A field is missing, of the wrong type or invalid.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Well-formed, but asks for something that cannot be.
    #[error("bad request: {0}")]
    Malformed(String),
    /// Not JSON at all.
    #[error("invalid JSON: {0}")]
    NotJson(String),
    /// This caller may not do this to something it can see.
    #[error("forbidden: {0}")]
    NotAllowed(String),
    /// Absent, or another account's (the two are never told apart).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The thing is in a state that does not allow the change.
    #[error("conflict: {0}")]
    Conflict(String),
    /// It existed, but has expired.
    #[error("gone: {0}")]
    Expired(String),
    /// Stored data breaks a rule it was written under: our fault, never the caller's.
    #[error("internal error: {0}")]
    Broken(String),
}

impl Refusal {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Refusal::Invalid { field: field.into(), message: message.into() }
    }

    /// What the refusal says, without its kind: the `details` a client reads.
    pub fn detail(&self) -> String {
        match self {
            Refusal::Invalid { .. } => self.to_string(),
            Refusal::Malformed(d) | Refusal::NotJson(d) | Refusal::NotAllowed(d) | Refusal::Conflict(d) | Refusal::Expired(d) | Refusal::Broken(d) => d.clone(),
            Refusal::NotFound(what) => format!("{what} not found"),
        }
    }

    /// For contracts with no "invalid field" answer: the field's problem as a malformed request.
    pub fn as_malformed(self) -> Refusal {
        match self {
            Refusal::Invalid { .. } => Refusal::Malformed(self.to_string()),
            other => other,
        }
    }
}
