package iac

import (
	"strings"
	"testing"
)

// pod wraps container YAML (indented for spec.containers) in a Pod.
func pod(spec string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n" + spec
}

const goodContainer = `  securityContext:
    runAsNonRoot: true
  containers:
    - name: c
      image: app:1.0
      resources:
        limits: {cpu: "1", memory: 1Gi}
`

const deployVLLM = `apiVersion: apps/v1
kind: Deployment
metadata: {name: llm}
spec:
  template:
    metadata:
      labels: {app: llm}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.6.3
          resources: {limits: {cpu: "8", memory: 64Gi}}
---
`

// TestRules has a true and a false case for every rule.
func TestRules(t *testing.T) {
	cases := []struct {
		name, file, data, rule string
		want                   bool
	}{
		// Kubernetes.
		{"privileged", "p.yaml", pod(goodContainer + "      securityContext: {privileged: true}\n"), "iac.kube.privileged", true},
		{"not privileged", "p.yaml", pod(goodContainer + "      securityContext: {privileged: false}\n"), "iac.kube.privileged", false},
		{"runAsUser 0", "p.yaml", pod(goodContainer + "      securityContext: {runAsUser: 0}\n"), "iac.kube.run-as-root", true},
		{"runAsUser 1000", "p.yaml", pod(goodContainer + "      securityContext: {runAsUser: 1000}\n"), "iac.kube.run-as-root", false},
		{"runAsNonRoot unset", "p.yaml", pod("  containers:\n    - name: c\n      image: a:1\n"), "iac.kube.run-as-non-root-unset", true},
		{"runAsNonRoot at pod", "p.yaml", pod(goodContainer), "iac.kube.run-as-non-root-unset", false},
		{"hostPath", "p.yaml", pod(goodContainer + "  volumes:\n    - name: v\n      hostPath: {path: /var/lib}\n"), "iac.kube.host-path", true},
		{"emptyDir", "p.yaml", pod(goodContainer + "  volumes:\n    - name: v\n      emptyDir: {}\n"), "iac.kube.host-path", false},
		{"hostNetwork", "p.yaml", pod("  hostNetwork: true\n" + goodContainer), "iac.kube.host-network", true},
		{"hostPID", "p.yaml", pod("  hostPID: true\n" + goodContainer), "iac.kube.host-network", true},
		{"hostNetwork false", "p.yaml", pod("  hostNetwork: false\n" + goodContainer), "iac.kube.host-network", false},
		{"no limits", "p.yaml", pod("  containers:\n    - name: c\n      image: a:1\n      resources: {requests: {cpu: 1}}\n"), "iac.kube.no-resource-limits", true},
		{"limits", "p.yaml", pod(goodContainer), "iac.kube.no-resource-limits", false},
		{"env secret", "p.yaml", pod(goodContainer + "      env:\n        - name: DB_PASSWORD\n          value: s3cr3t-Value\n"), "iac.kube.secret-env-literal", true},
		{"env secret by format", "p.yaml", pod(goodContainer + "      env:\n        - name: UPSTREAM\n          value: AKIAIOSFODNN7EXAMPLF\n"), "iac.kube.secret-env-literal", true},
		{"env secretKeyRef", "p.yaml", pod(goodContainer + "      env:\n        - name: DB_PASSWORD\n          valueFrom: {secretKeyRef: {name: db, key: pw}}\n"), "iac.kube.secret-env-literal", false},
		{"env not secret", "p.yaml", pod(goodContainer + "      env:\n        - name: MAX_TOKENS\n          value: \"4096\"\n        - name: TOKENIZER_PATH\n          value: /m/tok.json\n"), "iac.kube.secret-env-literal", false},
		{"model server LB", "k.yaml", deployVLLM + "apiVersion: v1\nkind: Service\nmetadata: {name: llm}\nspec:\n  type: LoadBalancer\n  selector: {app: llm}\n", "iac.kube.model-server-exposed", true},
		{"model server ClusterIP", "k.yaml", deployVLLM + "apiVersion: v1\nkind: Service\nmetadata: {name: llm}\nspec:\n  selector: {app: llm}\n", "iac.kube.model-server-exposed", false},
		{"other service NodePort", "k.yaml", deployVLLM + "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n  selector: {app: web}\n", "iac.kube.model-server-exposed", false},
		{"other service NodePort exposed", "k.yaml", deployVLLM + "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n  selector: {app: web}\n", "iac.kube.service-exposed", true},
		{"service ClusterIP", "k.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: ClusterIP\n", "iac.kube.service-exposed", false},
		{"no network policy", "k.yaml", deployVLLM, "iac.kube.no-network-policy", true},
		{"network policy", "k.yaml", deployVLLM + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n", "iac.kube.no-network-policy", false},

		// Dockerfile.
		{"unpinned", "Dockerfile", "FROM python\nUSER app\n", "iac.dockerfile.unpinned-base-image", true},
		{"latest", "Dockerfile", "FROM python:latest\nUSER app\n", "iac.dockerfile.unpinned-base-image", true},
		{"tagged", "Dockerfile", "FROM python:3.12\nUSER app\n", "iac.dockerfile.unpinned-base-image", false},
		{"arg-resolved latest", "Dockerfile", "ARG V=latest\nFROM python:${V}\nUSER app\n", "iac.dockerfile.unpinned-base-image", true},
		{"no digest", "Dockerfile", "FROM python:3.12\nUSER app\n", "iac.dockerfile.base-image-no-digest", true},
		{"digest", "Dockerfile", "FROM python:3.12@sha256:" + strings.Repeat("a", 64) + "\nUSER app\n", "iac.dockerfile.base-image-no-digest", false},
		{"curl pipe", "Dockerfile", "FROM a:1\nRUN curl -sSL https://x.sh/i | bash\nUSER app\n", "iac.dockerfile.curl-pipe-shell", true},
		{"curl pipe continued", "Dockerfile", "FROM a:1\nRUN wget -qO- https://x \\\n  | sudo sh\nUSER app\n", "iac.dockerfile.curl-pipe-shell", true},
		{"curl pipe heredoc", "Dockerfile", "FROM a:1\nRUN <<EOT\nset -e\ncurl -fsSL https://x/i.sh | sh\nEOT\nUSER app\n", "iac.dockerfile.curl-pipe-shell", true},
		{"curl to file", "Dockerfile", "FROM a:1\nRUN curl -o /tmp/i.sh https://x && sha256sum -c sums && sh /tmp/i.sh\nUSER app\n", "iac.dockerfile.curl-pipe-shell", false},
		{"no user", "Dockerfile", "FROM a:1\nRUN true\n", "iac.dockerfile.root-user", true},
		{"user root", "Dockerfile", "FROM a:1\nUSER root\n", "iac.dockerfile.root-user", true},
		{"user in build stage only", "Dockerfile", "FROM a:1 AS b\nUSER app\nFROM c:1\nCOPY --from=b /x /x\n", "iac.dockerfile.root-user", true},
		{"user inherited from stage", "Dockerfile", "FROM a:1 AS base\nUSER 10001\nFROM base\nRUN true\n", "iac.dockerfile.root-user", false},
		{"user app", "Dockerfile", "FROM a:1\nUSER root\nRUN apt-get update\nUSER 10001:10001\n", "iac.dockerfile.root-user", false},
		{"env secret", "Dockerfile", "FROM a:1\nENV API_KEY=Zm9vYmFyYmF6cXV4MTIz\nUSER app\n", "iac.dockerfile.secret-in-env", true},
		{"env legacy secret", "Dockerfile", "FROM a:1\nENV DB_PASSWORD hunter2hunter2\nUSER app\n", "iac.dockerfile.secret-in-env", true},
		{"arg default secret", "Dockerfile", "ARG GITHUB_TOKEN=ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5\nFROM a:1\nUSER app\n", "iac.dockerfile.secret-in-env", true},
		{"env reference", "Dockerfile", "FROM a:1\nENV API_KEY=${API_KEY} HF_HOME=/models\nUSER app\n", "iac.dockerfile.secret-in-env", false},
		{"secret build arg", "Dockerfile", "FROM a:1\nARG NPM_TOKEN\nUSER app\n", "iac.dockerfile.secret-build-arg", true},
		{"plain build arg", "Dockerfile", "FROM a:1\nARG VERSION\nUSER app\n", "iac.dockerfile.secret-build-arg", false},
		{"add url", "Dockerfile", "FROM a:1\nADD https://x.example/m.bin /m\nUSER app\n", "iac.dockerfile.add-from-url", true},
		{"add url checksum", "Dockerfile", "FROM a:1\nADD --checksum=sha256:abc https://x.example/m.bin /m\nUSER app\n", "iac.dockerfile.add-from-url", false},
		{"add local", "Dockerfile", "FROM a:1\nADD app.tar.gz /app\nUSER app\n", "iac.dockerfile.add-from-url", false},
		{"escape directive", "Containerfile", "# escape=`\nFROM a:1\nRUN curl https://x/i `\n  | sh\nUSER app\n", "iac.dockerfile.curl-pipe-shell", true},

		// Compose.
		{"compose privileged", "compose.yaml", "services:\n  a:\n    image: a:1\n    privileged: true\n", "iac.compose.privileged", true},
		{"compose not privileged", "compose.yaml", "services:\n  a:\n    image: a:1\n", "iac.compose.privileged", false},
		{"compose host network", "compose.yaml", "services:\n  a:\n    image: a:1\n    network_mode: host\n", "iac.compose.host-network", true},
		{"compose bridge", "compose.yaml", "services:\n  a:\n    image: a:1\n    network_mode: bridge\n", "iac.compose.host-network", false},
		{"compose docker sock", "compose.yaml", "services:\n  a:\n    image: a:1\n    volumes: [\"/var/run/docker.sock:/var/run/docker.sock:ro\"]\n", "iac.compose.docker-socket", true},
		{"compose named volume", "compose.yaml", "services:\n  a:\n    image: a:1\n    volumes: [\"data:/data\"]\n", "iac.compose.docker-socket", false},
		{"compose env map", "compose.yaml", "services:\n  a:\n    image: a:1\n    environment:\n      POSTGRES_PASSWORD: pg-Pass-1234\n", "iac.compose.secret-env-literal", true},
		{"compose env list", "compose.yaml", "services:\n  a:\n    image: a:1\n    environment:\n      - HF_TOKEN=hf_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3x\n", "iac.compose.secret-env-literal", true},
		{"compose env ref", "compose.yaml", "services:\n  a:\n    image: a:1\n    environment:\n      - HF_TOKEN=${HF_TOKEN}\n      - POSTGRES_PASSWORD_FILE=/run/secrets/pg\n      - OPENAI_API_KEY=your_key_here\n", "iac.compose.secret-env-literal", false},
		{"compose tgi exposed", "compose.yaml", "services:\n  tgi:\n    image: ghcr.io/huggingface/text-generation-inference:2.4\n    ports: [\"8080:80\"]\n", "iac.compose.model-server-exposed", true},
		{"compose vllm command exposed", "compose.yaml", "services:\n  m:\n    image: python:3.12\n    command: [\"vllm\", \"serve\", \"m\"]\n    ports:\n      - target: 8000\n        published: 8000\n", "iac.compose.model-server-exposed", true},
		{"compose model server localhost", "compose.yaml", "services:\n  tgi:\n    image: ghcr.io/huggingface/text-generation-inference:2.4\n    ports: [\"127.0.0.1:8080:80\"]\n", "iac.compose.model-server-exposed", false},
		{"compose web exposed", "compose.yaml", "services:\n  web:\n    image: nginx:1.27\n    ports: [\"80:80\"]\n", "iac.compose.model-server-exposed", false},
		{"compose unpinned", "compose.yaml", "services:\n  a:\n    image: redis\n", "iac.compose.unpinned-image", true},
		{"compose pinned", "compose.yaml", "services:\n  a:\n    image: redis:7.4\n", "iac.compose.unpinned-image", false},
		{"compose root", "compose.yaml", "services:\n  a:\n    image: a:1\n    user: \"0:0\"\n", "iac.compose.root-user", true},
		{"compose non-root", "compose.yaml", "services:\n  a:\n    image: a:1\n    user: \"1000\"\n", "iac.compose.root-user", false},

		// Terraform.
		{"s3 public acl", "m.tf", `resource "aws_s3_bucket" "b" {
  bucket = "x"
  acl    = "public-read"
}`, "iac.terraform.s3-public", true},
		{"s3 private acl", "m.tf", `resource "aws_s3_bucket_acl" "b" {
  bucket = aws_s3_bucket.b.id
  acl    = "private"
}`, "iac.terraform.s3-public", false},
		{"s3 policy document public", "m.tf", `data "aws_iam_policy_document" "p" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::b/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}
resource "aws_s3_bucket_policy" "b" {
  bucket = "b"
  policy = data.aws_iam_policy_document.p.json
}`, "iac.terraform.s3-public", true},
		{"s3 policy heredoc with condition", "m.tf", `resource "aws_s3_bucket_policy" "b" {
  bucket = "b"
  policy = <<POLICY
{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}
POLICY
}`, "iac.terraform.s3-public", false},
		{"s3 access block off", "m.tf", `resource "aws_s3_bucket_public_access_block" "b" {
  bucket              = "b"
  block_public_policy = false
}`, "iac.terraform.s3-public-access-block-disabled", true},
		{"s3 access block on", "m.tf", `resource "aws_s3_bucket_public_access_block" "b" {
  bucket              = "b"
  block_public_policy = true
}`, "iac.terraform.s3-public-access-block-disabled", false},
		{"s3 unencrypted", "m.tf", `resource "aws_s3_bucket" "weights" { bucket = "w" }`, "iac.terraform.s3-unencrypted", true},
		{"s3 encrypted by literal name", "m.tf", `resource "aws_s3_bucket" "weights" { bucket = "w" }
resource "aws_s3_bucket_server_side_encryption_configuration" "e" {
  bucket = "w"
  rule {
    apply_server_side_encryption_by_default { sse_algorithm = "aws:kms" }
  }
}`, "iac.terraform.s3-unencrypted", false},
		{"gcs public binding", "m.tf", `resource "google_storage_bucket_iam_binding" "b" {
  bucket  = "models"
  role    = "roles/storage.objectViewer"
  members = ["user:a@example.com", "allAuthenticatedUsers"]
}`, "iac.terraform.gcs-public", true},
		{"gcs private binding", "m.tf", `resource "google_storage_bucket_iam_binding" "b" {
  bucket  = "models"
  role    = "roles/storage.objectViewer"
  members = ["user:a@example.com"]
}`, "iac.terraform.gcs-public", false},
		{"gcs no uniform", "m.tf", `resource "google_storage_bucket" "b" {
  name     = "b"
  location = "EU"
}`, "iac.terraform.gcs-no-uniform-access", true},
		{"gcs uniform", "m.tf", `resource "google_storage_bucket" "b" {
  name                        = "b"
  uniform_bucket_level_access = true
}`, "iac.terraform.gcs-no-uniform-access", false},
		{"azure public", "m.tf", `resource "azurerm_storage_container" "c" {
  name                  = "models"
  container_access_type = "blob"
}`, "iac.terraform.azure-storage-public", true},
		{"azure private", "m.tf", `resource "azurerm_storage_container" "c" {
  name                  = "models"
  container_access_type = "private"
}`, "iac.terraform.azure-storage-public", false},
		{"sagemaker no kms", "m.tf", `resource "aws_sagemaker_endpoint_configuration" "e" {
  name = "e"
}`, "iac.terraform.sagemaker-no-kms", true},
		{"sagemaker kms", "m.tf", `resource "aws_sagemaker_endpoint_configuration" "e" {
  name        = "e"
  kms_key_arn = aws_kms_key.k.arn
}`, "iac.terraform.sagemaker-no-kms", false},
		{"sagemaker no vpc", "m.tf", `resource "aws_sagemaker_model" "m" {
  name = "m"
}`, "iac.terraform.sagemaker-no-network-isolation", true},
		{"sagemaker vpc", "m.tf", `resource "aws_sagemaker_model" "m" {
  name = "m"
  vpc_config {
    subnets            = ["subnet-1"]
    security_group_ids = ["sg-1"]
  }
}`, "iac.terraform.sagemaker-no-network-isolation", false},
		{"vertex no cmek", "m.tf", `resource "google_vertex_ai_endpoint" "e" {
  name    = "e"
  network = "projects/1/global/networks/n"
}`, "iac.terraform.vertex-no-cmek", true},
		{"vertex cmek", "m.tf", `resource "google_vertex_ai_endpoint" "e" {
  name    = "e"
  network = "projects/1/global/networks/n"
  encryption_spec { kms_key_name = "k" }
}`, "iac.terraform.vertex-no-cmek", false},
		{"vertex public", "m.tf", `resource "google_vertex_ai_endpoint" "e" {
  name = "e"
  encryption_spec { kms_key_name = "k" }
}`, "iac.terraform.vertex-public-endpoint", true},
		{"vertex psc", "m.tf", `resource "google_vertex_ai_endpoint" "e" {
  name = "e"
  private_service_connect_config { enable_private_service_connect = true }
}`, "iac.terraform.vertex-public-endpoint", false},
		{"iam star", "m.tf", `resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = ["s3:*"], Resource = "*" }] })
}`, "iac.terraform.iam-wildcard", true},
		{"iam document star", "m.tf", `data "aws_iam_policy_document" "p" {
  statement {
    actions   = ["*"]
    resources = [aws_s3_bucket.b.arn]
  }
}`, "iac.terraform.iam-wildcard", true},
		{"iam scoped", "m.tf", `resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = ["s3:GetObject"], Resource = "${aws_s3_bucket.b.arn}/*" }] })
}`, "iac.terraform.iam-wildcard", false},
		{"iam deny star", "m.tf", `resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Deny", Action = "*", Resource = "*" }] })
}`, "iac.terraform.iam-wildcard", false},
		{"variable secret default", "m.tf", `variable "openai_api_key" {
  default = "sk-proj-Zq8xW2vL5nR7tY1uI3oP6aS9dF4gH0jK2lM5nB8vC1xZ7qW3"
}`, "iac.terraform.secret-variable-default", true},
		{"variable no default", "m.tf", `variable "openai_api_key" {
  type      = string
  sensitive = true
}`, "iac.terraform.secret-variable-default", false},
		{"variable plain default", "m.tf", `variable "token_limit" { default = "4096" }
variable "region" { default = "eu-west-1" }`, "iac.terraform.secret-variable-default", false},
		{"provider literal key", "m.tf", `provider "aws" {
  access_key = "AKIAIOSFODNN7EXAMPLF"
  secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLFKEY"
}`, "iac.terraform.secret-literal", true},
		{"provider var key", "m.tf", `provider "aws" {
  access_key = var.access_key
}
resource "aws_db_instance" "d" { password = random_password.p.result }`, "iac.terraform.secret-literal", false},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, err := ScanFile(c.file, []byte(c.data))
			if err != nil {
				t.Fatalf("ScanFile: %v", err)
			}
			got := false
			for _, f := range fs {
				if f.RuleID == c.rule {
					got = true
					if f.Location.Line <= 0 {
						t.Errorf("%s: no line", f.RuleID)
					}
					if f.Detector != Detector || f.Remediation == "" {
						t.Errorf("%s: detector %q remediation %q", f.RuleID, f.Detector, f.Remediation)
					}
				}
			}
			if got != c.want {
				var ids []string
				for _, f := range fs {
					ids = append(ids, f.RuleID)
				}
				t.Errorf("rule %s fired = %v, want %v (findings: %v)", c.rule, got, c.want, ids)
			}
		})
		seen[c.rule+"/"+map[bool]string{true: "t", false: "f"}[c.want]] = true
	}
	for _, r := range Rules() {
		if !seen[r.ID+"/t"] || !seen[r.ID+"/f"] {
			t.Errorf("rule %s lacks a true or a false case", r.ID)
		}
	}
}
