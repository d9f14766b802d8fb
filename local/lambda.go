package main

import (
	"errors"
	"net/http"
)

// lambdaGateway serves the gateway by running a real Lambda bootstrap.
func (p *process) lambdaGateway(o options, dynamoEndpoint, routesTable, ledgerTable, redisURL string) (http.Handler, error) {
	return nil, errors.New("-lambda: the emulator is not wired in yet")
}
