//! The command line: `serve` (default), `migrate`, `user create`, `openapi`.

use clap::{Parser, Subcommand};

use crate::auth::Role;
use crate::config::{Config, LogFormat};
use crate::startup::{self, Application};
use crate::users::queries::{self as users, AccountInput};

#[derive(Debug, Parser)]
#[command(
    name = "newsdesk",
    version,
    about = "A headless CMS that serves news content as a JSON API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the OpenAPI document (the source of openapi/openapi.json).
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password comes from NEWSDESK_PASSWORD or a prompt.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "reader", value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "must be reader, author, editor or admin".to_string())
}

fn init_logging(config: &Config) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(&config.log).unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Runs the parsed command; the error is printed by `main` as one line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Openapi) = cli.command {
        print!("{}", startup::openapi_json());
        return Ok(());
    }
    let config = Config::from_env().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    init_logging(&config);
    let system = actix_web::rt::System::new();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => system.block_on(async move {
            let app = Application::build(config).await?;
            tracing::info!(port = app.port(), "newsdesk listening");
            app.run_until_stopped().await?;
            Ok(())
        }),
        Command::Migrate => system.block_on(async move {
            startup::prepare_database(&config).await?;
            println!("migrations applied");
            Ok(())
        }),
        Command::User {
            command: UserCommand::Create { email, name, role },
        } => system.block_on(async move { create_user(&config, email, name, role).await }),
        Command::Openapi => Ok(()),
    }
}

async fn create_user(
    config: &Config,
    email: String,
    name: String,
    role: Role,
) -> anyhow::Result<()> {
    let password = match std::env::var("NEWSDESK_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => rpassword::prompt_password("Password: ")?,
    };
    let mut v = crate::validate::Validator::new();
    let (email, name, _, _) =
        crate::users::routes::validate_account(&mut v, &email, &password, &name, None, None);
    v.finish()
        .map_err(|e| anyhow::anyhow!("{}", e.problem().detail))?;
    let db = startup::prepare_database(config).await?;
    let password_hash = crate::auth::password::hash(&password)?;
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    if users::find_by_email(&mut conn, &email)?.is_some() {
        anyhow::bail!("a user with email {email} already exists");
    }
    let input = AccountInput {
        email,
        name,
        role: role.as_str().into(),
        bio: None,
        avatar_url: None,
        password_hash,
    };
    let row = users::create_account(&mut conn, input)?;
    println!("created {} user {} (id {})", row.role, row.email, row.id);
    Ok(())
}
