"""Training entry point: python -m finetune.train --config configs/train.yaml"""

import argparse
import os

import torch
import yaml
from datasets import load_dataset
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    Trainer,
    TrainingArguments,
)

from finetune.data import build_prompts


def load_config(path):
    with open(path) as f:
        return yaml.safe_load(f)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--resume", help="checkpoint to resume from")
    args = parser.parse_args()
    cfg = load_config(args.config)

    tokenizer = AutoTokenizer.from_pretrained(cfg["base_model"], revision=cfg["base_revision"])
    model = AutoModelForCausalLM.from_pretrained(
        cfg["base_model"],
        revision=cfg["base_revision"],
        torch_dtype=torch.bfloat16,
    )
    if args.resume:
        state = torch.load(os.path.join(args.resume, "pytorch_model.bin"), map_location="cpu")
        model.load_state_dict(state)

    raw = load_dataset("json", data_files=cfg["dataset"], split="train")
    train = raw.map(lambda row: build_prompts(row, tokenizer, cfg["max_seq_len"]), remove_columns=raw.column_names)

    training_args = TrainingArguments(
        output_dir=cfg["output_dir"],
        learning_rate=cfg["lr"],
        num_train_epochs=cfg["epochs"],
        per_device_train_batch_size=cfg["batch_size"],
        gradient_accumulation_steps=cfg["gradient_accumulation"],
        warmup_ratio=cfg["warmup_ratio"],
        seed=cfg["seed"],
        report_to=cfg["report_to"],
        bf16=True,
    )
    Trainer(model=model, args=training_args, train_dataset=train).train()
    model.save_pretrained(cfg["output_dir"], safe_serialization=True)


if __name__ == "__main__":
    main()
