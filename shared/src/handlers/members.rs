//! Members: signup, login, logout, profile.
