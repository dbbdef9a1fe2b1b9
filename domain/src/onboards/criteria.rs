//! A flow's acceptance criteria (a paid account's lead filtering, seed 002): fields a lead must
//! carry and simple rules on their values. A lead that fails them is rejected with the reason.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::platform::validate;

pub const MAX_RULES: usize = 50;
pub const MAX_VALUES: usize = 100;
const MAX_TEXT: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// The field's value is one of `values`.
    IsOneOf,
    /// The field is absent or its value is none of `values`.
    IsNotOneOf,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub field: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptanceCriteria {
    /// Fields that must be present and not blank.
    #[serde(default)]
    pub required: Vec<String>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// Values compare trimmed and without regard to case: `CA` and ` ca` are the same state.
fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl AcceptanceCriteria {
    pub fn validate(&self, field: &str) -> Result<(), Refusal> {
        if self.required.len() > MAX_RULES || self.rules.len() > MAX_RULES {
            return Err(Refusal::invalid(field, format!("at most {MAX_RULES} required fields and {MAX_RULES} rules")));
        }
        for (i, name) in self.required.iter().enumerate() {
            validate::text(&format!("{field}.required[{i}]"), name, MAX_TEXT)?;
        }
        for (i, rule) in self.rules.iter().enumerate() {
            validate::text(&format!("{field}.rules[{i}].field"), &rule.field, MAX_TEXT)?;
            if rule.values.is_empty() || rule.values.len() > MAX_VALUES {
                return Err(Refusal::invalid(format!("{field}.rules[{i}].values"), format!("1 to {MAX_VALUES} values")));
            }
            for (j, value) in rule.values.iter().enumerate() {
                validate::text(&format!("{field}.rules[{i}].values[{j}]"), value, MAX_TEXT)?;
            }
        }
        Ok(())
    }

    /// `Err(reason)` for the first criterion the lead's fields fail, in the order declared.
    pub fn check(&self, fields: &BTreeMap<String, String>) -> Result<(), String> {
        for name in &self.required {
            if fields.get(name).is_none_or(|v| v.trim().is_empty()) {
                return Err(format!("{name} is required"));
            }
        }
        for rule in &self.rules {
            let value = fields.get(&rule.field);
            let listed = value.is_some_and(|v| rule.values.iter().any(|allowed| same(v, allowed)));
            match (rule.operator, listed) {
                (Operator::IsOneOf, false) => return Err(format!("{} must be one of: {}", rule.field, rule.values.join(", "))),
                (Operator::IsNotOneOf, true) => return Err(format!("{} must not be {}", rule.field, value.map(|v| v.trim()).unwrap_or_default())),
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn criteria(json: serde_json::Value) -> AcceptanceCriteria {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn required_fields_must_be_present_and_not_blank() {
        let c = criteria(serde_json::json!({ "required": ["email", "phone_1"] }));
        assert_eq!(c.check(&fields(&[("email", "a@b.co"), ("phone_1", "5551234")])), Ok(()));
        assert_eq!(c.check(&fields(&[("email", "a@b.co")])), Err("phone_1 is required".into()));
        assert_eq!(c.check(&fields(&[("email", " "), ("phone_1", "1")])), Err("email is required".into()));
    }

    #[test]
    fn rules_compare_values_trimmed_and_without_case() {
        let c = criteria(serde_json::json!({ "rules": [
            { "field": "state", "operator": "is_one_of", "values": ["CA", "TX"] },
            { "field": "source", "operator": "is_not_one_of", "values": ["blocked"] },
        ] }));
        assert_eq!(c.check(&fields(&[("state", " ca ")])), Ok(()));
        assert_eq!(c.check(&fields(&[("state", "NY")])), Err("state must be one of: CA, TX".into()));
        assert_eq!(c.check(&fields(&[])), Err("state must be one of: CA, TX".into()), "an absent field is in no list");
        assert_eq!(c.check(&fields(&[("state", "TX"), ("source", "Blocked")])), Err("source must not be Blocked".into()));
    }

    #[test]
    fn criteria_are_bounded() {
        assert!(criteria(serde_json::json!({ "required": [""] })).validate("c").is_err());
        assert!(criteria(serde_json::json!({ "rules": [{ "field": "x", "operator": "is_one_of", "values": [] }] })).validate("c").is_err());
        let many = criteria(serde_json::json!({ "required": vec!["x"; MAX_RULES + 1] }));
        assert!(many.validate("c").is_err());
        assert!(serde_json::from_value::<AcceptanceCriteria>(serde_json::json!({ "rules": [{ "field": "x", "operator": "matches", "values": ["a"] }] })).is_err());
        assert!(criteria(serde_json::json!({ "required": ["email"], "rules": [{ "field": "x", "operator": "is_one_of", "values": ["a"] }] })).validate("c").is_ok());
    }
}
