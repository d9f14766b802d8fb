package vectorindex

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// hasSearch asks the server whether it serves vector search: Valkey with
// valkey-search (and Redis with its query engine) answer FT._LIST with
// their indexes; servers without it, ElastiCache Serverless among them,
// answer that the command is unknown. Only a server that could not be
// asked gives an error.
func hasSearch(ctx context.Context, c redis.UniversalClient) (bool, error) {
	err := c.Do(ctx, "FT._LIST").Err()
	if err == nil {
		return true, nil
	}
	var re redis.Error
	if errors.As(err, &re) {
		return false, nil // a server error: unknown command, or not allowed
	}
	return false, fmt.Errorf("vectorindex: asking for vector search: %w", err)
}

// search keeps vectors in hashes indexed by the server's HNSW vector
// index, one index per vector size, with the scope hash as a TAG field
// that every query filters on (and as the keys' hash tag).
type search struct {
	prefix  string
	created sync.Map // dims → struct{}: indexes known to exist
}

func newSearch(prefix string) *search { return &search{prefix: prefix} }

func (s *search) indexName(dims int) string { return s.prefix + ":idx:" + strconv.Itoa(dims) }

func (s *search) keyPrefix(dims int) string { return s.prefix + ":s:" + strconv.Itoa(dims) + ":" }

// createArgs is the FT.CREATE of the index for vectors of dims.
func (s *search) createArgs(dims int) []any {
	return []any{"FT.CREATE", s.indexName(dims), "ON", "HASH", "PREFIX", "1", s.keyPrefix(dims),
		"SCHEMA", "scope", "TAG", "vec", "VECTOR", "HNSW", "6",
		"TYPE", "FLOAT32", "DIM", strconv.Itoa(dims), "DISTANCE_METRIC", "COSINE"}
}

// searchArgs is the FT.SEARCH of vec's nearest neighbours in one scope.
// The scope hash is hex, so it needs no escaping inside the tag filter.
func (s *search) searchArgs(sh string, vec []float32) []any {
	return []any{"FT.SEARCH", s.indexName(len(vec)), "@scope:{" + sh + "}=>[KNN 4 @vec $v]",
		"PARAMS", "2", "v", string(appendVector(nil, vec)),
		"RETURN", "3", "entry", "vec", "__vec_score", "DIALECT", "2"}
}

func (s *search) ensure(ctx context.Context, c redis.UniversalClient, dims int) error {
	if _, ok := s.created.Load(dims); ok {
		return nil
	}
	err := c.Do(ctx, s.createArgs(dims)...).Err()
	if err != nil && !strings.Contains(strings.ToLower(err.Error()), "already exists") {
		return fmt.Errorf("vectorindex: creating the vector index: %w", err)
	}
	s.created.Store(dims, struct{}{})
	return nil
}

func (s *search) add(ctx context.Context, c redis.UniversalClient, sh string, vec []float32, entry string, ttl time.Duration) error {
	if err := s.ensure(ctx, c, len(vec)); err != nil {
		return err
	}
	key := s.keyPrefix(len(vec)) + "{" + sh + "}:" + entryID(entry)
	pipe := c.Pipeline()
	pipe.HSet(ctx, key, "scope", sh, "vec", string(appendVector(nil, vec)), "entry", entry)
	pipe.PExpire(ctx, key, ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("vectorindex: add: %w", err)
	}
	return nil
}

// nearest asks the server for the nearest few and checks them with exact
// cosine here, as LSH candidates are checked; a reply without the stored
// vector is judged by the server's own cosine distance.
func (s *search) nearest(ctx context.Context, c redis.UniversalClient, sh string, vec []float32, threshold float32) (string, float32, error) {
	reply, err := c.Do(ctx, s.searchArgs(sh, vec)...).Result()
	if err != nil {
		if strings.Contains(strings.ToLower(err.Error()), "index") && strings.Contains(strings.ToLower(err.Error()), "not") {
			return "", 0, nil // no index yet: nothing of this size was added
		}
		return "", 0, fmt.Errorf("vectorindex: lookup: %w", err)
	}
	best, bestSim := "", float32(-2)
	for _, doc := range searchDocs(reply) {
		if doc["entry"] == "" {
			continue
		}
		var sim float32
		if stored, ok := decodeVector([]byte(doc["vec"]), len(vec)); ok {
			sim = dot(vec, stored)
		} else if d, err := strconv.ParseFloat(doc["__vec_score"], 32); err == nil {
			sim = float32(1 - d) // the server's cosine distance, when it returns no vector
		} else {
			continue
		}
		if sim > bestSim {
			best, bestSim = doc["entry"], sim
		}
	}
	if best == "" || bestSim < threshold {
		return "", 0, nil
	}
	return best, min(bestSim, 1), nil
}

// searchDocs reads the documents' fields from an FT.SEARCH reply in
// either protocol: RESP2's flat array (count, key, fields, key, fields...)
// or RESP3's map with "results", each with "extra_attributes".
func searchDocs(reply any) []map[string]string {
	var docs []map[string]string
	switch r := reply.(type) {
	case []any:
		for i := 2; i < len(r); i += 2 {
			if d := fieldMap(r[i]); d != nil {
				docs = append(docs, d)
			}
		}
	case map[any]any:
		results, _ := r["results"].([]any)
		for _, res := range results {
			if m, ok := res.(map[any]any); ok {
				if d := fieldMap(m["extra_attributes"]); d != nil {
					docs = append(docs, d)
				}
			}
		}
	}
	return docs
}

func fieldMap(v any) map[string]string {
	out := make(map[string]string)
	switch f := v.(type) {
	case []any:
		for i := 0; i+1 < len(f); i += 2 {
			k, _ := f[i].(string)
			val, _ := f[i+1].(string)
			out[k] = val
		}
	case map[any]any:
		for k, val := range f {
			ks, _ := k.(string)
			vs, _ := val.(string)
			out[ks] = vs
		}
	default:
		return nil
	}
	return out
}
