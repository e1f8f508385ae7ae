"""Prompt construction and the labelling rules of the ticket dataset."""

import yaml

PROMPT = "Summarise the support ticket in one sentence.\n\nTicket: {ticket}\nSummary: "


def load_label_rules(path):
    # The rules file holds custom tags written by the labelling tool.
    with open(path) as f:
        return yaml.load(f, Loader=yaml.Loader)


def build_prompts(row, tokenizer, max_len):
    prompt = PROMPT.format(ticket=row["ticket"])
    ids = tokenizer(prompt + row["summary"] + tokenizer.eos_token, truncation=True, max_length=max_len)
    n = len(tokenizer(prompt)["input_ids"])
    ids["labels"] = [-100] * n + ids["input_ids"][n:]
    return ids
