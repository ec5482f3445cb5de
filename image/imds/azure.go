package imds

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
)

// Azure Instance Metadata Service: userData (set at VM creation, up to
// 64 KiB) comes base64-encoded; "Metadata: true" is required.
// https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service
const azureUserDataPath = "/metadata/instance/compute/userData?api-version=2021-01-01&format=text"

func fetchAzure(ctx context.Context, c *client) ([]byte, error) {
	b, err := c.do(ctx, "GET", azureUserDataPath, map[string]string{"Metadata": "true"})
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(string(b)) == "" {
		return nil, errNoUserData
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("GET %s: user data is not base64: %v", azureUserDataPath, err)
	}
	return dec, nil
}
