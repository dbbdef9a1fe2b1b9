//! Operator CLI: accounts, users and API keys, and dead-letter queues, against the table in
//! `TABLE_NAME` on the endpoints the AWS environment names (`AWS_ENDPOINT_URL[_<SERVICE>]` for a
//! local stack, or AWS itself). Keys are printed once; only their hash is stored. `admin --help`
//! and `admin COMMAND --help`.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use shared::leads::domain::lead::LeadMessage;
use shared::onboards::domain::buyer_setup::SetupRequest;
use shared::platform::accounts::Plan;
use shared::platform::validate;
use shared::store::accounts::NewAccount;
use shared::{ApiError, Db, Id};

#[derive(Parser)]
#[command(name = "infra/admin", about = "Accounts, users, API keys and dead-letter queues of an onboarding backend stack")]
struct Cli {
    /// The stack's table (infra/admin sets it while infra/run is up).
    #[arg(long, env = "TABLE_NAME", global = true, hide_env_values = true)]
    table: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Completed onboards whose buyer setup has not succeeded (pending or failed) for more than
    /// the given minutes, across accounts, oldest first.
    StuckOnboards {
        #[arg(long, default_value_t = 15)]
        older_than_minutes: u64,
    },
    /// Leads with a buyer step pending for more than the given minutes, across accounts, oldest
    /// first; with --requeue, each is queued for delivery again (a step settles once, however
    /// often it is queued).
    StuckLeads {
        #[arg(long, default_value_t = 15)]
        older_than_minutes: u64,
        #[arg(long)]
        requeue: bool,
    },
    /// Runs one onboard's buyer setup again: a failed one is completed again (the stream queues
    /// it); a pending one has its setup request queued again.
    RerunSetup {
        #[arg(long, value_parser = parse_id)]
        account: Id,
        #[arg(long, value_parser = parse_id)]
        onboard: Id,
    },
    /// An endpoint's failed outbound webhook deliveries since a time; with --apply, each is sent
    /// again as a new delivery.
    ReplayDeliveries {
        #[arg(long, value_parser = parse_id)]
        account: Id,
        #[arg(long, value_parser = parse_id)]
        endpoint: Id,
        /// UTC, as the API writes times: 2026-11-23T00:00:00Z.
        #[arg(long, value_parser = parse_time)]
        since: String,
        #[arg(long)]
        apply: bool,
    },
    /// Counts a dead-letter queue's messages and, with --apply, moves them back to the queue they
    /// failed from (the template's RedrivePolicy says which). On AWS, set QUEUE_URL_<LogicalId>
    /// for both queues from the stack's outputs.
    Redrive {
        /// The dead-letter queue's logical id: BuyerSetupDeadLetterQueue or WebhookDeliveryDeadLetterQueue.
        #[arg(long)]
        queue: String,
        /// Move the messages (without it: only count them).
        #[arg(long)]
        apply: bool,
    },
    /// A new account with its first user and API key (the key is printed once).
    CreateAccount {
        #[arg(long)]
        name: String,
        /// The first user's email.
        #[arg(long)]
        email: String,
        #[arg(long)]
        user_name: String,
        #[arg(long, value_enum, default_value_t = PlanArg::Free)]
        plan: PlanArg,
    },
    /// Another user of an account.
    AddUser {
        #[arg(long, value_parser = parse_id)]
        account: Id,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// Another API key for the user with this email (printed once).
    IssueKey {
        #[arg(long)]
        email: String,
    },
    /// Revokes a key; it stops working on the next request.
    RevokeKey {
        #[arg(long, value_parser = parse_id)]
        account: Id,
        #[arg(long, value_parser = parse_id)]
        key_id: Id,
    },
    /// Creates template.yaml's table, queues and sender identity (local endpoints; idempotent).
    CreateStack,
}

#[derive(Clone, Copy, ValueEnum)]
enum PlanArg {
    Free,
    Paid,
}

fn parse_id(raw: &str) -> Result<Id, String> {
    Id::parse(raw).ok_or_else(|| "must be a 24-hex id".to_string())
}

/// A time as the API writes them (`YYYY-MM-DDTHH:MM:SSZ`), so that it compares as text.
fn parse_time(raw: &str) -> Result<String, String> {
    let shape = raw.len() == 20 && raw.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        19 => b == b'Z',
        _ => b.is_ascii_digit(),
    });
    if shape { Ok(raw.to_string()) } else { Err("must be a UTC time like 2026-11-23T00:00:00Z".into()) }
}

