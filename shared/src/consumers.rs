//! The event consumers: the notifier, the my-page projector, the audit log and settlement. Each has its own SQS queue
//! (fed by a rule on the bus, with a dead-letter queue after `maxReceiveCount` receives) and its own
//! function, which answers with a partial batch response: only the messages that failed come back.
//!
//! Delivery is at least once and in no particular order, so every consumer is idempotent by event id
//! (conditional writes keyed by it) and correct in any order (my page folds the set of events it has seen;
//! notifications and audit entries are one item per event).
//!
//! Each batch logs one CloudWatch embedded-metric (EMF) line per consumer: `EventLagMs` (from `occurredAt`
//! to handling, one value per message), `Processed` and `Failures`.
//!
//! Test stacks (`FAULT_INJECTION=on`) can make a consumer fail: an item `FAULT#<consumer>`/`<memberId>` with
//! `remaining = N` fails the next N attempts at that member's events, as a broken dependency would.

use crate::domain::my_page::ShowInfo;
use crate::domain::notification::render;
use crate::error::AppError;
use crate::events::{Event, EventType};
use crate::store::views::{Notification, Recorded};
use crate::store::Store;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

/// Which consumer a function is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerKind {
    Notifier,
    MyPage,
    Audit,
    /// Books each money event in its organizer's statement ([`crate::app::settlement::book`]).
    Settlement,
}

impl ConsumerKind {
    pub fn name(self) -> &'static str {
        match self {
            ConsumerKind::Notifier => "notifier",
            ConsumerKind::MyPage => "my-page",
            ConsumerKind::Audit => "audit",
            ConsumerKind::Settlement => "settlement",
        }
    }
}

/// Sends mail through SES (v1 `SendEmail`), from one verified address.
#[derive(Clone, Debug)]
pub struct Mailer {
    client: crate::aws::Lazy<aws_sdk_ses::Client>,
    from: String,
}

impl Mailer {
    pub fn new(
        client: impl Into<crate::aws::Lazy<aws_sdk_ses::Client>>,
        from: impl Into<String>,
    ) -> Self {
        Mailer {
            client: client.into(),
            from: from.into(),
        }
    }

    /// Sends one message; its SES message id.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<String, AppError> {
        use aws_sdk_ses::types::{Body, Content, Destination, Message};
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| AppError::Dependency(e.to_string()))
        };
        let out = self
            .client
            .send_email()
            .source(&self.from)
            .destination(Destination::builder().to_addresses(to).build())
            .message(
                Message::builder()
                    .subject(content(subject)?)
                    .body(Body::builder().text(content(body)?).build())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                AppError::Dependency(format!("SES SendEmail: {:?}", e.into_service_error()))
            })?;
        Ok(out.message_id)
    }
}

/// What a consumer needs, built once per process.
#[derive(Clone, Debug)]
pub struct ConsumerState {
    pub kind: ConsumerKind,
    pub store: Store,
    /// The notifier's mail, when `MAIL_FROM` is set.
    pub mailer: Option<Mailer>,
    /// The audit log's retention (days), `AUDIT_RETENTION_DAYS`.
    pub retention_days: i64,
    /// Injected faults are honoured (test stacks only).
    pub faults: bool,
    /// The notifier's performance titles, per container, each for [`TITLE_TTL`].
    pub titles: TitleCache,
    /// Settlement: each performance's organizer (it never changes), per container.
    pub organizers: crate::cache::TtlCache<String>,
}

/// How long the notifier names a performance by the title it read: a title edited meanwhile shows in
/// notifications at most this much later (the events of a showtime's change carry what changed).
pub const TITLE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// How many performance titles one notifier container keeps (the oldest go first).
pub const TITLE_CAPACITY: usize = 512;

/// Performance id -> title, each read at most [`TITLE_TTL`] ago, at most [`TITLE_CAPACITY`] of them.
pub type TitleCache = crate::cache::TtlCache<String>;

impl ConsumerState {
    /// Reads `TABLE_NAME`, `MAIL_FROM` (notifier), `AUDIT_RETENTION_DAYS` (audit, default 400) and
    /// `FAULT_INJECTION`. No network I/O.
    pub async fn from_env(kind: ConsumerKind) -> Result<Self, lambda_runtime::Error> {
        let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
        let config = crate::aws::sdk_config().await;
        let mailer = match std::env::var("MAIL_FROM") {
            Ok(from) if !from.is_empty() && kind == ConsumerKind::Notifier => Some(Mailer::new(
                crate::aws::Lazy::new(&config, aws_sdk_ses::Client::new),
                from,
            )),
            _ => None,
        };
        let retention_days = std::env::var("AUDIT_RETENTION_DAYS")
            .ok()
            .and_then(|d| d.parse().ok())
            .unwrap_or(400);
        Ok(ConsumerState {
            kind,
            store: Store::new(
                crate::aws::Lazy::new(&config, aws_sdk_dynamodb::Client::new),
                table,
            ),
            mailer,
            retention_days,
            faults: std::env::var("FAULT_INJECTION").as_deref() == Ok("on"),
            titles: TitleCache::new(TITLE_TTL, TITLE_CAPACITY),
            organizers: crate::cache::TtlCache::new(
                std::time::Duration::from_secs(3_600),
                TITLE_CAPACITY,
            ),
        })
    }

