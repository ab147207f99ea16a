//! Members and their roles.

use crate::rules::{nullable, one_of, Pattern, Text, EMAIL};
use crate::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// What a member may do. USER buys tickets; ORGANIZER also publishes performances; ADMIN oversees all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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

/// Roles a member may choose at signup; ADMIN is granted only by another admin (or the bootstrap CLI).
pub const SIGNUP_ROLES: [Role; 2] = [Role::User, Role::Organizer];

/// A member's display name.
pub const NAME: Text = Text::line(100);
/// Passwords: 10 to 128 characters, any but control characters, spaces count. No composition rules
/// (NIST SP 800-63B advises against them): length is what makes a password strong.
pub static PASSWORD: Pattern = Pattern::new(
    r"^[^\u0000-\u001F\u007F-\u009F]{10,128}$",
    PASSWORD_MAX,
    "must be 10 to 128 characters, none of them control characters",
);
pub const PASSWORD_MAX: usize = 128;
/// A password as given at login or as the current password: any 1 to 128 characters.
pub const GIVEN_PASSWORD: Text = Text {
    max: PASSWORD_MAX,
    required: false,
    multiline: false,
};

fn given_password_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(PASSWORD_MAX))
        .build()
}

fn check_given_password(errors: &mut Vec<FieldError>, field: &str, raw: &str) {
    let len = raw.chars().count();
    if !(1..=GIVEN_PASSWORD.max).contains(&len) {
        errors.push(FieldError::new(
            field,
            format!("must be 1 to {PASSWORD_MAX} characters"),
        ));
    }
}

fn roles_schema(roles: &[Role]) -> Object {
    nullable(one_of(
        &roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    ))
}
fn signup_role_schema() -> Object {
    roles_schema(&SIGNUP_ROLES)
}
fn any_role_schema() -> Object {
    roles_schema(&[Role::User, Role::Organizer, Role::Admin])
}
fn name_schema() -> Object {
    NAME.schema()
}
fn optional_name_schema() -> Object {
    nullable(NAME.schema())
}
fn email_schema() -> Object {
    EMAIL.schema()
}
fn optional_email_schema() -> Object {
    nullable(EMAIL.schema())
}
fn password_schema() -> Object {
    PASSWORD.schema()
}
fn optional_password_schema() -> Object {
    nullable(PASSWORD.schema())
}
fn optional_given_password_schema() -> Object {
    nullable(given_password_schema())
}
fn login_email_schema() -> Object {
    Text::line(EMAIL.max).schema()
}

/// A member as returned by the API. The password hash is not part of it (see [`StoredMember`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The language of notifications and mail: `ko` (default) or `en`.
    #[serde(default)]
    pub locale: crate::notification::Locale,
    pub created_at: String,
    pub updated_at: String,
}

/// A member as stored: the public part plus the credentials, which never leave the store layer except to be
/// verified. `Debug` redacts the hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMember {
    #[serde(flatten)]
    pub member: Member,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Tokens issued (`iat`) before this instant (epoch seconds) are refused: set when the password changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_valid_after: Option<i64>,
}

impl std::fmt::Debug for StoredMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredMember")
            .field("member", &self.member)
            .field("password_hash", &"<redacted>")
            .field("tokens_valid_after", &self.tokens_valid_after)
            .finish()
    }
}

/// `POST /signup` body.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignupInput {
    #[schema(schema_with = email_schema)]
    pub email: String,
    #[schema(schema_with = password_schema)]
    pub password: String,
    #[schema(schema_with = name_schema)]
    pub name: String,
    /// `USER` (default) or `ORGANIZER`.
    #[serde(default)]
    #[schema(schema_with = signup_role_schema)]
    pub role: Option<String>,
    /// The language of notifications and mail: `ko` (default) or `en`.
    #[serde(default)]
    pub locale: Option<crate::notification::Locale>,
}

/// A validated signup: normalised email and name, the role, and the plain password (still to be hashed).
#[derive(Clone, PartialEq, Eq)]
pub struct NewMember {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub locale: crate::notification::Locale,
    pub password: String,
}

impl std::fmt::Debug for NewMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMember")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl SignupInput {
    /// Checks every rule and reports every broken one. `allowed_roles` is [`SIGNUP_ROLES`] for the public
    /// route; the admin bootstrap passes `[Role::Admin]`.
    pub fn validate(self, allowed_roles: &[Role]) -> Result<NewMember, Vec<FieldError>> {
        let mut errors = Vec::new();
        let email = match normalise_email(&self.email) {
            Ok(email) => email,
            Err(message) => {
                errors.push(FieldError::new("email", message));
                String::new()
            }
        };
        let name = NAME.check_into(&mut errors, "name", &self.name);
        check_password(&mut errors, "password", &self.password);
        let role = match self.role.as_deref() {
            None if allowed_roles.contains(&Role::User) => Some(Role::User),
            None => allowed_roles.first().copied(),
            Some(raw) => Role::parse(raw).filter(|r| allowed_roles.contains(r)),
        };
        let Some(role) = role else {
            errors.push(FieldError::new(
                "role",
                format!("must be one of {}", role_list(allowed_roles)),
            ));
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewMember {
            email,
            name,
            role,
            locale: self.locale.unwrap_or_default(),
            password: self.password,
        })
    }
}

