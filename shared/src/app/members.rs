//! Members: signing up (and the admin bootstrap), and changing a profile, with the rules on who must prove
//! what (one's own email or password needs the current password; a password change retires older tokens).

use crate::auth::{password, Caller};
use crate::domain::ids::new_id;
use crate::domain::member::{Credentials, Member, MemberChange, NewMember, StoredMember};
use crate::domain::performance::format_instant;
use crate::error::AppError;
use crate::store::members::ProfileUpdate;
use crate::store::Store;
use time::OffsetDateTime;

fn now() -> (OffsetDateTime, String) {
    let now = OffsetDateTime::now_utc();
    (now, format_instant(now))
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound {
        entity: "member",
        id: id.to_string(),
    }
}

/// Creates a member: hashes the password and writes profile and email claim in one transaction (a taken
/// email is [`AppError::Conflict`]). Used by `POST /signup` and by the `ticketing-admin` bootstrap.
pub async fn register(store: &Store, new: NewMember) -> Result<Member, AppError> {
    let password_hash = password::hash_async(new.password).await?;
    let (_, now) = now();
    let stored = StoredMember {
        member: Member {
            id: new_id(),
            email: new.email,
            name: new.name,
            role: new.role,
            locale: new.locale,
            created_at: now.clone(),
            updated_at: now,
        },
        password_hash,
        tokens_valid_after: None,
    };
    store.create_member(&stored).await?;
    Ok(stored.member)
}

/// Changes member `id` as `caller` asks (the change already validated): the member afterwards, and what was
/// changed.
pub async fn update(
    store: &Store,
    caller: &Caller,
    id: &str,
    change: MemberChange,
) -> Result<(StoredMember, ProfileUpdate), AppError> {
    // Changing one's own sign-in details needs proof beyond the token. An admin resetting
    // another member's email or password does not know that member's password.
    let needs_current =
        caller.member_id == id && (change.password.is_some() || change.email.is_some());
    if needs_current && change.current_password.is_none() {
        return Err(AppError::unprocessable(
            "currentPassword",
            "is required to change your email or password",
        ));
    }
    let current = store.get_member(id).await?.ok_or_else(|| not_found(id))?;
    if let Some(given) = change.current_password.clone() {
        let ok = password::verify_async(given, Some(current.password_hash.clone())).await?;
        if !ok {
            return Err(AppError::unprocessable(
                "currentPassword",
                "does not match the current password",
            ));
        }
    }
    let (now, now_text) = now();
    let password_hash = match change.password.clone() {
        Some(p) => Some(password::hash_async(p).await?),
        None => None,
    };
    let update = ProfileUpdate {
        name: change.name,
        email: change.email,
        tokens_valid_after: password_hash.as_ref().map(|_| now.unix_timestamp()),
        password_hash,
        role: change.role,
        locale: change.locale,
    };
    let updated = store.update_member(&current, &update, &now_text).await?;
    Ok((updated, update))
}

/// The member whose email and password these are. A wrong password, an unknown email and an email that
/// cannot exist are the same [`AppError::InvalidCredentials`], after the same amount of password hashing.
pub async fn authenticate(store: &Store, credentials: Credentials) -> Result<Member, AppError> {
    let member = match &credentials.email {
        Some(email) => store.find_member_by_email(email).await?,
        None => None,
    };
    let matches = password::verify_async(
        credentials.password,
        member.as_ref().map(|m| m.password_hash.clone()),
    )
    .await?;
    match member {
        Some(m) if matches => Ok(m.member),
        _ => {
            tracing::info!("login refused");
            Err(AppError::InvalidCredentials)
        }
    }
}
