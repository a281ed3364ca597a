"""Django's PostgreSQL backend, with pooled connections that a fatal error discards (see base.py)."""
