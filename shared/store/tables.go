package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTables creates the routes and ledger tables when they are missing,
// as the CDK stack does in AWS. It is for DynamoDB Local and tests. The two
// tables are seen to at once, and a table that DescribeTable finds active
// costs that one round trip (the local process's start).
func CreateTables(ctx context.Context, db *dynamodb.Client, routesTable, ledgerTable string) error {
	errs := make(chan error, 2)
	for _, name := range []string{routesTable, ledgerTable} {
		go func() { errs <- createTable(ctx, db, name) }()
	}
	return errors.Join(<-errs, <-errs)
}

func createTable(ctx context.Context, db *dynamodb.Client, name string) error {
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err == nil && d.Table != nil && d.Table.TableStatus == types.TableStatusActive {
		return nil
	}
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("store: create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(db)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		return fmt.Errorf("store: wait for table %s: %w", name, err)
	}
	return nil
}
