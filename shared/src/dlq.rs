//! Dead-letter queue operations for `ticketing-admin`: look at what a consumer gave up on, and move it back
//! once the cause is fixed.
//!
//! - [`peek`] lists the messages of a DLQ without taking them: each is received with a short visibility
//!   timeout (so one listing sees each message once) and made visible again straight after.
//! - [`redrive`] starts SQS's own move task (`StartMessageMoveTask` with no destination), which sends every
//!   message back to the queue it came from; [`move_task`] reports its progress. Consumers are idempotent
//!   by event id, so a message that was in fact applied before it failed is applied once all the same.

use crate::consumers::event_of_body;
use crate::error::AppError;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
};
use aws_sdk_sqs::Client;

/// One dead-lettered message, summarised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub message_id: String,
    /// How often a consumer received it (at least the source queue's `maxReceiveCount`).
    pub receive_count: u32,
    /// The event it carries: id, type, reservation (correlation id) and member; `None` when the body is not
    /// an event (then `body` says what it is).
    pub event: Option<(String, String, String, String)>,
    pub body: String,
}

/// A running or finished move task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTask {
    pub status: String,
    pub moved: i64,
    pub to_move: Option<i64>,
    pub failure: Option<String>,
}

impl MoveTask {
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "COMPLETED" | "FAILED" | "CANCELLED")
    }
}

fn sqs_error<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> AppError + '_ {
    move |e| AppError::Dependency(format!("SQS {what}: {e:?}"))
}

/// The URL of a queue given by name or by URL.
pub async fn queue_url(sqs: &Client, queue: &str) -> Result<String, AppError> {
    if queue.starts_with("http://") || queue.starts_with("https://") {
        return Ok(queue.to_string());
    }
    let out = sqs
        .get_queue_url()
        .queue_name(queue)
        .send()
        .await
        .map_err(|e| sqs_error("GetQueueUrl")(e.into_service_error()))?;
    out.queue_url
        .ok_or_else(|| AppError::Dependency(format!("SQS GetQueueUrl: no URL for {queue}")))
}

/// The queue's ARN and its approximate number of visible messages.
pub async fn queue_facts(sqs: &Client, url: &str) -> Result<(String, u64), AppError> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| sqs_error("GetQueueAttributes")(e.into_service_error()))?;
    let attributes = out.attributes.unwrap_or_default();
    let arn = attributes
        .get(&QueueAttributeName::QueueArn)
        .cloned()
        .ok_or_else(|| AppError::Dependency(format!("SQS: {url} has no QueueArn")))?;
    let count = attributes
        .get(&QueueAttributeName::ApproximateNumberOfMessages)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Ok((arn, count))
}

/// Summarises a message body: the event it carries, if it is one.
pub fn summarise(message_id: &str, receive_count: u32, body: &str) -> DeadLetter {
    let event = event_of_body(body).ok().map(|e| {
        (
            e.event_id,
            e.kind.as_str().to_string(),
            e.correlation_id,
            e.member_id,
        )
    });
    DeadLetter {
        message_id: message_id.to_string(),
        receive_count,
        event,
        body: body.chars().take(400).collect(),
    }
}

/// Up to `max` messages of the queue at `url`, left in the queue (visible again when this returns).
pub async fn peek(sqs: &Client, url: &str, max: usize) -> Result<Vec<DeadLetter>, AppError> {
    let mut seen = Vec::new();
    let mut handles = Vec::new();
    while seen.len() < max {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages((max - seen.len()).min(10) as i32)
            .visibility_timeout(30)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| sqs_error("ReceiveMessage")(e.into_service_error()))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            let count = m
                .attributes
                .as_ref()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let id = m.message_id.clone().unwrap_or_default();
            seen.push(summarise(&id, count, m.body.as_deref().unwrap_or_default()));
            if let Some(handle) = m.receipt_handle {
                handles.push(handle);
            }
        }
    }
    // Visible again at once, so a redrive right after moves them all.
    for chunk in handles.chunks(10) {
        let mut request = sqs.change_message_visibility_batch().queue_url(url);
        for (i, handle) in chunk.iter().enumerate() {
            let entry = ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(handle)
                .visibility_timeout(0)
                .build()
                .map_err(|e| AppError::Dependency(e.to_string()))?;
            request = request.entries(entry);
        }
        request
            .send()
            .await
            .map_err(|e| sqs_error("ChangeMessageVisibilityBatch")(e.into_service_error()))?;
    }
    Ok(seen)
}

/// Starts moving every message of the dead-letter queue `dlq_arn` back to its source queue, at most
/// `per_second` a second when given. Returns the task handle.
pub async fn redrive(
    sqs: &Client,
    dlq_arn: &str,
    per_second: Option<i32>,
) -> Result<String, AppError> {
    let out = sqs
        .start_message_move_task()
        .source_arn(dlq_arn)
        .set_max_number_of_messages_per_second(per_second)
        .send()
        .await
        .map_err(|e| sqs_error("StartMessageMoveTask")(e.into_service_error()))?;
    Ok(out.task_handle.unwrap_or_default())
}

/// The newest move task of the dead-letter queue `dlq_arn`, if any.
pub async fn move_task(sqs: &Client, dlq_arn: &str) -> Result<Option<MoveTask>, AppError> {
    let out = sqs
        .list_message_move_tasks()
        .source_arn(dlq_arn)
        .max_results(1)
        .send()
        .await
        .map_err(|e| sqs_error("ListMessageMoveTasks")(e.into_service_error()))?;
    Ok(out
        .results
        .unwrap_or_default()
        .into_iter()
        .next()
        .map(|t| MoveTask {
            status: t.status.unwrap_or_default(),
            moved: t.approximate_number_of_messages_moved,
            to_move: t.approximate_number_of_messages_to_move,
            failure: t.failure_reason,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_an_event_envelope_and_anything_else() {
        let body = serde_json::json!({
            "source": "ticketing",
            "detail-type": "ReservationHeld",
            "detail": {
                "eventId": "e-1", "type": "ReservationHeld", "version": 1,
                "occurredAt": "2026-12-03T10:00:00Z", "correlationId": "r-1", "memberId": "m-1",
                "data": {}
            }
        })
        .to_string();
        let d = summarise("id-1", 3, &body);
        assert_eq!(
            d.event,
            Some((
                "e-1".into(),
                "ReservationHeld".into(),
                "r-1".into(),
                "m-1".into()
            ))
        );
        assert_eq!(d.receive_count, 3);
        let junk = summarise("id-2", 1, "not json");
        assert_eq!(junk.event, None);
        assert_eq!(junk.body, "not json");
    }

    #[test]
    fn a_move_task_is_finished_once_it_stops() {
        let task = |status: &str| MoveTask {
            status: status.into(),
            moved: 0,
            to_move: None,
            failure: None,
        };
        assert!(!task("RUNNING").finished());
        assert!(task("COMPLETED").finished());
        assert!(task("FAILED").finished());
    }
}
