package iac

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/rampartsec/rampart/finding"
)

// Limits on Terraform input.
const (
	maxTFDepth     = 32
	maxPolicyBytes = 1 << 20
)

// tfBlock is a Terraform block with accessors for its labels, arguments
// and nested blocks.
type tfBlock struct {
	b *hclsyntax.Block
}

func (t tfBlock) typ() string {
	if len(t.b.Labels) > 0 {
		return t.b.Labels[0]
	}
	return ""
}

func (t tfBlock) name() string {
	if len(t.b.Labels) > 1 {
		return t.b.Labels[1]
	}
	return ""
}

func (t tfBlock) attr(name string) *hclsyntax.Attribute {
	if t.b.Body == nil {
		return nil
	}
	return t.b.Body.Attributes[name]
}

func (t tfBlock) child(typ string) *hclsyntax.Block {
	if t.b.Body == nil {
		return nil
	}
	for _, c := range t.b.Body.Blocks {
		if c.Type == typ {
			return c
		}
	}
	return nil
}

func (t tfBlock) addr() string { return t.typ() + "." + t.name() }

// scanTerraform applies the Terraform rules to one .tf file. Relations
// between resources (a bucket and its encryption or ACL resource) are
// resolved within the file.
func scanTerraform(name string, data []byte) (fs []finding.Finding, err error) {
	defer func() {
		// The HCL parser is third-party code fed hostile input: a panic in
		// it becomes an error, not a crash of the scan.
		if r := recover(); r != nil {
			fs, err = nil, fmt.Errorf("parse terraform %s: parser panic: %v", name, r)
		}
	}()
	f, diags := hclsyntax.ParseConfig(data, name, hcl.Pos{Line: 1, Column: 1, Byte: 0})
	if diags.HasErrors() {
		d := diags.Errs()[0]
		return nil, fmt.Errorf("parse terraform: %w", d)
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, fmt.Errorf("parse terraform %s: unexpected body type", name)
	}
	var resources, datas, variables, others []tfBlock
	for _, b := range body.Blocks {
		switch b.Type {
		case "resource":
			resources = append(resources, tfBlock{b})
		case "data":
			datas = append(datas, tfBlock{b})
		case "variable":
			variables = append(variables, tfBlock{b})
		default:
			others = append(others, tfBlock{b})
		}
	}
	s := &tfScan{byAddr: map[string]tfBlock{}, policyDocs: map[string]policyInfo{}}
	for _, r := range resources {
		s.byAddr[r.addr()] = r
	}
	for _, d := range datas {
		if d.typ() == "aws_iam_policy_document" {
			info := s.policyDocument(d)
			s.policyDocs[d.name()] = info
		}
	}
	s.buckets(resources)
	for _, r := range resources {
		s.resource(r)
	}
	for _, v := range variables {
		s.variable(v)
	}
	for _, b := range append(append(resources, others...), datas...) {
		s.literals(b.b.Body, 0)
	}
	return s.fs, nil
}

type tfScan struct {
	fs         []finding.Finding
	byAddr     map[string]tfBlock
	policyDocs map[string]policyInfo
}

func (s *tfScan) add(r *finding.Rule, rng hcl.Range, excerpt, msg string) *finding.Finding {
	s.fs = append(s.fs, newFinding(r, rng.Start.Line, rng.Start.Byte, excerpt, msg))
	return &s.fs[len(s.fs)-1]
}

