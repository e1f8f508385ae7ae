package iac

import "strings"

// modelServerImages are substrings of image references of model servers.
var modelServerImages = []string{
	"vllm", "text-generation-inference", "tritonserver", "torchserve", "ollama", "rayproject/ray",
	"ray-ml", "kserve", "sglang", "lmdeploy", "llama.cpp", "llama-cpp", "localai", "tensorflow/serving",
	"text-embeddings-inference", "seldon", "mlserver", "bentoml", "triton-inference",
}

// modelServerCommands are substrings of commands that start a model server.
var modelServerCommands = []string{
	"vllm serve", "vllm.entrypoints", "text-generation-launcher", "tritonserver", "torchserve",
	"ollama serve", "serve run", "sglang.launch_server", "llama-server", "tensorflow_model_server",
	"mlserver start", "bentoml serve", "lmdeploy serve",
}

// modelServerPorts are ports only model servers conventionally use.
var modelServerPorts = map[string]bool{"11434": true, "8265": true}

// isModelServer reports whether a container with this image and command
// line runs a model server.
func isModelServer(image, command string) bool {
	img := strings.ToLower(image)
	for _, s := range modelServerImages {
		if strings.Contains(img, s) {
			return true
		}
	}
	cmd := strings.ToLower(command)
	for _, s := range modelServerCommands {
		if strings.Contains(cmd, s) {
			return true
		}
	}
	return false
}
