package providertest

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sluicegw/sluice/shared/provider"
)

// Epoch is the instant the fixed clock shows, in Unix seconds: the
// "created" time of every translated answer in tests.
const Epoch = 1764250000

// Now is the fixed clock.
func Now() time.Time { return time.Unix(Epoch, 0) }

// Deps are the providers' dependencies on the fixed clock, with ids test1,
// test2, ... in the order they are asked for. Each call counts from test1
// again, so two providers built alike make the same ids.
func Deps() provider.Deps {
	var n atomic.Int64
	return provider.Deps{Now: Now, ID: func() string { return "test" + strconv.FormatInt(n.Add(1), 10) }}
}
