//! template.yaml is the one declaration of routes, table and queues: these tests fail when the
//! code, the local bootstrap or the sample events disagree with it.

use std::collections::BTreeSet;


use aws_sdk_sqs::types::QueueAttributeName;
use infra::template::Template;
use lambda_http::request::LambdaRequest;

fn template() -> Template {
    Template::load().expect("template.yaml")
}

#[tokio::test]
async fn the_bootstrapped_stack_is_what_the_template_declares() {
    let template = template();
    let config = shared::platform::config::aws().expect("AWS_REGION");
    let prefix = api_tests::unique("drift");
    let stack = infra::bootstrap::create_stack(&config, &template, &prefix).await.expect("bootstrap");

    let spec = template.table().unwrap();
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let table = ddb.describe_table().table_name(&stack.table).send().await.unwrap().table.unwrap();
    let attributes: BTreeSet<(String, String)> =
        table.attribute_definitions().iter().map(|a| (a.attribute_name().to_string(), a.attribute_type().as_str().to_string())).collect();
    assert_eq!(attributes, spec.attributes.iter().cloned().collect());
    let key_of = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| {
        let find = |kind: &str| schema.iter().find(|k| k.key_type().as_str() == kind).map(|k| k.attribute_name().to_string());
        infra::template::KeySchema { hash: find("HASH").unwrap(), range: find("RANGE") }
    };
    assert_eq!(key_of(table.key_schema()), spec.key);
    let indexes: Vec<infra::template::IndexSpec> = table
        .global_secondary_indexes()
        .iter()
        .map(|i| infra::template::IndexSpec {
            name: i.index_name().unwrap().to_string(),
            key: key_of(i.key_schema()),
            projection: i.projection().and_then(|p| p.projection_type()).map(|p| p.as_str().to_string()).unwrap_or_default(),
        })
        .collect();
    assert_eq!(indexes, spec.indexes);
    let stream = table.stream_specification().expect("stream");
    assert!(stream.stream_enabled());
    assert_eq!(stream.stream_view_type().map(|v| v.as_str().to_string()), spec.stream_view_type);
    assert_eq!(table.billing_mode_summary().and_then(|b| b.billing_mode()).map(|b| b.as_str()), Some("PAY_PER_REQUEST"));
    let ttl = ddb.describe_time_to_live().table_name(&stack.table).send().await.unwrap().time_to_live_description.unwrap();
    assert_eq!(ttl.attribute_name().map(str::to_string), spec.ttl_attribute);

    let sqs = aws_sdk_sqs::Client::new(&config);
    let queues = template.queues().unwrap();
    assert_eq!(queues.len(), stack.queues.len());
    for queue in &queues {
        let url = &stack.queues[&queue.logical_id];
        let attrs = sqs.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::All).send().await.unwrap().attributes.unwrap();
        let number = |name: QueueAttributeName| attrs.get(&name).map(|v| v.parse::<u64>().unwrap());
        if let Some(visibility) = queue.visibility_timeout {
            assert_eq!(number(QueueAttributeName::VisibilityTimeout), Some(visibility), "{}", queue.logical_id);
        }
        if let Some(retention) = queue.retention_period {
            assert_eq!(number(QueueAttributeName::MessageRetentionPeriod), Some(retention), "{}", queue.logical_id);
        }
        match &queue.redrive {
            Some((dlq, max)) => {
                let policy: serde_json::Value = serde_json::from_str(&attrs[&QueueAttributeName::RedrivePolicy]).unwrap();
                assert_eq!(policy["maxReceiveCount"].to_string().trim_matches('"'), max.to_string());
                let dlq_arn = sqs.get_queue_attributes().queue_url(&stack.queues[dlq]).attribute_names(QueueAttributeName::QueueArn).send().await.unwrap();
                assert_eq!(policy["deadLetterTargetArn"].as_str(), dlq_arn.attributes.unwrap().get(&QueueAttributeName::QueueArn).map(String::as_str));
            }
            None => assert!(!attrs.contains_key(&QueueAttributeName::RedrivePolicy)),
        }
    }
    let ses = aws_sdk_ses::Client::new(&config);
    let verified = ses.list_identities().send().await.unwrap();
    for identity in template.email_identities() {
        assert!(verified.identities().contains(&identity), "{identity} verified");
    }
}

