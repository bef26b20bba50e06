"""Self-service: a signed-in user's own profile (display name, email and its verification) and
login sessions (list, end one)."""
