//! Notifications: which events tell a member something, and what they say, in Korean or English. Plain
//! Rust: one template per event type and language, filled from the event and the show's name.

use crate::events::{Event, EventType};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A member's language for what we send them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Locale {
    #[default]
    #[serde(rename = "ko")]
    Ko,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    pub const ALL: [&'static str; 2] = ["ko", "en"];

    pub fn parse(raw: &str) -> Option<Locale> {
        match raw {
            "ko" => Some(Locale::Ko),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Ko => "ko",
            Locale::En => "en",
        }
    }
}

/// A notification's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

/// (subject, body) of each event type a member hears about, Korean then English. `{title}`, `{seats}`,
/// `{amount}`, `{currency}`, `{startsAt}`, `{venue}`, `{reason}`, `{until}`, `{by}` are filled in.
fn template(kind: EventType) -> Option<[(&'static str, &'static str); 2]> {
    Some(match kind {
        EventType::ReservationHeld => [
            ("[{title}] 좌석 {seats}석을 확보했습니다", "{until}까지 결제하시면 예매가 확정됩니다. 금액: {amount} {currency}."),
            ("[{title}] {seats} seat(s) held for you", "Pay by {until} to confirm your tickets. Amount: {amount} {currency}."),
        ],
        EventType::PaymentCompleted => [
            ("[{title}] 결제가 완료되었습니다", "{amount} {currency}이(가) 결제되었습니다."),
            ("[{title}] Payment received", "We charged {amount} {currency}."),
        ],
        EventType::PaymentFailed => [
            ("[{title}] 결제에 실패했습니다", "결제가 거절되었습니다 ({reason}). 좌석은 해제됩니다."),
            ("[{title}] Payment refused", "Your payment was refused ({reason}). The seats are released."),
        ],
        EventType::PaymentDeferred => [
            ("[{title}] 카드 결제를 잠시 받을 수 없습니다", "결제 대행사가 응답하지 않아 좌석 {seats}석을 선점해 두었습니다. {until}까지 다시 결제해 주세요(포인트 결제는 지금도 됩니다)."),
            ("[{title}] We could not take your card just now", "The payment service is struggling, so your {seats} seat(s) are held for you. Pay by {until} (wallet points work now)."),
        ],
        EventType::ReservationConfirmed => [
            ("[{title}] 예매가 확정되었습니다", "{startsAt}, {venue}. 좌석 {seats}석, {amount} {currency}."),
            ("[{title}] Your tickets are confirmed", "{startsAt} at {venue}. {seats} seat(s), {amount} {currency}."),
        ],
        EventType::ReservationFailed => [
            ("[{title}] 예매가 완료되지 않았습니다", "예매가 취소되었습니다 ({reason}). 좌석은 해제되었습니다."),
            ("[{title}] Your reservation did not go through", "It ended ({reason}); the seats are released."),
        ],
        EventType::ReservationExpired => [
            ("[{title}] 좌석 확보 시간이 만료되었습니다", "결제 기한이 지나 좌석이 해제되었습니다."),
            ("[{title}] Your hold expired", "The time to pay ran out and the seats are released."),
        ],
        EventType::ReservationChanged => [
            ("[{title}] 좌석이 변경되었습니다", "이제 좌석 {seats}석, {amount} {currency}입니다."),
            ("[{title}] Your seats changed", "You now hold {seats} seat(s), {amount} {currency}."),
        ],
        EventType::ReservationCancelled => [
            ("[{title}] 예매가 취소되었습니다", "{by} 좌석 {seats}석을 취소했습니다. 수수료: {amount} {currency}."),
            ("[{title}] Reservation cancelled", "{by} cancelled {seats} seat(s). Fee: {amount} {currency}."),
        ],
        EventType::RefundIssued => [
            ("[{title}] 환불되었습니다", "{amount} {currency}이(가) 환불되었습니다."),
            ("[{title}] Refund issued", "We refunded {amount} {currency}."),
        ],
        EventType::ShowtimeChanged => [
            ("[{title}] 공연 일정이 변경되었습니다", "주최자가 공연을 {startsAt}, {venue}(으)로 변경했습니다. {until}까지 수수료 없이 취소할 수 있습니다."),
            ("[{title}] Your show was moved", "The organizer moved it to {startsAt} at {venue}. You may cancel without a fee until {until}."),
        ],
        // Buyers hear of a cancelled showtime through their own ReservationCancelled (actor ORGANIZER).
        EventType::ShowtimeCancelled => return None,
        // The operator's events: an alarm, not a member's notification.
        EventType::PaymentProviderDegraded | EventType::PaymentProviderRecovered => return None,
    })
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn actor(raw: &str, locale: Locale) -> &'static str {
    match (raw, locale) {
        ("ORGANIZER", Locale::Ko) => "주최자가",
        ("ORGANIZER", Locale::En) => "The organizer",
        ("ADMIN", Locale::Ko) => "관리자가",
        ("ADMIN", Locale::En) => "An administrator",
        (_, Locale::Ko) => "회원님이",
        (_, Locale::En) => "You",
    }
}

