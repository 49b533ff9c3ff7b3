//! The command line: `serve` (default), `migrate`, `user create`, `seed`,
//! `media rebuild`, `openapi`.

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::auth::Role;
use crate::config::{Config, LogFormat};
use crate::db::Db;
use crate::seed;
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
    Serve {
        /// Load the demo newsroom first if the site has no article yet,
        /// and print the demo editor's sign-in (demo only).
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Load content: the demo newsroom and/or synthetic articles.
    #[command(arg_required_else_help = true)]
    Seed {
        /// Load a small demo newsroom (authors, tags, a dozen articles) and
        /// print the demo editor's email and password. Demo only: delete
        /// that account before going live.
        #[arg(long)]
        demo: bool,
        /// Make N synthetic published articles with tags and authors, for
        /// benchmarks.
        #[arg(long, value_name = "N")]
        articles: Option<u64>,
        /// Add reader accounts, comment threads and a month of views to
        /// every published article that has none yet (what the demo gets).
        #[arg(long)]
        activity: bool,
    },
    /// Maintain the media library.
    Media {
        #[command(subcommand)]
        command: MediaCommand,
    },
    /// Print the OpenAPI document (the source of openapi/openapi.json).
    Openapi,
    /// Import posts, authors and tags from another CMS, or a newsdesk
    /// export. Importing the same file again changes nothing.
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Write the whole site (users without passwords, articles with
    /// revisions, tags, comments, counters, redirects) as JSON.
    Export {
        /// Where to write (`-` for standard output).
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// A Ghost JSON export (Settings → Labs → Export).
    Ghost { file: std::path::PathBuf },
    /// A WordPress export (WXR, Tools → Export).
    Wordpress { file: std::path::PathBuf },
    /// A newsdesk export (`newsdesk export`), into an empty site.
    Newsdesk { file: std::path::PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum MediaCommand {
    /// Re-make missing renditions, and remove file folders that no media
    /// row names (left by a crash between writing files and committing).
    Rebuild {
        /// Only folders older than this are removed (an upload in flight
        /// keeps its files).
        #[arg(long, default_value = "1h", value_parser = parse_age)]
        orphan_age: std::time::Duration,
    },
}

fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| e.to_string())
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
    let mut config =
        Config::from_env().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    if !matches!(cli.command, None | Some(Command::Serve { .. })) {
        // The request-time bounds are for serving; a bulk seed or a long
        // migration from the command line may take its time.
        config.statement_timeout = std::time::Duration::from_secs(86_400);
        config.db_timeout = std::time::Duration::from_secs(60);
        // The memory map serves many concurrent readers; a bulk command is
        // one connection that mostly writes. (The seed slowdown once blamed
        // on it came from statistics of an empty site: see `Db::analyze`.)
        config.sqlite_read_map = false;
    }
    init_logging(&config);
    let system = actix_web::rt::System::new();
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => system.block_on(async move {
            let app = Application::build(config).await?;
            if demo {
                let state = app.state();
                seed_demo_if_empty(&state.db, &state.config.media).await?;
            }
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
        Command::Seed {
            demo,
            articles,
            activity,
        } => system.block_on(async move {
            let db = startup::prepare_database(&config).await?;
            let media = config.media.clone();
            actix_web::web::block(move || {
                seed(&db, &media, demo, articles, activity)?;
                db.analyze(crate::db::Planner::Full)
            })
            .await?
        }),
        Command::Media {
            command: MediaCommand::Rebuild { orphan_age },
        } => system.block_on(async move {
            let db = startup::prepare_database(&config).await?;
            let media = config.media.clone();
            let report = crate::media::rebuild(&db, &media, orphan_age).await?;
            println!("{report}");
            Ok(())
        }),
        Command::Openapi => Ok(()),
        Command::Import { source } => system.block_on(async move {
            let db = startup::prepare_database(&config).await?;
            let urls = config.public_urls.clone();
            actix_web::web::block(move || import(&db, source, urls)).await?
        }),
        Command::Export { file } => system.block_on(async move {
            let db = startup::prepare_database(&config).await?;
            actix_web::web::block(move || export(&db, &file)).await?
        }),
    }
}

fn import(db: &Db, source: ImportSource, urls: crate::feeds::PublicUrls) -> anyhow::Result<()> {
    use crate::import::Kind;
    let (kind, file) = match source {
        ImportSource::Ghost { file } => (Kind::Ghost, file),
        ImportSource::Wordpress { file } => (Kind::Wordpress, file),
        ImportSource::Newsdesk { file } => (Kind::Newsdesk, file),
    };
    let bar = crate::import::progress(0);
    let start = std::time::Instant::now();
    let summary = crate::import::import_file(db, kind, &file, urls, &bar);
    bar.finish_and_clear();
    let summary = summary?;
    db.analyze(crate::db::Planner::Full)?;
    print!("{summary}");
    println!("in {:.1}s", start.elapsed().as_secs_f64());
    Ok(())
}

fn export(db: &Db, file: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    if file.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        crate::export::write(&mut conn, &mut out)?;
        out.flush()?;
        return Ok(());
    }
    // Written beside the target and renamed, so a failed export never
    // leaves half a file under the name.
    let tmp = file.with_extension("partial");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&tmp)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?,
    );
    let written = crate::export::write(&mut conn, &mut out).and_then(|()| Ok(out.flush()?));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    drop(out);
    std::fs::rename(&tmp, file)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))?;
    eprintln!("exported the site to {}", file.display());
    Ok(())
}

/// `serve --demo`: loads the demo newsroom only into a site without articles.
async fn seed_demo_if_empty(db: &Db, media: &crate::config::MediaConfig) -> anyhow::Result<()> {
    let db = db.clone();
    let media = media.clone();
    actix_web::web::block(move || -> anyhow::Result<()> {
        let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
        if !seed::is_empty(&mut conn)? {
            tracing::info!("the site has articles; --demo loads nothing");
            return Ok(());
        }
        let summary = seed::seed_demo(&mut conn)?;
        crate::comments::seed_demo_activity(&mut conn)?;
        crate::media::demo::seed_pictures(&mut conn, &media)?;
        println!("{summary}");
        Ok(())
    })
    .await?
}

fn seed(
    db: &Db,
    media: &crate::config::MediaConfig,
    demo: bool,
    articles: Option<u64>,
    activity: bool,
) -> anyhow::Result<()> {
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    if demo {
        let summary = seed::seed_demo(&mut conn)?;
        crate::comments::seed_demo_activity(&mut conn)?;
        crate::media::demo::seed_pictures(&mut conn, media)?;
        println!("{summary}");
    }
    if let Some(n) = articles {
        let bar = ProgressBar::new(n);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {bar:40} {pos}/{len} articles ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let start = std::time::Instant::now();
        let made = seed::seed_articles(&mut conn, n, |done| bar.set_position(done))?;
        bar.finish_and_clear();
        println!(
            "made {made} synthetic articles in {:.1}s",
            start.elapsed().as_secs_f64()
        );
    }
    if activity {
        let start = std::time::Instant::now();
        crate::comments::seed_demo_activity(&mut conn)?;
        println!(
            "added comments and views in {:.1}s",
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
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
