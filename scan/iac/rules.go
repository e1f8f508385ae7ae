package iac

import "github.com/rampartsec/rampart/finding"

// The rule families, one per file kind.
var (
	kubeFamily       = finding.Family{Name: "iac.kube", Layer: finding.LayerInfrastructure}
	dockerfileFamily = finding.Family{Name: "iac.dockerfile", Layer: finding.LayerInfrastructure}
	composeFamily    = finding.Family{Name: "iac.compose", Layer: finding.LayerInfrastructure}
	terraformFamily  = finding.Family{Name: "iac.terraform", Layer: finding.LayerInfrastructure}
)

// rule makes a rule of family f with its own remediation and references.
func rule(f finding.Family, id, title string, sev finding.Severity, remediation string, owasp []string, cwe ...string) *finding.Rule {
	r := f.Rule(id, title, sev)
	r.Remediation = remediation
	r.References = finding.References{OWASP: owasp, CWE: cwe}
	return r
}

var (
	owaspSupply  = []string{"LLM03:2025"}
	owaspSecrets = []string{"LLM02:2025"}
	owaspDoS     = []string{"LLM10:2025"}
	owaspTheft   = []string{"LLM02:2025", "LLM10:2025"}
)

// Kubernetes rules.
var (
	kubePrivileged = rule(kubeFamily, "privileged", "Container runs privileged", finding.High,
		"Remove securityContext.privileged: true; grant only the capabilities the container needs.", nil, "CWE-250")
	kubeRunAsRoot = rule(kubeFamily, "run-as-root", "Container runs as root", finding.High,
		"Set securityContext.runAsNonRoot: true and a non-zero runAsUser.", nil, "CWE-250")
	kubeRootNotPrevented = rule(kubeFamily, "run-as-non-root-unset", "Container may run as root (runAsNonRoot not set)", finding.Medium,
		"Set securityContext.runAsNonRoot: true (pod or container) so the kubelet refuses root images.", nil, "CWE-250")
	kubeHostPath = rule(kubeFamily, "host-path", "Pod mounts a hostPath volume", finding.High,
		"Use persistentVolumeClaim, emptyDir or CSI volumes instead of hostPath.", nil, "CWE-668")
	kubeHostNamespace = rule(kubeFamily, "host-network", "Pod shares the host's network, PID or IPC namespace", finding.High,
		"Remove hostNetwork, hostPID and hostIPC; expose ports through a Service.", nil, "CWE-668")
	kubeNoLimits = rule(kubeFamily, "no-resource-limits", "Container has no CPU or memory limit", finding.Medium,
		"Set resources.limits.cpu and resources.limits.memory (and GPU limits for model servers).", owaspDoS, "CWE-770")
	kubeSecretEnv = rule(kubeFamily, "secret-env-literal", "Secret written as a literal environment value", finding.High,
		"Move the value to a Secret and reference it with valueFrom.secretKeyRef; rotate the exposed credential.", owaspSecrets, "CWE-798")
	kubeModelServerExposed = rule(kubeFamily, "model-server-exposed", "Model server exposed through a LoadBalancer or NodePort Service", finding.High,
		"Use a ClusterIP Service behind an authenticating gateway or ingress; restrict loadBalancerSourceRanges.", owaspTheft, "CWE-668", "CWE-306")
	kubeServiceExposed = rule(kubeFamily, "service-exposed", "Service exposed through a LoadBalancer or NodePort", finding.Low,
		"Prefer a ClusterIP Service behind an ingress with authentication; restrict loadBalancerSourceRanges.", nil, "CWE-668")
	kubeNoNetworkPolicy = rule(kubeFamily, "no-network-policy", "Namespace has workloads but no NetworkPolicy", finding.Medium,
		"Add a default-deny NetworkPolicy for the namespace and allow only the traffic the workloads need.", nil, "CWE-284")
)

