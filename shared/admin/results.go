package admin

import (
	"encoding/json"
	"fmt"

	"github.com/sluicegw/sluice/shared/gatewayapi"
)

// What an apply did to one object, in kubectl apply's words.
const (
	ResultCreated    = "created"    // it was not applied before
	ResultConfigured = "configured" // it was, and changed
	ResultUnchanged  = "unchanged"  // it was, as it is now (status and creation time aside)
)

// ObjectResult is what an apply did, or with dryRun would do, to one of
// the objects it was given.
type ObjectResult struct {
	Object string `json:"object"` // Kind/namespace/name
	Result string `json:"result"` // ResultCreated, ResultConfigured or ResultUnchanged
}

// objectResults compares each incoming object with the one applied under
// its name, if any; incoming must have had its generations set.
func objectResults(applied, incoming []*gatewayapi.Object) ([]ObjectResult, error) {
	byKey := make(map[string]*gatewayapi.Object, len(applied))
	for _, o := range applied {
		byKey[o.Key()] = o
	}
	out := make([]ObjectResult, 0, len(incoming))
	for _, o := range incoming {
		r := ObjectResult{Object: o.Key(), Result: ResultCreated}
		if prev, ok := byKey[o.Key()]; ok {
			b, err := json.Marshal(prev.Value)
			if err != nil {
				return nil, fmt.Errorf("admin: encode %s: %w", o.Key(), err)
			}
			same, err := sameObject(b, o.Value)
			if err != nil {
				return nil, fmt.Errorf("admin: compare %s with its applied version: %w", o.Key(), err)
			}
			r.Result = ResultConfigured
			if same {
				r.Result = ResultUnchanged
			}
		}
		out = append(out, r)
	}
	return out, nil
}
