"""The terminal: chat with the dialogue in a shell (`policybot chat`)."""
