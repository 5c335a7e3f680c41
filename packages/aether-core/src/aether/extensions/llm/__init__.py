"""LLM-provider extensions: the fake provider, decorators, the factory and the builder."""