// buckets applies the S3, GCS and Azure storage rules.
func (s *tfScan) buckets(resources []tfBlock) {
	encrypted := map[string]bool{}
	for _, r := range resources {
		if r.typ() == "aws_s3_bucket_server_side_encryption_configuration" {
			_, names := s.bucketRef(r)
			for _, n := range names[1:] {
				encrypted[n] = true
			}
		}
	}
	for _, r := range resources {
		ref, names := s.bucketRef(r)
		data, enc := false, false
		for _, n := range names {
			data = data || dataBucket(n)
			enc = enc || encrypted[n]
		}
		raise := func(f *finding.Finding) {
			if data && f.Severity < finding.Critical {
				f.Severity++
				f.Message += "; the bucket holds models or data"
			}
		}
		switch r.typ() {
		case "aws_s3_bucket":
			if a := r.attr("acl"); a != nil && publicACL(strVal(a.Expr)) {
				raise(s.add(tfS3Public, a.SrcRange, "acl = "+clip(strVal(a.Expr), 40), fmt.Sprintf("%s has a public ACL", r.addr())))
			}
			if r.child("server_side_encryption_configuration") == nil && !enc {
				f := s.add(tfS3Unencrypted, r.b.TypeRange, r.addr(), fmt.Sprintf("%s has no server-side encryption configuration with a customer key", r.addr()))
				if !data {
					f.Severity = finding.Low
				}
			}
		case "aws_s3_bucket_acl":
			if a := r.attr("acl"); a != nil && publicACL(strVal(a.Expr)) {
				raise(s.add(tfS3Public, a.SrcRange, "acl = "+clip(strVal(a.Expr), 40), fmt.Sprintf("%s makes bucket %s public", r.addr(), clip(ref, 80))))
			}
		case "aws_s3_bucket_policy":
			if a := r.attr("policy"); a != nil {
				if info := s.policyOf(a.Expr); info.public {
					raise(s.add(tfS3Public, a.SrcRange, "Principal \"*\"", fmt.Sprintf("%s grants access to everyone (Principal \"*\") on bucket %s", r.addr(), clip(ref, 80))))
				}
			}
		case "aws_s3_bucket_public_access_block":
			for _, k := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
				if a := r.attr(k); a != nil && isFalse(a.Expr) {
					raise(s.add(tfS3AccessBlock, a.SrcRange, k+" = false", fmt.Sprintf("%s turns off %s for bucket %s", r.addr(), k, clip(ref, 80))))
				}
			}
		case "google_storage_bucket":
			if a := r.attr("uniform_bucket_level_access"); a == nil || !isTrue(a.Expr) {
				f := s.add(tfGCSUniform, r.b.TypeRange, r.addr(), fmt.Sprintf("%s does not enforce uniform bucket-level access", r.addr()))
				raise(f)
			}
		case "google_storage_bucket_iam_member", "google_storage_bucket_iam_binding":
			for _, k := range []string{"member", "members"} {
				if a := r.attr(k); a != nil {
					for _, m := range strList(a.Expr) {
						if m == "allUsers" || m == "allAuthenticatedUsers" {
							raise(s.add(tfGCSPublic, a.SrcRange, k+" = "+m, fmt.Sprintf("%s grants %s access to bucket %s", r.addr(), m, clip(ref, 80))))
						}
					}
				}
			}
		case "google_storage_bucket_acl", "google_storage_default_object_acl":
			if a := r.attr("predefined_acl"); a != nil && strings.HasPrefix(strVal(a.Expr), "public") {
				raise(s.add(tfGCSPublic, a.SrcRange, "predefined_acl = "+clip(strVal(a.Expr), 40), fmt.Sprintf("%s makes bucket %s public", r.addr(), clip(ref, 80))))
			}
			if a := r.attr("role_entity"); a != nil {
				for _, m := range strList(a.Expr) {
					if strings.Contains(m, "allUsers") || strings.Contains(m, "allAuthenticatedUsers") {
						raise(s.add(tfGCSPublic, a.SrcRange, "role_entity = "+clip(m, 60), fmt.Sprintf("%s makes bucket %s public", r.addr(), clip(ref, 80))))
						break
					}
				}
			}
		case "azurerm_storage_account":
			for _, k := range []string{"allow_nested_items_to_be_public", "allow_blob_public_access"} {
				if a := r.attr(k); a != nil && isTrue(a.Expr) {
					raise(s.add(tfAzurePublic, a.SrcRange, k+" = true", fmt.Sprintf("%s allows anonymous public read of blobs", r.addr())))
				}
			}
		case "azurerm_storage_container":
			if a := r.attr("container_access_type"); a != nil {
				if v := strVal(a.Expr); v == "blob" || v == "container" {
					raise(s.add(tfAzurePublic, a.SrcRange, "container_access_type = "+v, fmt.Sprintf("%s allows anonymous access (%s)", r.addr(), v)))
				}
			}
		}
	}
}

