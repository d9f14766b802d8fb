package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicegw/sluice/shared/ledger"
)

// Key items: the record at pk=key#<id> sk=key (hashes included, read by the
// gateway), and a listing copy without hashes at pk=keys sk=<id>, so keys
// are listed with one Query. Both are written in one transaction.

func keyItem(k ledger.Key, withHashes bool) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{}
	item["id"], item["name"], item["state"] = s(k.ID), s(k.Name), s(k.State)
	if withHashes {
		item["hash"] = s(k.Hash)
		if k.PrevHash != "" {
			item["prev_hash"] = s(k.PrevHash)
		}
	}
	if k.Consumer != "" {
		item["consumer"] = s(k.Consumer)
	}
	item["created"] = s(k.Created.UTC().Format(time.RFC3339Nano))
	if !k.ExpiresAt.IsZero() {
		item["key_expires"] = s(k.ExpiresAt.UTC().Format(time.RFC3339Nano))
	}
	if !k.PrevExpires.IsZero() {
		item["prev_expires"] = s(k.PrevExpires.UTC().Format(time.RFC3339Nano))
	}
	if !k.Revoked.IsZero() {
		item["revoked"] = s(k.Revoked.UTC().Format(time.RFC3339Nano))
	}
	if v, ok := limitsJSON(k.Limits); ok {
		item["limits"] = v
	}
	return item
}

func withKey(item map[string]types.AttributeValue, pk, sk string) map[string]types.AttributeValue {
	item["pk"], item["sk"] = s(pk), s(sk)
	return item
}

// PutKey stores a key record. The secret is never passed here: only its hash.
func (st *Store) PutKey(ctx context.Context, k ledger.Key) error {
	return st.putKey(ctx, k, "")
}

// putKey writes both items; with ifHash set, only if the stored record
// still has that hash (a rotation that lost a race fails).
func (st *Store) putKey(ctx context.Context, k ledger.Key, ifHash string) error {
	rec := &types.Put{TableName: &st.ledger, Item: withKey(keyItem(k, true), "key#"+k.ID, "key")}
	if ifHash != "" {
		rec.ConditionExpression = aws.String("#h = :h")
		rec.ExpressionAttributeNames = map[string]string{"#h": "hash"}
		rec.ExpressionAttributeValues = map[string]types.AttributeValue{":h": s(ifHash)}
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: rec},
		{Put: &types.Put{TableName: &st.ledger, Item: withKey(keyItem(k, false), "keys", k.ID)}},
	}}
	err := retry(ctx, retryAttempts, func() error {
		_, err := st.db.TransactWriteItems(ctx, in)
		return err
	})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return ErrKeyChanged
	}
	if err != nil {
		return fmt.Errorf("store: put key %s: %w", k.ID, err)
	}
	return nil
}

// ErrKeyChanged means a key record changed under an update; read it again.
var ErrKeyChanged = errors.New("store: key record changed concurrently")

// UpdateKey stores k if the stored record still has the hash prevHash.
func (st *Store) UpdateKey(ctx context.Context, k ledger.Key, prevHash string) error {
	return st.putKey(ctx, k, prevHash)
}

// GetKey returns the key record for id, or ledger.ErrKeyNotFound.
func (st *Store) GetKey(ctx context.Context, id string) (ledger.Key, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.ledger, Key: key("key#"+id, "key"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return ledger.Key{}, fmt.Errorf("store: get key %s: %w", id, err)
	}
	if out.Item == nil {
		return ledger.Key{}, ledger.ErrKeyNotFound
	}
	return keyFromItem(out.Item), nil
}

// ListKeys returns every key record, without hashes, in id order.
func (st *Store) ListKeys(ctx context.Context) ([]ledger.Key, error) {
	var out []ledger.Key
	err := st.query(ctx, st.ledger, "keys", true, 0, func(item map[string]types.AttributeValue) {
		out = append(out, keyFromItem(item))
	})
	if err != nil {
		return nil, fmt.Errorf("store: list keys: %w", err)
	}
	return out, nil
}

func keyFromItem(item map[string]types.AttributeValue) ledger.Key {
	k := ledger.Key{
		ID: str(item, "id"), Name: str(item, "name"), Consumer: str(item, "consumer"),
		Hash: str(item, "hash"), State: str(item, "state"), PrevHash: str(item, "prev_hash"),
	}
	k.Created, _ = time.Parse(time.RFC3339Nano, str(item, "created"))
	for name, t := range map[string]*time.Time{"key_expires": &k.ExpiresAt, "prev_expires": &k.PrevExpires, "revoked": &k.Revoked} {
		if e := str(item, name); e != "" {
			*t, _ = time.Parse(time.RFC3339Nano, e)
		}
	}
	if l := str(item, "limits"); l != "" {
		json.Unmarshal([]byte(l), &k.Limits) // written by limitsJSON
	}
	return k
}