    /// The title of the performance `event` is about: read once per [`TITLE_TTL`] per container.
    async fn title(&self, event: &Event, reservation_id: &str) -> Result<String, AppError> {
        let r = &event.data["reservation"];
        let Some(performance_id) = r["performanceId"]
            .as_str()
            .or(event.data["performanceId"].as_str())
        else {
            return Ok(show_info(&self.store, event, reservation_id)
                .await?
                .performance_title
                .unwrap_or_default());
        };
        if let Some(title) = self.titles.get(performance_id) {
            return Ok(title);
        }
        let title = self
            .store
            .get_performance(performance_id)
            .await?
            .map(|p| p.details.title)
            .unwrap_or_default();
        self.titles.put(performance_id, title.clone());
        Ok(title)
    }
}

/// The event an SQS message carries: the EventBridge envelope's `detail`.
pub fn event_of(message: &SqsMessage) -> Result<Event, AppError> {
    event_of_body(message.body.as_deref().unwrap_or_default())
}

/// An EventBridge envelope as SQS delivers it: only its `detail` matters here.
#[derive(serde::Deserialize)]
struct Envelope {
    detail: Event,
}

/// The event in an SQS message body (an EventBridge envelope), parsed in one pass.
pub fn event_of_body(body: &str) -> Result<Event, AppError> {
    serde_json::from_str::<Envelope>(body)
        .map(|envelope| envelope.detail)
        .map_err(|e| AppError::Corrupt(format!("message body: {e}")))
}

