//! Input rules shared by every endpoint.

use crate::Refusal;

/// A pragmatic address check: the SES send decides deliverability; this catches typos early.
/// Returns the address lowercased, since addresses are keys (one user per address).
pub fn email(field: &str, raw: &str) -> Result<String, Refusal> {
    let email = raw.trim().to_ascii_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                is_local_part(local)
                    && !domain.contains('@')
                    && domain.contains('.')
                    && domain.split('.').all(is_domain_label)
            }
            None => false,
        };
    if valid { Ok(email) } else { Err(Refusal::invalid(field, format!("'{raw}' is not a valid email address"))) }
}

/// RFC 5322's dot-atom (without its 64-character limit, which the contract's pattern cannot
/// state: the address's 254 bound holds), which SES parses as one address: ASCII letters, digits and
/// `!#$%&'*+/=?^_`{|}~-`, in dot-separated non-empty runs (a comma or angle bracket would make a
/// second address of it).
fn is_local_part(local: &str) -> bool {
    local.split('.').all(|run| !run.is_empty() && run.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b)))
}

/// What SES accepts as a domain part, checked here so that a send never fails on it: labels of
/// 1-63 letters, digits and inner hyphens (an internationalised domain in its ASCII form).
fn is_domain_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// An id another system gave us (a 360dialog channel or client, an Incode interview) as it may
/// appear in a URL path or query: 1–64 of `[A-Za-z0-9_-]`.
pub fn external_id(raw: &str) -> Option<&str> {
    let valid = !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then_some(raw)
}

/// What `external_id` refuses, for error details.
pub const EXTERNAL_ID_RULE: &str = "must be 1-64 letters, digits, '_' or '-'";

/// Characters no name or label may hold: C0 and C1 controls (CR and LF among them, which would
/// split an email header such as a subject built from a name), DEL, and the Unicode line and
/// paragraph separators.
fn is_forbidden(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// One line of text a person typed (a name, a label, a field name): trimmed, non-empty, at most
/// `max` characters, without control characters. Every name that enters the system passes here.
pub fn text(field: &str, raw: &str, max: usize) -> Result<String, Refusal> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Refusal::invalid(field, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(Refusal::invalid(field, format!("must be at most {max} characters")));
    }
    if text.chars().any(is_forbidden) {
        return Err(Refusal::invalid(field, "must not contain control characters (line breaks, tabs, NUL...)"));
    }
    Ok(text.to_string())
}

/// Text a person typed in a box that may span lines (a purpose, a description): as `text`, but
/// line breaks are kept (other control characters are still refused).
pub fn paragraph(field: &str, raw: &str, max: usize) -> Result<String, Refusal> {
    let lines: Vec<&str> = raw.trim().split('\n').map(|line| line.trim_end_matches('\r')).collect();
    text(field, &lines.join(" "), max)?;
    Ok(lines.join("\n"))
}

/// The longest display name.
pub const MAX_NAME: usize = 200;

/// A display name (an account, a user, a campaign, a flow, a client's name).
pub fn name(field: &str, raw: &str) -> Result<String, Refusal> {
    text(field, raw, MAX_NAME)
}

/// A phone number as people write it: an optional leading `+`, then 4 to 20 digits, which may be
/// grouped by spaces, dots, dashes and one pair of parentheses.
pub fn phone(field: &str, raw: &str) -> Result<String, Refusal> {
    let phone = raw.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let body = phone.strip_prefix('+').unwrap_or(phone);
    let (opens, closes) = (body.matches('(').count(), body.matches(')').count());
    let valid = phone.len() <= 32
        && (4..=20).contains(&digits)
        && body.starts_with(|c: char| c.is_ascii_digit() || c == '(')
        && body.chars().all(|c| c.is_ascii_digit() || " -.()".contains(c))
        && opens == closes
        && opens <= 1
        && body.find('(') <= body.find(')')
        && !body.contains("()");
    if valid { Ok(phone.to_string()) } else { Err(Refusal::invalid(field, "must be a phone number like +1 555 010 0100")) }
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
        for bad in ["", "a", "a@b", "@b.com", "a@", "a@.", "a@b.", "a@b.com@c.com", "a b@c.com", "a@.com", "a@com."] {
            match email("email", bad) {
                Err(Refusal::Invalid { field, .. }) => assert_eq!(field, "email"),
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

    #[test]
    fn names_refuse_every_control_character() {
        for bad in ["Acme\r\nBcc: x@y.z", "A\u{0}cme", "A\tcme", "Ac\u{7f}me", "Ac\u{85}me", "Ac\u{2028}me", "A\u{1b}[31mcme"] {
            match name("account_name", bad) {
                Err(Refusal::Invalid { field, message }) => assert!(field == "account_name" && message.contains("control"), "{message}"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        assert_eq!(name("name", "Zoë & Søn – Ltd").unwrap(), "Zoë & Søn – Ltd", "letters and punctuation of any script are names");
    }

    #[test]
    fn phones_need_digits_in_a_phone_shape() {
        for good in ["+1234567890", "+1 555 010 0100", "(555) 010-0100", "555.010.0100", "+44 (20) 7946 0958"] {
            assert_eq!(phone("phone", good).unwrap(), good);
        }
        for bad in ["", "+", "((()))", "()", "123", "+1 555 ( 010", "1)555(0", "+-1 555 0100", "call me", "+1 555 0100 0100 0100 0100 0100"] {
            assert!(phone("phone", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn addresses_ses_refuses_are_refused() {
        for bad in ["a@b..com", "a@-b.com", "a@b_c.com", "a@b.c-", "a@exa mple.com", "a,b@c.com", "<a>@c.com", ".a@c.com", "a..b@c.com", "\"a\"@c.com", "zoë@c.com"] {
            assert!(email("email", bad).is_err(), "{bad:?}");
        }
        assert!(email("email", "a+tag@mail.example.co.uk").is_ok());
    }
}
