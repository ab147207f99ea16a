//! `ticketing-admin`: operator commands that have no API route.
//!
//! ```text
//! TICKETING_ADMIN_PASSWORD='…' ticketing-admin create-admin --table NAME --email EMAIL [--name NAME] [--promote-existing]
//! ticketing-admin rebuild-my-page --table NAME --member MEMBER_ID
//! ticketing-admin dlq --queue NAME_OR_URL [--max N]
//! ticketing-admin redrive --queue NAME_OR_URL [--per-second N] [--no-wait]
//! ticketing-admin repair --stage STAGE [--grace-seconds N]
//! ticketing-admin reconcile --table NAME [--segments N] [--settle-grace-seconds N]
//! ticketing-admin provider-fault --table NAME (--fail | --delay-ms N | --off)
//! ```
//!
//! `create-admin` bootstraps the first admin (signup never grants ADMIN): it writes the same two items as
//! `POST /signup` (profile + email claim, one transaction) through the same code, with role ADMIN. The
//! password comes from the environment so it stays out of shell history and `ps`.
//!
//! `rebuild-my-page` replaces every my-page view of a member by the fold of the recorded events (after a
//! projector bug, or to backfill a new field). `dlq` lists what a consumer's dead-letter queue holds, without
//! taking it; `redrive` moves it all back to the consumer's queue (SQS `StartMessageMoveTask`) and, unless
//! `--no-wait`, waits for the move to finish. The queues are `ticketing-<stage>-<consumer>-dlq`
//! (notifier, my-page, audit). docs/events.md has the runbook.
//!
//! `repair` runs the repairer once, now (the schedule runs it every minute): it finishes what dead processes
//! left half-done in stage STAGE (table `ticketing-<stage>`, its state machines found by name) and prints a
//! line per repair. `--grace-seconds` (default 300) is how long past due an item must be.
//!
//! `reconcile` runs the nightly reconciliation now, in this process (every segment side by side, the same
//! checks as the scheduled machine), writes its report as the latest and prints it as JSON, then a summary
//! line. `--settle-grace-seconds` (default 600) is how old a payment's last change must be for its money events
//! to be required in a statement. Exit status 5 when it found breaks.
//!
//! `provider-fault` stages an outage of the test-mode card provider on a test stack (`FaultInjection=on`;
//! production ignores the switch): every charge and refund fails (`--fail`) or answers after N ms
//! (`--delay-ms`), until `--off`; it prints how many calls met the switch. docs/payment-provider.md shows
//! the breaker opening and closing around it.
//!
//! AWS settings come from the usual environment (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL` for
//! LocalStack).
//!
//! Exit status: 0 done (for `create-admin` also: the email already belongs to an admin, or was promoted
//! with `--promote-existing`); 2 usage or invalid input; 3 the email belongs to a non-admin member; 4 a
//! redrive that ended in failure; 5 a reconciliation that found breaks; 1 other failures.

use std::process::ExitCode;
use std::time::Duration;
use ticketing::app::members::register;
use ticketing::domain::member::{Role, SignupInput};
use ticketing::store::breaker::ProviderFault;
use ticketing::store::members::ProfileUpdate;
use ticketing::store::Store;
use ticketing::AppError;

const PASSWORD_ENV: &str = "TICKETING_ADMIN_PASSWORD";
const USAGE: &str = "usage:
  TICKETING_ADMIN_PASSWORD=... ticketing-admin create-admin --table NAME --email EMAIL [--name NAME] [--promote-existing]
  ticketing-admin rebuild-my-page --table NAME --member MEMBER_ID
  ticketing-admin dlq --queue NAME_OR_URL [--max N]
  ticketing-admin redrive --queue NAME_OR_URL [--per-second N] [--no-wait]
  ticketing-admin repair --stage STAGE [--grace-seconds N]
  ticketing-admin reconcile --table NAME [--segments N] [--settle-grace-seconds N]
  ticketing-admin provider-fault --table NAME (--fail | --delay-ms N | --off)";

