"""OpenAI-compatible /v1/chat/completions over the fine-tuned summariser."""

import time
import uuid

import torch
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from app import settings

app = FastAPI(title="summarizer-api")

tokenizer = AutoTokenizer.from_pretrained(settings.MODEL_ID, revision=settings.MODEL_REVISION)
model = AutoModelForCausalLM.from_pretrained(
    settings.MODEL_ID,
    revision=settings.MODEL_REVISION,
    torch_dtype=torch.bfloat16,
    trust_remote_code=True,
)
model.eval()


class Message(BaseModel):
    role: str
    content: str


class ChatRequest(BaseModel):
    model: str
    messages: list[Message]
    max_tokens: int | None = None


@app.post("/v1/chat/completions")
def chat(req: ChatRequest):
    if not req.messages:
        raise HTTPException(status_code=400, detail="messages is empty")
    prompt = tokenizer.apply_chat_template([m.model_dump() for m in req.messages], tokenize=False, add_generation_prompt=True)
    ids = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=min(req.max_tokens or settings.MAX_NEW_TOKENS, settings.MAX_NEW_TOKENS))
    text = tokenizer.decode(out[0][ids["input_ids"].shape[1]:], skip_special_tokens=True)
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": req.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }


@app.get("/healthz")
def healthz():
    return {"ok": True}
