// Command infra is Sluice's CDK app: `cdk synth` and `cdk deploy` run it (see
// cdk.json). Context values configure the stack; README.md lists them.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/sluicegw/sluice/infra/stack"
)

// Where `make build` leaves the Lambda code, relative to infra/ (the CDK CLI
// runs the app from the directory holding cdk.json), and the stand-in used
// when it has not run.
const (
	defaultGatewayAsset = "../build/gateway.zip"
	defaultAdminAsset   = "../build/admin.zip"
	placeholderAsset    = "placeholder"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sluice infra:", err)
		jsii.Close()
		os.Exit(1)
	}
	jsii.Close()
}

func run() error {
	app := awscdk.NewApp(nil)
	props, err := stack.PropsFromContext(func(key string) any {
		return app.Node().TryGetContext(jsii.String(key))
	})
	if err != nil {
		return err
	}
	var missing []string
	props.GatewayAsset, missing = asset(props.GatewayAsset, defaultGatewayAsset, missing)
	props.AdminAsset, missing = asset(props.AdminAsset, defaultAdminAsset, missing)

	s, err := stack.New(app, *props.StackName, props)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		awscdk.Annotations_Of(s).AddWarningV2(jsii.String("sluice:placeholderCode"), jsii.String(fmt.Sprintf(
			"%v not found: the functions hold a placeholder that fails every request. Run `make build` before deploying.", missing)))
	}
	stack.Check(app)
	app.Synth(nil)
	return nil
}

// asset picks the Lambda code path: the context value when given (it must
// exist), else the `make build` output, else the placeholder, noting the
// missing default in missing.
func asset(given, def string, missing []string) (string, []string) {
	if given != "" {
		return given, missing
	}
	if _, err := os.Stat(def); errors.Is(err, os.ErrNotExist) {
		return placeholderAsset, append(missing, def)
	}
	return def, missing
}
