module github.com/evq-dev/evq/sdk/go

go 1.22
