//! A bare `lambda_runtime` function: the same runtime and async runtime as ours, nothing else. The cold-start
//! benchmark compares every function's start against this one's.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            Ok::<_, lambda_runtime::Error>(serde_json::json!({"hello": event.context.request_id}))
        },
    ))
    .await
}
