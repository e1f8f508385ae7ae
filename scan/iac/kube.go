package iac

import (
	"fmt"
	"strings"

	"github.com/rampartsec/rampart/finding"
)

// maxKubeListDepth bounds nested List objects.
const maxKubeListDepth = 4

// kubeObject is one Kubernetes object of a file.
type kubeObject struct {
	path      string // set by Scan
	kind      string
	name      string
	namespace string
	root      *node
	pod       *node // pod spec of a workload, or nil
	podLabels *node
	model     bool // a workload that runs a model server
}

// podSpecPath is where each workload kind keeps its pod spec and labels.
var podSpecPath = map[string][]string{
	"Pod":                   nil,
	"Deployment":            {"spec", "template"},
	"StatefulSet":           {"spec", "template"},
	"DaemonSet":             {"spec", "template"},
	"ReplicaSet":            {"spec", "template"},
	"ReplicationController": {"spec", "template"},
	"Job":                   {"spec", "template"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template"},
}

// kubeObjects turns the documents of a file into objects, unrolling Lists.
func kubeObjects(docs []*node, data []byte) []*kubeObject {
	var out []*kubeObject
	var add func(n *node, depth int)
	add = func(n *node, depth int) {
		if n == nil || n.kind != mapNode || depth > maxKubeListDepth {
			return
		}
		kind := n.get("kind").str()
		if n.get("apiVersion") == nil || kind == "" {
			return
		}
		if strings.HasSuffix(kind, "List") {
			for _, it := range n.get("items").items() {
				add(it, depth+1)
			}
			return
		}
		o := &kubeObject{kind: kind, root: n, name: n.path("metadata", "name").str(), namespace: n.path("metadata", "namespace").str()}
		if p, ok := podSpecPath[kind]; ok {
			tmpl := n.path(p...)
			o.pod = tmpl.get("spec")
			o.podLabels = tmpl.path("metadata", "labels")
			for _, c := range containers(o.pod) {
				if isModelServer(c.get("image").str(), commandLine(c)) {
					o.model = true
				}
				for _, p := range c.get("ports").items() {
					if modelServerPorts[p.get("containerPort").str()] {
						o.model = true
					}
				}
			}
		}
		if kind == "InferenceService" || kind == "ServingRuntime" || kind == "RayService" {
			o.model = true
		}
		out = append(out, o)
	}
	for _, d := range docs {
		add(d, 0)
	}
	return out
}

// containers returns every container, init container and ephemeral
// container of a pod spec.
func containers(pod *node) []*node {
	var cs []*node
	for _, k := range []string{"containers", "initContainers", "ephemeralContainers"} {
		cs = append(cs, pod.get(k).items()...)
	}
	return cs
}

// commandLine joins a container's command and args.
func commandLine(c *node) string {
	var parts []string
	for _, k := range []string{"command", "args"} {
		for _, it := range c.get(k).items() {
			parts = append(parts, it.str())
		}
	}
	return strings.Join(parts, " ")
}

func objName(o *kubeObject) string { return o.kind + "/" + o.name }

// kubeObjectFindings applies the per-object rules.
func kubeObjectFindings(o *kubeObject) []finding.Finding {
	if o.pod == nil {
		return nil
	}
	var fs []finding.Finding
	pod := o.pod
	for _, k := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		if v := pod.get(k); v.isTrue() {
			fs = append(fs, newFinding(kubeHostNamespace, v.line, v.offset, k+": true",
				fmt.Sprintf("%s sets %s: true and shares the host's namespace", objName(o), k)))
		}
	}
	for _, vol := range pod.get("volumes").items() {
		if hp := vol.get("hostPath"); hp != nil {
			p := hp.get("path").str()
			fs = append(fs, newFinding(kubeHostPath, hp.line, hp.offset, "hostPath: "+clip(p, 120),
				fmt.Sprintf("%s mounts the host path %q (volume %q)", objName(o), clip(p, 120), clip(vol.get("name").str(), 60))))
		}
	}
	podSC := pod.get("securityContext")
	for _, c := range containers(pod) {
		cname := clip(c.get("name").str(), 60)
		where := fmt.Sprintf("%s container %q", objName(o), cname)
		sc := c.get("securityContext")
		if v := sc.get("privileged"); v.isTrue() {
			fs = append(fs, newFinding(kubePrivileged, v.line, v.offset, "privileged: true", where+" runs privileged"))
		}
		fs = append(fs, kubeRootFindings(where, c, sc, podSC)...)
		lim := c.path("resources", "limits")
		if lim.get("memory") == nil || lim.get("cpu") == nil {
			at := c.get("resources")
			if at == nil {
				at = c
			}
			missing := "cpu and memory"
			if lim.get("memory") != nil {
				missing = "cpu"
			} else if lim.get("cpu") != nil {
				missing = "memory"
			}
			f := newFinding(kubeNoLimits, at.line, at.offset, "resources.limits", where+" has no "+missing+" limit")
			fs = append(fs, f)
		}
		for _, e := range c.get("env").items() {
			v := e.get("value")
			if v == nil || v.kind != scalarNode {
				continue
			}
			name := e.get("name").str()
			if secretValue(name, v.value) {
				fs = append(fs, newFinding(kubeSecretEnv, v.line, v.offset, maskedExcerpt(name, v.value),
					fmt.Sprintf("%s sets %s to a literal secret", where, clip(name, 80))))
			}
		}
	}
	return fs
}

