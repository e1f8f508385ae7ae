package osv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rampartsec/rampart/scan/deps/vcs"
)

// DefaultAPI is the OSV API's base URL.
const DefaultAPI = "https://api.osv.dev"

// Client queries the OSV API online (POST /v1/querybatch, then
// GET /v1/vulns/{id} for each record found). It is a Source; nothing
// uses it unless the caller configures it.
type Client struct {
	// BaseURL defaults to DefaultAPI.
	BaseURL string
	// HTTP defaults to a client with Timeout.
	HTTP *http.Client
	// Timeout bounds the whole QueryBatch call; default 30 s.
	Timeout time.Duration
	// MaxRecords bounds how many distinct records one QueryBatch fetches;
	// default 5000.
	MaxRecords int
}

// Limits of the online client.
const (
	maxBatch     = 1000     // queries per querybatch request (the API's limit)
	maxPages     = 20       // next_page_token rounds per batch
	maxRespBytes = 32 << 20 // one API response
)

func (c *Client) base() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	return DefaultAPI
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: c.timeout()}
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 30 * time.Second
}

type apiQuery struct {
	Package   *apiPackage `json:"package,omitempty"`
	Version   string      `json:"version,omitempty"`
	Commit    string      `json:"commit,omitempty"`
	PageToken string      `json:"page_token,omitempty"`
}

type apiPackage struct {
	Name      string `json:"name"`
	Ecosystem string `json:"ecosystem"`
}

type apiBatchResponse struct {
	Results []struct {
		Vulns []struct {
			ID string `json:"id"`
		} `json:"vulns"`
		NextPageToken string `json:"next_page_token"`
	} `json:"results"`
}

// QueryBatch asks the OSV API which records affect each package version;
// results[i] answers pkgs[i]. Fixed versions are computed locally from the
// fetched records with the same rules as the offline database.
func (c *Client) QueryBatch(ctx context.Context, pkgs []PackageVersion) ([][]Vuln, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	ids := make([][]string, len(pkgs))
	for start := 0; start < len(pkgs); start += maxBatch {
		end := min(start+maxBatch, len(pkgs))
		if err := c.batch(ctx, pkgs[start:end], ids[start:end]); err != nil {
			return nil, err
		}
	}
	maxRec := c.MaxRecords
	if maxRec <= 0 {
		maxRec = 5000
	}
	recs := map[string]*Vulnerability{}
	out := make([][]Vuln, len(pkgs))
	for i, p := range pkgs {
		for _, id := range ids[i] {
			v, ok := recs[id]
			if !ok {
				if len(recs) >= maxRec {
					return nil, fmt.Errorf("OSV API: more than %d records in one batch", maxRec)
				}
				var err error
				if v, err = c.get(ctx, id); err != nil {
					return nil, err
				}
				recs[id] = v
			}
			// The API decided the match; compute the fixed versions here.
			var fixed []string
			if p.Commit != "" {
				fixed = gitFixed(v, p.Repo)
			} else {
				_, fixed, _ = Match(v, p.Ecosystem, p.Name, p.Version)
			}
			out[i] = append(out[i], Vuln{Vulnerability: v, Fixed: fixed})
		}
	}
	return out, nil
}

// batch fills ids[i] with the record ids answering pkgs[i], following
// next_page_token for the queries that have more.
func (c *Client) batch(ctx context.Context, pkgs []PackageVersion, ids [][]string) error {
	qs := make([]apiQuery, len(pkgs))
	for i, p := range pkgs {
		if p.Commit != "" {
			// The API decides GIT ranges from the repository's history; a
			// commit query names no package.
			qs[i] = apiQuery{Commit: p.Commit}
			continue
		}
		qs[i] = apiQuery{Package: &apiPackage{Name: p.Name, Ecosystem: Ecosystem(p.Ecosystem)}, Version: p.Version}
	}
	pending := make([]int, len(pkgs))
	for i := range pending {
		pending[i] = i
	}
	for page := 0; len(pending) > 0; page++ {
		if page == maxPages {
			return fmt.Errorf("OSV API: more than %d pages of results", maxPages)
		}
		req := struct {
			Queries []apiQuery `json:"queries"`
		}{}
		for _, i := range pending {
			req.Queries = append(req.Queries, qs[i])
		}
		var resp apiBatchResponse
		if err := c.do(ctx, http.MethodPost, "/v1/querybatch", req, &resp); err != nil {
			return err
		}
		if len(resp.Results) != len(pending) {
			return fmt.Errorf("OSV API: %d results for %d queries", len(resp.Results), len(pending))
		}
		var next []int
		for k, r := range resp.Results {
			i := pending[k]
			for _, v := range r.Vulns {
				if v.ID != "" {
					ids[i] = append(ids[i], v.ID)
				}
			}
			if r.NextPageToken != "" {
				qs[i].PageToken = r.NextPageToken
				next = append(next, i)
			}
		}
		pending = next
	}
	return nil
}

func (c *Client) get(ctx context.Context, id string) (*Vulnerability, error) {
	var v Vulnerability
	if err := c.do(ctx, http.MethodGet, "/v1/vulns/"+url.PathEscape(id), nil, &v); err != nil {
		return nil, err
	}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("OSV API record %s: %w", id, err)
	}
	return &v, nil
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base()+path, rd)
	if err != nil {
		return fmt.Errorf("OSV API: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("OSV API: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRespBytes+1))
	if err != nil {
		return fmt.Errorf("OSV API %s: %w", path, err)
	}
	if len(data) > maxRespBytes {
		return fmt.Errorf("OSV API %s: response larger than %d bytes", path, maxRespBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("OSV API %s: %s: %s", path, resp.Status, clip(string(data)))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("OSV API %s: %w", path, jsonErr(err))
	}
	return nil
}

// gitFixed lists the fixing commits of v's GIT ranges on repository repo
// (any repository when repo is empty).
func gitFixed(v *Vulnerability, repo string) []string {
	var out []string
	for _, a := range v.Affected {
		for _, r := range a.Ranges {
			if r.Type != RangeGit || repo != "" && vcs.NormalizeRepo(r.Repo) != vcs.NormalizeRepo(repo) {
				continue
			}
			for _, e := range r.Events {
				if e.Fixed != "" {
					out = append(out, e.Fixed)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