/// What `event` tells its member in `locale`, or `None` when it is not something a member is told.
/// `title` is the performance's name.
pub fn render(event: &Event, locale: Locale, title: &str) -> Option<Message> {
    let [ko, en] = template(event.kind)?;
    let (subject, body) = match locale {
        Locale::Ko => ko,
        Locale::En => en,
    };
    let d = &event.data;
    let r = &d["reservation"];
    let seats = match event.kind {
        EventType::ReservationCancelled => d["seats"].as_array().map_or(0, Vec::len),
        _ => r["seats"].as_array().map_or(0, Vec::len),
    };
    let amount = match event.kind {
        EventType::PaymentCompleted | EventType::PaymentFailed | EventType::RefundIssued => {
            text(&d["amount"])
        }
        EventType::ReservationCancelled => text(&d["fee"]),
        _ => text(&r["totalPrice"]),
    };
    let currency = [&r["currency"], &d["currency"], &d["payment"]["currency"]]
        .into_iter()
        .map(text)
        .find(|c| !c.is_empty())
        .unwrap_or_else(|| "KRW".into());
    let until = [&d["holdExpiresAt"], &d["feeFreeUntil"]]
        .into_iter()
        .map(text)
        .find(|c| !c.is_empty())
        .unwrap_or_default();
    let reason = [&d["reason"], &d["failureReason"]]
        .into_iter()
        .map(text)
        .find(|c| !c.is_empty())
        .unwrap_or_default();
    let fill = |t: &str| {
        t.replace("{title}", title)
            .replace("{seats}", &seats.to_string())
            .replace("{amount}", &amount)
            .replace("{currency}", &currency)
            .replace("{startsAt}", &text(&d["startsAt"]))
            .replace("{venue}", &text(&d["venueName"]))
            .replace("{reason}", &reason)
            .replace("{until}", &until)
            .replace("{by}", actor(&text(&d["actor"]), locale))
    };
    Some(Message {
        subject: fill(subject),
        body: fill(body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_member_event_has_both_languages() {
        for kind in EventType::ALL {
            let e = Event::new(kind, "r1", "m1", "2026-12-01T10:00:00Z", json!({}));
            let ko = render(&e, Locale::Ko, "햄릿");
            let en = render(&e, Locale::En, "Hamlet");
            assert_eq!(
                ko.is_some(),
                !matches!(
                    kind,
                    EventType::ShowtimeCancelled
                        | EventType::PaymentProviderDegraded
                        | EventType::PaymentProviderRecovered
                ),
                "{kind:?}"
            );
            assert_eq!(ko.is_some(), en.is_some());
            if let (Some(ko), Some(en)) = (ko, en) {
                assert!(ko.subject.starts_with("[햄릿]"), "{ko:?}");
                assert!(en.subject.starts_with("[Hamlet]"), "{en:?}");
                assert_ne!(ko.body, en.body);
                assert!(!ko.body.contains('{') && !en.body.contains('{'), "{en:?}");
            }
        }
    }

    #[test]
    fn a_cancellation_says_who_and_the_fee() {
        let e = Event::keyed(
            EventType::ReservationCancelled,
            "r1",
            "c1",
            "m1",
            "2026-12-01T10:00:00Z",
            json!({"reservation": {"currency": "KRW"}, "seats": [{}, {}], "fee": 3000, "actor": "ORGANIZER"}),
        );
        let en = render(&e, Locale::En, "Hamlet").expect("message");
        assert_eq!(en.body, "The organizer cancelled 2 seat(s). Fee: 3000 KRW.");
        let ko = render(&e, Locale::Ko, "햄릿").expect("message");
        assert_eq!(
            ko.body,
            "주최자가 좌석 2석을 취소했습니다. 수수료: 3000 KRW."
        );
    }
}
