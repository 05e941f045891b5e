use std::process::ExitCode;
use std::time::Duration;

use beer_catalog::cli::{AppEnv, Cli, Command, LogFormat};
use beer_catalog::commands::{healthcheck, import, provision_roles, seed};
use beer_catalog::config::Config;
use beer_catalog::startup::{Application, shutdown_signal};
use beer_catalog::{storage, telemetry};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.clone().unwrap_or(Command::Serve);
    let settings = &cli.settings;

    if let Command::Healthcheck(args) = &command {
        // Silent and quick: it runs every few seconds inside the container.
        let url = args
            .url
            .clone()
            .unwrap_or_else(|| format!("http://127.0.0.1:{}/health", settings.port));
        return match healthcheck::check(&url, Duration::from_secs(args.timeout_secs)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("unhealthy: {error}");
                ExitCode::FAILURE
            }
        };
    }

    let production = settings.app_env == AppEnv::Production;
    let format = settings
        .log_format
        .unwrap_or(if production { LogFormat::Json } else { LogFormat::Pretty });
    telemetry::init(&settings.log_level, format);

    match run(command, settings).await {
        Ok(code) => code,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "failed");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: &beer_catalog::cli::Settings) -> anyhow::Result<ExitCode> {
    let config = Config::from_settings(settings)?;
    match command {
        Command::Serve => {
            let app = Application::build(&config).await?;
            app.run_until_stopped(shutdown_signal()).await?;
        }
        Command::Migrate => {
            let store = storage::connect(&config.database, &config.store).await?;
            store.migrate().await?;
            store.close().await;
            println!("migrations applied to {}", config.database.redacted());
        }
        Command::Seed => {
            let store = open_store(&config).await?;
            println!("{}", seed::seed_if_empty(&store).await?);
            store.close().await;
        }
        Command::Import(args) => {
            let text = import::read_source(&args.file).await?;
            let mut plan = import::plan(&text, args.strict)?;
            if let Some(dir) = &args.images {
                import::load_images(&mut plan, dir, config.image_limits).await?;
                if config.is_production() && config.public_base_url.is_none() {
                    eprintln!(
                        "note: servers in production need PUBLIC_BASE_URL set to link these images (they refuse to \
                         start without it once the catalog holds images)"
                    );
                }
            }
            let store = open_store(&config).await?;
            let outcome = import::run(&store, plan, args.dry_run).await;
            store.close().await;
            // Exit 2 when records were skipped: the valid ones are in, but a script must not mistake it for a
            // complete import.
            if outcome?.skipped > 0 {
                return Ok(ExitCode::from(2));
            }
        }
        Command::ProvisionRoles(args) => {
            provision_roles::run(&config.database, &args, config.store.connect_timeout).await?
        }
        Command::Healthcheck(_) => unreachable!("handled before logging is set up"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The store for a data job. In development the schema is migrated first, for convenience; in production the
/// `migrate` task owns the schema, and data jobs run as the DML-only app role, which could not migrate anyway.
async fn open_store(config: &Config) -> anyhow::Result<storage::DynStore> {
    let store = storage::connect(&config.database, &config.store).await?;
    if !config.is_production() {
        store.migrate().await?;
    }
    Ok(store)
}
