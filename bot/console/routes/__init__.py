"""One module of console routes per feature; `bot.console.site` includes them."""
