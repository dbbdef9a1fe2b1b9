//! Operator CLI: accounts, users and API keys, against the table in `TABLE_NAME` on the endpoint
//! the AWS SDK is configured for (`AWS_ENDPOINT_URL` for the local stack, or AWS itself).
//!
//!   admin create-account --name NAME --email EMAIL --user-name NAME [--plan free|paid]
//!   admin add-user --account ID --email EMAIL --name NAME
//!   admin issue-key --email EMAIL
//!   admin revoke-key --account ID --key-id ID
//!   admin create-stack            (local endpoints: template.yaml's table, queues, identity)
//!
//! Keys are printed once; only their hash is stored.

use std::collections::HashMap;
use std::process::ExitCode;

use shared::domain::{Plan, validate};
use shared::store::accounts::NewAccount;
use shared::{ApiError, Db, Id};

const USAGE: &str = "usage: admin create-account --name NAME --email EMAIL --user-name NAME [--plan free|paid]
       admin add-user --account ID --email EMAIL --name NAME
       admin issue-key --email EMAIL
       admin revoke-key --account ID --key-id ID
       admin create-stack";

fn flags(args: &[String]) -> Result<HashMap<String, String>, String> {
    let mut flags = HashMap::new();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let name = flag.strip_prefix("--").ok_or(format!("unexpected argument {flag}"))?;
        let value = iter.next().ok_or(format!("--{name} needs a value"))?;
        flags.insert(name.to_string(), value.clone());
    }
    Ok(flags)
}

fn flag<'a>(flags: &'a HashMap<String, String>, name: &str) -> Result<&'a str, String> {
    flags.get(name).map(String::as_str).ok_or(format!("--{name} is required"))
}

fn id(flags: &HashMap<String, String>, name: &str) -> Result<Id, String> {
    Id::parse(flag(flags, name)?).ok_or(format!("--{name} must be a 24-hex id"))
}

fn api(err: ApiError) -> String {
    format!("{}: {}", err.code(), err.details())
}

async fn run(args: &[String]) -> Result<serde_json::Value, String> {
    let (command, rest) = args.split_first().ok_or(USAGE)?;
    let flags = flags(rest)?;
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME must be set")?;
    let config = infra::workstation_aws_config().await;
    let db = Db::new(aws_sdk_dynamodb::Client::new(&config), &table);
    match command.as_str() {
        "create-stack" => {
            let template = infra::template::Template::load()?;
            let stack = infra::bootstrap::create_stack(&config, &template, &table).await.map_err(|e| e.to_string())?;
            Ok(serde_json::json!({ "table": stack.table, "queues": stack.queues, "sender": stack.sender }))
        }
        "create-account" => {
            let plan = match flags.get("plan").map(String::as_str).unwrap_or("free") {
                "free" => Plan::Free,
                "paid" => Plan::Paid,
                other => return Err(format!("--plan must be free or paid, not {other}")),
            };
            let name = validate::name("name", flag(&flags, "name")?).map_err(api)?;
            let email = validate::email("email", flag(&flags, "email")?).map_err(api)?;
            let user_name = validate::name("user-name", flag(&flags, "user-name")?).map_err(api)?;
            let new = NewAccount::new(name, plan, email, user_name);
            db.create_account(&new).await.map_err(api)?;
            Ok(serde_json::json!({ "account": new.account, "user": new.user, "api_key": new.api_key, "key_id": new.key.key_id }))
        }
        "add-user" => {
            let email = validate::email("email", flag(&flags, "email")?).map_err(api)?;
            let name = validate::name("name", flag(&flags, "name")?).map_err(api)?;
            let user = db.add_user(&id(&flags, "account")?, email, name).await.map_err(api)?;
            Ok(serde_json::json!({ "user": user }))
        }
        "issue-key" => {
            let email = validate::email("email", flag(&flags, "email")?).map_err(api)?;
            let (api_key, record) = db.issue_api_key(&email).await.map_err(api)?;
            Ok(serde_json::json!({ "api_key": api_key, "key": record }))
        }
        "revoke-key" => {
            db.revoke_api_key(&id(&flags, "account")?, &id(&flags, "key-id")?).await.map_err(api)?;
            Ok(serde_json::json!({ "revoked": true }))
        }
        _ => Err(USAGE.to_string()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(output) => {
            println!("{}", serde_json::to_string_pretty(&output).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
