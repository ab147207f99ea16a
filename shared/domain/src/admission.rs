//! Why the waiting room refuses a hold: the refusals of an admission token (issued and checked in
//! `ticketing::auth::admission`).

/// Why an admission token was refused: each has its own problem type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "this showtime has a waiting room: join its queue and send the admission token it gives"
    )]
    Missing,
    #[error("the admission token is not one of ours (forged, altered or malformed)")]
    Invalid,
    #[error("the admission token has expired: join the queue again")]
    Expired,
    #[error("the admission token belongs to another member")]
    OtherMember,
    #[error("the admission token is for another showtime")]
    OtherShowtime,
    /// Its admission has bought tickets already (its capacity went back to the queue): checked in the hold's
    /// own transaction, not from the token.
    #[error("this admission has been used for a purchase: join the queue again to buy more")]
    Used,
}

impl Refusal {
    /// The problem type of the refusal (under `/problems/`).
    pub fn problem_type(self) -> &'static str {
        match self {
            Refusal::Missing => "admission-required",
            Refusal::Invalid => "admission-invalid",
            Refusal::Expired => "admission-expired",
            Refusal::OtherMember => "admission-other-member",
            Refusal::OtherShowtime => "admission-other-showtime",
            Refusal::Used => "admission-used",
        }
    }

    /// The problem's title.
    pub fn title(self) -> &'static str {
        match self {
            Refusal::Missing => "Admission required",
            Refusal::Invalid => "Invalid admission",
            Refusal::Expired => "Admission expired",
            Refusal::OtherMember => "Another member's admission",
            Refusal::OtherShowtime => "Admission for another showtime",
            Refusal::Used => "Admission used",
        }
    }
}
