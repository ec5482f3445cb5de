package testenv

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// HTTPGet fetches http://addr+path and returns the body of a 200 answer.
// The connection is dialled inside do, e.g. NS.Do, so it comes from a
// namespace's thread: net/http would dial from another goroutine, outside
// the namespace.
func HTTPGet(do func(func() error) error, addr, path string) (string, error) {
	var body []byte
	err := do(func() error {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second)) // a scrape under TCG can take seconds
		req, err := http.NewRequest("GET", "http://"+addr+path, nil)
		if err != nil {
			return err
		}
		req.Close = true
		if err := req.Write(c); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET http://%s%s: %s", addr, path, resp.Status)
		}
		body, err = io.ReadAll(resp.Body)
		return err
	})
	return string(body), err
}
