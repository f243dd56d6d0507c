"""Bienvenue's tracker stores (configured in endpoints.yml and endpoints.production.yml)."""
