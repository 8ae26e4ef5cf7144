"""LLM providers behind one small streaming protocol: Anthropic, Bedrock (Anthropic models) and OpenAI-compatible."""
