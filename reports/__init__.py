"""Conversation report for the content team (make report), unanswered questions (make unanswered-check)
and data retention (make purge), read from Rasa's SQL tracker store.

Pure functions, one module per concern: store (reading, purging sessions), conversations (events -> turns),
figures, unanswered (grouping, NLU export), wrong (probably wrong answers), privacy (pseudonyms, masking,
retention), html (page, plots), report (putting it together), check (the current model on exported
questions).
`python -m reports` runs them.
"""
