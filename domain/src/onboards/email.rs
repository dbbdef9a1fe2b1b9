//! The email that tells a seller its buyer is set up, built as plain data so it can be tested
//! without SES.

use crate::platform::email::{Email, escape_html};

/// Tells the seller's users that the buyer now receives their leads, and through which flows.
pub fn buyer_connected(to: Vec<String>, buyer: &str, seller_flows: &[String], redirect: &str) -> Email {
    let subject = format!("{buyer} is now set up to receive your leads");
    let flows = if seller_flows.is_empty() { "none yet".to_string() } else { seller_flows.join(", ") };
    let text = format!(
        "{buyer} accepted your connection and finished its buyer delivery setup.\n\n\
         Flows now delivering to {buyer}: {flows}.\n\
         Their receiving flow: {redirect}\n"
    );
    let items: String = seller_flows.iter().map(|f| format!("<li>{}</li>", escape_html(f))).collect();
    let html = format!(
        "<p>{b} accepted your connection and finished its buyer delivery setup.</p>\
         <p>Flows now delivering to {b}:</p><ul>{items}</ul><p>Their receiving flow: {r}</p>",
        b = escape_html(buyer),
        r = escape_html(redirect)
    );
    Email { to, subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buyer_connected_names_the_buyer_and_the_flows() {
        let email = buyer_connected(vec!["s@example.com".into()], "Buyer & Co", &["Auto leads".into(), "Home <new>".into()], "/flows/1");
        assert!(email.subject.contains("Buyer & Co"));
        assert!(email.text.contains("Auto leads, Home <new>"));
        assert!(email.html.contains("<li>Home &lt;new&gt;</li>") && email.html.contains("Buyer &amp; Co"));
    }
}
