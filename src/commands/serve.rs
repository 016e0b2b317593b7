//! `brise serve`: the web configuration form. Checks the users file, binds the
//! address (127.0.0.1 by default), serves [`crate::web::router`] until SIGINT
//! or SIGTERM, logging to standard error (journald under systemd).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;

use crate::app::{Failure, Settings};
use crate::cli::{ServeArgs, ServeRuntime};
use crate::output::NginxSettings;
use crate::runtime::fake::FakeRuntime;
use crate::web::reconfigure::{Engine, ReconfigureApplier, Target};
use crate::web::{self, AppState, WebConfig, users};

pub fn run(settings: &Settings, args: &ServeArgs) -> Result<(), Failure> {
    init_logging();
    let known = users::load(&args.users_file).map_err(Failure::invalid)?;
    if known.is_empty() {
        return Err(Failure::invalid(anyhow::anyhow!(
            "no web user in `{}`: create one with `brise passwd USER`",
            args.users_file.display()
        )));
    }
    let config = WebConfig::new(settings.clone(), args.users_file.clone());
    // The real engines: the same `reconfigure` as the command. For internal
    // testing only, an in-memory engine or a scope on the managed containers
    // goes through the web's own composition of the same pipeline.
    let internal = args.runtime == ServeRuntime::Fake || args.scope.is_some();
    let applier: Arc<dyn web::apply::Applier> = if internal {
        let engine = match args.runtime {
            ServeRuntime::Real => Engine::Docker,
            ServeRuntime::Fake => Engine::Fake(Arc::new(FakeRuntime::new())),
        };
        let target = Target {
            root: args.root.clone(),
            nginx: NginxSettings {
                binary: args.nginx.clone(),
                conf: args.nginx_conf.clone(),
            },
            scope: args.scope.clone(),
        };
        Arc::new(ReconfigureApplier::new(settings.clone(), target, engine))
    } else {
        Arc::new(super::reconfigure::WebApplier::new(settings.clone()))
    };
    let state = AppState::new(config, applier);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("brise-web")
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::system)?;
    runtime
        .block_on(serve(state, args.listen))
        .map_err(Failure::system)
}

async fn serve(state: AppState, listen: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on `{listen}`"))?;
    let local = listener
        .local_addr()
        .with_context(|| format!("cannot read the address bound for `{listen}`"))?;
    if !local.ip().is_loopback() {
        tracing::warn!(
            "listening on `{local}`, reachable from other machines: serve it through an https proxy"
        );
    }
    tracing::info!("serving the configuration form on http://{local}/");
    let app = web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .context("the web server stopped")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = interrupt => {}
                _ = terminate.recv() => {}
            }
        }
        Err(error) => {
            tracing::warn!("cannot watch SIGTERM: {error}");
            let _ = interrupt.await;
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BRISE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