/// `POST /login` body.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginInput {
    /// The email the member signed up with; anything else fails like a wrong password.
    #[schema(schema_with = login_email_schema)]
    pub email: String,
    #[schema(schema_with = given_password_schema)]
    pub password: String,
}

/// Login credentials. `email` is `None` when it cannot belong to any member (bad shape): the login then
/// fails exactly like an unknown email, without a lookup.
#[derive(Clone)]
pub struct Credentials {
    pub email: Option<String>,
    pub password: String,
}

impl LoginInput {
    /// Only the document's shapes are a 400 here (a blank email, an empty or overlong password); anything
    /// else wrong is the same "invalid credentials" as a wrong password, so the answer does not tell which
    /// part was wrong.
    pub fn validate(self) -> Result<Credentials, Vec<FieldError>> {
        let mut errors = Vec::new();
        Text::line(EMAIL.max).check_into(&mut errors, "email", &self.email);
        check_given_password(&mut errors, "password", &self.password);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Credentials {
            email: normalise_email(&self.email).ok(),
            password: self.password,
        })
    }
}

/// `PUT /members/{memberId}` body: every field optional, at least one change.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMemberInput {
    #[serde(default)]
    #[schema(schema_with = optional_name_schema)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = optional_email_schema)]
    pub email: Option<String>,
    /// The new password.
    #[serde(default)]
    #[schema(schema_with = optional_password_schema)]
    pub password: Option<String>,
    /// Required to change the password or the email of one's own account.
    #[serde(default)]
    #[schema(schema_with = optional_given_password_schema)]
    pub current_password: Option<String>,
    /// Admin only.
    #[serde(default)]
    #[schema(schema_with = any_role_schema)]
    pub role: Option<String>,
    /// `ko` or `en`.
    #[serde(default)]
    pub locale: Option<crate::notification::Locale>,
}

/// A validated change. `None` fields stay as they are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MemberChange {
    pub name: Option<String>,
    pub email: Option<String>,
    /// The new plain password (hashed by the handler before it reaches the store).
    pub password: Option<String>,
    pub current_password: Option<String>,
    pub role: Option<Role>,
    pub locale: Option<crate::notification::Locale>,
}

impl std::fmt::Debug for MemberChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberChange")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl UpdateMemberInput {
    /// Checks every rule. Whether the caller may change the role or must give the current password is the
    /// handler's decision (it knows the caller); this checks shapes only.
    pub fn validate(self) -> Result<MemberChange, Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.name.is_none()
            && self.email.is_none()
            && self.password.is_none()
            && self.role.is_none()
            && self.locale.is_none()
        {
            errors.push(FieldError::rule(
                "body",
                "must change at least one of name, email, password, role, locale",
            ));
            return Err(errors);
        }
        let name = self
            .name
            .as_deref()
            .map(|n| NAME.check_into(&mut errors, "name", n));
        let email = match self.email.as_deref().map(normalise_email) {
            None => None,
            Some(Ok(email)) => Some(email),
            Some(Err(message)) => {
                errors.push(FieldError::new("email", message));
                None
            }
        };
        if let Some(p) = &self.password {
            check_password(&mut errors, "password", p);
        }
        if let Some(current) = &self.current_password {
            check_given_password(&mut errors, "currentPassword", current);
        }
        let all_roles = [Role::User, Role::Organizer, Role::Admin];
        let role = match self.role.as_deref() {
            None => None,
            Some(raw) => {
                let parsed = Role::parse(raw);
                if parsed.is_none() {
                    errors.push(FieldError::new(
                        "role",
                        format!("must be one of {}", role_list(&all_roles)),
                    ));
                }
                parsed
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(MemberChange {
            name,
            email,
            password: self.password,
            current_password: self.current_password,
            role,
            locale: self.locale,
        })
    }
}

fn role_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks an email against [`EMAIL`] and lower-cases it (one member per address, whatever its case).
pub fn normalise_email(raw: &str) -> Result<String, &'static str> {
    if EMAIL.matches(raw) {
        Ok(raw.to_lowercase())
    } else {
        Err(EMAIL.message)
    }
}

/// Why a new password is refused, if it is.
pub fn password_problem(password: &str) -> Option<String> {
    (!PASSWORD.matches(password)).then(|| PASSWORD.message.to_string())
}

