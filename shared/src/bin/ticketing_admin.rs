//! `ticketing-admin`: operator commands that have no API route.
//!
//! ```text
//! TICKETING_ADMIN_PASSWORD='…' ticketing-admin create-admin --table NAME --email EMAIL [--name NAME] [--promote-existing]
//! ```
//!
//! `create-admin` bootstraps the first admin (signup never grants ADMIN): it writes the same two items as
//! `POST /signup` (profile + email claim, one transaction) through the same code, with role ADMIN. The
//! password comes from the environment so it stays out of shell history and `ps`. AWS settings come from
//! the usual environment (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL` for LocalStack).
//!
//! Exit status: 0 created, or the email already belongs to an admin (or was promoted with
//! `--promote-existing`); 2 usage or invalid input; 3 the email belongs to a non-admin member; 1 other
//! failures.

use std::process::ExitCode;
use ticketing::domain::member::{Role, SignupInput};
use ticketing::handlers::members::register;
use ticketing::store::members::ProfileUpdate;
use ticketing::store::Store;
use ticketing::AppError;

const PASSWORD_ENV: &str = "TICKETING_ADMIN_PASSWORD";
const USAGE: &str = "usage: TICKETING_ADMIN_PASSWORD=... ticketing-admin create-admin --table NAME --email EMAIL [--name NAME] [--promote-existing]";

#[derive(Debug, Default)]
struct CreateAdmin {
    table: String,
    email: String,
    name: Option<String>,
    promote_existing: bool,
}

fn parse_args(args: &[String]) -> Result<CreateAdmin, String> {
    let mut iter = args.iter();
    match iter.next().map(String::as_str) {
        Some("create-admin") => {}
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("no command given".into()),
    }
    let mut out = CreateAdmin::default();
    while let Some(flag) = iter.next() {
        let mut value = |name: &str| {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--table" => out.table = value("--table")?,
            "--email" => out.email = value("--email")?,
            "--name" => out.name = Some(value("--name")?),
            "--promote-existing" => out.promote_existing = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if out.table.is_empty() || out.email.is_empty() {
        return Err("--table and --email are required".into());
    }
    Ok(out)
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
    let Ok(password) = std::env::var(PASSWORD_ENV) else {
        eprintln!("ticketing-admin: {PASSWORD_ENV} is not set\n{USAGE}");
        return ExitCode::from(2);
    };
    let input = SignupInput {
        email: cmd.email.clone(),
        password,
        name: cmd.name.clone().unwrap_or_else(|| "Administrator".into()),
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
    let config = ticketing::aws::sdk_config().await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&config), cmd.table.clone());

    match register(&store, new).await {
        Ok(member) => {
            println!(
                "created admin {} <{}> in table {}",
                member.id, member.email, cmd.table
            );
            ExitCode::SUCCESS
        }
        Err(AppError::Conflict(_)) => existing(&store, &email, cmd.promote_existing).await,
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
    fn parses_create_admin() {
        let cmd = parse_args(&args(&[
            "create-admin",
            "--table",
            "T",
            "--email",
            "root@example.com",
            "--promote-existing",
        ]))
        .expect("parses");
        assert_eq!(cmd.table, "T");
        assert_eq!(cmd.email, "root@example.com");
        assert!(cmd.promote_existing);
        assert!(parse_args(&args(&["create-admin", "--table", "T"])).is_err());
        assert!(parse_args(&args(&["create-admin", "--table"])).is_err());
        assert!(parse_args(&args(&["drop-table"])).is_err());
        assert!(parse_args(&args(&[])).is_err());
    }
}
