//! Member items: profiles, email uniqueness, token revocation.
//!
//! # Items
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | member profile | `MEMBER#<id>` | `PROFILE` | `type = Member`, `id`, `email`, `name`, `role`, `passwordHash` (argon2id PHC), `tokensValidAfter`?, `createdAt`, `updatedAt` |
//! | email claim | `EMAIL#<email>` | `EMAIL` | `type = MemberEmail`, `memberId`; the email is trimmed and lower-cased |
//! | revoked token | `REVOKED#<jti>` | `REVOKED` | `type = RevokedToken`, `memberId`, `expiresAt` (epoch seconds, the table's TTL attribute = the token's `exp`) |
//!
//! # Access patterns
//!
//! | # | access pattern | operation | key / condition |
//! |---|---|---|---|
//! | M1 | sign up (and the admin bootstrap) | `TransactWriteItems`: Put profile + Put email claim, both `attribute_not_exists(PK)` | `MEMBER#<id>`/`PROFILE`, `EMAIL#<email>`/`EMAIL`; a taken email cancels the transaction (409) |
//! | M2 | get a member by id | `GetItem`, consistent | `MEMBER#<id>`/`PROFILE` |
//! | M3 | log in: member by email | `GetItem` email claim, then M2 (both consistent) | `EMAIL#<email>`/`EMAIL` → `memberId` |
//! | M4 | change name / password / role | `UpdateItem`, `attribute_exists(PK) AND passwordHash = :seen AND email = :seen` | `MEMBER#<id>`/`PROFILE` |
//! | M5 | change email (with M4's changes) | `TransactWriteItems`: Update profile (M4's condition) + Delete old claim (`memberId = :id`) + Put new claim (`attribute_not_exists(PK)`) | profile, `EMAIL#<old>`, `EMAIL#<new>` |
//! | M6 | delete a member | `TransactWriteItems`: Delete profile (`email = :email`) + Delete claim (`attribute_not_exists(PK) OR memberId = :id`) | profile, `EMAIL#<email>` |
//! | M7 | log out: revoke a token | `PutItem` | `REVOKED#<jti>`/`REVOKED`, `expiresAt` = token `exp` (TTL removes it once the token is dead anyway) |
//! | M8 | authorizer: member still exists, token not revoked | `BatchGetItem`, consistent, 2 keys | `MEMBER#<sub>`/`PROFILE` and `REVOKED#<jti>`/`REVOKED` |
//!
//! Email uniqueness is enforced by the table (the claim item's `attribute_not_exists`), never by reading
//! first: of two concurrent signups with one email exactly one transaction succeeds. The conditions on
//! `passwordHash`/`email` in M4–M6 make each change apply to the state the handler checked (the current
//! password was verified against that hash; the claim being moved or deleted is that email's).

use super::error::conditional;
use super::keys::{email_key, member_partition, profile_key, revoked_key, REVOKED_PREFIX};
use super::StoreError;
use super::{backoff, built, classify, s, Item, Store, TxFailure, PK, SK, TX_ATTEMPTS, TYPE};
use crate::domain::member::{Role, StoredMember};
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValue, TransactWriteItem, Update,
};
use std::collections::HashMap;

const ENTITY: &str = "member";

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn to_item(m: &StoredMember) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(m).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.extend(profile_key(&m.member.id));
    item.insert(TYPE.into(), s("Member"));
    Ok(item)
}

fn from_item(mut item: Item) -> Result<StoredMember, StoreError> {
    for key in [PK, SK, TYPE] {
        item.remove(key);
    }
    Ok(serde_dynamo::from_item(item)?)
}

fn email_item(email: &str, member_id: &str) -> Item {
    let mut item = email_key(email);
    item.insert(TYPE.into(), s("MemberEmail"));
    item.insert("memberId".into(), s(member_id));
    item
}

impl Store {
    /// Deletes the `EMAIL#<email>` item if it is still this member's (or already gone).
    fn email_release(&self, email: &str, member_id: &str) -> Result<Delete, StoreError> {
        built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(email_key(email)))
                .condition_expression("attribute_not_exists(PK) OR memberId = :id")
                .expression_attribute_values(":id", s(member_id))
                .build(),
        )
    }

    /// The `EMAIL#<email>` item that makes an email one member's: written only if nobody holds it.
    fn email_claim(&self, email: &str, member_id: &str) -> Result<Put, StoreError> {
        built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(email_item(email, member_id)))
                .condition_expression("attribute_not_exists(PK)")
                .build(),
        )
    }
}

