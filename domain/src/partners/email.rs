//! The invitation email, built as plain data so it can be tested without SES.

use super::Relationship;
use super::invitation::Invitation;
use crate::platform::email::{Email, escape_html};

fn role_phrase(relationship: Relationship) -> &'static str {
    match relationship {
        Relationship::Buyer => "receive leads from them (as a buyer)",
        Relationship::Seller => "send leads to them (as a source)",
        Relationship::Both => "exchange leads with them in both directions",
    }
}

/// The invitation email. `link` carries the one-time token that lets the recipient accept.
pub fn invitation(to: Vec<String>, invitation: &Invitation, link: &str) -> Email {
    let inviter = &invitation.inviter.name;
    let role = role_phrase(invitation.relationship_type);
    let expires = &invitation.expires_at;
    let id = &invitation.id;
    let subject = format!("{inviter} invited you to connect on LeadConduit");
    let text = format!(
        "{inviter} invited your company to connect and {role}.\n\n\
         Accept the invitation: {link}\n\n\
         If you already have an account, you can also accept invitation {id} with your API key.\n\
         This invitation expires at {expires}.\n"
    );
    let (inviter, link) = (escape_html(inviter), escape_html(link));
    let html = format!(
        "<p>{inviter} invited your company to connect and {role}.</p>\
         <p><a href=\"{link}\">Accept the invitation</a></p>\
         <p>If you already have an account, you can also accept invitation <code>{id}</code> with your API key.</p>\
         <p>This invitation expires at {expires}.</p>"
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
        assert!(email.text.contains("2030-01-01T00:00:00Z"));
        assert!(email.html.contains("Acme &lt;Leads&gt; &amp; Co"));
        assert!(!email.html.contains("<Leads>"));
        assert!(email.html.contains("token=t&amp;x=1"));
    }
}
