//! Command-line options (hand-rolled: no argument-parser dependency).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

pub const USAGE: &str = "\
local-gateway: serve a SAM template's HttpApi routes locally (API Gateway HTTP API, payload 2.0)

USAGE:
    local-gateway [OPTIONS]

OPTIONS:
    --template FILE          SAM template [env LOCAL_GATEWAY_TEMPLATE; default infra/template.yaml]
    --outputs FILE           deploy outputs JSON {\"functions\": {\"<LogicalId>\": \"<function name>\"}}
                             [env LOCAL_GATEWAY_OUTPUTS; without it functions are invoked by logical id
                             or their template FunctionName]
    --lambda-endpoint URL    Lambda Invoke API endpoint [env LOCAL_GATEWAY_LAMBDA_ENDPOINT, AWS_ENDPOINT_URL;
                             default http://127.0.0.1:4566]
    --listen ADDR            loopback address to listen on [env LOCAL_GATEWAY_LISTEN; default 127.0.0.1:3000]
    --region REGION          [env AWS_REGION, AWS_DEFAULT_REGION; default us-east-1]
    --console-dir DIR        serve the built console (console/dist) under /console/; without it, or while
                             DIR has no index.html, /console/ answers 404 (not built)
    -h, --help               print this help
";

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub template: PathBuf,
    pub outputs: Option<PathBuf>,
    pub lambda_endpoint: String,
    pub listen: SocketAddr,
    pub region: String,
    pub console_dir: Option<PathBuf>,
}

#[derive(Debug, PartialEq)]
pub enum Parsed {
    Run(Options),
    Help,
}

/// Parse `args` (without the program name); `env` looks up environment variables (fallbacks).
pub fn parse<I, S>(args: I, env: impl Fn(&str) -> Option<String>) -> Result<Parsed, String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut template = None;
    let mut outputs = None;
    let mut endpoint = None;
    let mut listen = None;
    let mut region = None;
    let mut console_dir = None;

    let mut args = args.into_iter().map(Into::into);
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Parsed::Help);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let slot = match name.as_str() {
            "--template" => &mut template,
            "--outputs" => &mut outputs,
            "--lambda-endpoint" => &mut endpoint,
            "--listen" => &mut listen,
            "--region" => &mut region,
            "--console-dir" => &mut console_dir,
            _ => return Err(format!("unknown argument {arg:?}\n\n{USAGE}")),
        };
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"))?,
        };
        *slot = Some(value);
    }

    let nonempty = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let template = template
        .or_else(|| nonempty("LOCAL_GATEWAY_TEMPLATE"))
        .unwrap_or_else(|| "infra/template.yaml".into());
    let outputs = outputs.or_else(|| nonempty("LOCAL_GATEWAY_OUTPUTS"));
    let lambda_endpoint = endpoint
        .or_else(|| nonempty("LOCAL_GATEWAY_LAMBDA_ENDPOINT"))
        .or_else(|| nonempty("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| "http://127.0.0.1:4566".into());
    let listen = listen
        .or_else(|| nonempty("LOCAL_GATEWAY_LISTEN"))
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let region = region
        .or_else(|| nonempty("AWS_REGION"))
        .or_else(|| nonempty("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into());

    Ok(Parsed::Run(Options {
        template: template.into(),
        outputs: outputs.map(Into::into),
        lambda_endpoint,
        listen: parse_listen(&listen)?,
        region,
        console_dir: console_dir.map(Into::into),
    }))
}

/// `127.0.0.1:3000`, `[::1]:3000`, `localhost:3000`; anything not loopback is refused.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let addr = if let Some(port) = s.strip_prefix("localhost:") {
        let port: u16 = port
            .parse()
            .map_err(|_| format!("invalid port in --listen {s:?}"))?;
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
    } else {
        s.parse::<SocketAddr>()
            .map_err(|_| format!("--listen wants IP:PORT, got {s:?}"))?
    };
    if !addr.ip().is_loopback() {
        return Err(format!(
            "refusing to listen on non-loopback address {addr}: this gateway has no authentication of its own"
        ));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults() {
        let Parsed::Run(o) = parse(Vec::<String>::new(), no_env).unwrap() else {
            panic!()
        };
        assert_eq!(o.template, PathBuf::from("infra/template.yaml"));
        assert_eq!(o.outputs, None);
        assert_eq!(o.lambda_endpoint, "http://127.0.0.1:4566");
        assert_eq!(o.listen, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(o.region, "us-east-1");
        assert_eq!(o.console_dir, None);
    }

    #[test]
    fn flags_override_env() {
        let env = |k: &str| match k {
            "AWS_REGION" => Some("eu-west-1".to_string()),
            "LOCAL_GATEWAY_OUTPUTS" => Some("env.json".to_string()),
            _ => None,
        };
        let Parsed::Run(o) = parse(
            [
                "--template",
                "t.yaml",
                "--listen=[::1]:0",
                "--lambda-endpoint",
                "http://localhost:4566",
                "--region",
                "ap-northeast-2",
                "--console-dir=console/dist",
            ],
            env,
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(o.template, PathBuf::from("t.yaml"));
        assert_eq!(o.outputs, Some(PathBuf::from("env.json")));
        assert_eq!(o.listen, "[::1]:0".parse().unwrap());
        assert_eq!(o.region, "ap-northeast-2");
        assert_eq!(o.lambda_endpoint, "http://localhost:4566");
        assert_eq!(o.console_dir, Some(PathBuf::from("console/dist")));
    }

    #[test]
    fn errors_and_help() {
        assert_eq!(parse(["--help"], no_env).unwrap(), Parsed::Help);
        assert!(parse(["--bogus"], no_env).is_err());
        assert!(parse(["--template"], no_env).is_err());
        assert!(parse(["--console-dir"], no_env).is_err());
        assert!(parse(["--listen", "0.0.0.0:3000"], no_env).is_err());
        assert!(parse(["--listen", "192.168.1.2:3000"], no_env).is_err());
        assert!(parse(["--listen", "localhost:3001"], no_env).is_ok());
    }
}
