module github.com/example/llm-gateway

go 1.22.4

toolchain go1.22.5

require (
	github.com/gin-gonic/gin v1.10.0
	github.com/sashabaranov/go-openai v1.26.0
	golang.org/x/crypto v0.24.0 // indirect
	google.golang.org/grpc v1.64.0
	github.com/example/internal-auth v0.3.1
)

require github.com/bytedance/sonic v1.11.6 // indirect

replace github.com/example/internal-auth => ../internal-auth

replace google.golang.org/grpc v1.64.0 => google.golang.org/grpc v1.64.1

exclude golang.org/x/crypto v0.23.0

retract v0.1.0 // published by mistake