/// What a profile change sets; `None` leaves an attribute as it is.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub name: Option<String>,
    /// A new, normalised email (different from the current one).
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub role: Option<Role>,
    pub locale: Option<crate::domain::notification::Locale>,
    /// Refuse tokens issued before this instant (epoch seconds); set with a password change.
    pub tokens_valid_after: Option<i64>,
}

impl std::fmt::Debug for ProfileUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileUpdate")
            .field("name", &self.name)
            .field("email", &self.email)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("role", &self.role)
            .field("tokens_valid_after", &self.tokens_valid_after)
            .finish()
    }
}

impl ProfileUpdate {
    fn apply(&self, current: &StoredMember, now: &str) -> StoredMember {
        let mut next = current.clone();
        if let Some(name) = &self.name {
            next.member.name.clone_from(name);
        }
        if let Some(email) = &self.email {
            next.member.email.clone_from(email);
        }
        if let Some(hash) = &self.password_hash {
            next.password_hash.clone_from(hash);
        }
        if let Some(role) = self.role {
            next.member.role = role;
        }
        if let Some(locale) = self.locale {
            next.member.locale = locale;
        }
        if let Some(t) = self.tokens_valid_after {
            next.tokens_valid_after = Some(t);
        }
        next.member.updated_at = now.to_string();
        next
    }
}

/// What the authorizer needs to know beyond the token itself (pattern M8).
#[derive(Debug, Clone)]
pub struct SessionCheck {
    /// The member's profile; `None` when the member was deleted.
    pub member: Option<StoredMember>,
    /// Whether the token was revoked (logged out).
    pub revoked: bool,
}

