//! Members and their roles.

use serde::{Deserialize, Serialize};

/// What a member may do. USER buys tickets; ORGANIZER also publishes performances; ADMIN oversees all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    User,
    Organizer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "USER",
            Role::Organizer => "ORGANIZER",
            Role::Admin => "ADMIN",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        [Role::User, Role::Organizer, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }
}
