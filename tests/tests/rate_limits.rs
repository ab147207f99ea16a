//! Per-member request budgets (issue 24): one member sending holds or queue joins in parallel with one token
//! gets no more through than the budget of a 10-s window (the store's count, window by window, says so too);
//! the rest answer 429 `/problems/rate-limited` with `Retry-After`, and the next window takes requests again.
//! Other members are not affected.

use futures::stream::{self, StreamExt};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use ticketing_tests::{member, sale, stack, Member, Reply};

/// The budgets are counted over fixed 10-s windows.
const WINDOW: u64 = 10;

/// Sends `wave` requests at once, again and again, until some are refused (or `max` were sent): a local stack
/// serves a few dozen requests a second, so a burst may straddle windows; sending until the budget of one
/// window is spent makes the refusal certain.
async fn burst_until_refused<F, Fut>(send: F, wave: usize, max: usize) -> Vec<Reply>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let mut replies = Vec::new();
    while replies.len() < max {
        let batch: Vec<Reply> = stream::iter(0..wave)
            .map(|_| send())
            .buffer_unordered(wave)
            .collect()
            .await;
        let refused = batch.iter().any(|r| r.status == 429);
        replies.extend(batch);
        if refused {
            break;
        }
    }
    replies
}

/// What the store counted for `member` on `route`, window by window (`RATE#<route>#<window>` items).
async fn counted(member: &Member, route: &str) -> Vec<(String, u64)> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let out = stack()
        .dynamodb()
        .await
        .query()
        .table_name(stack().table_name())
        .key_condition_expression("PK = :pk AND begins_with(SK, :rate)")
        .expression_attribute_values(":pk", AttributeValue::S(format!("MEMBER#{}", member.id)))
        .expression_attribute_values(":rate", AttributeValue::S(format!("RATE#{route}#")))
        .consistent_read(true)
        .send()
        .await
        .expect("query the member's request counts");
    out.items()
        .iter()
        .map(|item| {
            let sk = item
                .get("SK")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            let n = item
                .get("requests")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            (sk, n)
        })
        .collect()
}

/// The 429s are problems naming the budget, with a Retry-After within the window; returns the budget.
fn budget_of(limited: &[&Reply]) -> u64 {
    let budget = limited[0].json["limit"].as_u64().expect("limit");
    for r in limited {
        r.assert_problem(429, "/problems/rate-limited");
        assert_eq!(r.json["limit"].as_u64(), Some(budget), "{}", r.text);
        let retry: u64 = r
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in seconds");
        assert!((1..=WINDOW).contains(&retry), "Retry-After {retry}");
    }
    budget
}

/// However the requests fell into windows: each one that got through was counted once, no window counted
/// more than the budget, and the refusals came from a window whose budget was spent.
fn assert_held_to_budget(through: usize, windows: &[(String, u64)], budget: u64) {
    let total: u64 = windows.iter().map(|(_, n)| n).sum();
    assert_eq!(
        total, through as u64,
        "each request through counted once: {windows:?}"
    );
    assert!(
        windows.iter().all(|(_, n)| *n <= budget),
        "a window over the budget of {budget}: {windows:?}"
    );
    assert!(
        windows.iter().any(|(_, n)| *n == budget),
        "refused while no window was full: {windows:?}"
    );
}

async fn hold(buyer: &Member, show: &str) -> Reply {
    buyer
        .call(
            Method::POST,
            "/reservations",
            Some(&json!({"showtimeId": show, "seats": [{"row": 1, "col": 1}]})),
        )
        .await
}

#[tokio::test]
async fn one_member_firing_holds_in_parallel_gets_no_more_than_the_budget_through() {
    let (_, _, show) = sale(1, 2).await;
    let buyer = member("USER").await;
    let other = member("USER").await;
    let replies = burst_until_refused(|| hold(&buyer, &show), 12, 480).await;
    let limited: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    assert!(
        !limited.is_empty(),
        "no request was refused in {} holds",
        replies.len()
    );
    let budget = budget_of(&limited);
    let through = replies.len() - limited.len();
    assert_held_to_budget(through, &counted(&buyer, "hold").await, budget);
    // What got through was served: one hold of the seat, the others told it is taken.
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 1);
    assert!(
        replies.iter().all(|r| [201, 409, 429].contains(&r.status)),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    // Another member is not limited by this one's budget.
    let theirs = hold(&other, &show).await;
    assert_eq!(
        theirs.status, 409,
        "the seat is held; not 429: {}",
        theirs.text
    );
    // The next window takes the member's requests again.
    let retry: u64 = limited[limited.len() - 1]
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or(WINDOW);
    let deadline = Instant::now() + Duration::from_secs(retry + WINDOW + 2);
    loop {
        let again = hold(&buyer, &show).await;
        if again.status != 429 {
            assert_eq!(again.status, 409, "served again: {}", again.text);
            break;
        }
        assert!(Instant::now() < deadline, "still refused after Retry-After");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn one_member_joining_a_queue_in_parallel_is_held_to_the_budget() {
    let (organizer, performance, show) = sale(1, 2).await;
    let r = organizer
        .call(
            Method::PUT,
            &format!("/performances/{performance}/showtimes/{show}/waiting-room"),
            Some(&json!({"admitPerMinute": 600, "maxActive": 1000})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let buyer = member("USER").await;
    let path = format!("/showtimes/{show}/queue");
    let replies = burst_until_refused(|| buyer.call(Method::POST, &path, None), 8, 160).await;
    let limited: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    assert!(!limited.is_empty(), "no join was refused");
    let budget = budget_of(&limited);
    let through: Vec<&Reply> = replies.iter().filter(|r| r.status != 429).collect();
    assert_held_to_budget(through.len(), &counted(&buyer, "queue-join").await, budget);
    // Every join that got through answers with the member's one ticket.
    let tickets: std::collections::HashSet<String> = through
        .iter()
        .map(|r| {
            assert!(r.status == 201 || r.status == 200, "{}", r.text);
            r.json["ticketId"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(tickets.len(), 1, "{tickets:?}");
}
