"""Conversation report for the content team (make report), unanswered questions (make unanswered-check)
and data retention (make purge), read from Rasa's SQL tracker store.

Pure functions, one module per concern: store (reading, purging), conversations (events -> turns),
figures, unanswered (grouping, NLU export), privacy (pseudonyms, masking, retention), html (page, plots),
report (putting it together), check (the current model on unanswered questions).
`python -m reports` runs them.
"""