/// The (member, reservation) pairs an event is about: its own, or for a showtime change every affected
/// reservation. A cancelled showtime reaches buyers through each reservation's own cancellation.
pub fn targets(event: &Event) -> Vec<(String, String)> {
    match event.kind {
        EventType::ShowtimeChanged => event.data["affectedReservations"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|a| {
                        Some((
                            a["memberId"].as_str()?.to_string(),
                            a["reservationId"].as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        EventType::ShowtimeCancelled => Vec::new(),
        _ => vec![(event.member_id.clone(), event.correlation_id.clone())],
    }
}

/// The performance and showtime of a reservation, named in its events or read from the reservation.
async fn show_info(
    store: &Store,
    event: &Event,
    reservation_id: &str,
) -> Result<ShowInfo, crate::store::StoreError> {
    let r = &event.data["reservation"];
    let (performance_id, showtime_id) = match (
        r["performanceId"]
            .as_str()
            .or(event.data["performanceId"].as_str()),
        r["showtimeId"]
            .as_str()
            .or(event.data["showtimeId"].as_str()),
    ) {
        (Some(p), Some(s)) => (p.to_string(), s.to_string()),
        _ => match store.get_reservation(reservation_id).await? {
            Some(r) => (r.performance_id, r.showtime_id),
            None => return Ok(ShowInfo::default()),
        },
    };
    let performance = store.get_performance(&performance_id).await?;
    let showtime = store.get_showtime(&showtime_id).await?;
    Ok(ShowInfo {
        performance_title: performance.map(|p| p.details.title),
        starts_at: showtime
            .as_ref()
            .map(|s| crate::domain::performance::format_instant(s.details.starts_at)),
        venue_name: showtime.map(|s| s.details.venue_name),
    })
}

/// The notification id of `event` for `reservation_id`: the event's id, or for a showtime's event (one per
/// affected reservation) a name-based UUID of both, so every delivery of it finds the same item.
pub fn notification_id(event: &Event, reservation_id: &str) -> String {
    if event.correlation_id == reservation_id {
        event.event_id.clone()
    } else {
        uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("{}|{reservation_id}", event.event_id).as_bytes(),
        )
        .to_string()
    }
}

async fn notify(
    state: &ConsumerState,
    event: &Event,
    (member_id, reservation_id): (&str, &str),
    title: &str,
) -> Result<(), AppError> {
    let store = &state.store;
    let Some(member) = store.get_member(member_id).await? else {
        tracing::info!(member_id, "member no longer exists; no notification");
        return Ok(());
    };
    let locale = member.member.locale;
    let Some(message) = render(event, locale, title) else {
        return Ok(());
    };
    let notification = Notification {
        id: notification_id(event, reservation_id),
        kind: event.kind.as_str().to_string(),
        event_id: event.event_id.clone(),
        reservation_id: reservation_id.to_string(),
        subject: message.subject,
        body: message.body,
        locale: locale.as_str().to_string(),
        occurred_at: event.occurred_at.clone(),
        read_at: None,
    };
    let mail = state
        .mailer
        .as_ref()
        .filter(|_| !member.member.email.is_empty());
    let recorded = store
        .record_notification(member_id, &notification, mail.is_some())
        .await?;
    let send = matches!(
        recorded,
        Recorded::New | Recorded::Seen { mail_pending: true }
    );
    if let (Some(mailer), true) = (mail, send) {
        let message_id = mailer
            .send(
                &member.member.email,
                &notification.subject,
                &notification.body,
            )
            .await?;
        store
            .mail_sent(member_id, &notification.id, &message_id)
            .await?;
        tracing::info!(notification_id = %notification.id, message_id, "mail sent");
    }
    Ok(())
}

/// Applies one event: the consumer's whole effect, idempotent.
pub async fn apply(state: &ConsumerState, event: &Event) -> Result<(), AppError> {
    let store = &state.store;
    match state.kind {
        ConsumerKind::Audit => {
            let keep =
                time::OffsetDateTime::now_utc().unix_timestamp() + state.retention_days * 86_400;
            if !store.record_audit(event, keep).await? {
                tracing::info!(event_id = %event.event_id, "audit entry already recorded");
            }
        }
        ConsumerKind::Settlement => {
            crate::app::settlement::book(
                store,
                &state.organizers,
                event,
                time::OffsetDateTime::now_utc(),
            )
            .await?;
        }
        ConsumerKind::MyPage => {
            for (member_id, reservation_id) in targets(event) {
                store
                    .fold_into_view(&member_id, &reservation_id, event, || {
                        show_info(store, event, &reservation_id)
                    })
                    .await?;
            }
        }
        ConsumerKind::Notifier => {
            let targets = targets(event);
            let Some((_, first)) = targets.first() else {
                return Ok(());
            };
            // One show for every target: a showtime's change names it in its data.
            let title = state.title(event, first).await?;
            for (member_id, reservation_id) in &targets {
                notify(state, event, (member_id, reservation_id), &title).await?;
            }
        }
    }
    Ok(())
}

async fn handle_one(state: &ConsumerState, event: Event) -> Result<Event, AppError> {
    if state.faults {
        let name = state.kind.name();
        let members: Vec<String> = std::iter::once(event.member_id.clone())
            .chain(targets(&event).into_iter().map(|(m, _)| m))
            .collect();
        for member in members {
            if state.store.take_fault(name, &member).await? {
                return Err(AppError::Dependency(format!("injected fault in {name}")));
            }
        }
    }
    apply(state, &event).await?;
    Ok(event)
}

/// Handles a batch: every message on its own; the failed ones are reported to come back. The messages of
/// one member are applied one after another, in arrival order; different members' side by side (a batch of
/// ten takes about as long as its longest member's share, not the sum).
pub async fn handle(state: &ConsumerState, batch: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut lags = Vec::with_capacity(batch.records.len());
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let total = batch.records.len();
    // Each message is parsed once, here; one that is not an event fails on its own (it comes back, then
    // goes to the dead-letter queue).
    type Parsed = Result<Event, AppError>;
    let mut by_member: std::collections::BTreeMap<String, Vec<(String, Parsed)>> =
        Default::default();
    for message in batch.records {
        let id = message.message_id.clone().unwrap_or_default();
        let parsed = event_of(&message);
        let member = parsed
            .as_ref()
            .map(|e| e.member_id.clone())
            .unwrap_or_default();
        by_member.entry(member).or_default().push((id, parsed));
    }
    let mut running = Vec::with_capacity(by_member.len());
    for messages in by_member.into_values() {
        let (ids, events): (Vec<String>, Vec<Parsed>) = messages.into_iter().unzip();
        let state = state.clone();
        let task = tokio::spawn(async move {
            let mut out = Vec::with_capacity(events.len());
            for event in events {
                out.push(match event {
                    Ok(event) => handle_one(&state, event).await,
                    Err(e) => Err(e),
                });
            }
            out
        });
        running.push((ids, task));
    }
    for (ids, task) in running {
        let outcomes = match task.await {
            Ok(outcomes) => outcomes,
            Err(e) => ids
                .iter()
                .map(|_| Err(AppError::Dependency(format!("consumer task failed: {e}"))))
                .collect(),
        };
        for (id, outcome) in ids.into_iter().zip(outcomes) {
            match outcome {
                Ok(event) => {
                    let (at, _) = crate::events::order_key(&event.occurred_at, event.kind.as_str());
                    if at != i128::MIN {
                        lags.push(((now - at) / 1_000_000).max(0) as u64);
                    }
                    tracing::info!(consumer = state.kind.name(), event_id = %event.event_id, correlation_id = %event.correlation_id, "event applied");
                }
                Err(e) => {
                    tracing::warn!(consumer = state.kind.name(), message_id = %id, error = %e, "event not applied; it comes back");
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id;
                    response.batch_item_failures.push(failure);
                }
            }
        }
    }
    println!(
        "{}",
        emf(
            state.kind.name(),
            &lags,
            total,
            response.batch_item_failures.len()
        )
    );
    response
}

/// One CloudWatch embedded-metric line.
pub fn emf(consumer: &str, lags_ms: &[u64], processed: usize, failures: usize) -> Value {
    crate::telemetry::emf(
        "Ticketing/Consumers",
        &[("Consumer", consumer)],
        &[
            ("EventLagMs", "Milliseconds", json!(lags_ms)),
            ("Processed", "Count", json!(processed)),
            ("Failures", "Count", json!(failures)),
        ],
    )
}

/// Runs a consumer under the Lambda runtime.
pub async fn serve(state: ConsumerState) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let state = state.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(&state, event.payload).await) }
    }))
    .await
}