// Dockerfile rules.
var (
	dockerUnpinned = rule(dockerfileFamily, "unpinned-base-image", "Base image not pinned (no tag or :latest)", finding.Medium,
		"Pin the base image to a version tag and a digest: FROM image:1.2.3@sha256:….", owaspSupply, "CWE-1357", "CWE-494")
	dockerNoDigest = rule(dockerfileFamily, "base-image-no-digest", "Base image pinned by tag but not by digest", finding.Low,
		"Add the digest: FROM image:tag@sha256:…, so a re-pushed tag cannot change the build.", owaspSupply, "CWE-494")
	dockerCurlPipe = rule(dockerfileFamily, "curl-pipe-shell", "Script downloaded and piped into a shell", finding.High,
		"Download to a file, verify its checksum or signature, then run it.", owaspSupply, "CWE-494")
	dockerRootUser = rule(dockerfileFamily, "root-user", "Final stage runs as root", finding.Medium,
		"Add USER with a non-root user (e.g. USER 10001) at the end of the final stage.", nil, "CWE-250")
	dockerSecretEnv = rule(dockerfileFamily, "secret-in-env", "Secret in an ENV or ARG value", finding.High,
		"Use build secrets (RUN --mount=type=secret) or inject the value at run time; rotate the exposed credential.", owaspSecrets, "CWE-798", "CWE-538")
	dockerSecretArg = rule(dockerfileFamily, "secret-build-arg", "Secret passed as a build argument", finding.Medium,
		"Build arguments are recorded in the image history; use RUN --mount=type=secret instead.", owaspSecrets, "CWE-538")
	dockerAddURL = rule(dockerfileFamily, "add-from-url", "ADD fetches a remote URL without a checksum", finding.Medium,
		"Use ADD --checksum=sha256:… or download with curl and verify the checksum.", owaspSupply, "CWE-494")
)

// docker-compose rules.
var (
	composePrivileged = rule(composeFamily, "privileged", "Service runs privileged", finding.High,
		"Remove privileged: true; add only the capabilities the service needs.", nil, "CWE-250")
	composeHostNamespace = rule(composeFamily, "host-network", "Service shares the host's network, PID or IPC namespace", finding.High,
		"Remove network_mode/pid/ipc: host and publish only the ports needed.", nil, "CWE-668")
	composeDockerSocket = rule(composeFamily, "docker-socket", "Service mounts the Docker socket or the host root", finding.Critical,
		"Do not mount /var/run/docker.sock or /; it gives root on the host.", nil, "CWE-250", "CWE-668")
	composeSecretEnv = rule(composeFamily, "secret-env-literal", "Secret written as a literal environment value", finding.High,
		"Use Compose secrets or an untracked env_file; rotate the exposed credential.", owaspSecrets, "CWE-798")
	composeModelServerExposed = rule(composeFamily, "model-server-exposed", "Model server port published on all interfaces", finding.High,
		"Publish on 127.0.0.1 only (\"127.0.0.1:8000:8000\") or put an authenticating proxy in front.", owaspTheft, "CWE-668", "CWE-306")
	composeUnpinned = rule(composeFamily, "unpinned-image", "Image not pinned (no tag or :latest)", finding.Medium,
		"Pin the image to a version tag and a digest.", owaspSupply, "CWE-1357", "CWE-494")
	composeRootUser = rule(composeFamily, "root-user", "Service explicitly runs as root", finding.Medium,
		"Set user: to a non-root uid.", nil, "CWE-250")
)