#[derive(Debug, PartialEq, Eq)]
enum Command {
    CreateAdmin {
        table: String,
        email: String,
        name: Option<String>,
        promote_existing: bool,
    },
    RebuildMyPage {
        table: String,
        member: String,
    },
    Dlq {
        queue: String,
        max: usize,
    },
    Redrive {
        queue: String,
        per_second: Option<i32>,
        wait: bool,
    },
    Repair {
        stage: String,
        grace_seconds: i64,
    },
    ProviderFault {
        table: String,
        fault: Option<ProviderFault>,
    },
    Reconcile {
        table: String,
        segments: u32,
        settle_grace_seconds: i64,
    },
}

fn parse_args(args: &[String]) -> Result<Command, String> {
    let mut iter = args.iter();
    let command = match iter.next().map(String::as_str) {
        Some(
            c @ ("create-admin" | "rebuild-my-page" | "dlq" | "redrive" | "repair" | "reconcile"
            | "provider-fault"),
        ) => c,
        Some("-h" | "--help") => return Err(String::new()),
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("no command given".into()),
    };
    let mut flags: std::collections::BTreeMap<&str, String> = Default::default();
    while let Some(flag) = iter.next() {
        let takes_value = match (command, flag.as_str()) {
            (_, "-h" | "--help") => return Err(String::new()),
            ("create-admin", "--table" | "--email" | "--name")
            | ("rebuild-my-page", "--table" | "--member")
            | ("dlq", "--queue" | "--max")
            | ("redrive", "--queue" | "--per-second")
            | ("repair", "--stage" | "--grace-seconds")
            | ("reconcile", "--table" | "--segments" | "--settle-grace-seconds")
            | ("provider-fault", "--table" | "--delay-ms") => true,
            ("create-admin", "--promote-existing")
            | ("redrive", "--no-wait")
            | ("provider-fault", "--fail" | "--off") => false,
            (_, other) => return Err(format!("unknown option {other:?} for {command}")),
        };
        let value = if takes_value {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))?
        } else {
            String::new()
        };
        flags.insert(flag.as_str(), value);
    }
    let required = |name: &str| match flags.get(name) {
        Some(v) if !v.is_empty() => Ok(v.clone()),
        _ => Err(format!("{name} is required for {command}")),
    };
    let number = |name: &str| -> Result<Option<u32>, String> {
        flags
            .get(name)
            .map(|v| {
                v.parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{name} must be a positive whole number, not {v:?}"))
            })
            .transpose()
    };
    Ok(match command {
        "create-admin" => Command::CreateAdmin {
            table: required("--table")?,
            email: required("--email")?,
            name: flags.get("--name").cloned(),
            promote_existing: flags.contains_key("--promote-existing"),
        },
        "rebuild-my-page" => Command::RebuildMyPage {
            table: required("--table")?,
            member: required("--member")?,
        },
        "dlq" => Command::Dlq {
            queue: required("--queue")?,
            max: number("--max")?.unwrap_or(100) as usize,
        },
        "repair" => Command::Repair {
            stage: required("--stage")?,
            grace_seconds: match flags.get("--grace-seconds") {
                None => ticketing::repair::DEFAULT_GRACE_SECONDS,
                Some(v) => v.parse::<u32>().map(i64::from).map_err(|_| {
                    format!("--grace-seconds must be a whole number of seconds, not {v:?}")
                })?,
            },
        },
        "reconcile" => Command::Reconcile {
            table: required("--table")?,
            segments: number("--segments")?.unwrap_or(8).min(64),
            settle_grace_seconds: match flags.get("--settle-grace-seconds") {
                None => ticketing::app::reconciliation::Options::default().settle_grace_seconds,
                Some(v) => v.parse::<u32>().map(i64::from).map_err(|_| {
                    format!("--settle-grace-seconds must be a whole number of seconds, not {v:?}")
                })?,
            },
        },
        "provider-fault" => Command::ProviderFault {
            table: required("--table")?,
            fault: match (
                flags.contains_key("--fail"),
                number("--delay-ms")?,
                flags.contains_key("--off"),
            ) {
                (true, None, false) => Some(ProviderFault::Fail),
                (false, Some(ms), false) => Some(ProviderFault::Delay(u64::from(ms))),
                (false, None, true) => None,
                _ => return Err("provider-fault takes one of --fail, --delay-ms N, --off".into()),
            },
        },
        _ => Command::Redrive {
            queue: required("--queue")?,
            per_second: number("--per-second")?.map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
            wait: !flags.contains_key("--no-wait"),
        },
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = match parse_args(&args) {
        Ok(cmd) => cmd,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("ticketing-admin: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match cmd {
        Command::CreateAdmin {
            table,
            email,
            name,
            promote_existing,
        } => return create_admin(&table, &email, name, promote_existing).await,
        Command::RebuildMyPage { table, member } => rebuild_my_page(&table, &member).await,
        Command::Dlq { queue, max } => dlq(&queue, max).await,
        Command::Redrive {
            queue,
            per_second,
            wait,
        } => return redrive(&queue, per_second, wait).await,
        Command::Repair {
            stage,
            grace_seconds,
        } => repair(&stage, grace_seconds).await,
        Command::Reconcile {
            table,
            segments,
            settle_grace_seconds,
        } => return reconcile(&table, segments, settle_grace_seconds).await,
        Command::ProviderFault { table, fault } => provider_fault(&table, fault).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ticketing-admin: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn store(table: &str) -> Store {
    let config = ticketing::aws::sdk_config().await;
    Store::new(aws_sdk_dynamodb::Client::new(&config), table.to_string())
}

/// Sets or clears the test-mode provider's fault switch, and says how many calls met it so far.
async fn provider_fault(table: &str, fault: Option<ProviderFault>) -> Result<(), AppError> {
    let store = store(table).await;
    let calls = store.faulted_calls().await?;
    store.set_provider_fault(fault).await?;
    match fault {
        Some(ProviderFault::Fail) => println!("provider fault: every call fails"),
        Some(ProviderFault::Delay(ms)) => {
            println!("provider fault: every call answers after {ms} ms")
        }
        None => println!("provider fault: off ({calls} calls met it)"),
    }
    Ok(())
}

async fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&ticketing::aws::sdk_config().await)
}

async fn reconcile(table: &str, segments: u32, settle_grace_seconds: i64) -> ExitCode {
    use ticketing::app::reconciliation::{run, Options};
    let run_id = format!(
        "cli-{}-{}",
        time::OffsetDateTime::now_utc().unix_timestamp(),
        std::process::id()
    );
    let options = Options {
        settle_grace_seconds,
        budget: Duration::from_secs(3_600),
        ..Options::default()
    };
    let began = std::time::Instant::now();
    match run(&store(table).await, &run_id, segments, options).await {
        Ok(report) => {
            match serde_json::to_string_pretty(&report) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("ticketing-admin: the report as JSON: {e}"),
            }
            let c = &report.counts;
            println!(
                "reconciled {} items in {:.1} s ({} segments): {} reservations ({} in flight), {} payments, {} seats sold, {} wallets ({} ledger lines), {} money events, {} closed statements; {} DynamoDB calls, {} items read ({:.2} calls and {:.2} reads per item); {} breaks",
                c.items,
                began.elapsed().as_secs_f64(),
                segments,
                c.reservations,
                c.in_flight,
                c.payments,
                c.seats_sold,
                c.wallets,
                c.ledger_lines,
                c.money_events,
                c.statements,
                c.calls,
                c.reads,
                c.calls as f64 / c.items.max(1) as f64,
                c.reads as f64 / c.items.max(1) as f64,
                report.break_count
            );
            if report.break_count > 0 {
                ExitCode::from(5)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(err) => {
            eprintln!("ticketing-admin: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn repair(stage: &str, grace_seconds: i64) -> Result<(), AppError> {
    let store = store(&format!("ticketing-{stage}")).await;
    let state = ticketing::saga::SagaState {
        breaker: ticketing::payments::breaker::CircuitBreaker::from_env(store.clone()),
        store,
        saga: Some(ticketing::saga::SagaClient::for_stage(stage).await?),
        faults: false,
        settlement: Default::default(),
    };
    let report = ticketing::repair::run(&state, grace_seconds).await?;
    for action in &report.actions {
        println!("{action}");
    }
    println!(
        "looked at {}, repaired {} ({} failed, try again), {} fine",
        report.looked_at,
        report.found - report.failed,
        report.failed,
        report.fine
    );
    if report.failed > 0 {
        return Err(AppError::Dependency(format!(
            "{} repair(s) failed",
            report.failed
        )));
    }
    Ok(())
}

async fn rebuild_my_page(table: &str, member: &str) -> Result<(), AppError> {
    let written = ticketing::consumers::rebuild_my_page(&store(table).await, member).await?;
    println!("rebuilt {written} my-page view(s) of member {member} from the event history");
    Ok(())
}

async fn dlq(queue: &str, max: usize) -> Result<(), AppError> {
    let sqs = sqs().await;
    let url = ticketing::dlq::queue_url(&sqs, queue).await?;
    let (_, count) = ticketing::dlq::queue_facts(&sqs, &url).await?;
    println!("{url}: about {count} message(s)");
    for d in ticketing::dlq::peek(&sqs, &url, max).await? {
        match d.event {
            Some((event_id, kind, reservation, member)) => println!(
                "{}\treceives={}\t{kind}\tevent={event_id}\treservation={reservation}\tmember={member}",
                d.message_id, d.receive_count
            ),
            None => println!(
                "{}\treceives={}\tnot an event: {}",
                d.message_id, d.receive_count, d.body
            ),
        }
    }
    Ok(())
}

async fn redrive(queue: &str, per_second: Option<i32>, wait: bool) -> ExitCode {
    let outcome: Result<Option<ticketing::dlq::MoveTask>, AppError> = async {
        let sqs = sqs().await;
        let url = ticketing::dlq::queue_url(&sqs, queue).await?;
        let (arn, count) = ticketing::dlq::queue_facts(&sqs, &url).await?;
        let handle = ticketing::dlq::redrive(&sqs, &arn, per_second).await?;
        println!(
            "moving about {count} message(s) from {arn} back to their source queue (task {handle})"
        );
        if !wait {
            return Ok(None);
        }
        loop {
            if let Some(task) = ticketing::dlq::move_task(&sqs, &arn).await? {
                if task.finished() {
                    return Ok(Some(task));
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    .await;
    match outcome {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(task)) if task.status == "COMPLETED" => {
            println!("moved {} message(s)", task.moved);
            ExitCode::SUCCESS
        }
        Ok(Some(task)) => {
            eprintln!(
                "ticketing-admin: the move task ended {} after {} message(s): {}",
                task.status,
                task.moved,
                task.failure.unwrap_or_default()
            );
            ExitCode::from(4)
        }
        Err(err) => {
            eprintln!("ticketing-admin: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn create_admin(
    table: &str,
    email: &str,
    name: Option<String>,
    promote_existing: bool,
) -> ExitCode {
    let Ok(password) = std::env::var(PASSWORD_ENV) else {
        eprintln!("ticketing-admin: {PASSWORD_ENV} is not set\n{USAGE}");
        return ExitCode::from(2);
    };
    let input = SignupInput {
        email: email.to_string(),
        password,
        name: name.unwrap_or_else(|| "Administrator".into()),
        role: Some(Role::Admin.as_str().into()),
        locale: None,
    };
    let new = match input.validate(&[Role::Admin]) {
        Ok(new) => new,
        Err(errors) => {
            for e in errors {
                let field = if e.field == "password" {
                    PASSWORD_ENV.to_string()
                } else {
                    format!("--{}", e.field)
                };
                eprintln!("ticketing-admin: {field} {}", e.message);
            }
            return ExitCode::from(2);
        }
    };
    let email = new.email.clone();
    let store = store(table).await;
    match register(&store, new).await {
        Ok(member) => {
            println!(
                "created admin {} <{}> in table {table}",
                member.id, member.email
            );
            ExitCode::SUCCESS
        }
        Err(AppError::Conflict(_) | AppError::Busy(_)) => {
            existing(&store, &email, promote_existing).await
        }
        Err(err) => {
            eprintln!("ticketing-admin: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn existing(store: &Store, email: &str, promote: bool) -> ExitCode {
    let member = match store.find_member_by_email(email).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            eprintln!("ticketing-admin: {email} is being registered concurrently; run again");
            return ExitCode::FAILURE;
        }
        Err(err) => {
            eprintln!("ticketing-admin: {err}");
            return ExitCode::FAILURE;
        }
    };
    let id = member.member.id.clone();
    if member.member.role == Role::Admin {
        println!("{email} is already an admin (member {id}); nothing to do");
        return ExitCode::SUCCESS;
    }
    if !promote {
        eprintln!(
            "ticketing-admin: {email} already belongs to member {id} with role {}; \
             rerun with --promote-existing to make them an admin",
            member.member.role.as_str()
        );
        return ExitCode::from(3);
    }
    let update = ProfileUpdate {
        role: Some(Role::Admin),
        locale: None,
        ..ProfileUpdate::default()
    };
    let now = ticketing::domain::performance::format_instant(time::OffsetDateTime::now_utc());
    match store.update_member(&member, &update, &now).await {
        Ok(_) => {
            println!("promoted member {id} <{email}> to admin");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("ticketing-admin: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_the_provider_fault_switch() {
        let fault = |list: &[&str]| parse_args(&args(list));
        assert_eq!(
            fault(&["provider-fault", "--table", "T", "--fail"]),
            Ok(Command::ProviderFault {
                table: "T".into(),
                fault: Some(ProviderFault::Fail)
            })
        );
        assert_eq!(
            fault(&["provider-fault", "--table", "T", "--delay-ms", "4000"]),
            Ok(Command::ProviderFault {
                table: "T".into(),
                fault: Some(ProviderFault::Delay(4000))
            })
        );
        assert_eq!(
            fault(&["provider-fault", "--off", "--table", "T"]),
            Ok(Command::ProviderFault {
                table: "T".into(),
                fault: None
            })
        );
        assert!(fault(&["provider-fault", "--table", "T", "--fail", "--off"]).is_err());
        assert!(fault(&["provider-fault", "--table", "T"]).is_err());
    }

    #[test]
    fn parses_each_command() {
        assert_eq!(
            parse_args(&args(&[
                "create-admin",
                "--table",
                "T",
                "--email",
                "root@example.com",
                "--promote-existing",
            ])),
            Ok(Command::CreateAdmin {
                table: "T".into(),
                email: "root@example.com".into(),
                name: None,
                promote_existing: true,
            })
        );
        assert_eq!(
            parse_args(&args(&[
                "rebuild-my-page",
                "--member",
                "m-1",
                "--table",
                "T"
            ])),
            Ok(Command::RebuildMyPage {
                table: "T".into(),
                member: "m-1".into(),
            })
        );
        assert_eq!(
            parse_args(&args(&[
                "repair",
                "--stage",
                "prod",
                "--grace-seconds",
                "0"
            ])),
            Ok(Command::Repair {
                stage: "prod".into(),
                grace_seconds: 0,
            })
        );
        assert_eq!(
            parse_args(&args(&["repair", "--stage", "prod"])),
            Ok(Command::Repair {
                stage: "prod".into(),
                grace_seconds: ticketing::repair::DEFAULT_GRACE_SECONDS,
            })
        );
        assert!(parse_args(&args(&["repair", "--grace-seconds", "-1", "--stage", "x"])).is_err());
        assert_eq!(
            parse_args(&args(&["dlq", "--queue", "q"])),
            Ok(Command::Dlq {
                queue: "q".into(),
                max: 100
            })
        );
        assert_eq!(
            parse_args(&args(&[
                "redrive",
                "--queue",
                "q",
                "--per-second",
                "5",
                "--no-wait"
            ])),
            Ok(Command::Redrive {
                queue: "q".into(),
                per_second: Some(5),
                wait: false,
            })
        );
    }

    #[test]
    fn refuses_what_it_cannot_run() {
        for bad in [
            &["create-admin", "--table", "T"][..],
            &["create-admin", "--table"],
            &["rebuild-my-page", "--table", "T"],
            &["dlq", "--queue", "q", "--max", "0"],
            &["dlq", "--queue", "q", "--max", "many"],
            &["redrive", "--queue", "q", "--promote-existing"],
            &["dlq", "--queue", "q", "--member", "m"],
            &["drop-table"],
            &[],
        ] {
            assert!(parse_args(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