/// Rebuilds a member's my page from the recorded events (theirs, and the changes of their showtimes):
/// every view replaced by the fold of its history. Returns how many views were written.
pub async fn rebuild_my_page(store: &Store, member_id: &str) -> Result<usize, AppError> {
    let mut by_reservation: std::collections::BTreeMap<String, Vec<Event>> = Default::default();
    for event in store.member_events(member_id).await? {
        if !matches!(
            event.kind,
            EventType::ShowtimeChanged | EventType::ShowtimeCancelled
        ) {
            by_reservation
                .entry(event.correlation_id.clone())
                .or_default()
                .push(event);
        }
    }
    let mut written = 0;
    for (reservation_id, mut events) in by_reservation {
        let Some(showtime_id) = events.iter().find_map(|e| {
            e.data["reservation"]["showtimeId"]
                .as_str()
                .map(str::to_string)
        }) else {
            continue;
        };
        for e in store.showtime_events(&showtime_id).await? {
            if targets(&e).iter().any(|(_, r)| r == &reservation_id) {
                events.push(e);
            }
        }
        let show = show_info(store, &events[0], &reservation_id).await?;
        store
            .rebuild_view(member_id, &reservation_id, &events, &show)
            .await?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_showtime_change_targets_every_affected_reservation() {
        let e = Event::keyed(
            EventType::ShowtimeChanged,
            "s1",
            "1-0",
            "organizer",
            "2026-12-01T10:00:00Z",
            json!({"affectedReservations": [{"reservationId": "r1", "memberId": "m1"}, {"reservationId": "r2", "memberId": "m2"}]}),
        );
        assert_eq!(
            targets(&e),
            vec![("m1".into(), "r1".into()), ("m2".into(), "r2".into())]
        );
        assert_ne!(notification_id(&e, "r1"), notification_id(&e, "r2"));
        assert_eq!(notification_id(&e, "r1"), notification_id(&e, "r1"));
        let held = Event::new(
            EventType::ReservationHeld,
            "r1",
            "m1",
            "2026-12-01T10:00:00Z",
            json!({}),
        );
        assert_eq!(targets(&held), vec![("m1".into(), "r1".into())]);
        assert_eq!(notification_id(&held, "r1"), "r1:ReservationHeld");
    }

    #[test]
    fn an_envelope_gives_its_detail() {
        let e = Event::new(
            EventType::ReservationHeld,
            "r1",
            "m1",
            "2026-12-01T10:00:00Z",
            json!({"x": 1}),
        );
        let mut message = SqsMessage::default();
        message.body = Some(json!({"detail-type": "ReservationHeld", "detail": e}).to_string());
        assert_eq!(event_of(&message).expect("event"), e);
        message.body = Some("{}".into());
        assert!(event_of(&message).is_err());
    }

    #[test]
    fn emf_names_the_consumer_and_its_metrics() {
        let line = emf("audit", &[5, 7], 2, 0);
        assert_eq!(line["Consumer"], "audit");
        assert_eq!(line["EventLagMs"], json!([5, 7]));
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "EventLagMs"
        );
    }
}
