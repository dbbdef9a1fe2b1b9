//! The partners area's emails (the invitation, the submission documents, the change notices),
//! built as plain data so they can be tested without SES.

use super::Relationship;
use super::invitation::Invitation;
use crate::platform::email::{Email, PRODUCT_NAME, date_in_words, escape_html};

fn role_phrase(relationship: Relationship) -> &'static str {
    match relationship {
        Relationship::Buyer => "receive leads from them (as a buyer)",
        Relationship::Seller => "send leads to them (as a source)",
        Relationship::Both => "exchange leads with them in both directions",
    }
}

/// The invitation email. `link` carries the one-time token that lets the recipient accept; the
/// page it opens serves people with an account (they sign in) and without one (they create it).
pub fn invitation(to: Vec<String>, invitation: &Invitation, link: &str) -> Email {
    let inviter = &invitation.inviter.name;
    let role = role_phrase(invitation.relationship_type);
    let expires = date_in_words(&invitation.expires_at);
    let subject = format!("{inviter} invited you to connect on {PRODUCT_NAME}");
    let text = format!(
        "{inviter} invited your company to connect on {PRODUCT_NAME} and {role}.\n\n\
         See the invitation and answer it: {link}\n\n\
         No account yet? The page creates one for you. Already have one? It asks you to sign in.\n\
         The invitation can be answered until {expires}.\n"
    );
    let (inviter, link) = (escape_html(inviter), escape_html(link));
    let html = format!(
        "<p>{inviter} invited your company to connect on {PRODUCT_NAME} and {role}.</p>\
         <p><a href=\"{link}\">See the invitation and answer it</a></p>\
         <p>No account yet? The page creates one for you. Already have one? It asks you to sign in.</p>\
         <p>The invitation can be answered until {expires}.</p>"
    );
    Email { to, subject, text, html }
}

/// The email to a source partner's users: the flows of `seller`'s they may send leads to, each
/// with its submission documents (`flows`: name and documents' link), and where to find them
/// later (`dashboard`).
pub fn submission_docs(to: Vec<String>, seller: &str, flows: &[(String, String)], dashboard: &str) -> Email {
    let subject = format!("How to send leads to {seller}");
    let (intro, list_text, list_html) = if flows.is_empty() {
        let none = format!("{seller} has not opened a flow to you yet. When it does, the instructions appear on your dashboard.");
        (none.clone(), String::new(), format!("<p>{}</p>", escape_html(&none)))
    } else {
        let text: String = flows.iter().map(|(name, link)| format!("- {name}: {link}\n")).collect();
        let html: String = flows.iter().map(|(name, link)| format!("<li><a href=\"{}\">{}</a></li>", escape_html(link), escape_html(name))).collect();
        (format!("You may send leads to these flows of {seller}'s; each link shows how:"), text, format!("<ul>{html}</ul>"))
    };
    let text = format!("You are connected with {seller} on {PRODUCT_NAME}.\n\n{intro}\n{list_text}\nYour connections and their instructions: {dashboard}\n");
    let (seller_html, dashboard_html) = (escape_html(seller), escape_html(dashboard));
    let intro_html = if flows.is_empty() { String::new() } else { format!("<p>{}</p>", escape_html(&intro)) };
    let html = format!(
        "<p>You are connected with {seller_html} on {PRODUCT_NAME}.</p>{intro_html}{list_html}\
         <p><a href=\"{dashboard_html}\">Your connections and their instructions</a></p>"
    );
    Email { to, subject, text, html }
}

/// A change to a relationship that the partner's people hear about (issue 29, "change
/// management"): by email to each user of the account it concerns who has not turned them off.
#[derive(Clone, Debug, PartialEq)]
pub enum ChangeNotice {
    /// `by` ended its connection with the account (from `at` on no lead goes between them).
    ConnectionRevoked { by: String, at: String },
    /// `by` accepted the account's invitation; `connection` is the account's new connection.
    InvitationAccepted { by: String, connection: String },
    /// `by` (an account, or the invited address) declined the account's invitation.
    InvitationDeclined { by: String },
}

