package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/sluicegw/sluice/shared/gatewayapi"
	"github.com/sluicegw/sluice/shared/store"
)

// unchanged reports whether applying incoming would change nothing, so no
// new table version is made: every object is stored already, the same but
// for its status (which apply computes, as a controller does; status in a
// manifest is ignored, as kubectl apply ignores it) and its creation time
// (which apply keeps). Objects are compared both with the stored ones and
// with those the newest table was compiled from, so an apply whose table
// failed to store is not taken for done. It returns the newest version.
func (a *Admin) unchanged(ctx context.Context, incoming []*gatewayapi.Object) (int64, bool, error) {
	v, err := a.store.LatestVersion(ctx)
	if err != nil || v == 0 {
		return 0, false, err
	}
	stored, err := a.store.Objects(ctx)
	if err != nil {
		return 0, false, err
	}
	compiled, err := a.store.TableObjects(ctx, v)
	if err != nil {
		return 0, false, err
	}
	for _, set := range [][]store.Object{stored, compiled} {
		byKey := make(map[string][]byte, len(set))
		for _, o := range set {
			k := o.Kind + "/" + o.Name
			if o.Namespace != "" {
				k = o.Kind + "/" + o.Namespace + "/" + o.Name
			}
			byKey[k] = o.JSON
		}
		for _, o := range incoming {
			old, ok := byKey[o.Key()]
			if !ok {
				return 0, false, nil
			}
			same, err := sameObject(old, o.Value)
			if err != nil {
				return 0, false, fmt.Errorf("admin: compare %s with its stored version: %w", o.Key(), err)
			}
			if !same {
				return 0, false, nil
			}
		}
	}
	return v, true, nil
}

// sameObject compares a stored object's JSON with a decoded manifest,
// leaving out the status and the creation time.
func sameObject(stored []byte, v any) (bool, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return false, err
	}
	var x, y map[string]any
	if err := json.Unmarshal(stored, &x); err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, &y); err != nil {
		return false, err
	}
	for _, m := range []map[string]any{x, y} {
		delete(m, "status")
		if meta, ok := m["metadata"].(map[string]any); ok {
			delete(meta, "creationTimestamp")
		}
	}
	return reflect.DeepEqual(x, y), nil
}