impl Store {
    /// Pattern M1: a new member and the claim on their email, in one transaction. A taken email is
    /// [`StoreError::Conflict`].
    pub async fn create_member(&self, m: &StoredMember) -> Result<(), StoreError> {
        let profile = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(m)?))
                .condition_expression("attribute_not_exists(PK)")
                .build(),
        )?;
        let claim = self.email_claim(&m.member.email, &m.member.id)?;
        let items = vec![
            TransactWriteItem::builder().put(profile).build(),
            TransactWriteItem::builder().put(claim).build(),
        ];
        match self
            .transact(
                items,
                "the email is being registered by another request; try again",
            )
            .await?
        {
            Ok(()) => Ok(()),
            // The id is a fresh UUID, so a failed condition is the email claim.
            Err(_) => Err(StoreError::Conflict(
                "an account with this email already exists".into(),
            )),
        }
    }

    /// Pattern M2.
    pub async fn get_member(&self, id: &str) -> Result<Option<StoredMember>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(profile_key(id)))
            .consistent_read(true)
            .send()
            .await?;
        out.item.map(from_item).transpose()
    }

    /// Pattern M3: the member who holds `email` (already normalised).
    pub async fn find_member_by_email(
        &self,
        email: &str,
    ) -> Result<Option<StoredMember>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(email_key(email)))
            .consistent_read(true)
            .send()
            .await?;
        let Some(member_id) = out
            .item
            .as_ref()
            .and_then(|item| item.get("memberId"))
            .and_then(|v| v.as_s().ok())
        else {
            return Ok(None);
        };
        Ok(self
            .get_member(member_id)
            .await?
            .filter(|m| m.member.email == email))
    }

    /// Patterns M4 and M5: applies `update` to the member as the caller last saw it (`current`). If the
    /// password or email changed since, or the member is gone, nothing is written: [`StoreError::Conflict`] /
    /// [`StoreError::NotFound`]. A new email someone else holds is [`StoreError::Conflict`].
    pub async fn update_member(
        &self,
        current: &StoredMember,
        update: &ProfileUpdate,
        now: &str,
    ) -> Result<StoredMember, StoreError> {
        let id = &current.member.id;
        let mut sets = vec!["#updatedAt = :updatedAt"];
        let mut names = HashMap::from([
            ("#updatedAt".to_string(), "updatedAt".to_string()),
            ("#passwordHash".to_string(), "passwordHash".to_string()),
            ("#email".to_string(), "email".to_string()),
        ]);
        let mut values = HashMap::from([
            (":updatedAt".to_string(), s(now)),
            (":seenHash".to_string(), s(&current.password_hash)),
            (":seenEmail".to_string(), s(&current.member.email)),
        ]);
        if let Some(name) = &update.name {
            sets.push("#name = :name");
            names.insert("#name".into(), "name".into());
            values.insert(":name".into(), s(name));
        }
        if let Some(email) = &update.email {
            sets.push("#email = :email");
            values.insert(":email".into(), s(email));
        }
        if let Some(hash) = &update.password_hash {
            sets.push("#passwordHash = :passwordHash");
            values.insert(":passwordHash".into(), s(hash));
        }
        if let Some(role) = update.role {
            sets.push("#role = :role");
            names.insert("#role".into(), "role".into());
            values.insert(":role".into(), s(role.as_str()));
        }
        if let Some(locale) = update.locale {
            sets.push("#locale = :locale");
            names.insert("#locale".into(), "locale".into());
            values.insert(":locale".into(), s(locale.as_str()));
        }
        if let Some(t) = update.tokens_valid_after {
            sets.push("#tokensValidAfter = :tokensValidAfter");
            names.insert("#tokensValidAfter".into(), "tokensValidAfter".into());
            values.insert(":tokensValidAfter".into(), n(t));
        }
        let expression = format!("SET {}", sets.join(", "));
        let condition =
            "attribute_exists(PK) AND #passwordHash = :seenHash AND #email = :seenEmail";

        let new_email = update
            .email
            .as_deref()
            .filter(|e| *e != current.member.email);
        let Some(new_email) = new_email else {
            // M4: one conditional update.
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(profile_key(id)))
                .update_expression(expression)
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            return match conditional(result)? {
                Some(out) => from_item(out.attributes.unwrap_or_default()),
                None => Err(self.changed_or_gone(id).await),
            };
        };

        // M5: the profile update, the old claim released and the new one taken, all or nothing.
        let profile = built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(profile_key(id)))
                .update_expression(expression)
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .build(),
        )?;
        let release = self.email_release(&current.member.email, id)?;
        let claim = self.email_claim(new_email, id)?;
        let items = vec![
            TransactWriteItem::builder().update(profile).build(),
            TransactWriteItem::builder().delete(release).build(),
            TransactWriteItem::builder().put(claim).build(),
        ];
        match self
            .transact(
                items,
                "the member is being changed by another request; try again",
            )
            .await?
        {
            Ok(()) => Ok(update.apply(current, now)),
            Err(failed) if failed.get(2).copied().unwrap_or(false) => Err(StoreError::Conflict(
                "an account with this email already exists".into(),
            )),
            Err(_) => Err(self.changed_or_gone(id).await),
        }
    }

    /// After a failed condition on a profile: gone (404), or changed by someone else (409).
    async fn changed_or_gone(&self, id: &str) -> StoreError {
        match self.get_member(id).await {
            Ok(Some(_)) => StoreError::Conflict(
                "the member's email or password was changed by another request; reload and retry"
                    .into(),
            ),
            Ok(None) => StoreError::NotFound {
                entity: ENTITY,
                id: id.to_string(),
            },
            Err(e) => e,
        }
    }

    /// Pattern M6: deletes the profile and the email claim together. [`StoreError::NotFound`] when there is
    /// no such member.
    pub async fn delete_member(&self, id: &str) -> Result<(), StoreError> {
        let not_found = || StoreError::NotFound {
            entity: ENTITY,
            id: id.to_string(),
        };
        for attempt in 0..TX_ATTEMPTS {
            let current = self.get_member(id).await?.ok_or_else(not_found)?;
            let profile = built(
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(profile_key(id)))
                    .condition_expression("#email = :email")
                    .expression_attribute_names("#email", "email")
                    .expression_attribute_values(":email", s(&current.member.email))
                    .build(),
            )?;
            let claim = self.email_release(&current.member.email, id)?;
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().delete(profile).build())
                .transact_items(TransactWriteItem::builder().delete(claim).build())
                .send()
                .await;
            match result.map_err(classify) {
                Ok(_) => return Ok(()),
                // Deleted or re-emailed meanwhile: look again.
                Err(TxFailure::Condition(_) | TxFailure::Contention)
                    if attempt + 1 < TX_ATTEMPTS =>
                {
                    backoff(attempt).await
                }
                Err(TxFailure::Condition(_) | TxFailure::Contention) => {
                    return match self.get_member(id).await? {
                        None => Err(not_found()),
                        Some(_) => Err(StoreError::Busy(
                            "the member is being changed by another request; try again".into(),
                        )),
                    }
                }
                Err(TxFailure::Other(e)) => return Err(e),
            }
        }
        Err(StoreError::Dependency(
            "unreachable: transaction attempts".into(),
        ))
    }

    /// Pattern M7: the token `token_id` is refused from now on. Idempotent.
    pub async fn revoke_token(
        &self,
        token_id: &str,
        member_id: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut item = revoked_key(token_id);
        item.insert(TYPE.into(), s("RevokedToken"));
        item.insert("memberId".into(), s(member_id));
        item.insert("expiresAt".into(), n(expires_at));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(())
    }

    /// Pattern M8: the member's profile and whether the token is revoked, in one consistent `BatchGetItem`
    /// (keys DynamoDB leaves unprocessed are asked for again).
    pub async fn session(
        &self,
        member_id: &str,
        token_id: &str,
    ) -> Result<SessionCheck, StoreError> {
        let profile_pk = member_partition(member_id);
        let mut check = SessionCheck {
            member: None,
            revoked: false,
        };
        let keys = vec![profile_key(member_id), revoked_key(token_id)];
        for item in self.batch_get_consistent(keys).await? {
            match item.get(PK).and_then(|v| v.as_s().ok()) {
                Some(pk) if *pk == profile_pk => check.member = Some(from_item(item)?),
                Some(pk) if pk.starts_with(REVOKED_PREFIX) => check.revoked = true,
                _ => {}
            }
        }
        Ok(check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::member::Member;

    fn stored() -> StoredMember {
        StoredMember {
            member: Member {
                id: "0190a0a0-0000-7000-8000-000000000001".into(),
                email: "a@example.com".into(),
                name: "A".into(),
                role: Role::Organizer,
                locale: Default::default(),
                created_at: "2026-11-23T10:00:00Z".into(),
                updated_at: "2026-11-23T10:00:00Z".into(),
            },
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            tokens_valid_after: Some(1_795_000_000),
        }
    }

    #[test]
    fn item_round_trip() {
        let m = stored();
        let item = to_item(&m).expect("item");
        assert_eq!(
            item.get(PK).and_then(|v| v.as_s().ok()).map(String::as_str),
            Some("MEMBER#0190a0a0-0000-7000-8000-000000000001")
        );
        assert_eq!(
            item.get("role")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str),
            Some("ORGANIZER")
        );
        assert!(item
            .get("tokensValidAfter")
            .is_some_and(|v| v.as_n().is_ok()));
        assert_eq!(from_item(item).expect("parses"), m);
        let claim = email_item("a@example.com", "id-1");
        assert_eq!(
            claim
                .get(PK)
                .and_then(|v| v.as_s().ok())
                .map(String::as_str),
            Some("EMAIL#a@example.com")
        );
    }

    #[test]
    fn update_applies_locally_like_the_expression() {
        let m = stored();
        let next = ProfileUpdate {
            name: Some("B".into()),
            email: Some("b@example.com".into()),
            role: Some(Role::Admin),
            locale: None,
            ..ProfileUpdate::default()
        }
        .apply(&m, "2026-11-24T00:00:00Z");
        assert_eq!(next.member.name, "B");
        assert_eq!(next.member.email, "b@example.com");
        assert_eq!(next.member.role, Role::Admin);
        assert_eq!(next.password_hash, m.password_hash);
        assert_eq!(next.member.updated_at, "2026-11-24T00:00:00Z");
    }
}
