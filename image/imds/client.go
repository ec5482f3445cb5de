package imds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

// DefaultBaseURL is the link-local address all three clouds serve their
// metadata on (AWS, GCP and Azure alike); only tests point elsewhere.
const DefaultBaseURL = "http://169.254.169.254"

// errNoUserData means the service answered that this instance has none.
var errNoUserData = errors.New("no user data")

// client asks one metadata service, bounded in every dimension the
// service (or whoever answers on its address) controls: total time, body
// size, redirects, and which hops the request takes.
type client struct {
	base    string
	http    *http.Client
	maxBody int64
	retry   time.Duration // pause between attempts while the network is not up
}

func newClient(base string, maxBody int64) *client {
	// No per-step timeouts: the caller's context bounds the whole exchange
	// (dial, token, answer, retries), so the boot waits at most that long.
	d := &net.Dialer{}
	tr := &http.Transport{
		// Never a proxy: HTTP_PROXY and friends are ignored, the request
		// goes straight to the link-local address or nowhere.
		Proxy:                  nil,
		DialContext:            d.DialContext,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 16 << 10,
	}
	return &client{
		base:    base,
		maxBody: maxBody,
		retry:   500 * time.Millisecond,
		http: &http.Client{
			Transport: tr,
			// A redirect is never followed: the answer must come from the
			// metadata address itself. The 3xx is then an error below.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// do sends one request and returns the body of a 200 answer, at most
// maxBody bytes. A 404 is errNoUserData. While the network is not up yet
// (nothing waits for network-online on the appliance), a refused or
// unreachable dial is retried until ctx ends.
func (c *client) do(ctx context.Context, method, path string, header map[string]string) ([]byte, error) {
	for {
		b, err := c.once(ctx, method, path, header)
		if err == nil || !retryable(err) {
			return b, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s %s: metadata service not reachable before the deadline: %v", method, path, err)
		case <-time.After(c.retry):
		}
	}
}

func (c *client) once(ctx context.Context, method, path string, header map[string]string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, errNoUserData
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, fmt.Errorf("%s %s: refused redirect (%s) to %q; the metadata service never redirects", method, path, resp.Status, resp.Header.Get("Location"))
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if resp.ContentLength > c.maxBody {
		return nil, fmt.Errorf("%s %s: answer of %d bytes is larger than the %d-byte limit", method, path, resp.ContentLength, c.maxBody)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", method, path, err)
	}
	if int64(len(b)) > c.maxBody {
		return nil, fmt.Errorf("%s %s: answer is larger than the %d-byte limit", method, path, c.maxBody)
	}
	return b, nil
}

// retryable: the address is not reachable yet (no route, no link, nothing
// listening), as during the first seconds of boot. Timeouts are not
// retried: a service that accepts and stalls has had its chance.
func retryable(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL)
}
