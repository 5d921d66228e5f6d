"""The mobile web chat: the /chat page and its JSON API."""
