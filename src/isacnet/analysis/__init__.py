"""Closed forms and integrals: deterministic, no randomness. Each function cites its equation."""
