package imds

import (
	"context"
	"errors"
	"fmt"
)

// AWS instance metadata service, version 2 (session tokens): a PUT opens a
// session, every GET carries its token. A PUT cannot be forged through a
// server-side request forgery in some web app, and the token's reply
// leaves with IP TTL 1 by default. IMDSv1 (plain GET) is never used.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
const (
	awsTokenPath    = "/latest/api/token"
	awsUserDataPath = "/latest/user-data"
	awsTokenTTL     = "60" // seconds; we need it for one request
)

func fetchAWS(ctx context.Context, c *client) ([]byte, error) {
	tok, err := c.do(ctx, "PUT", awsTokenPath, map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": awsTokenTTL})
	if errors.Is(err, errNoUserData) {
		// Only the user data's 404 means "none"; here it is a broken
		// service, and must not make us forget the last good document.
		return nil, fmt.Errorf("PUT %s: 404 Not Found (IMDSv2 unavailable?)", awsTokenPath)
	}
	if err != nil {
		return nil, err
	}
	return c.do(ctx, "GET", awsUserDataPath, map[string]string{"X-aws-ec2-metadata-token": string(tok)})
}