#[test]
fn the_template_declares_the_stack_this_code_expects() {
    let template = template();
    let table = template.table().unwrap();
    assert_eq!(table.key, infra::template::KeySchema { hash: shared::store::schema::PK.into(), range: Some(shared::store::schema::SK.into()) });
    use shared::store::schema::{GSI1, GSI1_PK, GSI1_SK, PENDING_LEADS, PENDING_LEADS_PK, PENDING_LEADS_SK};
    let index = |name: &str, hash: &str, range: &str, projection: &str| infra::template::IndexSpec {
        name: name.into(),
        key: infra::template::KeySchema { hash: hash.into(), range: Some(range.into()) },
        projection: projection.into(),
    };
    assert_eq!(table.indexes, [index(GSI1, GSI1_PK, GSI1_SK, "ALL"), index(PENDING_LEADS, PENDING_LEADS_PK, PENDING_LEADS_SK, "KEYS_ONLY")]);
    assert_eq!(table.ttl_attribute.as_deref(), Some(shared::store::schema::TTL));
    assert_eq!(table.stream_view_type.as_deref(), Some("NEW_AND_OLD_IMAGES"));
    let queues = template.queues().unwrap();
    let setup = queues.iter().find(|q| q.logical_id == "BuyerSetupQueue").expect("buyer setup queue");
    assert!(setup.redrive.is_some(), "the buyer setup queue has a dead-letter queue");
}

#[test]
fn table_or_queue_properties_the_bootstrap_cannot_create_fail_loudly() {
    let text = std::fs::read_to_string(Template::path()).unwrap();
    let drifted = text.replacen("      BillingMode: PAY_PER_REQUEST", "      BillingMode: PAY_PER_REQUEST\n      TableClass: STANDARD_INFREQUENT_ACCESS", 1);
    assert_ne!(drifted, text);
    assert!(Template::parse(&drifted).unwrap().table().unwrap_err().contains("TableClass"));
    let drifted = text.replacen("      VisibilityTimeout: 180", "      VisibilityTimeout: 180\n      DelaySeconds: 5", 1);
    assert_ne!(drifted, text);
    assert!(Template::parse(&drifted).unwrap().queues().unwrap_err().contains("DelaySeconds"));
}

