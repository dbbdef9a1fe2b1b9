//! Input rules shared by every endpoint.

use crate::platform::error::ApiError;

/// A pragmatic address check: the SES send decides deliverability; this catches typos early.
/// Returns the address lowercased, since addresses are keys (one user per address).
pub fn email(field: &str, raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_ascii_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid { Ok(email) } else { Err(ApiError::validation(field, format!("'{raw}' is not a valid email address"))) }
}

/// An id another system gave us (a 360dialog channel or client, an Incode interview) as it may
/// appear in a URL path or query: 1–64 of `[A-Za-z0-9_-]`.
pub fn external_id(raw: &str) -> Option<&str> {
    let valid = !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then_some(raw)
}

/// What `external_id` refuses, for error details.
pub const EXTERNAL_ID_RULE: &str = "must be 1-64 letters, digits, '_' or '-'";

/// A display name: trimmed, non-empty, bounded.
pub fn name(field: &str, raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ApiError::validation(field, "must not be empty"));
    }
    if name.chars().count() > 200 {
        return Err(ApiError::validation(field, "must be at most 200 characters"));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized() {
        assert_eq!(email("email", " Buyer@Example.COM ").unwrap(), "buyer@example.com");
    }

    #[test]
    fn bad_emails_name_the_field() {
        for bad in ["", "a", "a@b", "@b.com", "a@b.com@c.com", "a b@c.com", "a@.com", "a@com."] {
            match email("email", bad) {
                Err(ApiError::Validation { field, .. }) => assert_eq!(field, "email"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Acme ").unwrap(), "Acme");
        assert!(name("name", "   ").is_err());
        assert!(name("name", &"x".repeat(201)).is_err());
    }
}