// bucketRef names the bucket a resource is about: the bucket resource its
// bucket (or name) argument references, such as aws_s3_bucket.models, or
// the literal name it gives, or else its own address. The second result
// is every name the bucket is known by (address and literal name), for
// matching resources that configure it and for guessing its contents.
func (s *tfScan) bucketRef(r tfBlock) (string, []string) {
	names := []string{r.addr()}
	for _, k := range []string{"bucket", "storage_account_name", "storage_account_id", "name"} {
		a := r.attr(k)
		if a == nil {
			continue
		}
		if v := strVal(a.Expr); v != "" {
			return v, append(names, v)
		}
		for _, t := range a.Expr.Variables() {
			if len(t) < 2 {
				continue
			}
			attr, ok := t[1].(hcl.TraverseAttr)
			if !ok {
				continue
			}
			addr := t.RootName() + "." + attr.Name
			if b, ok := s.byAddr[addr]; ok && b.addr() != r.addr() {
				if lit := strVal(exprOf(b.attr("bucket"))); lit != "" {
					return addr, []string{addr, lit}
				}
				if lit := strVal(exprOf(b.attr("name"))); lit != "" {
					return addr, []string{addr, lit}
				}
			}
			return addr, []string{addr}
		}
	}
	return r.addr(), names
}

// dataWords are name parts of buckets that hold models or data.
var dataWords = map[string]bool{
	"model": true, "models": true, "weights": true, "checkpoint": true, "checkpoints": true, "data": true,
	"dataset": true, "datasets": true, "training": true, "train": true, "artifact": true, "artifacts": true,
	"features": true, "embeddings": true, "mlflow": true, "sagemaker": true, "llm": true, "corpus": true, "ml": true,
	"finetune": true, "vertex": true,
}

// dataBucket reports whether a bucket name or reference suggests it holds
// models or data.
func dataBucket(ref string) bool {
	for _, p := range strings.FieldsFunc(strings.ToLower(ref), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		if dataWords[p] {
			return true
		}
	}
	return false
}

func publicACL(v string) bool {
	return v == "public-read" || v == "public-read-write" || v == "authenticated-read"
}

// resource applies the ML service and IAM rules.
func (s *tfScan) resource(r tfBlock) {
	switch r.typ() {
	case "aws_sagemaker_endpoint_configuration":
		if r.attr("kms_key_arn") == nil {
			s.add(tfSageMakerKMS, r.b.TypeRange, r.addr(), fmt.Sprintf("%s encrypts endpoint storage with no customer-managed key (kms_key_arn unset)", r.addr()))
		}
	case "aws_sagemaker_notebook_instance":
		if r.attr("kms_key_id") == nil {
			s.add(tfSageMakerKMS, r.b.TypeRange, r.addr(), fmt.Sprintf("%s has no kms_key_id", r.addr()))
		}
		if a := r.attr("direct_internet_access"); a == nil || strVal(a.Expr) != "Disabled" {
			s.add(tfSageMakerNetwork, r.b.TypeRange, r.addr(), fmt.Sprintf("%s has direct internet access", r.addr()))
		}
	case "aws_sagemaker_model":
		if r.child("vpc_config") == nil && !isTrue(exprOf(r.attr("enable_network_isolation"))) {
			s.add(tfSageMakerNetwork, r.b.TypeRange, r.addr(), fmt.Sprintf("%s has neither vpc_config nor enable_network_isolation", r.addr()))
		}
	case "google_vertex_ai_endpoint", "google_vertex_ai_dataset", "google_vertex_ai_featurestore", "google_vertex_ai_index":
		if r.child("encryption_spec") == nil {
			s.add(tfVertexCMEK, r.b.TypeRange, r.addr(), fmt.Sprintf("%s has no encryption_spec (Google-managed keys only)", r.addr()))
		}
		if r.typ() == "google_vertex_ai_endpoint" && r.attr("network") == nil && r.child("private_service_connect_config") == nil {
			s.add(tfVertexPublic, r.b.TypeRange, r.addr(), fmt.Sprintf("%s is served on a public endpoint (no network or private_service_connect_config)", r.addr()))
		}
	case "aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy":
		if a := r.attr("policy"); a != nil {
			if info := s.policyOf(a.Expr); info.wildcard != "" {
				s.add(tfIAMWildcard, a.SrcRange, "Action "+clip(info.wildcard, 60), fmt.Sprintf("%s allows %s", r.addr(), info.wildcard))
			}
		}
	}
}