#[test]
fn every_function_in_the_template_is_a_binary_with_a_handler_and_a_sample_event() {
    let template = template();
    let root = Template::path().parent().unwrap().to_path_buf();
    let binaries = template.binaries();
    let files: BTreeSet<String> = std::fs::read_dir(root.join("functions/src/bin")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".rs").to_string()).collect();
    assert_eq!(binaries.iter().cloned().collect::<BTreeSet<_>>(), files, "functions/src/bin/ and template.yaml list the same functions");

    // LocalApi::new refuses a route without a handler and a handler without a route.
    let names: Vec<&'static str> = {
        let config = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let env = shared::platform::config::Env::new(config, |name| matches!(name, "TABLE_NAME" | "SENDER_EMAIL").then(|| "unused".to_string()));
        let handlers = functions::registry::handlers(&env).expect("every function's configuration");
        let names = handlers.keys().copied().collect();
        let api = infra::local_api::LocalApi::new(&template, handlers).expect("routes and handlers agree");
        let routes = template.routes().unwrap();
        for binary in binaries.iter().filter(|b| routes.iter().any(|r| &r.binary == *b)) {
            let event: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("events").join(format!("{binary}.json"))).unwrap()).unwrap();
            let route = template.routes().unwrap().into_iter().find(|r| &r.binary == binary).unwrap();
            assert_eq!(event["routeKey"], format!("{} {}", route.method, route.path), "events/{binary}.json");
            let method = event["requestContext"]["http"]["method"].as_str().unwrap();
            let routed = api.route_for(method, event["rawPath"].as_str().unwrap()).expect("event routes");
            assert_eq!(&routed.binary, binary, "events/{binary}.json reaches its function");
            assert!(matches!(serde_json::from_value::<LambdaRequest>(event).unwrap(), LambdaRequest::ApiGatewayV2(_)));
        }
        names
    };
    // The event-driven functions: their samples are the events their sources deliver.
    let stream: aws_lambda_events::event::dynamodb::Event = serde_json::from_str(&std::fs::read_to_string(root.join("events/table-stream.json")).unwrap()).unwrap();
    assert!(shared::store::stream::completion(&stream.records[0]).is_some(), "the stream sample is a completion");
    let queue: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_str(&std::fs::read_to_string(root.join("events/buyer-setup.json")).unwrap()).unwrap();
    let body: shared::onboards::domain::buyer_setup::SetupRequest = serde_json::from_str(queue.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body.onboard_id, shared::store::stream::completion(&stream.records[0]).unwrap().onboard_id);
    let delivery = shared::store::stream::new_delivery(&stream.records[1]).expect("the second stream sample is a new webhook delivery");
    let queue: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_str(&std::fs::read_to_string(root.join("events/webhook-deliver.json")).unwrap()).unwrap();
    let body: shared::client_onboarding::domain::webhook_endpoint::DeliveryMessage = serde_json::from_str(queue.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body, delivery, "the delivery queue's sample is what the stream router sends");
    let lead = shared::store::stream::new_lead(&stream.records[2]).expect("the third stream sample is a new lead with a buyer step to deliver");
    let queue: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_str(&std::fs::read_to_string(root.join("events/lead-deliver.json")).unwrap()).unwrap();
    let body: shared::leads::domain::lead::LeadMessage = serde_json::from_str(queue.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body, lead, "the lead-delivery queue's sample is what the stream router sends");
    let settled: aws_lambda_events::event::dynamodb::Event = serde_json::from_str(&std::fs::read_to_string(root.join("events/lead-figures.json")).unwrap()).unwrap();
    let figures = shared::store::stream::settled_figures(&settled.records[0]);
    assert_eq!(figures.len(), 1, "the figures sample is a lead whose buyer step settled");
    assert_eq!(figures[0].lead_id, lead.lead_id, "the same lead as the stream router's sample, settled");
    let mut event_driven: Vec<&String> = binaries.iter().filter(|b| !names.contains(&b.as_str())).collect();
    event_driven.sort();
    assert_eq!(event_driven, ["buyer-setup", "lead-deliver", "lead-figures", "table-stream", "webhook-deliver"]);
}

/// Every `.rs` file of a crate's `src` (but `lib.rs`) with the code before its tests, named by
/// its module at the depth the cycle check counts: an area's part (`partners::inviter`,
/// `store::partners`, `platform::http`) or a top-level module. An area's store files sit in the
/// area's folder but are modules of `store` (`shared/src/store/mod.rs`), and are named so.
fn crate_modules(krate: &str) -> Vec<(String, String)> {
    let src = Template::path().parent().unwrap().join(krate).join("src");
    let mut modules = vec![];
    let mut files = vec![src.clone()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let relative = path.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        if relative == "lib.rs" || !relative.ends_with(".rs") {
            continue;
        }
        let mut module: Vec<&str> = relative.trim_end_matches(".rs").trim_end_matches("/mod").split('/').take(2).collect();
        if module.get(1) == Some(&"store") {
            module.swap(0, 1);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        modules.push((module.join("::"), text.split("#[cfg(test)]").next().unwrap().to_string()));
    }
    modules
}

/// The modules a piece of code names with `crate::`, at the depth `crate_modules` counts.
fn imported_modules(code: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (i, _) in line.match_indices("crate::") {
            let path: Vec<&str> = line[i + "crate::".len()..].split("::").map(|s| s.split(|c: char| !(c.is_ascii_lowercase() || c == '_')).next().unwrap()).take(2).collect();
            // `crate::leads::service::x` names the module `leads::service`; `crate::Refusal`, the crate's root.
            let depth = if ["partners", "onboards", "client_onboarding", "provider_webhooks", "leads", "platform", "store"].contains(&path[0]) { 2 } else { 1 };
            let name = path.iter().take(depth).filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join("::");
            if !name.is_empty() {
                used.insert(name);
            }
        }
    }
    used
}

