package imds

import "context"

// GCP metadata server: the "user-data" instance attribute, the key
// cloud-init and systemd-imds read. The Metadata-Flavor header is required
// (the server refuses requests without it, so a forged browser request
// cannot read it).
// https://cloud.google.com/compute/docs/metadata/querying-metadata
const gcpUserDataPath = "/computeMetadata/v1/instance/attributes/user-data"

func fetchGCP(ctx context.Context, c *client) ([]byte, error) {
	return c.do(ctx, "GET", gcpUserDataPath, map[string]string{"Metadata-Flavor": "Google"})
}
