"""Plugin implementations shipped with core: the fake provider, decorators, the in-memory store."""
