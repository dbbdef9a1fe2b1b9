//! Relationship documentation (seed 002's best practice): what an account records about one of
//! its partner connections — the business purpose, the expected volume, the key contacts. Each
//! side keeps its own on its copy of the connection; the partner never sees it.

use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::platform::validate;

pub const MAX_PURPOSE: usize = 2000;
pub const MAX_VOLUME: usize = 200;
pub const MAX_CONTACTS: usize = 10;
pub const MAX_ROLE: usize = 100;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RelationshipDocs {
    /// Why the two companies exchange leads; may span lines.
    pub purpose: Option<String>,
    /// In the account's own words: "about 500 leads a day".
    pub expected_volume: Option<String>,
    pub contacts: Vec<Contact>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// What they do in the relationship: "account manager", "technical contact".
    pub role: Option<String>,
}

/// What a client sends: the whole documentation, replacing the previous one. Empty strings
/// clear a field (a person emptying a form field means it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationshipDocsBody {
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub expected_volume: Option<String>,
    #[serde(default)]
    pub contacts: Vec<ContactBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
}

/// `None` for a missing or blank field, else the checked text.
fn optional(raw: Option<&str>, check: impl FnOnce(&str) -> Result<String, Refusal>) -> Result<Option<String>, Refusal> {
    raw.filter(|r| !r.trim().is_empty()).map(check).transpose()
}

impl RelationshipDocsBody {
    /// The documentation to store, or the first field that is wrong (named as the client sent it:
    /// `contacts[1].email`).
    pub fn validate(self) -> Result<RelationshipDocs, Refusal> {
        if self.contacts.len() > MAX_CONTACTS {
            return Err(Refusal::invalid("contacts", format!("at most {MAX_CONTACTS} contacts")));
        }
        let purpose = optional(self.purpose.as_deref(), |p| validate::paragraph("purpose", p, MAX_PURPOSE))?;
        let expected_volume = optional(self.expected_volume.as_deref(), |v| validate::text("expected_volume", v, MAX_VOLUME))?;
        let mut contacts = Vec::with_capacity(self.contacts.len());
        for (i, contact) in self.contacts.into_iter().enumerate() {
            let field = |name: &str| format!("contacts[{i}].{name}");
            contacts.push(Contact {
                name: validate::name(&field("name"), &contact.name)?,
                email: optional(contact.email.as_deref(), |e| validate::email(&field("email"), e))?,
                phone: optional(contact.phone.as_deref(), |p| validate::phone(&field("phone"), p))?,
                role: optional(contact.role.as_deref(), |r| validate::text(&field("role"), r, MAX_ROLE))?,
            });
        }
        Ok(RelationshipDocs { purpose, expected_volume, contacts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> RelationshipDocsBody {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn blank_fields_are_cleared_and_text_is_trimmed() {
        let docs = body(serde_json::json!({"purpose": "  Auto leads\nfor the west coast ", "expected_volume": " ", "contacts": [{"name": " Ana ", "email": "ANA@x.com", "phone": "", "role": "sales"}]})).validate().unwrap();
        assert_eq!(docs.purpose.as_deref(), Some("Auto leads\nfor the west coast"));
        assert_eq!(docs.expected_volume, None);
        assert_eq!(docs.contacts, vec![Contact { name: "Ana".into(), email: Some("ana@x.com".into()), phone: None, role: Some("sales".into()) }]);
    }

    #[test]
    fn a_wrong_contact_field_is_named_with_its_position() {
        let refused = body(serde_json::json!({"contacts": [{"name": "Ana"}, {"name": "Bo", "email": "not-an-address"}]})).validate().unwrap_err();
        assert!(matches!(&refused, Refusal::Invalid { field, .. } if field == "contacts[1].email"), "{refused:?}");
        let refused = body(serde_json::json!({"contacts": [{"name": " "}]})).validate().unwrap_err();
        assert!(matches!(&refused, Refusal::Invalid { field, .. } if field == "contacts[0].name"), "{refused:?}");
    }

    #[test]
    fn sizes_are_bounded() {
        let many: Vec<_> = (0..=MAX_CONTACTS).map(|i| serde_json::json!({"name": format!("c{i}")})).collect();
        assert!(body(serde_json::json!({"contacts": many})).validate().is_err());
        assert!(body(serde_json::json!({"purpose": "x".repeat(MAX_PURPOSE + 1)})).validate().is_err());
        assert!(body(serde_json::json!({"expected_volume": "a\nb"})).validate().is_err());
        assert!(body(serde_json::json!({"purpose": "a\u{0}b"})).validate().is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_value::<RelationshipDocsBody>(serde_json::json!({"notes": "x"})).is_err());
    }
}