fn api(err: impl Into<ApiError>) -> String {
    let err = err.into();
    format!("{}: {}", err.code(), err.details())
}

async fn run(cli: Cli) -> Result<serde_json::Value, String> {
    let table = cli.table.ok_or("TABLE_NAME must be set (or --table), unless infra/run is up")?;
    let config = infra::workstation_aws_config().await;
    // The stack's secret, if the operator's environment has it (cursors, kept bodies).
    let db = Db::new(aws_sdk_dynamodb::Client::new(&config), &table, shared::platform::seal::Sealer::from_secret(std::env::var("STACK_SECRET").ok().filter(|s| !s.is_empty()).as_deref()));
    match cli.command {
        Command::Redrive { queue, apply } => {
            let source = infra::queues::source_of(&infra::template::Template::load()?, &queue)?;
            let sqs = aws_sdk_sqs::Client::new(&config);
            let dead_letter_url = infra::queues::queue_url(&sqs, &table, &queue).await?;
            let source_url = infra::queues::queue_url(&sqs, &table, &source).await?;
            let done = infra::queues::redrive(&sqs, &dead_letter_url, &source_url, !apply).await?;
            Ok(serde_json::json!({ "queue": queue, "source": source, "redrive": done }))
        }
        Command::StuckOnboards { older_than_minutes } => {
            let before = shared::platform::time::format(std::time::SystemTime::now() - std::time::Duration::from_secs(older_than_minutes * 60));
            let stuck = db.onboards().unfinished_setups(&before).await.map_err(api)?;
            Ok(serde_json::json!({ "completed_before": before, "count": stuck.len(), "onboards": stuck }))
        }
        Command::StuckLeads { older_than_minutes, requeue } => {
            let before = shared::platform::time::format(std::time::SystemTime::now() - std::time::Duration::from_secs(older_than_minutes * 60));
            let stuck = db.leads().pending_leads(&before).await.map_err(api)?;
            let mut requeued = 0;
            if requeue && !stuck.is_empty() {
                let sqs = aws_sdk_sqs::Client::new(&config);
                let url = infra::queues::queue_url(&sqs, &table, "LeadDeliveryQueue").await?;
                for lead in &stuck {
                    let message = LeadMessage { account_id: lead.account_id.clone(), flow_id: lead.flow_id.clone(), lead_id: lead.lead_id.clone() };
                    let body = serde_json::to_string(&message).map_err(|e| e.to_string())?;
                    sqs.send_message().queue_url(&url).message_body(body).send().await.map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
                    requeued += 1;
                }
            }
            Ok(serde_json::json!({ "pending_since_before": before, "count": stuck.len(), "leads": stuck, "requeued": requeued }))
        }
        Command::RerunSetup { account, onboard } => {
            let (onboard, by_stream) = db.onboards().restart_setup(&account, &onboard).await.map_err(api)?;
            if !by_stream {
                let sqs = aws_sdk_sqs::Client::new(&config);
                let url = infra::queues::queue_url(&sqs, &table, "BuyerSetupQueue").await?;
                let request = SetupRequest { account_id: onboard.account_id.clone(), connection_id: onboard.connection_id.clone(), flow_id: onboard.flow_id.clone(), onboard_id: Some(onboard.id.clone()), actor: "operator".into() };
                let body = serde_json::to_string(&request).map_err(|e| e.to_string())?;
                sqs.send_message().queue_url(url).message_body(body).send().await.map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
            }
            Ok(serde_json::json!({ "onboard": onboard, "queued_by": if by_stream { "the table stream (completed again)" } else { "infra/admin (setup request sent)" } }))
        }
        Command::ReplayDeliveries { account, endpoint, since, apply } => {
            let failed = db.client_onboarding().failed_deliveries_since(&account, &endpoint, &since).await.map_err(api)?;
            let mut replays = vec![];
            for delivery in failed.iter().filter(|_| apply) {
                replays.push(db.client_onboarding().replay_delivery(&account, &endpoint, &delivery.id).await.map_err(api)?.id);
            }
            let ids: Vec<&Id> = failed.iter().map(|d| &d.id).collect();
            Ok(serde_json::json!({ "failed": ids, "replays": replays, "dry_run": !apply }))
        }
        Command::CreateStack => {
            let template = infra::template::Template::load()?;
            let stack = infra::bootstrap::create_stack(&config, &template, &table).await.map_err(|e| e.to_string())?;
            Ok(serde_json::json!({ "table": stack.table, "queues": stack.queues, "sender": stack.sender }))
        }
        Command::CreateAccount { name, email, user_name, plan } => {
            let plan = match plan {
                PlanArg::Free => Plan::Free,
                PlanArg::Paid => Plan::Paid,
            };
            let name = validate::name("name", &name).map_err(api)?;
            let email = validate::email("email", &email).map_err(api)?;
            let user_name = validate::name("user-name", &user_name).map_err(api)?;
            let new = NewAccount::new(name, plan, email, user_name);
            db.accounts().create_account(&new).await.map_err(api)?;
            Ok(serde_json::json!({ "account": new.account, "user": new.user, "api_key": new.api_key, "key_id": new.key.key_id }))
        }
        Command::AddUser { account, email, name } => {
            let email = validate::email("email", &email).map_err(api)?;
            let name = validate::name("name", &name).map_err(api)?;
            let user = db.accounts().add_user(&account, email, name).await.map_err(api)?;
            Ok(serde_json::json!({ "user": user }))
        }
        Command::IssueKey { email } => {
            let email = validate::email("email", &email).map_err(api)?;
            let (api_key, record) = db.accounts().issue_api_key(&email).await.map_err(api)?;
            Ok(serde_json::json!({ "api_key": api_key, "key": record }))
        }
        Command::RevokeKey { account, key_id } => {
            db.accounts().revoke_api_key(&account, &key_id).await.map_err(api)?;
            Ok(serde_json::json!({ "revoked": true }))
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("admin").chain(args.iter().copied()))
    }

    #[test]
    fn replaying_needs_a_time_written_as_the_api_writes_it() {
        let base = ["replay-deliveries", "--account", "64b8f0f5e4b0c3a1d5e6f7a8", "--endpoint", "64b8f0f5e4b0c3a1d5e6f7a9", "--since"];
        assert!(parse(&[&base[..], &["2026-11-23T00:00:00Z"]].concat()).is_ok());
        for bad in ["2026-11-23", "2026-11-23T00:00:00+01:00", "yesterday", "2026-11-23T00:00:00.000Z"] {
            assert!(parse(&[&base[..], &[bad]].concat()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_misspelled_flag_is_an_error_not_a_default() {
        let err = parse(&["create-account", "--name", "A", "--email", "a@b.co", "--user-name", "U", "--paln", "paid"]).err().expect("refused");
        assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
    }

    #[test]
    fn equals_form_and_plan_values() {
        let cli = parse(&["create-account", "--name=Acme", "--email=a@b.co", "--user-name=U", "--plan=paid"]).expect("parsed");
        assert!(matches!(cli.command, Command::CreateAccount { plan: PlanArg::Paid, ref name, .. } if name == "Acme"));
        assert!(parse(&["create-account", "--name=A", "--email=a@b.co", "--user-name=U", "--plan=gold"]).is_err());
    }

    #[test]
    fn ids_are_checked_when_parsed() {
        assert!(parse(&["revoke-key", "--account", "nope", "--key-id", "0123456789abcdef01234567"]).is_err());
    }
}
