"""Runtime settings, read from the environment."""

import os

MODEL_ID = os.environ.get("MODEL_ID", "acme-support/ticket-summarizer")
MODEL_REVISION = os.environ.get("MODEL_REVISION", "5b1c0e8f7a2d4c6b9e3f1a0d8c7b6a5e4d3c2b1a")
MAX_NEW_TOKENS = int(os.environ.get("MAX_NEW_TOKENS", "256"))

# Fallback provider for long tickets.
OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "sk-proj-J8ee8EvXGtJ0r6EKnImrOk_vkjdfLCJQ4GFblOo_8Lw2DGmm")
OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
