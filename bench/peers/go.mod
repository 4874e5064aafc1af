module github.com/rxrealtime/rxrealtime/bench/peers

go 1.26

require (
	github.com/nshafer/phx v0.2.0
	github.com/rxrealtime/rxrealtime v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.11.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/ws v1.5.0 // indirect
	github.com/goccy/go-json v0.10.5 // indirect
	github.com/gorilla/websocket v1.5.0 // indirect
	github.com/kr/text v0.2.0 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/segmentio/asm v1.1.3 // indirect
	github.com/segmentio/encoding v0.5.4 // indirect
	golang.org/x/sys v0.0.0-20211110154304-99a53858aa08 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

replace github.com/rxrealtime/rxrealtime => ../..
