//! `local-gateway`: see `local_gateway::cli::USAGE`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use local_gateway::cli::{self, Parsed};
use local_gateway::invoke::{LambdaInvoker, DEFAULT_TIMEOUT};
use local_gateway::server::{self, Gateway};
use local_gateway::template;
use tracing::{error, warn};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let opts = match cli::parse(std::env::args().skip(1), |k| std::env::var(k).ok()) {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::Help) => {
            print!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(opts: cli::Options) -> Result<(), String> {
    let tpl = template::load(&opts.template).map_err(|e| e.to_string())?;
    let outputs = match &opts.outputs {
        Some(p) => server::load_outputs(p)?,
        None => BTreeMap::new(),
    };
    let invoker = LambdaInvoker::new(&opts.lambda_endpoint, &opts.region, DEFAULT_TIMEOUT)?;
    let (gateway, warnings) = Gateway::new(&tpl, &outputs, invoker, &opts.region);
    let gateway = gateway.with_console(opts.console_dir.clone());
    for w in &warnings {
        warn!("{w}");
    }
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;

    println!(
        "Routes ({} -> Lambda at {}):\n{}",
        opts.template.display(),
        opts.lambda_endpoint,
        gateway.routes_table()
    );
    println!("Local API ready at http://{addr}");
    match &opts.console_dir {
        Some(dir) if dir.join("index.html").is_file() => {
            println!("Console at http://{addr}/console/ (from {})", dir.display())
        }
        Some(dir) => println!(
            "Console at http://{addr}/console/ once it is built into {} (npm run build in console/)",
            dir.display()
        ),
        None => {}
    }

    server::serve(listener, Arc::new(gateway), shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            warn!("cannot listen for SIGINT: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
