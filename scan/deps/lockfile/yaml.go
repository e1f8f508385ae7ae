package lockfile

import "github.com/rampartsec/rampart/internal/yamltree"

// maxYAMLNodes bounds the nodes of one YAML lockfile or environment file
// (files are at most MaxFileSize, so this is a memory bound, not a limit
// real files reach).
const maxYAMLNodes = 8 << 20

// parseYAML parses the first document of a YAML lockfile or environment
// file.
func parseYAML(data []byte) (*yamltree.Node, error) {
	return yamltree.Parse(data, yamltree.Limits{MaxDepth: maxNesting, MaxNodes: maxYAMLNodes})
}
