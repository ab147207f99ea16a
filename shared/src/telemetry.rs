//! Structured JSON logs. Every line carries the span fields of the request (`request_id`, and the
//! reservation id as `correlation_id` once a request has one).

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber. Level from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else `info`.
pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"))
        .map(|level| level.to_ascii_lowercase())
        .unwrap_or_else(|_| "info".to_string());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::new(filter))
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}

/// One CloudWatch embedded-metric-format line (CloudWatch reads the metrics from the function's log):
/// `metrics` as (name, unit, value), under `namespace`, with `dimensions` as (name, value); no dimension
/// gives the namespace's one series. Print it as one line.
pub fn emf(
    namespace: &str,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, &str, serde_json::Value)],
) -> serde_json::Value {
    let names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    let declared: Vec<serde_json::Value> = metrics
        .iter()
        .map(|(name, unit, _)| serde_json::json!({"Name": name, "Unit": unit}))
        .collect();
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [names],
                "Metrics": declared,
            }]
        }
    });
    for (name, value) in dimensions {
        line[*name] = serde_json::json!(value);
    }
    for (name, _, value) in metrics {
        line[*name] = value.clone();
    }
    line
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_emf_line_declares_its_metrics_and_carries_their_values() {
        let line = super::emf(
            "Ticketing/Test",
            &[("Consumer", "audit")],
            &[("Processed", "Count", serde_json::json!(3))],
        );
        let declared = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], "Ticketing/Test");
        assert_eq!(declared["Dimensions"][0][0], "Consumer");
        assert_eq!(declared["Metrics"][0]["Name"], "Processed");
        assert_eq!(declared["Metrics"][0]["Unit"], "Count");
        assert_eq!(line["Consumer"], "audit");
        assert_eq!(line["Processed"], 3);
        assert!(line["_aws"]["Timestamp"].as_i64().unwrap_or(0) > 0);
    }
}