/// Each crate's modules (each part of an area counted as one) import each other without a
/// cycle, so that each can be read, and changed, on top of the ones it uses.
#[test]
fn modules_import_each_other_without_a_cycle() {
    for (krate, at_least) in [("shared", 25), ("domain", 25)] {
        let mut imports: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
        for (module, code) in crate_modules(krate) {
            let used: Vec<String> = imported_modules(&code).into_iter().filter(|m| *m != module).collect();
            imports.entry(module).or_default().extend(used);
        }
        // Depth-first from each module: reaching it again is a cycle.
        fn reaches(imports: &std::collections::BTreeMap<String, BTreeSet<String>>, from: &str, target: &str, seen: &mut BTreeSet<String>) -> bool {
            imports.get(from).into_iter().flatten().any(|next| next == target || (seen.insert(next.clone()) && reaches(imports, next, target, seen)))
        }
        let cyclic: Vec<&String> = imports.keys().filter(|m| reaches(&imports, m, m, &mut BTreeSet::new())).collect();
        assert!(cyclic.is_empty(), "{krate}: modules on an import cycle: {cyclic:?}");
        assert!(imports.len() >= at_least, "{krate}: read {} modules", imports.len());
    }
}

/// The rules are pure because the domain crate cannot reach anything else: nothing in its
/// dependency graph (as cargo resolves it for this machine, normal dependencies) is AWS, Lambda,
/// HTTP or an async runtime, and the compiler refuses code that uses a crate not in that graph.
#[test]
fn the_domain_depends_on_no_aws_lambda_http_or_runtime() {
    let root = Template::path().parent().unwrap().join("Cargo.toml");
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["tree", "--offline", "-p", "domain", "-e", "normal", "--prefix", "none", "--manifest-path"])
        .arg(&root)
        .output()
        .expect("cargo tree");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let reached: BTreeSet<String> = String::from_utf8(out.stdout).unwrap().lines().filter_map(|line| line.split(' ').next()).map(str::to_string).collect();
    assert!(reached.contains("domain") && reached.contains("serde") && reached.contains("sha2"), "the graph was read: {reached:?}");
    for name in &reached {
        let outside = ["aws", "lambda", "tokio", "hyper", "http", "rustls", "shared"].iter().any(|p| name.starts_with(p));
        assert!(!outside, "the domain crate depends on {name}");
    }
}

