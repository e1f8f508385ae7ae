"""Fine-tune a classifier.

Docs mention torch.load(path) and trust_remote_code=True in prose: not code.
"""
import os
import pickle
import torch as th
import yaml
import numpy as np
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from huggingface_hub import hf_hub_download
from joblib import load as jl_load

MODEL = "distilbert-base-uncased"
REV = "3f7c5a8e9b1d2c4f6a8b0c2d4e6f8a0b2c4d6e8f"

tok = AutoTokenizer.from_pretrained(MODEL, revision=REV)  # variable revision: not judged
model = AutoModelForSequenceClassification.from_pretrained(
    "acme/sentiment",
    num_labels=2,
    trust_remote_code=True,
)
pinned = AutoModelForSequenceClassification.from_pretrained("acme/sentiment", revision="3f7c5a8e9b1d2c4f6a8b0c2d4e6f8a0b2c4d6e8f")
branch = AutoModelForSequenceClassification.from_pretrained("acme/sentiment", revision="main")
local = AutoModelForSequenceClassification.from_pretrained("./checkpoints/best")

state = th.load("ckpt.pt")
state2 = th.load("ckpt.pt", map_location="cpu", weights_only=True)
state3 = th.load("ckpt.pt", weights_only=False)

path = hf_hub_download(repo_id="acme/sentiment", filename="tfidf.pkl", revision=REV)
with open(path, "rb") as fh:
    vec = pickle.load(fh)
labels = pickle.load(open("labels.pkl", "rb"))
clf = jl_load("clf.joblib")

arr = np.load("emb.npy", allow_pickle=True)
arr2 = np.load("emb.npy")

cfg = yaml.load(open("cfg.yaml"), Loader=yaml.FullLoader)
cfg2 = yaml.load(open("cfg.yaml"), yaml.SafeLoader)
cfg3 = yaml.safe_load(open("cfg.yaml"))
cfg4 = yaml.load(open("cfg.yaml"))
if os.environ.get("X") == "trust_remote_code=True":
    pass
