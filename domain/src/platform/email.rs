//! Outgoing email content, built as plain data so it can be tested without SES.

#[derive(Clone, Debug, PartialEq)]
pub struct Email {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Text safe to place in an HTML body or attribute.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The product's name, as emails and pages show it.
pub const PRODUCT_NAME: &str = "Partner Onboarding";

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/// A timestamp as people read it in an email: `1 January 2030, 00:00 UTC` (the reader's own time
/// zone is unknown to a mail). Anything that is not a timestamp is shown as it is.
pub fn date_in_words(timestamp: &str) -> String {
    let parts = (|| {
        let (date, time) = timestamp.split_once('T')?;
        let mut ymd = date.splitn(3, '-');
        let (year, month, day) = (ymd.next()?, ymd.next()?.parse::<usize>().ok()?, ymd.next()?.parse::<u32>().ok()?);
        let month = MONTHS.get(month.checked_sub(1)?)?;
        Some(format!("{day} {month} {year}, {} UTC", time.get(..5)?))
    })();
    parts.unwrap_or_else(|| timestamp.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_in_words() {
        assert_eq!(date_in_words("2030-01-01T00:00:00Z"), "1 January 2030, 00:00 UTC");
        assert_eq!(date_in_words("2026-12-24T17:45:09Z"), "24 December 2026, 17:45 UTC");
        assert_eq!(date_in_words("not a date"), "not a date");
        assert_eq!(date_in_words("2026-13-01T00:00:00Z"), "2026-13-01T00:00:00Z");
    }
}
