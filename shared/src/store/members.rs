//! Member items (signup, email uniqueness, token revocation).
