//! The authenticated caller of a request, as the authorizer described it.

use crate::domain::member::Role;
use crate::error::AppError;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// Who is calling: set by the authorizer, never by the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub member_id: String,
    pub role: Role,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The caller must have one of `roles`; 403 otherwise.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "this needs the role {}",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )))
        }
    }
}

/// The caller of a route that the authorizer protects, or `None` on a public route.
pub fn optional_caller(req: &Request) -> Option<Caller> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return None;
    };
    let fields = &ctx.authorizer.as_ref()?.fields;
    let member_id = fields.get("memberId")?.as_str()?.to_string();
    let role = Role::parse(fields.get("role")?.as_str()?)?;
    Some(Caller { member_id, role })
}

/// The caller of a protected route. Without one the route was deployed without its authorizer: 401.
pub fn caller(req: &Request) -> Result<Caller, AppError> {
    optional_caller(req).ok_or(AppError::Unauthorized)
}
