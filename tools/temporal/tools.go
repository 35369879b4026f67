//go:build tools

package tools

import (
	_ "go.temporal.io/server/cmd/server"
	_ "go.temporal.io/server/cmd/tools/sql"
	_ "github.com/temporalio/cli/cmd/temporal"
)
