//! Submission documents (seed 002's "submission instructions"): what a connected source needs to
//! send leads to one of a partner's flows, made from the flow itself.

use serde::Serialize;

use crate::onboards::criteria::AcceptanceCriteria;
use crate::onboards::flow::{Flow, Source};
use crate::partners::Entity;
use crate::platform::id::Id;

#[derive(Debug, Serialize)]
pub struct FieldDoc {
    pub name: String,
    /// LeadConduit's type of a standard field of that name, else `string`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub required: bool,
}

#[derive(Debug, Serialize)]
pub struct Named {
    pub id: Id,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct Example {
    pub body: serde_json::Value,
    pub curl: String,
}

#[derive(Debug, Serialize)]
pub struct SubmissionDocs {
    pub flow: Named,
    pub source: Named,
    pub submit_url: String,
    pub method: &'static str,
    pub authentication: &'static str,
    pub content_types: [&'static str; 2],
    /// Empty: the flow lists no fields and keeps every field sent.
    pub fields: Vec<FieldDoc>,
    pub acceptance_criteria: Option<AcceptanceCriteria>,
    pub response: &'static str,
    pub example: Example,
}

/// The types of LeadConduit's standard fields; any other field is a `string`.
fn field_type(name: &str) -> &'static str {
    match name {
        "email" => "email",
        "phone_1" | "phone_2" | "phone" | "mobile_phone" => "phone",
        "postal_code" | "zip" | "zip_code" => "postal_code",
        "state" => "state",
        "dob" | "date_of_birth" => "date",
        "trustedform_cert_url" | "url" => "url",
        "age" | "income" | "annual_income" | "loan_amount" => "number",
        "opt_in" | "tcpa_consent" => "boolean",
        _ => "string",
    }
}

fn example_value(kind: &str) -> serde_json::Value {
    match kind {
        "email" => "jane.doe@example.com".into(),
        "phone" => "5125551234".into(),
        "postal_code" => "78701".into(),
        "state" => "TX".into(),
        "date" => "1990-04-01".into(),
        "url" => "https://example.com".into(),
        "number" => 42.into(),
        "boolean" => true.into(),
        _ => "text".into(),
    }
}

/// `api_origin` is the API's configured public origin, never a request header.
pub fn submission_docs(flow: &Flow, source: &Source, api_origin: &str) -> SubmissionDocs {
    let required: &[String] = flow.acceptance_criteria.as_ref().map_or(&[], |c| &c.required);
    let mut names: Vec<&String> = flow.fields.iter().collect();
    names.extend(required.iter().filter(|r| !flow.fields.contains(r)));
    let fields: Vec<FieldDoc> = names.into_iter().map(|name| FieldDoc { name: name.clone(), kind: field_type(name), required: required.contains(name) }).collect();
    let body: serde_json::Map<String, serde_json::Value> = if fields.is_empty() {
        [("email", "email"), ("first_name", "string"), ("phone_1", "phone")].into_iter().map(|(n, k)| (n.to_string(), example_value(k))).collect()
    } else {
        fields.iter().map(|f| (f.name.clone(), example_value(f.kind))).collect()
    };
    let body = serde_json::Value::Object(body);
    let submit_url = format!("{api_origin}/flows/{}/sources/{}/submit", flow.id, source.id);
    let curl = format!("curl -X POST {submit_url} -H 'Authorization: Bearer <your API key>' -H 'Content-Type: application/json' -d '{body}'");
    SubmissionDocs {
        flow: Named { id: flow.id.clone(), name: flow.name.clone() },
        source: Named { id: source.id.clone(), name: source.entity.name.clone() },
        submit_url,
        method: "POST",
        authentication: "Your own account's API key: Authorization: Bearer <key> (or HTTP Basic with the key as password)",
        content_types: ["application/json", "application/x-www-form-urlencoded"],
        fields,
        acceptance_criteria: flow.acceptance_criteria.clone(),
        response: "200 with {\"outcome\": \"success\" | \"failure\", \"reason\": \"…\" (on failure), \"lead\": {\"id\": \"…\"}}; Idempotency-Key makes a retry safe",
        example: Example { body, curl },
    }
}

/// A flow a connected source may send leads to, and where its submission documents are.
#[derive(Debug, Serialize)]
pub struct SubmissionFlow {
    pub flow: Named,
    /// The source the partner is in that flow.
    pub source: Named,
    /// A disabled flow rejects every lead until its owner enables it.
    pub enabled: bool,
    pub docs_url: String,
}

/// The flows among `flows` that take leads from the partner the owner knows as `entity` (named
/// as the entity is now, not as when the flow named it), with their documents' links under
/// `api_origin` (the API's configured origin).
pub fn flows_for_source(flows: &[Flow], entity: &Entity, api_origin: &str) -> Vec<SubmissionFlow> {
    flows
        .iter()
        .flat_map(|flow| flow.sources.iter().filter(|s| s.entity.id == entity.id).map(move |source| (flow, source)))
        .map(|(flow, source)| SubmissionFlow {
            flow: Named { id: flow.id.clone(), name: flow.name.clone() },
            source: Named { id: source.id.clone(), name: entity.name.clone() },
            enabled: flow.enabled,
            docs_url: format!("{api_origin}/flows/{}/sources/{}/docs", flow.id, source.id),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onboards::flow::EntityRef;

    fn flow(fields: &[&str], required: &[&str]) -> Flow {
        Flow {
            id: Id::generate(),
            name: "Auto".into(),
            enabled: true,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            sources: vec![Source { id: Id::generate(), entity: EntityRef { id: Id::generate(), name: "Vendor".into() } }],
            steps: vec![],
            acceptance_criteria: (!required.is_empty()).then(|| AcceptanceCriteria { required: required.iter().map(|f| f.to_string()).collect(), rules: vec![] }),
            created_at: "t".into(),
            updated_at: "t".into(),
            version: 1,
        }
    }

    #[test]
    fn documents_name_the_url_the_fields_with_types_and_what_is_required() {
        let f = flow(&["email", "phone_1", "comments"], &["email", "postal_code"]);
        let docs = submission_docs(&f, &f.sources[0], "https://api.example.com");
        assert_eq!(docs.submit_url, format!("https://api.example.com/flows/{}/sources/{}/submit", f.id, f.sources[0].id));
        let fields: Vec<(&str, &str, bool)> = docs.fields.iter().map(|d| (d.name.as_str(), d.kind, d.required)).collect();
        assert_eq!(fields, vec![("email", "email", true), ("phone_1", "phone", false), ("comments", "string", false), ("postal_code", "postal_code", true)]);
        assert_eq!(docs.example.body["phone_1"], "5125551234");
        assert!(docs.example.curl.contains(&docs.submit_url) && docs.example.curl.contains("\"email\":\"jane.doe@example.com\""));
        assert_eq!(docs.source.name, "Vendor");
    }

    #[test]
    fn a_flow_without_fields_gets_an_example_all_the_same() {
        let f = flow(&[], &[]);
        let docs = submission_docs(&f, &f.sources[0], "http://127.0.0.1:3000");
        assert!(docs.fields.is_empty());
        assert_eq!(docs.example.body["email"], "jane.doe@example.com");
    }

    #[test]
    fn a_source_sees_only_the_flows_that_name_it() {
        let (mine, other) = (flow(&[], &[]), flow(&[], &[]));
        let entity = Entity::new(mine.sources[0].entity.id.clone(), "Vendor Inc", &"t".into());
        let mut disabled = flow(&[], &[]);
        disabled.enabled = false;
        disabled.sources.push(Source { id: Id::generate(), entity: EntityRef { id: entity.id.clone(), name: "vendor@example.com".into() } });
        let listed = flows_for_source(&[mine.clone(), other, disabled.clone()], &entity, "https://api");
        assert!(listed.iter().all(|f| f.source.name == "Vendor Inc"), "named as the entity is now");
        let seen: Vec<(&Id, &Id, bool)> = listed.iter().map(|f| (&f.flow.id, &f.source.id, f.enabled)).collect();
        assert_eq!(seen, vec![(&mine.id, &mine.sources[0].id, true), (&disabled.id, &disabled.sources[1].id, false)]);
        assert_eq!(listed[0].docs_url, format!("https://api/flows/{}/sources/{}/docs", mine.id, mine.sources[0].id));
    }
}