// variable applies the secret-default rule.
func (s *tfScan) variable(v tfBlock) {
	a := v.attr("default")
	if a == nil || len(a.Expr.Variables()) > 0 {
		return
	}
	val := strVal(a.Expr)
	sensitive := isTrue(exprOf(v.attr("sensitive")))
	if secretValue(v.typ(), val) || (sensitive && val != "" && secretValue("secret", val)) {
		s.add(tfSecretDefault, a.SrcRange, "variable "+maskedExcerpt(clip(v.typ(), 80), val),
			fmt.Sprintf("variable %q has a literal secret as its default", clip(v.typ(), 80)))
	}
}

// literals reports literal secrets in the attributes of a body, nested
// blocks included.
func (s *tfScan) literals(b *hclsyntax.Body, depth int) {
	if b == nil || depth > maxTFDepth {
		return
	}
	for name, a := range b.Attributes {
		if len(a.Expr.Variables()) > 0 {
			continue
		}
		if v := strVal(a.Expr); v != "" && secretValue(name, v) {
			s.add(tfSecretLiteral, a.SrcRange, maskedExcerpt(clip(name, 80), v), fmt.Sprintf("%s is a literal secret", clip(name, 80)))
		}
	}
	for _, c := range b.Blocks {
		s.literals(c.Body, depth+1)
	}
}

// policyInfo is what the rules need to know of an IAM policy.
type policyInfo struct {
	public   bool   // an Allow statement with Principal "*" and no Condition
	wildcard string // an allowed action that is "*" or service:* on Resource "*"
}

// policyOf analyses a policy argument: jsonencode({...}), a JSON string or
// heredoc, or a reference to a data "aws_iam_policy_document".
func (s *tfScan) policyOf(e hclsyntax.Expression) policyInfo {
	for _, t := range e.Variables() {
		if len(t) >= 3 && t.RootName() == "data" {
			if a, ok := t[1].(hcl.TraverseAttr); ok && a.Name == "aws_iam_policy_document" {
				if n, ok := t[2].(hcl.TraverseAttr); ok {
					return s.policyDocs[n.Name]
				}
			}
		}
	}
	if fc, ok := e.(*hclsyntax.FunctionCallExpr); ok && fc.Name == "jsonencode" && len(fc.Args) == 1 {
		return analysePolicy(goValue(evalExpr(fc.Args[0]), 0))
	}
	v := strVal(e)
	if v == "" || len(v) > maxPolicyBytes {
		return policyInfo{}
	}
	var doc any
	if json.Unmarshal([]byte(v), &doc) != nil {
		return policyInfo{}
	}
	return analysePolicy(doc)
}

// policyDocument turns a data "aws_iam_policy_document" into statements.
func (s *tfScan) policyDocument(d tfBlock) policyInfo {
	var stmts []any
	for _, st := range d.b.Body.Blocks {
		if st.Type != "statement" {
			continue
		}
		sb := tfBlock{st}
		m := map[string]any{"Effect": "Allow"}
		if a := sb.attr("effect"); a != nil {
			m["Effect"] = strVal(a.Expr)
		}
		if a := sb.attr("actions"); a != nil {
			m["Action"] = anyList(strList(a.Expr))
		}
		if a := sb.attr("resources"); a != nil {
			m["Resource"] = anyList(strList(a.Expr))
		}
		for _, p := range st.Body.Blocks {
			switch p.Type {
			case "principals":
				pb := tfBlock{p}
				if strVal(exprOf(pb.attr("type"))) == "*" || slicesContains(strList(exprOf(pb.attr("identifiers"))), "*") {
					m["Principal"] = "*"
				}
			case "condition":
				m["Condition"] = map[string]any{"present": true}
			}
		}
		stmts = append(stmts, m)
	}
	info := analysePolicy(map[string]any{"Statement": stmts})
	if info.wildcard != "" {
		s.add(tfIAMWildcard, d.b.TypeRange, "data."+d.addr()+" Action "+clip(info.wildcard, 60),
			fmt.Sprintf("policy document %s allows %s", d.name(), info.wildcard))
	}
	return info
}