/// Every public route (no API key: no per-key rate limit) has its own throttle on the HTTP API,
/// and every throttled route exists.
#[test]
fn every_public_route_has_its_own_throttle() {
    let text = std::fs::read_to_string(Template::path()).unwrap();
    // The tags (!Ref, !GetAtt…) do not matter here: read them as plain values.
    let text = text.replace("!Ref ", "").replace("!GetAtt ", "").replace("!Sub ", "").replace("!Not ", "").replace("!Equals ", "").replace("!If ", "");
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let settings = template["Resources"]["HttpApi"]["Properties"]["RouteSettings"].as_mapping().expect("RouteSettings");
    let throttled: BTreeSet<String> = settings.keys().map(|k| k.as_str().unwrap().to_string()).collect();
    let mut public = BTreeSet::new();
    for (path, item) in api_tests::openapi::OPENAPI.document()["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap().iter().filter(|(m, _)| *m != "parameters") {
            let options = operation["security"].as_array();
            if options.is_some_and(|o| o.is_empty() || o.iter().any(|s| s.as_object().is_some_and(|m| m.is_empty()))) {
                public.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    // `$default` answers anything no route takes (a 404 or 405): public by nature.
    let template = Template::load().unwrap();
    let default_route = template.default_route().unwrap().expect("a $default route").path;
    public.insert(default_route.clone());
    let mut routes: BTreeSet<String> = template.routes().unwrap().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    routes.insert(default_route);
    assert_eq!(throttled, public, "RouteSettings name exactly the public routes");
    assert!(throttled.is_subset(&routes), "every throttled route is a route");
    for (route, setting) in settings {
        assert!(setting["ThrottlingRateLimit"].as_str() == Some("PublicRouteRateLimit"), "{route:?}: {setting:?}");
    }
}

/// Every alarm the template declares says in the runbook what it means and what to do.
#[test]
fn every_alarm_is_in_the_runbook() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let template = std::fs::read_to_string(Template::path()).unwrap();
    let runbook = std::fs::read_to_string(root.join("docs/runbook.md")).unwrap();
    let section = runbook.split("## Alarms").nth(1).expect("an Alarms section").split("\n## ").next().unwrap();
    // A resource is a two-space-indented name whose next line gives its type.
    let lines: Vec<&str> = template.lines().collect();
    let alarms: Vec<String> = lines
        .windows(2)
        .filter(|pair| pair[1].trim() == "Type: AWS::CloudWatch::Alarm")
        .filter_map(|pair| pair[0].strip_prefix("  ")?.strip_suffix(':').map(str::to_string))
        .collect();
    assert!(alarms.len() >= 17, "{alarms:?}");
    for alarm in alarms {
        assert!(section.contains(&format!("`{alarm}`")), "{alarm} is not in the runbook's alarm table");
    }
}

/// Every checkov check the project skips is explained in the runbook, and only those.
#[test]
fn every_skipped_static_check_is_explained_in_the_runbook() {
    let root = Template::path().parent().unwrap().to_path_buf();
    let config = std::fs::read_to_string(root.join(".checkov.yaml")).unwrap();
    let config: serde_yaml::Value = serde_yaml::from_str(&config).unwrap();
    let skipped: BTreeSet<String> = config["skip-check"].as_sequence().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    let runbook = std::fs::read_to_string(root.join("docs/runbook.md")).unwrap();
    let section = runbook.split("## Static checks").nth(1).expect("a Static checks section");
    let explained: BTreeSet<String> = section.lines().filter_map(|l| l.strip_prefix("| `CKV_")).map(|rest| format!("CKV_{}", rest.split('`').next().unwrap())).collect();
    assert_eq!(skipped, explained);
    assert!(skipped.len() >= 5);
}

/// What the deploy rehearsal leaves out, and the gaps it reports instead of failing, are the
/// runbook's reviewed list: a type added to the script without a line there (or the other way
/// round) fails here.
#[test]
fn what_the_deploy_rehearsal_leaves_out_is_in_the_runbook() {
    let root = Template::path().parent().unwrap().to_path_buf();
    let script = std::fs::read_to_string(root.join("infra/rehearse_deploy.py")).unwrap();
    let block = |name: &str| -> BTreeSet<String> {
        let body = script.split(&format!("\n{name} = {{\n")).nth(1).unwrap_or_else(|| panic!("{name} in the script")).split("\n}").next().unwrap();
        body.lines().filter_map(|l| l.trim().strip_prefix('"').or_else(|| l.trim().strip_prefix("(\""))).map(|l| l.split('"').next().unwrap().to_string()).collect()
    };
    let (left_out, gaps, unreadable) = (block("LEFT_OUT"), block("KNOWN_GAPS"), block("UNREADABLE"));
    let runbook = std::fs::read_to_string(root.join("docs/runbook.md")).unwrap();
    let section = runbook.split("### Deploy rehearsal").nth(1).expect("a Deploy rehearsal section").split("\n## ").next().unwrap();
    let table: BTreeSet<String> = section.lines().filter(|l| l.starts_with("| `AWS::")).flat_map(|l| l.split('|').nth(1).unwrap().split('`').skip(1).step_by(2).map(str::to_string).collect::<Vec<_>>()).collect();
    assert_eq!(left_out, table, "LEFT_OUT and the runbook's table");
    assert!(left_out.contains("AWS::Lambda::Function"), "{left_out:?}");
    // The gaps the runbook words: the table's point-in-time recovery, the log groups' retention,
    // the HTTP API and its stage.
    let set = |kinds: &[&str]| kinds.iter().map(|k| k.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(gaps, set(&["AWS::DynamoDB::Table", "AWS::Logs::LogGroup"]));
    assert_eq!(unreadable, set(&["AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage"]));
    assert!(section.contains("point-in-time recovery") && section.contains("retention") && section.contains("HTTP API and its stage"));
}
