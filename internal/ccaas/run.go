package ccaas

import (
	"fmt"
	"io"
	"path/filepath"
)

// Run executes one builder command and returns the process exit code. The command is the base
// name of args[0] (detect, build or release, as the peer calls the installed links), or, when the
// program is called by another name, args[1] followed by the command's arguments. getenv reads
// the environment (os.Getenv in production). Messages go to stderr, which the peer logs.
func Run(args []string, getenv func(string) string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "ccaas-builder: no program name")
		return 2
	}
	cmd, rest := filepath.Base(args[0]), args[1:]
	switch cmd {
	case "detect", "build", "release":
	default:
		if len(rest) == 0 {
			fmt.Fprintln(stderr, "usage: ccaas-builder detect|build|release ARGS...")
			return 2
		}
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "detect":
		if len(rest) != 2 {
			fmt.Fprintln(stderr, "usage: detect CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR")
			return 2
		}
		ok, err := Detect(rest[0], rest[1])
		if err != nil {
			fmt.Fprintf(stderr, "ccaas detect: %v\n", err)
			return 1
		}
		if !ok {
			return 1
		}
		return 0
	case "build":
		if len(rest) != 3 {
			fmt.Fprintln(stderr, "usage: build CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR BUILD_OUTPUT_DIR")
			return 2
		}
		if err := Build(rest[0], rest[1], rest[2], getenv(BuilderConfigEnv)); err != nil {
			fmt.Fprintf(stderr, "ccaas build: %v\n", err)
			return 1
		}
		return 0
	case "release":
		if len(rest) != 2 {
			fmt.Fprintln(stderr, "usage: release BUILD_OUTPUT_DIR RELEASE_OUTPUT_DIR")
			return 2
		}
		if err := Release(rest[0], rest[1]); err != nil {
			fmt.Fprintf(stderr, "ccaas release: %v\n", err)
			return 1
		}
		return 0
	default:
		fmt.Fprintf(stderr, "ccaas-builder: unknown command %q (want detect, build or release)\n", cmd)
		return 2
	}
}
