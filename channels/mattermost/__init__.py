"""Bienvenue in a Mattermost team: outgoing webhooks, the ``/bienvenue`` slash command and signed buttons.

Replaces Rasa 3.6.21's built-in Mattermost channel on the same routes (``POST /webhooks/mattermost/webhook``,
``GET /webhooks/mattermost/``) and fixes what it gets wrong:
- every request is authenticated: the outgoing-webhook or slash-command token is compared in constant time
  (missing: 401, wrong: 403) and button clicks, which carry no token, must bring back a context signed by the
  bot for that channel, thread, user and post, before its expiry (HMAC-SHA256); a refused request reaches
  neither the bot nor Mattermost; a slash command's response_url must be on MATTERMOST_URL's origin;
- no loops, fail closed: posts of the bot itself, of other bots and of integrations (``from_bot``,
  ``from_webhook``, ``from_plugin``, ``from_oauth_app``) are ignored, and so is a post whose author cannot be
  checked (its lookup fails, or the bot's own id cannot be learnt);
- answers go to the question's channel and thread; the slash command works in direct messages and private
  channels, where outgoing webhooks never fire;
- JSON and form-encoded (Mattermost's default) requests; answers are JSON (``{}`` or a slash command
  response), never the plain text ``success``; no word of the question is dropped when the hook has no
  trigger word;
- the request is answered at once and the bot's answers are posted afterwards with aiohttp, so a slow turn
  neither blocks the server nor exceeds Mattermost's timeout; 201 is success; failed posts are retried
  (MATTERMOST_RETRY_DELAYS_S), then logged with their context, and the next messages go through once
  Mattermost is back; the questions waiting for their answers are bounded.

The modules, in the order a request meets them: ``settings`` (MATTERMOST_* variables), ``incoming`` (reading
and refusing requests), ``signatures`` (tokens and signed buttons), ``channel`` (routes and background
answers), ``posting`` (the bot's messages as posts), ``api`` (calls to Mattermost). Without configuration the
routes answer 503 with a JSON explanation and the rest of the server runs as usual.
"""

from channels.mattermost.channel import MattermostInput

__all__ = ["MattermostInput"]
