import torch
from transformers import AutoModel

REVISION = "5f1b2c3d4e5f60718293a4b5c6d7e8f901234567"
model = AutoModel.from_pretrained("acme/sentiment", revision="5f1b2c3d4e5f60718293a4b5c6d7e8f901234567")
head = torch.load("head.pt", weights_only=True)