// Terraform rules.
var (
	tfS3Public = rule(terraformFamily, "s3-public", "S3 bucket public through an ACL or bucket policy", finding.High,
		"Remove public ACLs and Principal \"*\" statements; serve through signed URLs or CloudFront with OAC.", owaspTheft, "CWE-284", "CWE-732")
	tfS3AccessBlock = rule(terraformFamily, "s3-public-access-block-disabled", "S3 public access block disabled", finding.Medium,
		"Set block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets to true.", owaspTheft, "CWE-284")
	tfS3Unencrypted = rule(terraformFamily, "s3-unencrypted", "S3 bucket without a server-side encryption configuration", finding.Medium,
		"Add aws_s3_bucket_server_side_encryption_configuration with sse_algorithm = \"aws:kms\" and a customer key.", owaspTheft, "CWE-311")
	tfGCSPublic = rule(terraformFamily, "gcs-public", "GCS bucket readable by allUsers or allAuthenticatedUsers", finding.High,
		"Remove allUsers/allAuthenticatedUsers bindings and set public_access_prevention = \"enforced\".", owaspTheft, "CWE-284", "CWE-732")
	tfGCSUniform = rule(terraformFamily, "gcs-no-uniform-access", "GCS bucket without uniform bucket-level access", finding.Low,
		"Set uniform_bucket_level_access = true so object ACLs cannot make objects public.", nil, "CWE-284")
	tfAzurePublic = rule(terraformFamily, "azure-storage-public", "Azure storage allows public blob access", finding.High,
		"Set allow_nested_items_to_be_public = false and container_access_type = \"private\".", owaspTheft, "CWE-284", "CWE-732")
	tfSageMakerKMS = rule(terraformFamily, "sagemaker-no-kms", "SageMaker resource without a customer-managed KMS key", finding.Medium,
		"Set kms_key_arn (endpoint configuration) or kms_key_id (notebook) to a customer-managed key.", owaspTheft, "CWE-311")
	tfSageMakerNetwork = rule(terraformFamily, "sagemaker-no-network-isolation", "SageMaker model or notebook without network isolation", finding.Medium,
		"Add vpc_config (private subnets, security groups), enable_network_isolation, or direct_internet_access = \"Disabled\".", owaspTheft, "CWE-668")
	tfVertexCMEK = rule(terraformFamily, "vertex-no-cmek", "Vertex AI resource without a customer-managed encryption key", finding.Medium,
		"Add encryption_spec { kms_key_name = … }.", owaspTheft, "CWE-311")
	tfVertexPublic = rule(terraformFamily, "vertex-public-endpoint", "Vertex AI endpoint without private networking", finding.Medium,
		"Set network (VPC peering) or private_service_connect_config on the endpoint.", owaspTheft, "CWE-668")
	tfIAMWildcard = rule(terraformFamily, "iam-wildcard", "IAM policy allows \"*\" actions", finding.High,
		"Grant only the actions and resources needed; never Action \"*\" or service:* on Resource \"*\".", nil, "CWE-269", "CWE-732")
	tfSecretDefault = rule(terraformFamily, "secret-variable-default", "Secret in a variable default", finding.High,
		"Remove the default; pass the value through TF_VAR_… or a secret manager and mark the variable sensitive.", owaspSecrets, "CWE-798")
	tfSecretLiteral = rule(terraformFamily, "secret-literal", "Secret written as a literal argument", finding.High,
		"Reference a variable, data source or secret manager instead; rotate the exposed credential.", owaspSecrets, "CWE-798")
)

var allRules = []*finding.Rule{
	kubePrivileged, kubeRunAsRoot, kubeRootNotPrevented, kubeHostPath, kubeHostNamespace, kubeNoLimits,
	kubeSecretEnv, kubeModelServerExposed, kubeServiceExposed, kubeNoNetworkPolicy,
	dockerUnpinned, dockerNoDigest, dockerCurlPipe, dockerRootUser, dockerSecretEnv, dockerSecretArg, dockerAddURL,
	composePrivileged, composeHostNamespace, composeDockerSocket, composeSecretEnv, composeModelServerExposed,
	composeUnpinned, composeRootUser,
	tfS3Public, tfS3AccessBlock, tfS3Unencrypted, tfGCSPublic, tfGCSUniform, tfAzurePublic, tfSageMakerKMS,
	tfSageMakerNetwork, tfVertexCMEK, tfVertexPublic, tfIAMWildcard, tfSecretDefault, tfSecretLiteral,
}

// Rules lists every rule the package can report.
func Rules() []finding.Rule {
	out := make([]finding.Rule, len(allRules))
	for i, r := range allRules {
		out[i] = *r
	}
	return out
}

// secretRules are the rules that report a secret written in clear, which
// a secrets scanner run on the same file finds as well.
var secretRules = map[string]bool{
	kubeSecretEnv.ID: true, dockerSecretEnv.ID: true, dockerSecretArg.ID: true,
	composeSecretEnv.ID: true, tfSecretDefault.ID: true, tfSecretLiteral.ID: true,
}

// SecretRule reports whether rule id reports a secret written in clear
// (a literal environment value, build argument, variable default or
// argument), so that a combined report can fold it into the secrets
// scanner's finding on the same line.
func SecretRule(id string) bool { return secretRules[id] }