func kubeRootFindings(where string, c, sc, podSC *node) []finding.Finding {
	user := sc.get("runAsUser")
	if user == nil {
		user = podSC.get("runAsUser")
	}
	nonRoot := sc.get("runAsNonRoot")
	if nonRoot == nil {
		nonRoot = podSC.get("runAsNonRoot")
	}
	switch {
	case user != nil && user.str() == "0":
		return []finding.Finding{newFinding(kubeRunAsRoot, user.line, user.offset, "runAsUser: 0", where+" runs as uid 0")}
	case nonRoot.isFalse():
		return []finding.Finding{newFinding(kubeRunAsRoot, nonRoot.line, nonRoot.offset, "runAsNonRoot: false", where+" allows running as root")}
	case nonRoot.isTrue() || (user != nil && user.str() != ""):
		return nil
	}
	return []finding.Finding{newFinding(kubeRootNotPrevented, c.line, c.offset, "runAsNonRoot unset",
		where+" sets neither runAsNonRoot nor a non-zero runAsUser; it runs as the image's user, often root")}
}

// internalLBAnnotations mark a LoadBalancer Service as internal.
var internalLBAnnotations = []string{
	"service.beta.kubernetes.io/aws-load-balancer-internal",
	"service.beta.kubernetes.io/azure-load-balancer-internal",
	"networking.gke.io/load-balancer-type",
	"cloud.google.com/load-balancer-type",
	"service.beta.kubernetes.io/oci-load-balancer-internal",
}

// kubeSetFindings applies the rules that relate objects to each other:
// Services that expose model servers, and namespaces without a
// NetworkPolicy. The objects may come from many files.
func kubeSetFindings(objs []*kubeObject) []finding.Finding {
	var fs []finding.Finding
	policies := map[string]bool{}
	for _, o := range objs {
		if o.kind == "NetworkPolicy" {
			policies[o.namespace] = true
		}
	}
	reported := map[string]bool{}
	for _, o := range objs {
		if o.pod != nil && !policies[o.namespace] && !reported[o.namespace] {
			reported[o.namespace] = true
			ns := o.namespace
			if ns == "" {
				ns = "default"
			}
			f := newFinding(kubeNoNetworkPolicy, o.root.line, o.root.offset, "namespace "+clip(ns, 80),
				fmt.Sprintf("no NetworkPolicy covers namespace %q, where %s runs; every pod can reach it", clip(ns, 80), objName(o)))
			f.Location.Path = o.path
			fs = append(fs, f)
		}
		if o.kind == "Service" {
			if f, ok := serviceFinding(o, objs); ok {
				f.Location.Path = o.path
				fs = append(fs, f)
			}
		}
	}
	return fs
}

func serviceFinding(svc *kubeObject, objs []*kubeObject) (finding.Finding, bool) {
	typ := svc.root.path("spec", "type")
	t := typ.str()
	if t != "LoadBalancer" && t != "NodePort" {
		return finding.Finding{}, false
	}
	internal := false
	for _, a := range internalLBAnnotations {
		if svc.root.path("metadata", "annotations").get(a) != nil {
			internal = true
		}
	}
	restricted := len(svc.root.path("spec", "loadBalancerSourceRanges").items()) > 0
	sel := svc.root.path("spec", "selector")
	var target *kubeObject
	if sel != nil && sel.kind == mapNode && len(sel.keys) > 0 {
		for _, o := range objs {
			if o.pod != nil && o.model && o.namespace == svc.namespace && labelsMatch(sel, o.podLabels) {
				target = o
				break
			}
		}
	}
	if target == nil {
		for _, p := range svc.root.path("spec", "ports").items() {
			if modelServerPorts[p.get("port").str()] || modelServerPorts[p.get("targetPort").str()] {
				target = svc
			}
		}
	}
	excerpt := "type: " + t
	if target == nil {
		return newFinding(kubeServiceExposed, typ.line, typ.offset, excerpt,
			fmt.Sprintf("Service %q is reachable from outside the cluster (%s)", clip(svc.name, 80), t)), true
	}
	f := newFinding(kubeModelServerExposed, typ.line, typ.offset, excerpt,
		fmt.Sprintf("Service %q exposes the model server %s outside the cluster (%s)", clip(svc.name, 80), objName(target), t))
	if t == "LoadBalancer" && !internal && !restricted {
		f.Severity = finding.Critical
		f.Message += " on a public load balancer"
	}
	return f, true
}

// labelsMatch reports whether every selector label is among labels.
func labelsMatch(sel, labels *node) bool {
	for i, k := range sel.keys {
		if labels.get(k.value).str() != sel.vals[i].str() {
			return false
		}
	}
	return true
}