// analysePolicy inspects a decoded policy document.
func analysePolicy(doc any) policyInfo {
	var info policyInfo
	m, _ := doc.(map[string]any)
	var stmts []any
	switch st := m["Statement"].(type) {
	case []any:
		stmts = st
	case map[string]any:
		stmts = []any{st}
	}
	for _, x := range stmts {
		st, ok := x.(map[string]any)
		if !ok {
			continue
		}
		if eff, _ := st["Effect"].(string); eff != "" && !strings.EqualFold(eff, "Allow") {
			continue
		}
		if _, hasCond := st["Condition"]; !hasCond && principalStar(st["Principal"]) {
			info.public = true
		}
		resStar := slicesContains(asStrings(st["Resource"]), "*")
		for _, a := range asStrings(st["Action"]) {
			if a == "*" || (resStar && strings.HasSuffix(a, ":*")) {
				if info.wildcard == "" {
					info.wildcard = a
					if a != "*" {
						info.wildcard += " on Resource \"*\""
					}
				}
			}
		}
	}
	return info
}

func principalStar(p any) bool {
	switch v := p.(type) {
	case string:
		return v == "*"
	case map[string]any:
		for _, x := range v {
			if slicesContains(asStrings(x), "*") {
				return true
			}
		}
	}
	return false
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func exprOf(a *hclsyntax.Attribute) hclsyntax.Expression {
	if a == nil {
		return nil
	}
	return a.Expr
}

// evalExpr evaluates an expression with every variable it references
// unknown and no functions, so only its literal parts are known.
func evalExpr(e hclsyntax.Expression) cty.Value {
	if e == nil {
		return cty.NilVal
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}}
	for _, t := range e.Variables() {
		ctx.Variables[t.RootName()] = cty.DynamicVal
	}
	v, diags := e.Value(ctx)
	if diags.HasErrors() {
		return cty.DynamicVal
	}
	return v
}

// strVal returns the expression's value if it is a known string (or a
// number or bool rendered as text), else "".
func strVal(e hclsyntax.Expression) string {
	v := evalExpr(e)
	if v == cty.NilVal || !v.IsWhollyKnown() || v.IsNull() {
		return ""
	}
	switch v.Type() {
	case cty.String:
		return v.AsString()
	case cty.Bool:
		if v.True() {
			return "true"
		}
		return "false"
	case cty.Number:
		bf := v.AsBigFloat()
		return bf.Text('g', 20)
	}
	return ""
}

func isTrue(e hclsyntax.Expression) bool  { return strVal(e) == "true" }
func isFalse(e hclsyntax.Expression) bool { return strVal(e) == "false" }

// strList returns the known strings of a string or a list of strings.
func strList(e hclsyntax.Expression) []string {
	return asStrings(goValue(evalExpr(e), 0))
}

// goValue converts a cty value to plain Go values; unknown parts are nil.
func goValue(v cty.Value, depth int) any {
	if v == cty.NilVal || depth > maxTFDepth || !v.IsKnown() || v.IsNull() {
		return nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString()
	case t == cty.Bool:
		return v.True()
	case t == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		return f
	case t.IsListType() || t.IsTupleType() || t.IsSetType():
		var out []any
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, goValue(e, depth+1))
		}
		return out
	case t.IsMapType() || t.IsObjectType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if k.IsKnown() && k.Type() == cty.String {
				out[k.AsString()] = goValue(e, depth+1)
			}
		}
		return out
	}
	return nil
}
