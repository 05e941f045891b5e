use std::process::ExitCode;

use anyhow::Context;
use beer_catalog::cli::{Cli, Command};
use beer_catalog::commands::{generate, healthcheck, import, import_recipes, import_stream, provision_roles};
use beer_catalog::config::Config;
use beer_catalog::startup::{Application, open_store, shutdown_signal};
use beer_catalog::{seed, telemetry};
use clap::Parser;

/// See Cargo.toml: the many small, short-lived allocations of every request cost less in mimalloc than in glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let outcome = run(Cli::parse()).await;
    // Sends the spans still queued for the trace exporter, if traces are on.
    telemetry::shutdown();
    match outcome {
        Ok(code) => code,
        // The one place a failure is reported: the error and its causes, each once, on stderr (anyhow's `{:#}`
        // would repeat a cause that its parent's message already quotes, as sqlx's errors do).
        Err(error) => {
            eprintln!("error: {}", telemetry::error_chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::from_settings(&cli.settings)?;
    telemetry::init(&config.log_level, config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(&config).await?;
            app.run_until_stopped(shutdown_signal()).await?;
        }
        Command::Migrate => {
            let store = beer_catalog::storage::connect(&config.database, &config.store).await?;
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
            // A recipe document (BeerXML, BeerJSON) is read whole, like a catalog with label files.
            let whole = args.images.is_some() || import_recipes::recipe_format_of(&args.file)?.is_some();
            let outcome = if whole {
                // With images every record's file is read and checked before anything is written (a catalog with
                // label files is small); without, the input streams, so its size is not bounded by memory.
                let text = import::read_source(&args.file).await?;
                let mut plan = import::plan(&text, args.strict)?;
                if let Some(dir) = &args.images {
                    import::load_images(&mut plan, dir, config.image_limits).await?;
                    if config.is_production() && config.public_base_url.is_none() {
                        eprintln!(
                            "note: servers in production need PUBLIC_BASE_URL set to link these images (they refuse \
                             to start without it once the catalog holds images)"
                        );
                    }
                }
                let store = open_store(&config).await?;
                let outcome = import::run(&store, plan, args.dry_run, args.all_or_nothing).await;
                store.close().await;
                outcome?
            } else {
                let store = open_store(&config).await?;
                let options = import_stream::StreamOptions {
                    strict: args.strict,
                    all_or_nothing: args.all_or_nothing,
                    dry_run: args.dry_run,
                };
                let outcome = import_stream::run(&store, &args.file, options).await;
                store.close().await;
                outcome?
            };
            // Exit 2 when records were skipped: the valid ones are in (or, with --all-or-nothing, none), but a
            // script must not mistake it for a complete import.
            if outcome.skipped > 0 {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Generate(args) => {
            // Generating needs no database: it only writes the file an `import` reads.
            let count = args.count;
            match args.output.as_deref() {
                None | Some("-") => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    generate::write_catalog(&mut out, count, args.first_id, args.seed)
                        .context("writing the catalog")?;
                }
                Some(path) => {
                    let file = std::fs::File::create(path).with_context(|| format!("creating {path}"))?;
                    let mut out = std::io::BufWriter::new(file);
                    generate::write_catalog(&mut out, count, args.first_id, args.seed)
                        .with_context(|| format!("writing {path}"))?;
                }
            }
        }
        Command::ProvisionRoles(args) => {
            provision_roles::run(&config.database, &args, config.store.connect_timeout).await?
        }
        Command::Healthcheck(args) => {
            // Silent unless unhealthy: it runs every few seconds inside the container.
            return Ok(healthcheck::run(&args, config.port).await);
        }
    }
    Ok(ExitCode::SUCCESS)
}
