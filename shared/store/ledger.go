package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/sluicegw/sluice/shared/ledger"
)

// Ledger items (all in the ledger table):
//
//	pk=limit#<subject>            sk=<metric>#<period>#<model|*>  held: settled + reserved amounts
//	pk=usage#<subject>#<shard>    sk=<YYYY-MM-DD>#<model>         requests, tokens, cost (ADDed per request)
//	pk=usage#<request id>         sk=settled                      the idempotency record of one settle (TTL)
//
// Subjects are key#<id>, consumer#<name> and all. Counters change only
// with atomic ADDs; reservations are conditional on the limit. A settle is
// one transaction: the conditional put of its idempotency record and the
// usage ADDs, so a retried settle changes nothing; the reserved holds then
// move to the settled amounts with one ADD each.

var _ ledger.BudgetStore = (*Store)(nil)
var _ ledger.UsageStore = (*Store)(nil)
var _ ledger.BatchStore = (*Store)(nil)

// settledTTL is how long idempotency records are kept: longer than any
// retry of the same request could come.
const settledTTL = 35 * 24 * time.Hour

// bucketTTL keeps budget counters past the month they count.
const bucketTTL = 70 * 24 * time.Hour

// Retry settings for ledger writes: throttling and transaction conflicts
// are retried with full-jitter exponential backoff.
const (
	retryBase     = 20 * time.Millisecond
	retryCap      = time.Second
	reserveTries  = 8
	settleTries   = 40
	retryAttempts = 8
)

// retryable reports whether a DynamoDB error may pass if tried again:
// throttling, transaction conflicts, server errors.
func retryable(err error) bool {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed", "ValidationError", "ItemCollectionSizeLimitExceeded":
				return false
			}
		}
		return true // conflicts, throttling
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"TransactionConflictException", "TransactionInProgressException", "InternalServerError",
			"ServiceUnavailable", "LimitExceededException":
			return true
		}
		return false
	}
	return false
}

// retry runs op until it succeeds, fails for good, runs out of tries or
// ctx ends, sleeping with full-jitter exponential backoff between tries.
func retry(ctx context.Context, tries int, op func() error) error {
	var err error
	for attempt := 0; attempt < tries; attempt++ {
		if err = op(); err == nil || !retryable(err) {
			return err
		}
		d := retryBase << min(attempt, 10)
		if d > retryCap {
			d = retryCap
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (after %d tries: %w)", ctx.Err(), attempt+1, err)
		case <-time.After(rand.N(d) + time.Millisecond):
		}
	}
	return fmt.Errorf("gave up after %d tries: %w", tries, err)
}

func epoch(t time.Time) types.AttributeValue { return n(t.Unix()) }

// Reserve adds amount to the bucket's held total if it stays within limit.
func (st *Store) Reserve(ctx context.Context, b ledger.Bucket, limit, amount int64) (bool, int64, error) {
	if amount > limit {
		held, err := st.held(ctx, b)
		return false, held, err
	}
	in := &dynamodb.UpdateItemInput{
		TableName:           &st.ledger,
		Key:                 key("limit#"+b.Subject, b.Name),
		UpdateExpression:    aws.String("ADD held :a SET expires_at = if_not_exists(expires_at, :exp)"),
		ConditionExpression: aws.String("attribute_not_exists(held) OR held <= :max"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":a": n(amount), ":max": n(limit - amount), ":exp": epoch(time.Now().Add(bucketTTL)),
		},
		ReturnValues:                        types.ReturnValueUpdatedNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	var out *dynamodb.UpdateItemOutput
	err := retry(ctx, reserveTries, func() (err error) {
		out, err = st.db.UpdateItem(ctx, in)
		return err
	})
	var cfe *types.ConditionalCheckFailedException
	if errors.As(err, &cfe) {
		held := num(cfe.Item, "held")
		if cfe.Item == nil {
			held, _ = st.held(ctx, b)
		}
		return false, held, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("store: reserve %s/%s: %w", b.Subject, b.Name, err)
	}
	return true, num(out.Attributes, "held"), nil
}

func (st *Store) held(ctx context.Context, b ledger.Bucket) (int64, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.ledger, Key: key("limit#"+b.Subject, b.Name), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, fmt.Errorf("store: read %s/%s: %w", b.Subject, b.Name, err)
	}
	return num(out.Item, "held"), nil
}

// Held returns a bucket's held total (settled plus reserved).
func (st *Store) Held(ctx context.Context, b ledger.Bucket) (int64, error) { return st.held(ctx, b) }

