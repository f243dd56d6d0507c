"""Custom NLU components of Bienvenue's pipeline (config.yml)."""
