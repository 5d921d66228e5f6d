"""The platforms: one sub-package each, a small base and the registry that lists them."""