// Release takes back a reservation.
func (st *Store) Release(ctx context.Context, b ledger.Bucket, amount int64) error {
	in := &dynamodb.UpdateItemInput{
		TableName:                 &st.ledger,
		Key:                       key("limit#"+b.Subject, b.Name),
		UpdateExpression:          aws.String("ADD held :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": n(-amount)},
	}
	err := retry(ctx, settleTries, func() error {
		_, err := st.db.UpdateItem(ctx, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: release %s/%s: %w", b.Subject, b.Name, err)
	}
	return nil
}

// Settle records s once per request id, in one transaction: the
// idempotency record, the usage counters of the key, its consumer and
// "all", and the adjustments of the reserved buckets.
func (st *Store) Settle(ctx context.Context, set ledger.Settlement) (bool, error) {
	u := set.Usage
	rec := key("usage#"+set.RequestID, "settled")
	rec["key_id"], rec["model"] = s(set.KeyID), s(set.Model)
	rec["at"] = s(set.At.UTC().Format(time.RFC3339Nano))
	rec["input_tokens"], rec["output_tokens"] = n(u.InputTokens), n(u.OutputTokens)
	rec["cached_tokens"], rec["reasoning_tokens"] = n(u.CachedTokens), n(u.ReasoningTokens)
	rec["cost_micros"] = n(int64(set.Cost))
	rec["estimated"] = &types.AttributeValueMemberBOOL{Value: set.Estimated}
	rec["expires_at"] = epoch(time.Now().Add(settledTTL))
	rec["run"] = s(set.Run)
	if set.Consumer != "" {
		rec["consumer"] = s(set.Consumer)
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: &st.ledger, Item: rec, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}}
	if !set.NoUsage {
		row := set.SettledRow()
		subjects := []string{"key#" + set.KeyID, "all"}
		if set.Consumer != "" {
			subjects = append(subjects, "consumer#"+set.Consumer)
		}
		for _, sub := range subjects {
			items = append(items, st.usageUpdate(sub, shardOf(set.RequestID), row))
		}
	}
	for _, r := range ledger.InsightRows(set) {
		items = append(items, st.usageUpdate(r.Subject, shardOf(set.RequestID), r.Usage))
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	err := retry(ctx, settleTries, func() error {
		_, err := st.db.TransactWriteItems(ctx, in)
		return err
	})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		// Settled before: by an earlier try of this very call whose answer
		// was lost (then go on to the holds), or by another run (then the
		// first settle stands and this one changes nothing).
		out, gerr := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.ledger, Key: key("usage#"+set.RequestID, "settled"), ConsistentRead: aws.Bool(true)})
		if gerr != nil {
			return false, fmt.Errorf("store: settle %s: read the earlier settle: %w", set.RequestID, gerr)
		}
		if str(out.Item, "run") != set.Run {
			return true, nil
		}
		err = nil
	}
	if err != nil {
		return false, fmt.Errorf("store: settle %s: %w", set.RequestID, err)
	}
	// The holds move to the settled amounts after the transaction, one ADD
	// each: a budget counter is the hottest item of a busy key, and kept out
	// of transactions it never makes reservations fail on a conflict. Should
	// the process die between the two, the reservation stays held: the
	// budget errs on the safe side.
	for _, h := range set.Holds {
		if h.Delta == 0 {
			continue
		}
		if err := st.Release(ctx, h.Bucket, -h.Delta); err != nil {
			return false, fmt.Errorf("store: settle %s: usage recorded, but: %w", set.RequestID, err)
		}
	}
	return false, nil
}

// usageShards spreads each subject's usage counters over this many items
// (pk usage#<subject>#<shard>, the shard from the request or batch id), so
// concurrent settles of one busy key, consumer or of "all" rarely touch
// the same item and conflict; Usage reads them all back.
const usageShards = 8

func shardOf(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return strconv.Itoa(int(h.Sum32() % usageShards))
}

// usageUpdate ADDs one row to a subject's usage counters.
func (st *Store) usageUpdate(subject, shard string, u ledger.UsageRow) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &st.ledger, Key: key("usage#"+subject+"#"+shard, u.Day+"#"+u.Model),
		UpdateExpression: aws.String("ADD requests :req, input_tokens :in, output_tokens :out, cached_tokens :cached, " +
			"reasoning_tokens :reason, cost_micros :cost, estimated :est, cache_hits :hits, saved_tokens :saved, " +
			"saved_cost_micros :savedcost SET #d = :day, model = :model"),
		ExpressionAttributeNames: map[string]string{"#d": "day"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":req": n(u.Requests), ":in": n(u.InputTokens), ":out": n(u.OutputTokens), ":cached": n(u.CachedTokens),
			":reason": n(u.ReasoningTokens), ":cost": n(int64(u.CostMicros)), ":est": n(u.Estimated), ":day": s(u.Day), ":model": s(u.Model),
			":hits": n(u.CacheHits), ":saved": n(u.SavedTokens), ":savedcost": n(int64(u.SavedCostMicros)),
		},
	}}
}

