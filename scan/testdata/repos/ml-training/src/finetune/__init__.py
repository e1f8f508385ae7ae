"""Fine-tuning of a causal LM for ticket summaries."""

__version__ = "0.4.0"