/// The email of a change notice; `dashboard` is the dashboard's address, `settings` where the
/// reader turns these emails off.
pub fn change_notice(to: Vec<String>, notice: &ChangeNotice, dashboard: &str, settings: &str) -> Email {
    let (subject, body, link, link_text) = match notice {
        ChangeNotice::ConnectionRevoked { by, at } => (
            format!("{by} ended your connection on {PRODUCT_NAME}"),
            format!(
                "{by} revoked its connection with your company on {}. From then on no lead goes between you: submissions either of you sends the other are refused, and deliveries between you stop. What was exchanged before stays with each of you. To connect again, one of you sends a new invitation.",
                date_in_words(at)
            ),
            dashboard.to_string(),
            "Your connections".to_string(),
        ),
        ChangeNotice::InvitationAccepted { by, connection } => (
            format!("{by} accepted your invitation on {PRODUCT_NAME}"),
            format!("{by} accepted your invitation: you are connected. The connection's page shows how leads go between you."),
            format!("{dashboard}#connection/{connection}"),
            format!("Your connection with {by}"),
        ),
        ChangeNotice::InvitationDeclined { by } => (
            format!("{by} declined your invitation on {PRODUCT_NAME}"),
            format!("{by} declined your invitation to connect. You can send a new one from your dashboard."),
            dashboard.to_string(),
            "Your connections".to_string(),
        ),
    };
    let opt_out = "You receive this because you are a user of your company's account. Turn these emails off in your settings";
    let text = format!("{body}\n\n{link_text}: {link}\n\n{opt_out}: {settings}\n");
    let html = format!(
        "<p>{}</p><p><a href=\"{}\">{}</a></p><p>{opt_out}: <a href=\"{}\">settings</a>.</p>",
        escape_html(&body),
        escape_html(&link),
        escape_html(&link_text),
        escape_html(settings)
    );
    Email { to, subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partners::invitation::{Direction, InvitationStatus, sample};

    #[test]
    fn invitation_email_names_inviter_link_and_expiry_and_escapes_html() {
        let mut inv = sample(InvitationStatus::Pending, Direction::Sent);
        inv.inviter.name = "Acme <Leads> & Co".into();
        let email = invitation(vec!["b@example.com".into()], &inv, "https://app/accept?token=t&x=1");
        assert!(email.subject.contains("Acme <Leads> & Co"));
        assert!(email.text.contains("https://app/accept?token=t&x=1"));
        assert!(email.text.contains("until 1 January 2030, 00:00 UTC"), "{}", email.text);
        assert!(email.subject.contains(PRODUCT_NAME) && !email.text.contains("API key"));
        assert!(email.html.contains("Acme &lt;Leads&gt; &amp; Co"));
        assert!(!email.html.contains("<Leads>"));
        assert!(email.html.contains("token=t&amp;x=1"));
    }

    #[test]
    fn submission_docs_email_links_each_flow_and_escapes_names() {
        let flows = vec![("Auto <new>".to_string(), "https://api/flows/1/sources/2/docs".to_string())];
        let email = submission_docs(vec!["s@example.com".into()], "Seller & Co", &flows, "https://api/dashboard");
        assert!(email.subject.contains("Seller & Co"));
        assert!(email.text.contains("- Auto <new>: https://api/flows/1/sources/2/docs"));
        assert!(email.html.contains("Auto &lt;new&gt;") && email.html.contains("Seller &amp; Co") && !email.html.contains("<new>"));
        let none = submission_docs(vec!["s@example.com".into()], "Seller", &[], "https://api/dashboard");
        assert!(none.text.contains("not opened a flow to you yet") && none.text.contains("https://api/dashboard"));
    }

    #[test]
    fn change_notices_say_what_changed_link_where_to_look_and_how_to_stop_them() {
        let revoked = change_notice(vec!["a@b.co".into()], &ChangeNotice::ConnectionRevoked { by: "Acme <Leads>".into(), at: "2026-12-05T10:30:00Z".into() }, "https://app/dashboard", "https://app/dashboard#settings");
        assert_eq!(revoked.subject, format!("Acme <Leads> ended your connection on {PRODUCT_NAME}"));
        assert!(revoked.text.contains("on 5 December 2026, 10:30 UTC. From then on no lead goes between you"), "{}", revoked.text);
        assert!(revoked.text.contains("Turn these emails off in your settings: https://app/dashboard#settings"));
        assert!(revoked.html.contains("Acme &lt;Leads&gt;") && !revoked.html.contains("<Leads>"));
        let accepted = change_notice(vec![], &ChangeNotice::InvitationAccepted { by: "Bolt".into(), connection: "c1".into() }, "https://app/dashboard", "s");
        assert!(accepted.text.contains("https://app/dashboard#connection/c1"));
        let declined = change_notice(vec![], &ChangeNotice::InvitationDeclined { by: "x@y.co".into() }, "https://app/dashboard", "s");
        assert_eq!(declined.subject, format!("x@y.co declined your invitation on {PRODUCT_NAME}"));
    }
}