// SettleBatch ADDs summed usage rows, all or nothing, once per batch id.
func (st *Store) SettleBatch(ctx context.Context, batchID string, rows []ledger.BatchRow) error {
	if len(rows) > ledger.MaxBatchRows {
		return fmt.Errorf("store: settle batch %s: %d rows, at most %d", batchID, len(rows), ledger.MaxBatchRows)
	}
	rec := key("usage#"+batchID, "settled")
	rec["rows"] = n(int64(len(rows)))
	rec["expires_at"] = epoch(time.Now().Add(settledTTL))
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &st.ledger, Item: rec, ConditionExpression: aws.String("attribute_not_exists(pk)")}}}
	for _, r := range rows {
		items = append(items, st.usageUpdate(r.Subject, shardOf(batchID), r.Usage))
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	err := retry(ctx, settleTries, func() error {
		_, err := st.db.TransactWriteItems(ctx, in)
		return err
	})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return nil // an earlier try of this batch committed
	}
	if err != nil {
		return fmt.Errorf("store: settle batch %s: %w", batchID, err)
	}
	return nil
}

// Usage returns a subject's usage rows for days from..to (inclusive), one
// per day and model, its shards summed.
func (st *Store) Usage(ctx context.Context, subject, from, to string) ([]ledger.UsageRow, error) {
	sum := map[string]*ledger.UsageRow{}
	var order []string
	for shard := range usageShards {
		in := &dynamodb.QueryInput{
			TableName:              &st.ledger,
			KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": s("usage#" + subject + "#" + strconv.Itoa(shard)), ":from": s(from), ":to": s(to + "#\uffff"),
			},
		}
		for {
			out, err := st.db.Query(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("store: usage of %s: %w", subject, err)
			}
			for _, it := range out.Items {
				r := ledger.UsageRow{
					Day: str(it, "day"), Model: str(it, "model"), Requests: num(it, "requests"),
					InputTokens: num(it, "input_tokens"), OutputTokens: num(it, "output_tokens"),
					CachedTokens: num(it, "cached_tokens"), ReasoningTokens: num(it, "reasoning_tokens"),
					CostMicros: ledger.Micros(num(it, "cost_micros")), Estimated: num(it, "estimated"),
					CacheHits: num(it, "cache_hits"), SavedTokens: num(it, "saved_tokens"),
					SavedCostMicros: ledger.Micros(num(it, "saved_cost_micros")),
				}
				k := str(it, "sk")
				if cur := sum[k]; cur != nil {
					cur.Add(r)
				} else {
					sum[k] = &r
					order = append(order, k)
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	sort.Strings(order)
	rows := make([]ledger.UsageRow, 0, len(order))
	for _, k := range order {
		rows = append(rows, *sum[k])
	}
	return rows, nil
}

// Settled returns the idempotency record of a request: whether it was
// settled, and its figures.
func (st *Store) Settled(ctx context.Context, reqID string) (ledger.UsageRow, bool, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.ledger, Key: key("usage#"+reqID, "settled"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return ledger.UsageRow{}, false, fmt.Errorf("store: settled %s: %w", reqID, err)
	}
	if out.Item == nil {
		return ledger.UsageRow{}, false, nil
	}
	it := out.Item
	est := int64(0)
	if b, ok := it["estimated"].(*types.AttributeValueMemberBOOL); ok && b.Value {
		est = 1
	}
	return ledger.UsageRow{Model: str(it, "model"), Requests: 1, InputTokens: num(it, "input_tokens"),
		OutputTokens: num(it, "output_tokens"), CachedTokens: num(it, "cached_tokens"),
		ReasoningTokens: num(it, "reasoning_tokens"), CostMicros: ledger.Micros(num(it, "cost_micros")), Estimated: est}, true, nil
}

func limitsJSON(l ledger.Limits) (types.AttributeValue, bool) {
	if l.IsZero() {
		return nil, false
	}
	b, _ := json.Marshal(l) // plain numbers and strings: cannot fail
	return s(string(b)), true
}
