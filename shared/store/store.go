// Package store keeps Sluice's state in DynamoDB: applied objects and
// compiled route tables in the routes table, API keys in the ledger table.
// Both tables have a string partition key "pk" and sort key "sk".
package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicegw/sluice/shared/route"
)

// Default table names, used when none are configured.
const (
	DefaultRoutesTable = "sluice-routes"
	DefaultLedgerTable = "sluice-ledger"
)

// DB is the part of the DynamoDB client the store uses.
type DB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store reads and writes Sluice's items.
type Store struct {
	db     DB
	routes string
	ledger string
}

// New returns a Store over db. Empty table names mean the defaults.
func New(db DB, routesTable, ledgerTable string) *Store {
	if routesTable == "" {
		routesTable = DefaultRoutesTable
	}
	if ledgerTable == "" {
		ledgerTable = DefaultLedgerTable
	}
	return &Store{db: db, routes: routesTable, ledger: ledgerTable}
}

// NewClient returns a DynamoDB client. With an endpoint (DynamoDB Local) it
// uses fixed local credentials and region; without one, the standard AWS
// configuration chain (the Lambda role in AWS).
func NewClient(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	if endpoint != "" {
		return dynamodb.New(dynamodb.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(endpoint),
			Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		}), nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: load AWS config: %w", err)
	}
	return dynamodb.NewFromConfig(cfg), nil
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
}

func str(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func num(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		i, _ := strconv.ParseInt(v.Value, 10, 64)
		return i
	}
	return 0
}

// Object is one applied manifest object, stored as JSON with its status.
type Object struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	JSON      []byte `json:"json"`
}

func objectKey(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// PutObjects stores objects, replacing any with the same kind and name.
func (st *Store) PutObjects(ctx context.Context, objs []Object) error {
	for _, o := range objs {
		item := key("obj", objectKey(o.Kind, o.Namespace, o.Name))
		item["kind"], item["namespace"], item["name"] = s(o.Kind), s(o.Namespace), s(o.Name)
		item["manifest"] = &types.AttributeValueMemberB{Value: o.JSON}
		if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.routes, Item: item}); err != nil {
			return fmt.Errorf("store: put %s: %w", objectKey(o.Kind, o.Namespace, o.Name), err)
		}
	}
	return nil
}

// DeleteObject removes one object; removing a missing object is no error.
func (st *Store) DeleteObject(ctx context.Context, kind, namespace, name string) error {
	_, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &st.routes, Key: key("obj", objectKey(kind, namespace, name))})
	if err != nil {
		return fmt.Errorf("store: delete %s: %w", objectKey(kind, namespace, name), err)
	}
	return nil
}

// Objects returns every stored object.
func (st *Store) Objects(ctx context.Context) ([]Object, error) {
	var out []Object
	err := st.query(ctx, st.routes, "obj", true, 0, func(item map[string]types.AttributeValue) {
		var b []byte
		if v, ok := item["manifest"].(*types.AttributeValueMemberB); ok {
			b = v.Value
		}
		out = append(out, Object{Kind: str(item, "kind"), Namespace: str(item, "namespace"), Name: str(item, "name"), JSON: b})
	})
	if err != nil {
		return nil, fmt.Errorf("store: list objects: %w", err)
	}
	return out, nil
}

func (st *Store) query(ctx context.Context, table, pk string, forward bool, limit int32, each func(map[string]types.AttributeValue)) error {
	in := &dynamodb.QueryInput{
		TableName:                 &table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk)},
		ScanIndexForward:          aws.Bool(forward),
	}
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	for {
		out, err := st.db.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			each(item)
		}
		if len(out.LastEvaluatedKey) == 0 || limit > 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// ErrVersionExists is returned when a table version was already stored,
// which means two applies raced; the loser should recompile and retry.
var ErrVersionExists = errors.New("store: route table version already exists")

func tableSK(v int64) string { return fmt.Sprintf("v%012d", v) }

func gzipJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gunzipJSON(data []byte, v any) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// PutTable stores t under its version, compressed, with the objects it was
// compiled from (kept for rollback). It never overwrites a version.
func (st *Store) PutTable(ctx context.Context, t *route.Table, objects []Object) error {
	data, err := gzipJSON(t)
	if err != nil {
		return fmt.Errorf("store: encode table: %w", err)
	}
	objs, err := gzipJSON(objects)
	if err != nil {
		return fmt.Errorf("store: encode objects: %w", err)
	}
	item := key("table", tableSK(t.Version))
	item["version"] = n(t.Version)
	item["created"] = s(t.Created.UTC().Format(time.RFC3339Nano))
	item["data"] = &types.AttributeValueMemberB{Value: data}
	item["objects"] = &types.AttributeValueMemberB{Value: objs}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &st.routes, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	var cfe *types.ConditionalCheckFailedException
	if errors.As(err, &cfe) {
		return ErrVersionExists
	}
	if err != nil {
		return fmt.Errorf("store: put table v%d: %w", t.Version, err)
	}
	return nil
}

// LatestVersion returns the newest stored table version, 0 when none.
func (st *Store) LatestVersion(ctx context.Context) (int64, error) {
	var v int64
	err := st.query(ctx, st.routes, "table", false, 1, func(item map[string]types.AttributeValue) { v = num(item, "version") })
	if err != nil {
		return 0, fmt.Errorf("store: latest table version: %w", err)
	}
	return v, nil
}

// LatestTable returns the newest stored table, prepared for matching; nil
// when none is stored.
func (st *Store) LatestTable(ctx context.Context) (*route.Table, error) {
	var data []byte
	err := st.query(ctx, st.routes, "table", false, 1, func(item map[string]types.AttributeValue) {
		if v, ok := item["data"].(*types.AttributeValueMemberB); ok {
			data = v.Value
		}
	})
	if err != nil {
		return nil, fmt.Errorf("store: latest table: %w", err)
	}
	if data == nil {
		return nil, nil
	}
	t := new(route.Table)
	if err := gunzipJSON(data, t); err != nil {
		return nil, fmt.Errorf("store: decode table: %w", err)
	}
	if err := t.Prepare(); err != nil {
		return nil, fmt.Errorf("store: table v%d: %w", t.Version, err)
	}
	return t, nil
}

// TableObjects returns the objects table version v was compiled from, or
// ErrNoVersion.
func (st *Store) TableObjects(ctx context.Context, v int64) ([]Object, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.routes, Key: key("table", tableSK(v)),
		ProjectionExpression: aws.String("#o"), ExpressionAttributeNames: map[string]string{"#o": "objects"}})
	if err != nil {
		return nil, fmt.Errorf("store: get table v%d: %w", v, err)
	}
	b, ok := out.Item["objects"].(*types.AttributeValueMemberB)
	if !ok {
		return nil, ErrNoVersion
	}
	var objs []Object
	if err := gunzipJSON(b.Value, &objs); err != nil {
		return nil, fmt.Errorf("store: decode objects of v%d: %w", v, err)
	}
	return objs, nil
}

// ErrNoVersion is returned for a table version that is not stored.
var ErrNoVersion = errors.New("store: no such route table version")

// ReplaceObjects makes objs the whole set of stored objects.
func (st *Store) ReplaceObjects(ctx context.Context, objs []Object) error {
	cur, err := st.Objects(ctx)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, o := range objs {
		keep[objectKey(o.Kind, o.Namespace, o.Name)] = true
	}
	if err := st.PutObjects(ctx, objs); err != nil {
		return err
	}
	for _, o := range cur {
		if !keep[objectKey(o.Kind, o.Namespace, o.Name)] {
			if err := st.DeleteObject(ctx, o.Kind, o.Namespace, o.Name); err != nil {
				return err
			}
		}
	}
	return nil
}
