package typosquat

// popular lists widely used packages of the ML and LLM field (and the
// general packages such projects install most), per ecosystem, written
// normalised. It is curated by hand from the projects' own names; names
// here are never reported as typosquats of each other.
var popular = map[string]map[string]struct{}{
	"PyPI": set(
		// Deep learning and numerics.
		"torch", "torchvision", "torchaudio", "tensorflow", "tensorflow-gpu", "keras", "jax", "jaxlib", "flax",
		"numpy", "scipy", "pandas", "scikit-learn", "xgboost", "lightgbm", "catboost", "matplotlib", "seaborn",
		"onnx", "onnxruntime", "onnxruntime-gpu", "triton", "xformers", "bitsandbytes", "einops", "numba",
		"pytorch-lightning", "lightning", "deepspeed", "accelerate", "optimum", "peft", "trl", "timm",
		// Hugging Face and model hubs.
		"transformers", "tokenizers", "datasets", "huggingface-hub", "safetensors", "diffusers",
		"sentence-transformers", "evaluate", "gradio", "gradio-client", "spacy", "nltk", "gensim",
		// LLM clients, frameworks and serving.
		"openai", "anthropic", "cohere", "mistralai", "groq", "google-generativeai", "google-genai",
		"langchain", "langchain-core", "langchain-community", "langchain-openai", "langgraph",
		"llama-index", "llama-index-core", "llama-cpp-python", "vllm", "tiktoken", "litellm", "guidance",
		"instructor", "dspy", "haystack-ai", "semantic-kernel", "autogen", "crewai", "ollama",
		"chromadb", "faiss-cpu", "faiss-gpu", "pinecone-client", "pinecone", "weaviate-client", "qdrant-client",
		"pymilvus", "text-generation", "sentencepiece", "protobuf",
		// MLOps.
		"mlflow", "wandb", "ray", "dvc", "optuna", "tensorboard", "kserve", "bentoml", "streamlit", "comet-ml",
		// General packages ML projects always install.
		"requests", "urllib3", "httpx", "aiohttp", "fastapi", "uvicorn", "pydantic", "flask", "django",
		"boto3", "botocore", "google-cloud-storage", "azure-storage-blob", "pyyaml", "pillow", "opencv-python",
		"tqdm", "rich", "click", "typer", "jinja2", "setuptools", "wheel", "pip", "cryptography", "certifi",
		"jupyter", "notebook", "ipykernel", "ipython", "pytest", "python-dotenv", "sqlalchemy", "redis",
	),
	"npm": set(
		"openai", "@anthropic-ai/sdk", "cohere-ai", "@mistralai/mistralai", "groq-sdk", "@google/generative-ai",
		"@google/genai", "langchain", "@langchain/core", "@langchain/openai", "@langchain/community",
		"llamaindex", "ai", "@ai-sdk/openai", "@huggingface/inference", "@huggingface/transformers",
		"@xenova/transformers", "onnxruntime-node", "onnxruntime-web", "@tensorflow/tfjs", "@tensorflow/tfjs-node",
		"tiktoken", "js-tiktoken", "@pinecone-database/pinecone", "chromadb", "weaviate-client", "ollama",
		"axios", "express", "react", "react-dom", "next", "typescript", "lodash", "dotenv", "zod", "node-fetch",
		"ws", "jsonwebtoken", "commander", "chalk", "uuid", "yaml", "js-yaml", "sharp", "prisma", "@prisma/client",
	),
}

func set(names ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(names))
	for _, n := range names {
		m[n] = struct{}{}
	}
	return m
}