fn check_password(errors: &mut Vec<FieldError>, field: &str, password: &str) {
    if let Some(message) = password_problem(password) {
        errors.push(FieldError::new(field, message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn signup(v: serde_json::Value) -> Result<NewMember, Vec<String>> {
        let input: SignupInput = serde_json::from_value(v).expect("deserializes");
        input
            .validate(&SIGNUP_ROLES)
            .map_err(|errs| errs.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn signup_is_normalised() {
        let m = signup(json!({
            "email": "Alice.Smith+tix@Example.COM",
            "password": "correct horse 42",
            "name": " Alice "
        }))
        .expect("valid");
        assert_eq!(m.email, "alice.smith+tix@example.com");
        assert_eq!(m.name, "Alice");
        assert_eq!(m.role, Role::User);
        assert_eq!(m.password, "correct horse 42");
        let m = signup(json!({
            "email": "org@example.com", "password": "Organizer!1", "name": "O", "role": "ORGANIZER"
        }))
        .expect("valid");
        assert_eq!(m.role, Role::Organizer);
    }

    #[test]
    fn signup_reports_every_field() {
        assert_eq!(
            signup(json!({"email": "nope", "password": "short", "name": " ", "role": "ADMIN"})),
            Err(vec![
                "email".into(),
                "name".into(),
                "password".into(),
                "role".into()
            ])
        );
        assert_eq!(
            signup(
                json!({"email": "a@b.co", "password": "Password123", "name": "A", "role": "KING"})
            ),
            Err(vec!["role".into()])
        );
    }

    #[test]
    fn admin_role_only_where_allowed() {
        let input: SignupInput = serde_json::from_value(json!({
            "email": "root@example.com", "password": "Root-password-1", "name": "Root", "role": "ADMIN"
        }))
        .expect("deserializes");
        assert_eq!(
            input.clone().validate(&[Role::Admin]).map(|m| m.role).ok(),
            Some(Role::Admin)
        );
        assert!(input.validate(&SIGNUP_ROLES).is_err());
    }

    #[test]
    fn email_shapes() {
        for ok in [
            "a@b.co",
            "first.last@sub.example.org",
            "x+y@ex-ample.com",
            "MiXeD@Example.Com",
        ] {
            assert!(normalise_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@@b.com",
            "a b@c.com",
            ".a@b.com",
            "a..b@c.com",
            "a@-b.com",
            "a@b.c",
            "a@b..com",
            "a@b.123",
            "ä@b.com",
            " a@b.com",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(normalise_email(&long).is_err());
    }

    #[test]
    fn password_rules() {
        assert!(password_problem("Tr0ub4dor&3").is_none());
        assert!(password_problem("correct horse battery").is_none());
        assert!(password_problem("ÄÖÜäöüßabc").is_none());
        assert!(password_problem("Short1").is_some());
        assert!(password_problem("aaaaaaaaaa").is_none());
        assert!(password_problem("aaaaaaaaa").is_some());
        assert!(password_problem(&"aB".repeat(65)).is_some());
        assert!(password_problem(&"aB".repeat(64)).is_none());
        assert!(password_problem("with\nnewline1").is_some());
    }

    #[test]
    fn update_rules() {
        let parse = |v: serde_json::Value| {
            serde_json::from_value::<UpdateMemberInput>(v)
                .expect("deserializes")
                .validate()
                .map_err(|errs| errs.into_iter().map(|e| e.field).collect::<Vec<_>>())
        };
        assert_eq!(parse(json!({})), Err(vec!["body".to_string()]));
        assert_eq!(
            parse(json!({"name": "", "email": "x", "password": "weak", "role": "GOD"})),
            Err(vec![
                "name".to_string(),
                "email".to_string(),
                "password".to_string(),
                "role".to_string()
            ])
        );
        let change =
            parse(json!({"name": " Bob ", "role": "ADMIN", "email": "B@X.IO"})).expect("ok");
        assert_eq!(change.name.as_deref(), Some("Bob"));
        assert_eq!(change.email.as_deref(), Some("b@x.io"));
        assert_eq!(change.role, Some(Role::Admin));
        assert!(serde_json::from_value::<UpdateMemberInput>(json!({"passwordHash": "x"})).is_err());
    }

    #[test]
    fn member_json_never_has_the_hash() {
        let stored = StoredMember {
            member: Member {
                id: "m".into(),
                email: "a@b.co".into(),
                name: "A".into(),
                role: Role::User,
                locale: Default::default(),
                created_at: "t".into(),
                updated_at: "t".into(),
            },
            password_hash: "$argon2id$secret".into(),
            tokens_valid_after: None,
        };
        let public = serde_json::to_string(&stored.member).expect("serializes");
        assert!(!public.contains("argon2") && !public.contains("password"));
        assert!(!format!("{stored:?}").contains("argon2"));
    }
}
